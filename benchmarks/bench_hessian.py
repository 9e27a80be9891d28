"""``adc.hessian`` of one array argument: vector mode (up to ``HESSIAN_DIRECTIONS`` columns per
pass over the gradient program) against one Hessian-vector product per column (what it did before,
and still does where an op of the gradient program has no batched rule), plain Python, one thread,
median of ``--runs`` calls after a warm-up, ms.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_hessian.py [--runs 9] [--sizes 10 100]
"""
from __future__ import annotations

import argparse
import math

import numpy as np

import adc
from harness import median_ms


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def chain(x):
    """A scalar loop over the array (its reverse sweep reads a record)."""
    s = 0.0
    for i in range(x.shape[0] - 1):
        s = s + math.cos(x[i] * x[i + 1]) + x[i] ** 3
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    options = parser.parse_args()
    print("| function | n | hessian (vector mode), ms | one hvp per column, ms | ratio |")
    print("|---|---|---|---|---|")
    for f in (rosen, chain):
        hessian, hvp = adc.hessian(f), adc.hvp(f)
        for n in options.sizes:
            x = np.linspace(0.1, 1.3, n)
            eye = np.eye(n)
            per_column = lambda x: np.stack([hvp(x, e) for e in eye], axis=-1)  # noqa: E731
            assert np.allclose(hessian(x), per_column(x), rtol=1e-12, atol=1e-12)
            a, b = median_ms(lambda: hessian(x), options.runs), median_ms(lambda: per_column(x), options.runs)
            print(f"| {f.__name__} | {n} | {a:.3f} | {b:.3f} | {b / a:.1f}x |")


if __name__ == "__main__":
    main()
