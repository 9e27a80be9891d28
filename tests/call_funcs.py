"""User functions that stay functions (adc/calls.py): recursion and helpers called from many sites."""
import numpy as np


def pw(x, n):
    """x ** n by direct recursion: the int n decides the depth."""
    if n == 0:
        return 1.0
    return x * pw(x, n - 1)


def is_even(x, n):
    """Mutual recursion carrying a float."""
    if n == 0:
        return x
    return np.sin(is_odd(x, n - 1))


def is_odd(x, n):
    if n == 0:
        return x * x
    return 2.0 * is_even(x, n - 1)


def vec_rec(x, n):
    """A recursive function returning an array (its result type is found by a second lowering)."""
    if n == 0:
        return np.sin(x)
    return x * vec_rec(x, n - 1) + 1.0


def vec_loss(x, n):
    return np.sum(vec_rec(x, n) ** 2)


def pair_rec(x, n):
    """A recursive function returning a tuple."""
    if n == 0:
        return x, 1.0
    a, b = pair_rec(x, n - 1)
    return a + b * x, np.cos(a)


def pair_loss(x, n):
    a, b = pair_rec(x, n)
    return a * b


def in_loop(x, n):
    """Kept calls inside a `for` loop (their residuals go on a tape)."""
    s = 0.0
    for i in range(n):
        s = s + pw(x, i) * np.sin(s + x)
    return s


def in_while(x, n):
    """Kept calls inside a `while` loop."""
    s = x
    k = 0
    while k < n:
        s = np.cos(pw(s, k + 1))
        k = k + 1
    return s


def in_branch(x, n):
    """Kept calls inside branches, one inside a loop."""
    if x > 0.0:
        y = pw(x, n)
    else:
        y = -x
    for i in range(3):
        if y > 1.0:
            y = is_even(y, i)
        else:
            y = y + pw(x, i)
    return y


def written_after(x):
    """The argument of a kept call is written after the call: its residuals keep it as it was."""
    y = x * 1.0
    z = vec_rec(y, 2)
    y[0] = 5.0
    return np.sum(z * y)


def helper(a, b):
    c = np.tanh(a * b) + a
    return c * c - b


def many_sites(x, y):
    """One helper called from ten sites: kept as one function."""
    s = helper(x, y)
    s = s + helper(s, x)
    s = s + helper(y, s)
    s = s + helper(s, s)
    s = s + helper(x, s)
    s = s + helper(s, y)
    s = s + helper(y, x)
    s = s + helper(s, 0.5)
    s = s + helper(0.25, s)
    s = s + helper(s, x)
    return s


def few_sites(x, y):
    """A helper called from two sites: inlined, as before."""
    return helper(x, y) + helper(y, x)


def returns_argument(x, n):
    """A recursive function whose result may be its argument: refused."""
    if n == 0:
        return x
    return returns_argument(x, n - 1)


def rec_loss(x, n):
    return np.sum(returns_argument(x, n))


def vec3(x):
    return vec_rec(x, 3) * x[0]


def sq(a):
    return a * a


def eight_sites(x):
    """A small helper called from eight sites: kept as a function (inlined again under jit=True)."""
    return sq(x) + sq(sq(x)) + sq(x + 1.0) + sq(x - 1.0) + sq(2.0 * x) + sq(np.sin(x)) + sq(0.5)


def recursive_in_loop(x, n):
    """Recursion inside a loop (from tests/test_control_flow_errors.py, where it was refused)."""
    s = 0.0
    for i in range(n):
        s += recursive_in_loop(x * 0.5, n - 1)
    return s + x


def mutual_a(x, n):
    if n > 0:
        return x + mutual_b(x, n - 1)
    return x


def mutual_b(x, n):
    s = x * 2.0
    for i in range(n):
        s += mutual_a(x, i)
    return s


def halvings(n):
    """An int-valued recursion (never differentiated: its calls stay primal calls)."""
    if n <= 1:
        return 0
    return 1 + halvings(n // 2)


def int_recursion(x, n):
    c = pw(2.0, halvings(n))  # a call with no differentiated argument
    return x ** halvings(n) * c + pw(x, 2)


def rec_while(x, n):
    """A recursive function with a `while` loop and a keyword argument."""
    if n == 0:
        return x
    s = x
    k = 0
    while k < n:
        s = np.sin(s) + rec_while(s, n=k)
        k += 1
    return s


def tree_rec(p, n):
    """A recursive function taking a dict."""
    if n == 0:
        return p["a"] * p["b"]
    return tree_rec({"a": np.cos(p["a"]), "b": p["b"] * 1.5}, n - 1) + p["a"]


def tree_loss(x, n):
    return tree_rec({"a": x, "b": x * x}, n)


def ex(a):
    return np.exp(a)


def written_result(x):
    """The result of a kept call is written after the call (its reverse part reads the result)."""
    y = ex(x)
    y[0] = 0.0
    return np.sum(y * x) + np.sum(ex(x) + ex(2.0 * x) + ex(3.0 * x) + ex(-x) + ex(x * x) + ex(x + 1.0) + ex(0.5 * x))


def grows(x, n):
    """Every recursive call adds an axis: a new signature each time, refused after a few."""
    if n == 0:
        return np.sum(x)
    return grows(x[None], n - 1)


def axis_helper(x, k):
    return np.sum(x * x, axis=k)


def axis_sites(x):
    """A helper called from eight sites that needs a constant argument (an axis): inlined at each site."""
    s = axis_helper(x, 0) + axis_helper(x, 1) + axis_helper(x, 0) * axis_helper(x, 1)
    return np.sum(s + axis_helper(x, 0) + axis_helper(x, 1) + axis_helper(x, 0) + axis_helper(x, 1))


def written_in_branch(p, q):
    y0 = np.ones(4)
    if p < 10.0:
        y0[-1] += q
        p = y0[0] / y0[0] ** 2 + y0[-1] * q
    return p


def branch_residual_sites(x):
    """``written_in_branch`` from eight sites (a kept helper): its residuals are made in a branch,
    two of them equal to others (``y0[0]`` read twice, the index ``-1`` twice).  Fuzz seed 52,
    program 687 (containers), reduced: the reverse part read ``None``."""
    a = np.mean(x)
    s = written_in_branch(written_in_branch(0.5, a) * written_in_branch(0.5, 0.5), a)
    t = written_in_branch(written_in_branch(a, 0.5), written_in_branch(0.25, a))
    return s + t * written_in_branch(a * a, 0.5) + written_in_branch(20.0, a)


def sin_chain(x, n):
    """sin(sin(...) * x) * x, n deep: a recursion whose second derivative is not zero."""
    if n == 0:
        return x
    return np.sin(sin_chain(x, n - 1)) * x


def through_kept_call(x):
    """A kept call whose argument depends on every input: forward mode makes its Jacobian one JVP per
    direction (the kept function's JVP takes one direction, not a batch)."""
    return vec_rec(x[0] * x, 2)


def three_deep(x):
    """sin_chain three deep: its first level is inlined, the recursive call gets the constant depth 2."""
    return sin_chain(x, 3)
