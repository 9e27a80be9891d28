"""Helper process: first-call latency in a fresh interpreter (run by bench_loop.py).

``--mode adc_jit``: import adc, build ``adc.grad(loop_sum, jit=True)`` and time its first call
(transformation + code generation + Numba compilation, or Numba's on-disk cache when
``$ADC_CACHE_DIR`` already holds it) and its second call.  ``--mode adc_source``: the transformation
alone (``adc.source``, no Numba).  ``--mode numba_hand``: the hand-written gradient under
``numba.njit`` (no cache), for Numba's own compile time.  Prints one JSON line.
"""
import argparse
import json
import sys
import time

t_start = time.perf_counter()
p = argparse.ArgumentParser()
p.add_argument("--mode", choices=("adc_jit", "adc_source", "numba_hand"), required=True)
p.add_argument("--n", type=int, default=1000)
a = p.parse_args()

import numpy as np  # noqa: E402

x = np.random.default_rng(0).uniform(-1.0, 1.0, a.n)
out = {"mode": a.mode, "status": "ok"}
t0 = time.perf_counter()
if a.mode == "numba_hand":
    import numba

    from handwritten import loop_sum_grad as loop_sum_grad_hand

    t1 = time.perf_counter()
    g = numba.njit(loop_sum_grad_hand)
    g(x)
else:
    try:
        import adc
    except ImportError:
        sys.path.insert(0, "..")
        import adc
    if a.mode == "adc_jit":
        import numba  # noqa: F401  (imported by adc's back end on first use; timed as import here)
    from workloads import loop_sum

    t1 = time.perf_counter()
    if a.mode == "adc_source":
        adc.source(loop_sum, argnums=0, at=(x,))
    else:
        g = adc.grad(loop_sum, jit=True)
        g(x)
t2 = time.perf_counter()
if a.mode != "adc_source":
    g(x)
t3 = time.perf_counter()
out.update(startup_s=t0 - t_start, import_s=t1 - t0, first_call_s=t2 - t1, second_call_s=t3 - t2)
print(json.dumps(out))
