"""llsq: 1/2 sum_i (s_i - sum_j x_j t_i^j)^2 with t_i = -1 + 2i/(n-1), s_i = sign(t_i)."""
import numpy as np

import adc

from . import JIT


def llsq(x, n):
    t = -1.0 + np.arange(n) * 2.0 / (n - 1)
    s = np.sign(t)
    powers = np.vander(t, x.shape[0], increasing=True)  # t_i^j
    r = s - powers @ x
    return np.sum(r * r) / 2.0


gradient = adc.grad(llsq, jit=JIT)


def prepare(function, inp):
    x = np.asarray(inp["x"], dtype=np.float64)
    n = int(inp["n"])
    if function == "primal":
        return (lambda: llsq(x, n)), float
    return (lambda: gradient(x, n)), np.ndarray.tolist
