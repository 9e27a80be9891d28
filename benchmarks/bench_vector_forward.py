"""Vector forward mode against one forward pass per input component (issue 12).

Full Jacobians of the `adc compare` wide-input function ``R^n -> R`` and of a square map
``R^n -> R^n`` (``tanh(A @ x) * x``), for several ``n``: ``adc.jacfwd`` (vector mode: one pass with
a batch axis of ``n`` directions), the per-component loop it replaces (one ``jvp`` per input
component, through the cached call path), and ``adc.jacrev`` (one reverse pass per output).
Medians of per-call times (thread CPU time, so that other processes on a shared machine count
less), µs.

    python benchmarks/bench_vector_forward.py [--sizes 1 10 100 1000] [--samples 15] [--jit]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import adc
from adc.api import _jacfwd_columns
from adc.trees import LEAF
from adc.compare import wide_input
from bench_call_overhead import per_call

A = np.random.default_rng(1).normal(size=(1000, 1000)) / 30.0


def square(x, a):
    return np.tanh(a @ x) * x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--jit", action="store_true")
    o = parser.parse_args()
    print(f"| function | n | jit | vector jacfwd (µs) | per-component jacfwd (µs) | jacrev (µs) | per-component / vector |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for name, fn, extra in (("R^n -> R (wide_input)", wide_input, ()), ("R^n -> R^n (tanh(A x) x)", square, None)):
        for n in o.sizes:
            x = rng.normal(size=n)
            args = (x,) if extra is not None else (x, np.ascontiguousarray(A[:n, :n]))
            vec = adc.jacfwd(fn, jit=o.jit)
            rev = adc.jacrev(fn, jit=o.jit)
            want = vec(*args)
            np.testing.assert_allclose(_jacfwd_columns(fn, [0], True, args, o.jit, LEAF), want, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(rev(*args), want, rtol=1e-10, atol=1e-12)
            t_vec = per_call(lambda: vec(*args), o.samples, time.thread_time)
            t_col = per_call(lambda: _jacfwd_columns(fn, [0], True, args, o.jit, LEAF), max(3, o.samples // 3), time.thread_time)
            t_rev = per_call(lambda: rev(*args), max(3, o.samples // 3), time.thread_time)
            print(f"| {name} | {n} | {'yes' if o.jit else 'no'} | {t_vec * 1e6:.1f} | {t_col * 1e6:.1f} | "
                  f"{t_rev * 1e6:.1f} | {t_col / t_vec:.3g} |", flush=True)


if __name__ == "__main__":
    main()
