"""Workload 2 under ``jit=True`` in-process: ``adc.grad(loop_sum, jit=True)`` against the
hand-written gradient compiled with ``numba.njit`` (n = 1000), each sample the two loops back to
back (``bench_call_overhead.paired``), three rounds of 41 samples; µs per call and the ratio of
the medians.  ``PYTHONPATH=CHECKOUT`` times another checkout's adc.  (``run_all.py --only loop``
is the full workload, with first-call latency and the other tools.)

    python benchmarks/bench_loop_ratio.py
"""
from __future__ import annotations

import numba
import numpy as np

import adc
from bench_call_overhead import paired
from handwritten import loop_sum_grad
from workloads import loop_sum


def main() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    g, hand = adc.grad(loop_sum, jit=True), numba.njit(loop_sum_grad)
    np.testing.assert_allclose(g(x), hand(x), rtol=1e-13)
    for _ in range(3):
        api, ref, _ = paired(lambda: g(x), lambda: hand(x), 41)
        print(f"adc {api * 1e6:.2f} µs, hand-written Numba {ref * 1e6:.2f} µs, ratio {api / ref:.2f}")


if __name__ == "__main__":
    main()
