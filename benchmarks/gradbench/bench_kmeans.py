"""kmeans' Newton direction (gradient and Hessian diagonal, ``evals/kmeans.py``, ``jit=True``)
in-process: ms per call (this thread's CPU time), minimum and median of ``--samples`` samples of
``--calls`` calls, at the sizes given as ``k,n,d``.  ``PYTHONPATH=CHECKOUT`` times another checkout's
adc.

    python benchmarks/gradbench/bench_kmeans.py [--sizes 10,1000,8 100,1000,16] [--samples 11] [--calls 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

os.environ.setdefault("ADC_GRADBENCH_JIT", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evals import kmeans  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["10,1000,8", "100,1000,16"])
    parser.add_argument("--samples", type=int, default=11)
    parser.add_argument("--calls", type=int, default=5)
    options = parser.parse_args()
    rng = np.random.default_rng(0)
    for size in options.sizes:
        k, n, d = (int(v) for v in size.split(","))
        C, P = rng.normal(size=(k, d)), rng.normal(size=(n, d))
        start = time.perf_counter()
        kmeans.direction(C, P)
        first = time.perf_counter() - start
        times = []
        for _ in range(options.samples):
            start = time.thread_time()
            for _ in range(options.calls):
                kmeans.direction(C, P)
            times.append((time.thread_time() - start) / options.calls * 1e3)
        print(f"k={k} n={n} d={d}: min {min(times):.3f} ms, median {statistics.median(times):.3f} ms "
              f"(first call {first:.1f} s)")


if __name__ == "__main__":
    main()
