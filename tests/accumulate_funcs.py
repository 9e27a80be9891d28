"""Recursive functions for tests/test_recursion_accumulate.py: the reverse part of a kept recursive
call under jit=True adds into its caller's adjoint buffers and takes its arguments from the caller."""
import math

import numpy as np


def det_of_minor(A, row, cols):
    """The determinant of the minor of A with its rows from `row` on and the columns `cols`."""
    m = cols.shape[0]
    if m == 1:
        return A[row, cols[0]]
    total = 0.0
    sign = 1.0
    for k in range(m):
        rest = np.concatenate((cols[:k], cols[k + 1:]))
        total = total + sign * A[row, cols[k]] * det_of_minor(A, row + 1, rest)
        sign = -sign
    return total


def det_by_index(A):
    return det_of_minor(A, 0, np.arange(A.shape[0]))


def sq_sum(x):
    """The recursion on a view: one element per call."""
    if x.shape[0] == 1:
        return x[0] * x[0]
    return x[0] * x[0] + sq_sum(x[1:])


def weighted(x, w, n):
    """Two array arguments: one passed on unchanged, one made anew by every call."""
    if n == 0:
        return np.sum(x * w)
    return np.sin(x[0]) * weighted(x, w * 0.5, n - 1) + np.sum(w * w)


def two_arrays(x):
    return weighted(x, x * x, 3)


def calls_in_loop(x):
    """A kept call in the caller's loop, given a new array in every iteration."""
    s = 0.0
    for i in range(3):
        s = s + sq_sum(x * (i + 1.0))
    return s


def written_after_call(x):
    """The caller writes into the array it passed after the call: the call saw it unwritten."""
    y = x * 1.0
    s = sq_sum(y)
    y[0] = 5.0
    return s + sq_sum(y) * y[1]


def same_array_twice(x):
    """The same array as two arguments: both adjoints go into one buffer."""
    return weighted(x, x, 2)


def carried_in_loop(x):
    """The argument is an array the caller's loop carries from iteration to iteration."""
    y = x * 1.0
    s = 0.0
    for i in range(3):
        s = s + sq_sum(y) * (i + 1.0)
        y = np.sin(y) * 0.5 + 0.1
    return s


def in_a_while(x):
    """A kept call in a `while` loop of the caller, on a view of a carried array."""
    y = x * 1.0
    s = 0.0
    k = 0
    while k < 3:
        s = s + two_arrays(y[k:])
        y = y * 0.9
        k = k + 1
    return s


def first_negative(x, k):
    """The leaf finds an index with a `while` on the array argument: its reverse part runs the loop
    again instead of keeping the index."""
    if k == 0:
        j = 0
        while x[j] > 0.0 and j < x.shape[0] - 1:
            j += 1
        return x[j] * x[j]
    return np.sin(first_negative(x, k - 1)) + x[k] * 0.5


def find_first_negative(x):
    return first_negative(x, 3)


def leaf_sum(x, k):
    """The leaf sums in a loop of numbers, read by the reverse part: run again there."""
    if k == 0:
        s = 0.0
        for i in range(x.shape[0]):
            s = s + x[i] * x[i]
        return s * x[0]
    return np.cos(leaf_sum(x, k - 1)) * x[k]


def summed_leaf(x):
    return leaf_sum(x, 2)


def leaf_of_a_written_copy(x, k):
    """The leaf's loop reads an array the function writes: the index is kept, not found again."""
    if k == 0:
        y = x * 1.0
        y[0] = -1.0
        j = 1
        while y[j] > 0.0 and j < y.shape[0] - 1:
            j += 1
        return x[j] * x[0]
    return np.sin(leaf_of_a_written_copy(x, k - 1)) * x[k]


def written_copy_leaf(x):
    return leaf_of_a_written_copy(x, 2)


def leaf_index_read_thrice(x, k):
    """Three numbers of the leaf come from one loop (the index, and products of it): the reverse
    part runs that loop once."""
    if k == 0:
        j = 0
        while j < x.shape[0] and x[j] > 0.0:
            j += 1
        return x[j % x.shape[0]] * x[0] * float(j)
    return np.sin(leaf_index_read_thrice(x, k - 1)) * x[k]


def index_read_thrice(x):
    return leaf_index_read_thrice(x, 2)


def chain(p, d):
    if d == 0:
        return 0.7
    return p[0] + np.sin(chain(p, d - 1))


def call_read_only_by_a_test(x):
    """The second call's result only decides an `if`: its reverse part runs anyway (with a zero
    cotangent), popping what its forward part pushed, so the loop's call then pops its own
    (found by the recursion fuzzer: jit=True gave another gradient)."""
    a = 0.5
    for j in range(1, 3):
        a += math.cos(chain(x, 2)) * j
    if chain(x, 3) <= 1.0:
        a = a * 2.0
    return a


def grows_until_large(p, q, d):
    """A loop that may return, carrying an array whose shape alone its reverse reads
    (``np.zeros_like(y)`` of the carried ``y``), in a recursive function: the reverse part gets
    the loop's result for it (an InternalError in ``calls.split`` before, found by the recursion
    fuzzer)."""
    y = q
    for e in p:
        if y[1] > 2.0:
            return 0.5
        y = 1.5 * y
    if d > 2:
        return np.sum(p * p)
    return grows_until_large(p, y, d + 1) * np.sum(p)


def carried_shape_read(x):
    return grows_until_large(x, x, 0)


def scaled_tail_sum(x, n):
    """Pushes a view of its argument (``x[1:]``, which its reverse reads) onto a tape: the argument
    escapes the call, so Numba code passes it with its reference count (``borrowing.py``)."""
    if n == 0:
        return x[0] ** 2
    y = x[1:] * math.cos(x[0])
    return scaled_tail_sum(y, n - 1) + np.sum(x ** 3)


def tail_sums(x):
    return scaled_tail_sum(x, x.shape[0] - 1)



def damped(p, d):
    if d == 0:
        return 2.0
    return np.tanh(damped(p, d - 1)) * np.sum(p)


def calls_in_a_while_condition(a):
    """A kept call in a `while` loop's condition, on an active array: the reverse sweep reverses the
    loop's body only, so the call stays the function itself (its forward part pushed residuals
    that nothing popped, and the loop's pops read them: jit=True gave 0.299 for 0.397; recursion
    fuzzer, seed 451, program 209)."""
    n = 0
    while n < 3 and damped(np.array([0.5, a]), 2) < 2.0:
        n += 1
        a = math.atan(a)
    return a


def ping(x, y, n):
    """Called with ``x * 2.0`` (C-contiguous) and ``a[::-1]`` (not): Numba compiled one version of
    the recursion per layout, and a process that loaded two versions from Numba's cache crashed
    (found by review; the same before the sixteenth session)."""
    if n == 0:
        return np.sum(x * y)
    return pong(y, x, n - 1) * 0.5 + np.sum(np.sin(x))


def pong(a, b, n):
    if n == 0:
        return np.sum(a ** 2) + np.sum(b)
    return ping(a, a, n - 1) + ping(b, a[::-1], n - 1) * np.sum(b)


def ping_pong(x):
    return ping(x, x * 2.0, 4)
