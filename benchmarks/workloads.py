"""The benchmark workloads as plain module-level Python functions.

adc reads the source of these functions, so they stay ordinary Python (``math`` for scalars,
NumPy for arrays).  Everything else (hand-written gradients, peers' versions, Numba builds) lives in
the ``bench_*.py`` modules; nothing here imports adc.
"""
import math

import numpy as np


# -- workload 1: the lecture function ---------------------------------------------------------------
def f(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


# -- workload 2: a scalar loop over an array ---------------------------------------------------------
def loop_sum(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += math.sin(x[i]) * x[i + 1] + (x[i] - x[i + 1]) ** 2
    return s


# -- workload 3: two-layer MLP, softmax cross-entropy + L2 ------------------------------------------
def mlp_loss(W1, b1, W2, b2, X, y, reg):
    N = X.shape[0]
    h = np.maximum(0.0, X @ W1 + b1)
    scores = h @ W2 + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    logz = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    logp = shifted - logz
    data = -np.sum(logp[np.arange(N), y]) / N
    return data + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))


# -- workload 4: explicit Euler for x'' = -k x - c x' ------------------------------------------------
def ode_loss(k, c, x0, v0, dt, n):
    x = x0
    v = v0
    for i in range(n):
        a = -k * x - c * v
        x_new = x + dt * v
        v = v + dt * a
        x = x_new
    return x * x + v * v
