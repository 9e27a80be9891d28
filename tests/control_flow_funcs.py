"""Module-level functions with control flow, loops and array element reads/writes, differentiated
by tests/test_control_flow.py.  adc reads their source, so they must stay plain module-level
functions (helpers they call must be module-level too)."""
import math

import numpy as np

# --- branches --------------------------------------------------------------------------------------


def if_elif_else(x, y):
    """Data-dependent if/elif/else, nested, with and/or/not in the conditions."""
    if x > 1.0:
        z = x * y
        if y < 0.0 or x > 3.0:
            z = z - math.exp(y)
        else:
            z = z + math.sin(x * y)
    elif x > -1.0 and not y > 2.0:
        z = x * x + y
    else:
        z = math.cos(x) * y
    return z * x


def cond_expr(x, y):
    """Conditional expressions, one of them nested."""
    a = x * y if x > y else x - y
    b = math.exp(x) if a > 0.0 else (y * y if y > 0.0 else -y)
    return a * b + x


def short_circuit(x, y):
    """`and`/`or` evaluate their right operand only when needed: math.log(x) for x <= 0 and
    math.sqrt(y) for y < 0 would raise."""
    if x > 0.0 and math.log(x) > y:
        r = x * y
    else:
        r = x + y
    if y < 0.0 or math.sqrt(y) < x:
        r = r * x
    return r


def early_return(x, y):
    """Several return statements, one of them early."""
    if x < 0.0:
        return x * y
    z = math.sin(x) * y
    if z > 0.5:
        return z * z
    z = z + x
    return z * y


# --- loops -----------------------------------------------------------------------------------------


def loop_with_if(x, w):
    s = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            s += w * x[i] * x[i]
        else:
            s -= math.sin(x[i])
    return s


def int_accumulator(x):
    """The accumulator starts as the int 0 and becomes a float."""
    s = 0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return s


def range_start_stop(x, a, b):
    s = 0.0
    for i in range(a, b):
        s += math.sin(x[i]) * x[i + 1]
    return s * x[0] + x[-1]


def range_step(x, a, b, k):
    """range with a runtime step (may be negative) and runtime bounds (may give zero trips)."""
    s = x[0]
    for i in range(a, b, k):
        s = s * x[i] + math.cos(x[i])
    return s


def for_over_array(x, w):
    s = 1.0
    for v in x:
        s = s * w + v * v
    return s


def for_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s += (i + 1) * v * v + v * x[-1]
    return s


def nested_loops_2d(A, w):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += math.sin(A[i, j]) * w ** (i + j) + A[i, j] * A[0, j]
    return s


def nested_loops_triangular(x):
    """The inner loop's bound depends on the outer index."""
    s = 0.0
    for i in range(len(x)):
        t = 0.0
        for j in range(i):
            t += x[j] * x[i]
        s += math.tanh(t)
    return s


def while_data_dependent(a, x0):
    """The trip count depends on a (and x0): iterate until s exceeds 10."""
    s = x0
    k = 0
    while s < 10.0:
        s = s * a + 1.0
        k += 1
    return s * k


def while_with_index(x, thresh):
    """A while loop walking an array until a running sum exceeds thresh."""
    i = 0
    s = 0.0
    while i < len(x) and s < thresh:
        s += x[i] * x[i]
        i += 1
    return s * x[0] + i


def loop_break(x, limit):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * x[i]
        if s > limit:
            break
        s = s * 1.5
    return s


def loop_continue(x):
    s = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        s += math.sqrt(x[i]) * x[i]
    return s


def return_in_loop(x, t):
    s = 0.0
    for v in x:
        s += v * v
        if s > t:
            return s * t
    return s - t


def return_in_nested_loop(A, t):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += A[i, j] * A[i, j]
            if s > t:
                return s * A[i, j]
    return s


def rnn(w, x):
    h = 0.0
    for t in range(len(x)):
        h = math.tanh(w * h + x[t])
    return h


def rosenbrock(x):
    s = 0.0
    for i in range(x.shape[0] - 1):
        s += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
    return s


def damped_oscillator(k, c):
    """Explicit Euler for x'' = -k x - c x' with 1000 steps of a fixed dt."""
    dt = 0.01
    x = 1.0
    v = 0.0
    for step in range(1000):
        a = -k * x - c * v
        x = x + dt * v
        v = v + dt * a
    return x * x + v


def smoothing(x, w):
    """Repeated in-place smoothing: writes elements that later iterations read back."""
    n = len(x)
    y = x.copy()
    for rep in range(3):
        for i in range(1, n):
            y[i] = w * y[i - 1] + (1.0 - w) * y[i]
    s = 0.0
    for i in range(n):
        s += y[i] * y[i] * (i + 1)
    return s


def accumulate_into(x, w):
    """y[i] += ... accumulation, into an np.zeros array."""
    n = x.shape[0]
    y = np.zeros(n)
    for i in range(n):
        for j in range(n):
            y[i] += math.sin(w * x[j]) * x[i] ** (j % 3)
    s = 0.0
    for i in range(n):
        s += y[i] * y[i]
    return s


def writes_2d(x, m):
    """A[i, j] = ... into an np.zeros((n, m)) array, then read back."""
    n = len(x)
    A = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            A[i, j] = x[i] ** (j + 1) + math.sin(x[(i + j) % n])
    s = 0.0
    for i in range(n):
        for j in range(m):
            s += A[i, j] * A[n - 1 - i, m - 1 - j]
    return s


def constructors(x):
    """np.zeros_like, np.empty, np.ones, x.copy() as scratch arrays."""
    n = x.shape[0]
    a = np.zeros_like(x)
    b = np.empty(n)
    c = np.ones(n)
    d = x.copy()
    for i in range(n):
        a[i] = x[i] * x[i]
        b[i] = math.exp(-x[i])
        c[i] = c[i] * x[n - 1 - i]
        d[i] += a[i]
    s = 0.0
    for i in range(n):
        s += a[i] * b[i] + c[i] * d[i]
    return s


def _sq(t):
    return t * t


def _norm2(x):
    s = 0.0
    for v in x:
        s += _sq(v)
    return s


def _scaled(x, w):
    return w * _norm2(x) + math.sin(w)


def call_chain(x, w):
    """A chain of calls to user functions; the helpers contain loops."""
    return math.log(1.0 + _scaled(x, w)) + _sq(w)


def memory_loop(w, n):
    """10^5 iterations of a carried scalar: the reverse sweep must record O(1) numbers per step."""
    h = 0.5
    for i in range(n):
        h = math.sin(h) * w + 0.1
    return h


def while_halving(x, a):
    """A while loop whose trip count depends on x: take square roots until s <= 1."""
    s = x
    k = 0
    while s > 1.0:
        s = math.sqrt(s) * a
        k += 1
    return s + k * x


def while_break_continue(x, t):
    i = 0
    s = 0.0
    while i < len(x):
        i += 1
        if x[i - 1] < 0.0:
            continue
        s += x[i - 1] * t
        if s > 2.0:
            break
    return s * s


def return_in_while(a, b):
    s = b
    while s < 100.0:
        s = s * s + a
        if s > 50.0:
            return s * b
    return s


def inner_break(A):
    n, m = A.shape
    s = 0.0
    for i in range(n):
        for j in range(m):
            if A[i, j] < 0.0:
                break
            s += math.exp(A[i, j]) * (i + 1)
        s = s * 0.5
    return s


def writes_in_branches(x):
    n = len(x)
    y = np.zeros(n)
    for i in range(n):
        if x[i] > 0.0:
            y[i] = x[i] * x[i]
        else:
            y[i] += math.sin(x[i])
        if i > 0:
            y[i] += y[i - 1] * 0.5
    s = 0.0
    for v in y:
        s += v * v
    return s


def _make_powers(x, w):
    n = len(x)
    y = np.empty(n)
    for i in range(n):
        y[i] = x[i] * w ** i
    return y


def _add_squares_into(y, x):
    for i in range(len(x)):
        y[i] += x[i] * x[i]
    return y[0]


def helpers_with_arrays(x, w):
    """Helpers that create and return an array, and that write into the caller's array."""
    y = _make_powers(x, w)
    first = _add_squares_into(y, x)
    s = first
    for i in range(len(y)):
        s += math.cos(y[i])
    return s


def carried_times_param(a, s, n):
    """Regression: reverse mode once got d/da wrong for `s = s * a ...` with s carried by the loop."""
    for i in range(n):
        s = s * a + 0.5
    return s


def carried_times_param_commuted(a, s, n):
    """The same with the product's operands swapped."""
    for i in range(n):
        s = a * s + 0.5
    return s


def carried_init_param(a, b, n):
    """Regression: reverse mode once dropped d/db through the initial value of the carried s when b is
    also read inside the loop."""
    s = b
    for i in range(n):
        s = s + a * b
    return s


# Regressions of the compact code adc runs (found by a random-program fuzzer).

def carried_square_plus(x):
    """An adjoint that starts as a primal value (gx = b) must not take the name of b, which the
    reverse sweep assigns again when it restores b."""
    b = 1.0
    for i in range(2):
        b = b * b + x
    return b * x


def carried_pair_swap(x, y):
    """Two carried values updated together, then one from the other."""
    a, c, e = x, y, 1.0
    for k in range(2):
        c, e = math.sin(a - c), c * a
        a = math.sin(c)
    return e * c


def negation_in_branch_loop(x, y):
    """A negation computed in the forward sweep and again as an adjoint in the same reverse branch:
    merging them must not rewrite the forward sweep's use."""
    if y < 1.0:
        for i in range(2):
            y = 0.5 * (-x) / y
    else:
        return y
    return y - x * y


def overwritten_in_loop(x, y, z):
    """Values pushed to a record but read back only in part: every push needs its pop."""
    a, b, c = x, y, z
    d = x * y
    e = 1.0
    if c > e:
        c = 1.5 / (2.0 + a * e)
    else:
        for i1 in range(2):
            d, c, a, b = c * d * math.sin(b) * 0.9, (d - -a) + (d + e), e, (d - d) * (-e + c)
            d = 0.5
    return (d - b) + c * e


def pure_swap(x, y):
    """Regression: a loop whose body only permutes its carried values once lost one of them."""
    a, b = x, y * 3.0
    for i in range(3):
        a, b = b, a
    return a * 1.0 + b * 2.0


def pure_rotation(x, y):
    """The same with four values rotated."""
    a, b, c, d = x, y, x * y, 2.0
    for i in range(5):
        a, b, c, d = d, a, b, c
    return a + 2.0 * b + 3.0 * c + 4.0 * d


def while_around_for(x, y):
    """Regression (reverse mode): adjoints of two assignments of `a` shared one Python name while
    both were live, and the reverse sweep read the later one where it needed the earlier one."""
    a, c, e = x, y, 1.0
    k0 = 0
    while k0 < 3:
        k0 = k0 + 1
        e, c, a = math.tanh(c), math.tanh(a - c), e
        for i1 in range(2):
            a = math.sin(c)
    return e * c


def nested_loops_renamed_slot(x, y, z):
    """Regression: giving a value a name of its own must not rename a loop's slot (its region
    argument is assigned by the loop's copies under the slot's one name)."""
    a, b, c = x, y, z
    d = x * y
    e = 1.0
    d += a
    for i0 in range(3):
        b, c, d, e = a * 0.9, e, math.tanh(c + c), b
        for i1 in range(3):
            e = -(b * c)
            e = -d - 0.5
            d = 2.0
        for i1 in range(0):
            a = (-a) / (2.0 + b * c)
    return d + c * d + e * x
