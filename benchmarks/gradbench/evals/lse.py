"""lse: log-sum-exp of a vector with the max trick, and its gradient (reverse mode), as plain
NumPy: `jit=False`, since NumPy's `exp` is vectorised and Numba's is a scalar loop (the compiled
gradient took 1.0-2.3x as long at n = 2500 to 1280000, docs/gradbench.md)."""
import numpy as np

import adc


def lse(x):
    a = np.max(x)
    return a + np.log(np.sum(np.exp(x - a)))


gradient = adc.grad(lse)


def prepare(function, inp):
    x = np.asarray(inp["x"], dtype=np.float64)
    if function == "primal":
        return (lambda: lse(x)), float
    return (lambda: gradient(x)), np.ndarray.tolist
