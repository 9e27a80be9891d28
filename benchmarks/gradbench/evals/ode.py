"""ode: y' = (x_0, x_1 y_0, x_2 y_1, ...), y(0) = 0, classic Runge-Kutta with s steps to t = 2;
the gradient is that of the last component of y(2) with respect to x."""
import numpy as np

import adc

from . import JIT


def ode_fun(x, y):
    z = x.copy()
    z[1:] = x[1:] * y[:-1]
    return z


def primal(x, s):
    h = 2.0 / s
    y = np.zeros_like(x)
    for _ in range(s):
        k1 = ode_fun(x, y)
        k2 = ode_fun(x, y + h * k1 / 2.0)
        k3 = ode_fun(x, y + h * k2 / 2.0)
        k4 = ode_fun(x, y + h * k3)
        y = y + h * (k1 + 2.0 * k2 + 2.0 * k3 + k4) / 6.0
    return y


def last(x, s):
    y = primal(x, s)
    return y[-1]


gradient = adc.grad(last, jit=JIT)  # adc fuses each RK4 step into loops over the elements (adc/fusion.py)


def prepare(function, inp):
    x = np.asarray(inp["x"], dtype=np.float64)
    s = int(inp["s"])
    fn = primal if function == "primal" else gradient
    return (lambda: fn(x, s)), np.ndarray.tolist
