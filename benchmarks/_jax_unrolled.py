"""Helper process: JAX ``jit(grad)`` of the Python loop of workload 2 (unrolled at trace time).

Run by bench_loop.py in its own process, so a compile that exceeds the cap can be killed.  Prints
one JSON line: compile time (first call) and the median per-call time of later calls.
"""
import argparse
import json
import os
import statistics
import time

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=1000)
p.add_argument("--repeats", type=int, default=21)
a = p.parse_args()

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import numpy as np  # noqa: E402

try:
    import jax
except ImportError as exc:
    print(json.dumps({"status": "skipped", "note": f"jax not installed ({exc})"}))
    raise SystemExit(0)
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy


def loop_sum_jax(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += jnp.sin(x[i]) * x[i + 1] + (x[i] - x[i + 1]) ** 2
    return s


x = jnp.asarray(np.random.default_rng(0).uniform(-1.0, 1.0, a.n))
g = jax.jit(jax.grad(loop_sum_jax))
t0 = time.perf_counter()
r = jax.block_until_ready(g(x))
compile_s = time.perf_counter() - t0
times = []
for _ in range(a.repeats):
    number = 10
    t0 = time.perf_counter()
    for _ in range(number):
        jax.block_until_ready(g(x))
    times.append((time.perf_counter() - t0) / number)
print(json.dumps({"status": "ok", "compile_s": compile_s, "median_s": statistics.median(times),
                  "q1_s": float(np.percentile(times, 25)), "q3_s": float(np.percentile(times, 75)),
                  "repeats": a.repeats, "number": 10, "grad": np.asarray(r).tolist()}))
