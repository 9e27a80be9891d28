"""Programs where an array is written after (or while) it is read whole: issue 9's regression
cases for array state (adc reads their source).  Each was silently wrong before the memory model
(adc/memory.py): a pass moved a read past a write, the reverse sweep read the array as it is at the
end, an adjoint inside a loop was dropped, or a tangent aliased the caller's tangent."""
import math

import numpy as np


def sum_in_loop(x):
    s = 0.0
    for t in range(2):
        s = s + np.sum(x)
    return s


def dot_rows_in_loop(inputs, W):
    h = np.zeros(4)
    for t in range(3):
        h[t + 1] = np.dot(inputs[t], W) + h[t]
    return h[3] * h[2]


def written_then_squared(b):
    y = np.zeros(3)
    y[0] = b
    return b + np.sum(y * y)


def read_then_overwritten(x):
    y = x.copy()
    a = math.sin(y[2])
    y[2] = 5.0
    return a


def whole_read_in_loop_that_writes(a):
    y = np.ones(3)
    for i in range(2):
        y[i] = np.sum(y * 2.0)
    return np.sum(y) * a


def exp_then_scaled(x):
    y = np.exp(x)
    y[1] *= 2.0
    return np.sum(y)


def slice_view_overwritten(x):
    y = x.copy()
    y[1:] = np.sin(y[:-1])
    return np.sum(y)


def broadcast_scalar_minus(a, x):
    return np.sum(a - x)


def times_one_then_written(x):
    y = x * 1.0
    y[2] = 0.5
    return np.sum(x) + np.sum(y)


def read_before_slice_update(b, x):
    y = x.copy()
    b = b - y[1]
    y[1:] += 1.0
    return b


def dot_with_itself_written(x):
    y = np.ones_like(x)
    y[1] = np.dot(x, y)
    return np.sum(y)


def write_active_into_inactive(a, x):
    y = x * 2.0
    y[0] += a
    return np.sum(y * y)


def array_read_in_branch_in_loop(x, c):
    s = 0.0
    for i in range(3):
        if c > 0.5:
            s = s + np.sum(x * x)
        else:
            s = s - np.sum(x)
    return s


def dot_read_then_written_in_loop(a, x):
    y = x.copy()
    for i in range(3):
        a = a * np.dot(x, y)
        y[1] = a
    return a


def copy_made_in_loop(w, a):
    s = 0.0
    for k in range(3):
        y = w.copy()
        y[0] = a * k
        s = s + np.sum(y) * y[0]
    return s


def unused_copy_in_loop(w):
    for k in range(1):
        y = w.copy()
    return np.sum(w)


def scalar_plus_ones_then_written(a):
    y = np.ones(3) + a
    y[0] += 0.5
    return np.sum(y * y)


def scalar_broadcast_tangent(a):
    y = np.zeros(3)
    y = y + a
    return np.sum(y)


def view_read_after_write(x):
    y = np.exp(x)
    z = y[:1]
    y[:2] -= y[:2]
    return z[0] + np.sum(z * x[1:2])


def rows_of_written_matrix_in_while(m, a):
    y = m.copy()
    i = 0
    s = 0.0
    while i < 3:
        r = y[i]
        s = s + np.sum(np.sin(r) * a)
        y[(i + 1) % 3] = r * a
        i += 1
    return s + np.sum(y)


def rnn_state_rebound(W, b, x):
    h = np.zeros(3)
    for t in range(4):
        h = np.tanh(W @ h + b * x[t])
    return np.sum(h * h)


def array_rebound_in_branch(x, c):
    if c > 0:
        y = x * 2.0
    else:
        y = np.sin(x)
    return np.sum(y * x)


def euler_array_state(y0, k):
    y = y0
    for i in range(5):
        y = y + 0.1 * (-k * y)
    return np.sum(y * y)


def array_rebound_in_while(x):
    y = x
    i = 0
    while i < 3:
        y = np.sin(y) * 1.5
        i += 1
    return np.sum(y)


def assign_array_to_itself(x):
    y = np.copy(x)
    y[:] = y
    return y[0] + np.sum(y * x)


def times_one_of_array_written_later(x, b):
    y2 = x * b
    y4 = y2 * 1.0
    y2[:2] -= b * y4[:-1]
    return np.sum(y2) + 0.5 * np.sum(y4 * y4)


def same_expression_twice_one_written(x):
    y1 = np.exp(x)
    y3 = np.exp(x)
    y1[0] = 0.5
    return np.sum(y3) + np.sum(y1 * x)


# Arrays rebound in loops and branches *and* read or written element by element (reverse mode: the
# rebound array's adjoint is a buffer carried through the loop or branch; before, refused)
def shift_register(x, s):
    y = np.zeros_like(x)
    for _ in range(s):
        y = y + x * np.concatenate((y[:1], y[:-1]))
    return y[-1]


def rnn_reads_its_state(x, W):
    h = np.zeros(3)
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t])
        h = h * (1.0 + h[0])
    return h[1] + np.sum(h)


def euler_reads_an_element(y0, k):
    y = y0 * 1.0
    for i in range(4):
        dy = -k * y
        dy = dy + y[0] * 0.1
        y = y + 0.1 * dy
    return y[0] * y[-1]


def branch_rebinds_then_indexed(x):
    y = x * 2.0
    if x[0] > 0.0:
        y = np.sin(y)
    return y[0] + y[1] * y[2]


def while_reads_its_state(x):
    y = x * 1.0
    n = 0
    while n < 3:
        y = y * y[0] + 0.5
        n += 1
    return np.sum(y)


def rebound_and_written_in_loop(x):
    y = x * 1.0
    for i in range(2):
        y = y * 2.0
        y[0] = x[1]
    return np.sum(y)


def written_copy_of_carried(x):
    y = x * 1.0
    s = 0.0
    for i in range(3):
        z = y
        y = y * 2.0
        y[i] = z[i] * y[0]
        s = s + np.sum(y * z)
    return s


def branch_rebinds_and_writes(x, c):
    y = x * 1.0
    if c > 0:
        y = y * 3.0
        y[0] = x[1] ** 2
    else:
        y[1] = y[0] * y[2]
    return np.sum(y * y)


def lstm_like_rows(s0, w):
    H = s0 * 1.0
    x = w * 1.0
    for t in range(3):
        x = w * x[0]
        for i in range(H.shape[0]):
            H[i] = np.tanh(H[i] * x)
            x = H[i]
    return np.sum(H) + np.sum(x)


def written_while_a_loop_carries_it(x):
    """``y`` starts as ``y0`` and the loop rebinds it: the write into ``y0`` changes ``y`` in the
    first iteration only (refused; the reverse sweep gave a wrong gradient)."""
    y0 = x * 2.0
    y = y0
    s = 0.0
    for k in range(2):
        s = s + np.sum(y)
        y0[0] = s
        y = y * 3.0
    return s


def copied_before_a_loop_carries_it(x):
    """The same with the copy the error asks for: right."""
    y0 = x * 2.0
    y = y0.copy()
    s = 0.0
    for k in range(2):
        s = s + np.sum(y)
        y0[0] = s
        y = y * 3.0
    return s + np.sum(y0)
