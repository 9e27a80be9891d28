"""Run-time kernels for the special functions NumPy and Numba do not spell: imported by generated
code as ``adc_special`` only when a program uses one of them (``codegen.header``).

Each kernel is a plain Python function (SciPy's, for arrays and numbers) plus, when Numba is
installed, a Numba ``overload`` with the same name, so ``jit=True`` compiles the same generated
line: scalars through ``math`` (``math.lgamma``, ``math.erf``) and arrays as a loop over their
elements.  ``digamma`` and ``polygamma`` have no ``math`` form; their Numba versions use the
recurrence ``psi(x) = psi(x + 1) - 1/x`` up to ``x >= 8``, then the asymptotic series
(``polygamma`` for ``n >= 1``: the Hurwitz zeta sum, as SciPy's, also for ``x < 0``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as _sp


def gammaln(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.gammaln(x)


def digamma(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.digamma(x)


def polygamma(n, x):  # noqa: ANN001, ANN201
    return _sp.polygamma(n, x)


def erf(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.erf(x)


def erfc(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.erfc(x)


def expit(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.expit(x)


def erfinv(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.erfinv(x)


def logit(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.logit(x)


def logsumexp(x, axis, keepdims):  # noqa: ANN001, ANN201
    return _sp.logsumexp(x, axis=axis, keepdims=keepdims)


def gamma(x):  # noqa: ANN001, ANN201 (Numba compares the signature with its own)
    return _sp.gamma(x)


# -- scalar algorithms used by the Numba versions (plain Python, also tested against SciPy) -----
# Bernoulli numbers B_2k for the asymptotic series
_B2K = (1.0 / 6, -1.0 / 30, 1.0 / 42, -1.0 / 30, 5.0 / 66, -691.0 / 2730, 7.0 / 6, -3617.0 / 510)


def digamma_scalar(x: float) -> float:
    if x == 0.0:  # SciPy's pole: -inf at +0, inf at -0
        return -math.copysign(math.inf, x)
    if x < 0.0 and x == math.floor(x):
        return math.nan
    acc = 0.0
    if x < 0.0:  # reflection: psi(1 - x) - psi(x) = pi / tan(pi x)
        acc = -math.pi / math.tan(math.pi * x)
        x = 1.0 - x
    while x < 8.0:
        acc -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    series, power = 0.0, inv2
    for k in range(len(_B2K)):
        series += _B2K[k] / (2 * (k + 1)) * power
        power *= inv2
    return acc + math.log(x) - 0.5 / x - series


def polygamma_scalar(n: int, x: float) -> float:
    """``psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)`` for ``n >= 1``, as SciPy computes it: the
    Hurwitz zeta sum from ``x`` up to ``12 + n``, then the asymptotic series; its poles at the
    integers ``x <= 0`` (and at -inf) are ``+-inf``."""
    if n < 1 or math.isnan(x):
        return math.nan
    sign = 1.0 if n % 2 == 1 else -1.0
    if x == -math.inf or (x <= 0.0 and x == math.floor(x)):
        return sign * math.inf
    nfact = math.gamma(n + 1.0)
    acc = 0.0
    while x < 12.0 + n:
        term, r = nfact, 1.0 / x
        for _ in range(n + 1):  # n! / x**(n+1), which overflows to inf where ** raises
            term *= r
        acc += term
        x += 1.0
    # psi^(n)(x) ~ (-1)^(n+1) [ (n-1)!/x^n + n!/(2 x^(n+1)) + sum_k B_2k (2k+n-1)!/((2k)! x^(2k+n)) ]
    r = 1.0 / x
    power = 1.0
    for _ in range(n):  # 1 / x**n, which underflows to 0 where ** raises
        power *= r
    tail = math.gamma(float(n)) * power + nfact * power * r / 2.0
    for k in range(len(_B2K)):
        j = 2 * (k + 1)
        power *= r * r
        tail += _B2K[k] * math.gamma(j + n + 0.0) / math.gamma(j + 1.0) * power
    return sign * (acc + tail)


def expit_scalar(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def erfinv_scalar(x: float) -> float:
    """The inverse of ``erf``: Giles' approximation, then Newton steps on ``erf(y) = x``."""
    if not -1.0 < x < 1.0:
        return math.copysign(math.inf, x) if abs(x) == 1.0 else math.nan
    w = -math.log((1.0 - x) * (1.0 + x))
    if w < 5.0:
        w -= 2.5
        y = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            y = c + y * w
    else:
        w = math.sqrt(w) - 3.0
        y = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            y = c + y * w
    y *= x
    a = abs(x)
    for _ in range(6):  # in the tails on erfc(|y|) = 1 - |x|, which keeps its relative precision
        tail = 1.0 - a - math.erfc(abs(y))
        step = (math.erf(y) - x) if a < 0.5 else (tail if y >= 0.0 else -tail)
        y -= step / (1.1283791670955126 * math.exp(-y * y))
    return y


def _register_numba() -> None:
    try:
        from numba import njit
        from numba.core import types
        from numba.extending import overload
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    scalars = (types.Float, types.Integer, types.Boolean)
    digamma_nb = njit(digamma_scalar)
    polygamma_nb = njit(polygamma_scalar)
    expit_nb = njit(expit_scalar)

    def unary(fn: Any, scalar: Any) -> None:
        @overload(fn)
        def _typed(x):  # noqa: ANN001, ANN202
            if isinstance(x, scalars):
                return lambda x: scalar(x)
            if isinstance(x, types.Array):
                dtype = np.float32 if x.dtype == types.float32 else np.float64  # float32 stays float32

                def over_array(x):  # noqa: ANN001, ANN202
                    flat = x.ravel()
                    out = np.empty(flat.size, dtype)
                    for i in range(flat.size):
                        out[i] = scalar(flat[i])
                    return out.reshape(x.shape)
                return over_array
            return None

    unary(gammaln, njit(lambda x: math.lgamma(x)))
    unary(erf, njit(lambda x: math.erf(x)))
    unary(erfc, njit(lambda x: math.erfc(x)))
    unary(digamma, digamma_nb)
    unary(expit, expit_nb)
    unary(logit, njit(lambda x: math.log(x / (1.0 - x)) if 0.0 < x < 1.0 else
                      (-math.inf if x == 0.0 else (math.inf if x == 1.0 else math.nan))))
    unary(gamma, njit(lambda x: math.gamma(x)))
    unary(erfinv, njit(erfinv_scalar))

    @overload(logsumexp)
    def _logsumexp(x, axis, keepdims):  # noqa: ANN001, ANN202
        plain = isinstance(keepdims, types.BooleanLiteral) and not keepdims.literal_value
        if isinstance(x, types.Array) and isinstance(axis, (types.NoneType, types.Omitted)) and plain:
            def whole(x, axis, keepdims):  # noqa: ANN001, ANN202
                m = np.max(x)
                if not np.isfinite(m):
                    m = 0.0
                return m + np.log(np.sum(np.exp(x - m)))
            return whole
        return None

    @overload(polygamma)
    def _polygamma(n, x):  # noqa: ANN001, ANN202
        if isinstance(n, types.Integer) and isinstance(x, scalars):
            return lambda n, x: digamma_nb(x) if n == 0 else polygamma_nb(n, x)
        if isinstance(n, types.Integer) and isinstance(x, types.Array):
            def over_array(n, x):  # noqa: ANN001, ANN202
                flat = x.ravel()
                out = np.empty(flat.size)
                for i in range(flat.size):
                    out[i] = digamma_nb(flat[i]) if n == 0 else polygamma_nb(n, flat[i])
                return out.reshape(x.shape)
            return over_array
        return None


_register_numba()
