"""The RK4 loop of GradBench's ode written as the C++ reference's loops, differentiated by adc.

Each step makes its stages anew (``k1 = np.empty_like(x)``, filled element by element) and ends
with ``y = y_new``.  What the reverse sweep keeps decides the cost here: the array a step starts
with (``y``) by reference, its elements read again from it, and the stages, which the reverse
sweep reads only for their shape, made again (docs/performance.md, "Arrays made anew in every
iteration").  Beside it the eval's vectorised form (``jit=True``, its element-wise statements fused
into loops over the elements: docs/performance.md, "Element-wise statements fused").  One thread, glibc's
allocator keeping freed memory as GradBench's tool does (``run.keep_freed_memory``); medians and
minima of ``--runs`` calls after a warm-up.  The gradient of GradBench's last component is zero at
these sizes (y(2)'s last component depends on the first 4s + 1 components of x only), so the
check is the gradient of ``y[3]`` of both forms, which is not.

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_fresh_iterations.py [--runs 9]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import adc

sys.path.insert(0, str(Path(__file__).resolve().parent / "gradbench"))
import run  # noqa: E402  (GradBench's tool: its allocator set-up)
from bench_jit_parallel import timed  # noqa: E402
from evals import ode  # noqa: E402  (the eval's vectorised RK4)

SIZES = ((10000, 10), (100000, 100))


def ode_fun(x, y):
    z = np.empty_like(x)
    z[0] = x[0]
    for i in range(1, len(x)):
        z[i] = x[i] * y[i - 1]
    return z


def primal(x, s):
    n = len(x)
    h = 2.0 / s
    y = np.zeros(n)
    for _ in range(s):
        k1 = ode_fun(x, y)
        t = np.empty(n)
        for i in range(n):
            t[i] = y[i] + h * k1[i] / 2.0
        k2 = ode_fun(x, t)
        t = np.empty(n)
        for i in range(n):
            t[i] = y[i] + h * k2[i] / 2.0
        k3 = ode_fun(x, t)
        t = np.empty(n)
        for i in range(n):
            t[i] = y[i] + h * k3[i]
        k4 = ode_fun(x, t)
        y_new = np.empty(n)
        for i in range(n):
            y_new[i] = y[i] + h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0
        y = y_new
    return y


def last(x, s):
    return primal(x, s)[-1]


def fourth(x, s):
    return primal(x, s)[3]


def fourth_vectorised(x, s):
    return ode.primal(x, s)[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    o = parser.parse_args()
    run.keep_freed_memory()
    x = np.random.default_rng(0).uniform(0.5, 1.5, 12)
    np.testing.assert_allclose(adc.grad(fourth, jit=True)(x, 3), adc.grad(fourth_vectorised)(x, 3), rtol=1e-12)
    loops, vectorised = adc.grad(last, jit=True), adc.grad(ode.last, jit=True)
    print("| n | s | loops, jit=True: median (min), ms | vectorised, jit=True: median (min), ms |")
    print("|---|---|---|---|")
    for n, s in SIZES:
        x = np.random.default_rng(n).uniform(0.5, 1.5, n)
        loops(x, s), vectorised(x, s)
        (l_med, l_min), (v_med, v_min) = timed(loops, x, s, runs=o.runs), timed(vectorised, x, s, runs=o.runs)
        print(f"| {n} | {s} | {l_med:.3f} ({l_min:.3f}) | {v_med:.3f} ({v_min:.3f}) |")


if __name__ == "__main__":
    main()
