"""Hand-written gradients of the workloads: the references adc is checked and timed against.

The scalar ones are plain Python that Numba also compiles as is (``numba.njit(fn)``).
"""
import math

import numpy as np


def f_grad(x1, x2):
    """Workload 1: d/dx1, d/dx2 of log(x1) + x1*x2 - sin(x2)."""
    return 1.0 / x1 + x2, x1 - math.cos(x2)


def loop_sum_grad(x):
    """Workload 2: gradient of sum_i sin(x[i]) * x[i+1] + (x[i] - x[i+1])**2 (one loop, in place)."""
    g = np.zeros_like(x)
    for i in range(len(x) - 1):
        a = x[i]
        b = x[i + 1]
        d = 2.0 * (a - b)
        g[i] += math.cos(a) * b + d
        g[i + 1] += math.sin(a) - d
    return g


def mlp_grad(W1, b1, W2, b2, X, y, reg):
    """Workload 3: the classic CS231n two-layer-net backward pass (NumPy)."""
    N = X.shape[0]
    hpre = X @ W1 + b1
    h = np.maximum(0.0, hpre)
    scores = h @ W2 + b2
    scores -= scores.max(axis=1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = probs
    dscores[np.arange(N), y] -= 1.0
    dscores /= N
    dW2 = h.T @ dscores + reg * W2
    db2 = dscores.sum(axis=0)
    dh = dscores @ W2.T
    dh[hpre <= 0] = 0.0
    dW1 = X.T @ dh + reg * W1
    db1 = dh.sum(axis=0)
    return dW1, db1, dW2, db2


def ode_grad_py(k, c, x0, v0, dt, n):
    """Workload 4: adjoint of explicit Euler (trajectory kept in Python lists)."""
    xs = [0.0] * n
    vs = [0.0] * n
    x, v = x0, v0
    for i in range(n):
        xs[i] = x
        vs[i] = v
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
    gx, gv = 2.0 * x, 2.0 * v
    gk = gc = 0.0
    for i in range(n - 1, -1, -1):
        # x' = x + dt v ; v' = v + dt (-k x - c v)
        ga = dt * gv
        gk -= ga * xs[i]
        gc -= ga * vs[i]
        gx, gv = gx - k * ga, gv + dt * gx - c * ga
    return gk, gc


def ode_grad_arrays(k, c, x0, v0, dt, n):
    """Workload 4: the same adjoint with the trajectory in preallocated float64 arrays (for Numba)."""
    xs = np.empty(n)
    vs = np.empty(n)
    x, v = x0, v0
    for i in range(n):
        xs[i] = x
        vs[i] = v
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
    gx, gv = 2.0 * x, 2.0 * v
    gk = 0.0
    gc = 0.0
    for i in range(n - 1, -1, -1):
        ga = dt * gv
        gk -= ga * xs[i]
        gc -= ga * vs[i]
        gx, gv = gx - k * ga, gv + dt * gx - c * ga
    return gk, gc
