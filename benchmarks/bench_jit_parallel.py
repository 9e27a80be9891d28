"""``jit=True`` against ``jit="parallel"`` on GradBench's ode gradient (RK4 with array state).

Numba's parallel compilation fuses the element-wise loops of consecutive statements; run with
``NUMBA_NUM_THREADS=1`` (as below) the difference is that fusion alone, not threads.  For each size,
the gradient's median and minimum over ``--runs`` calls after a warm-up, and each mode's first call
(transformation and compilation; Numba's on-disk cache may make a rerun's first call shorter).

    NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_jit_parallel.py [--runs 7]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import adc

sys.path.insert(0, str(Path(__file__).resolve().parent / "gradbench"))
from evals import ode  # noqa: E402  (the eval's own function, ``last(x, s)``)

SIZES = ((1000, 1), (10000, 10), (100000, 100))  # GradBench's ode sizes on the diagonal (n, s)


def timed(fn, *args, runs: int) -> tuple[float, float]:
    """Median and minimum of ``runs`` calls, ms."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3, min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    o = parser.parse_args()
    grads = {mode: adc.grad(ode.last, jit=mode) for mode in (True, "parallel")}
    print("| n | s | jit=True median (min), ms | jit=\"parallel\" median (min), ms | True / parallel | first call True, parallel |")
    print("|---|---|---|---|---|---|")
    for n, s in SIZES:
        x = np.random.default_rng(n).uniform(0.5, 1.5, n)
        first = {}
        for mode, g in grads.items():
            start = time.perf_counter()
            g(x, s)
            first[mode] = time.perf_counter() - start
        assert np.allclose(grads[True](x, s), grads["parallel"](x, s), rtol=1e-12, atol=0.0)
        cells = {mode: timed(g, x, s, runs=o.runs) for mode, g in grads.items()}
        (t_med, t_min), (p_med, p_min) = cells[True], cells["parallel"]
        print(f"| {n} | {s} | {t_med:.3f} ({t_min:.3f}) | {p_med:.3f} ({p_min:.3f}) | {t_med / p_med:.2f} "
              f"| {first[True]:.1f} s, {first['parallel']:.1f} s |")


if __name__ == "__main__":
    main()
