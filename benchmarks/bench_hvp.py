"""Hessian-vector product cost: ``adc.hvp`` (forward over reverse, one pass) against ``adc.grad``.

Times the generated functions themselves (no per-call wrapper: ``specialize`` for the gradient,
the compiled ``hvp`` program for the product), plain Python and ``jit=True``, on three workloads:
the scalar loop over an array (its reverse sweep reads a record), Rosenbrock in NumPy, and the
explicit-Euler loop.  Target (issue 12): an HVP costs at most 4x the gradient.

    python benchmarks/bench_hvp.py [--quick]
"""
from __future__ import annotations

import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import adc  # noqa: E402
from adc.arguments import prepare  # noqa: E402
from adc.pipeline import compile_derivative  # noqa: E402
from workloads import loop_sum, ode_loss  # noqa: E402


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def best(fn, args, number, repeat):
    fn(*args)
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)) / number


def main() -> None:
    quick = "--quick" in sys.argv
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000)
    cases = [("loop_sum, n = 1000", loop_sum, (x,), 0, x),
             ("rosen (NumPy), n = 1000", rosen, (x,), 0, x),
             ("ode_loss, 1000 steps, wrt k", ode_loss, (4.0, 0.3, 1.0, 0.0, 0.01, 1000), 0, 1.0)]
    number, repeat = (20, 3) if quick else (200, 7)
    print("| workload | backend | grad (us) | hvp (us) | hvp / grad |")
    print("|---|---|---:|---:|---:|")
    for label, fn, args, argnum, v in cases:
        for jit in (False, True):
            grad = adc.grad(fn, argnums=argnum, jit=jit).specialize(*args)
            prepared, types = prepare(fn, args, [argnum])
            hvp = compile_derivative(fn, types, "hvp", [argnum], jit).func
            g = best(grad, prepared, number, repeat)
            h = best(hvp, [*prepared, v], number, repeat)
            print(f"| {label} | {'numba' if jit else 'python'} | {g * 1e6:.1f} | {h * 1e6:.1f} | {h / g:.2f} |")


if __name__ == "__main__":
    main()
