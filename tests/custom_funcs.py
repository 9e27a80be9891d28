"""Functions with custom derivative rules (tests/test_custom_rules.py)."""
import numpy as np
import adc


@adc.custom_vjp
def clip_gradient(x):
    return x


def clip_fwd(x):
    return x, ()


def clip_bwd(residuals, g):
    return (np.clip(g, -1.0, 1.0),)


clip_gradient.defvjp(clip_fwd, clip_bwd)


@adc.custom_vjp
def softplus(x):
    return np.log1p(np.exp(x))


def softplus_fwd(x):
    e = np.exp(-np.abs(x))
    return np.maximum(x, 0.0) + np.log1p(e), (x,)


def softplus_bwd(res, g):
    (x,) = res
    return (g / (1.0 + np.exp(-x)),)


softplus.defvjp(softplus_fwd, softplus_bwd)


@adc.custom_jvp
def log1pexp(x):
    return np.log1p(np.exp(x))


@log1pexp.defjvp
def log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t / (1.0 + np.exp(-x))


def f_clip(x):
    return np.sum(clip_gradient(x * 10.0) ** 2)


def f_soft(x):
    return np.sum(softplus(x) * 2.0)


def f_jvp(x):
    return np.sum(log1pexp(x))


@adc.custom_vjp
def safe_norm(x):
    return np.sqrt(np.sum(x * x))


def safe_norm_fwd(x):
    n = np.sqrt(np.sum(x * x))
    return n, (x, n)


def safe_norm_bwd(res, g):
    x, n = res
    if n > 0.0:
        return (g * x / n,)
    return (x * 0.0,)


safe_norm.defvjp(safe_norm_fwd, safe_norm_bwd)


@adc.custom_vjp
def weighted(x, w):
    return np.sum(x * w)


def weighted_fwd(x, w):
    return np.sum(x * w), {"x": x, "w": w}


def weighted_bwd(res, g):  # a cotangent of each argument's shape: x an array, w a number
    return g * res["w"] * np.ones_like(res["x"]), np.sum(g * res["x"])


weighted.defvjp(weighted_fwd, weighted_bwd)


def in_a_loop(x, w):
    s = 0.0
    for i in range(3):
        s = s + softplus(x[i] * w) + weighted(x, w * i) + safe_norm(x * (i + 1.0))
    return s


def norm_at_zero(x):
    return safe_norm(x) + np.sum(x)


@adc.custom_vjp
def no_rule(x):
    return x


def uses_no_rule(x):
    return no_rule(x) * 2.0


@adc.custom_jvp
def norm(x):  # a norm whose derivative at 0 is 0, by a custom_jvp rule
    return np.sqrt(np.sum(x * x))


@norm.defjvp
def norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = np.sqrt(np.sum(x * x))
    if n > 0.0:
        return n, np.sum(x * t) / n
    return n, np.sum(t * 0.0)


def f_norm(x):
    return norm(x) * 2.0 + np.sum(x)


def jvp_in_a_loop(x, w):
    s = 0.0
    for i in range(len(x)):
        s = s * 0.5 + log1pexp(x[i] * w) * x[i]
    return s


@adc.custom_jvp
def square(x):
    return x * x


@square.defjvp
def square_jvp(primals, tangents):  # not linear in the tangent: reverse mode cannot transpose it
    (x,), (t,) = primals, tangents
    return x * x, t * t + 2.0 * x * t


def f_square(x):
    return square(x) + x


@adc.custom_jvp
def scaled_power(x, k, c):  # k an int, c a float: two inputs besides x
    return c * x ** k


@scaled_power.defjvp
def scaled_power_jvp(primals, tangents):
    (x, k, c), (t, tk, tc) = primals, tangents
    return c * x ** k, c * k * x ** (k - 1) * t + x ** k * tc


def f_power(x, c):
    return scaled_power(x, 3, c) + scaled_power(x, 2, 1.5)
