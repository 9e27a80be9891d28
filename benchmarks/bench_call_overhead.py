"""Per-call overhead of adc's API: ``grad``, ``value_and_grad`` and ``jvp`` on tiny inputs, where the generated code
costs little and the time is what the API does around it (signature, checks, conversion, shaping).

Five argument kinds (two scalars, two ``np.float64`` scalars, one small array, an array of 10 in ``np.sum(x * x)``, a dict
of two small arrays), ``grad``, ``value_and_grad`` and ``jvp``, ``jit`` off and on; beside each, the generated code called directly (no API layer).
Prints medians of many samples (each a timeit-style loop of at least 2 ms of this thread's CPU time)
in µs per call; each sample times the API and the generated code back to back, and the overhead
is the median of those pairs' differences.  ``PYTHONPATH=CHECKOUT`` times another checkout's adc
(the script's folder comes first on ``sys.path``, so an installed adc is found otherwise).

``--evals`` times instead the ``jit=True`` gradients of GradBench's llsq (n = 16, 128 points),
lse (n = 2500) and ode (n = 1000, s = 1) modules and of workload 2 (``loop_sum``, n = 1000), through their ``adc.grad`` function and as the
compiled function alone (``.specialize``); and det's at ell = 6 after a call at ell = 5 (a second
signature, as GradBench's one process for all sizes makes it).

    python benchmarks/bench_call_overhead.py [--samples 41] [--evals] [--json OUT]
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from typing import Any, Callable

import numpy as np

import adc


def scalar_f(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


def array_f(x):
    return np.sum(np.sin(x) * x)


def square_sum(x):
    return np.sum(x * x)


def dict_f(p):
    return np.sum(p["w"] * p["w"]) + np.sum(np.exp(p["b"]))


CASES: dict[str, tuple[Callable[..., Any], tuple[Any, ...], tuple[Any, ...]]] = {
    "scalars": (scalar_f, (2.0, 5.0), (1.0, 0.0)),
    "NumPy scalars (np.float64, as x[0] gives)": (scalar_f, (np.float64(2.0), np.float64(5.0)), (1.0, 0.0)),
    "array(3)": (array_f, (np.array([0.5, 1.0, 1.5]),), (np.array([1.0, 0.0, 0.0]),)),
    "array(10), sum(x * x)": (square_sum, (np.arange(10.0),), (np.ones(10),)),
    "dict of 2 arrays(3)": (dict_f, ({"w": np.array([0.5, 1.0, 1.5]), "b": np.array([0.1, 0.2, 0.3])},),
                            ({"w": np.ones(3), "b": np.zeros(3)},)),
}


def _loop_size(call: Callable[[], Any], clock: Callable[[], float]) -> int:
    """Calls per sample: enough for at least 2 ms of ``clock``."""
    n = 1
    while True:
        start = clock()
        for _ in range(n):
            call()
        if clock() - start > 2e-3:
            return n
        n *= 2


def per_call(call: Callable[[], Any], samples: int, clock: Callable[[], float] = time.thread_time) -> float:
    """Median seconds per call over ``samples`` loops of at least 2 ms each, timed by ``clock``
    (default: this thread's CPU time, which other processes on a shared machine disturb less)."""
    return paired(call, call, samples, clock)[0]


def paired(api: Callable[[], Any], raw: Callable[[], Any], samples: int,
           clock: Callable[[], float] = time.thread_time) -> tuple[float, float, float]:
    """Seconds per call of ``api`` and of ``raw`` (medians), and the median of their difference
    over ``samples`` pairs of loops run back to back, so that the machine's load, which moves
    from one second to the next, shifts both loops of a pair alike."""
    n = max(_loop_size(api, clock), _loop_size(raw, clock))
    pairs = []
    gc.disable()
    try:
        for _ in range(samples):
            times = []
            for call in (api, raw):
                start = clock()
                for _ in range(n):
                    call()
                times.append((clock() - start) / n)
            pairs.append(times)
    finally:
        gc.enable()
    return (statistics.median(a for a, _ in pairs), statistics.median(r for _, r in pairs),
            statistics.median(a - r for a, r in pairs))


def generated(fn: Callable[..., Any], kind: str, args: tuple[Any, ...], jit: bool) -> Callable[..., Any]:
    """The generated function adc runs for this call (the API layer left out)."""
    from adc.arguments import prepare
    from adc.pipeline import compile_derivative
    from adc.trees import flatten_args

    wrt = [0, 1] if len(args) == 2 else [0]
    prepared, types = prepare(fn, args, wrt)
    leaves = flatten_args(prepared, ["a"] * len(prepared)).leaves
    leaf_wrt = list(range(len(leaves)))
    return compile_derivative(fn, types, kind, leaf_wrt if kind == "jvp" else leaf_wrt[:len(leaf_wrt)], jit).func


def measure(samples: int) -> list[dict[str, Any]]:
    from adc.trees import leaves_of

    rows = []
    for case, (fn, args, tangents) in CASES.items():
        for jit in (False, True):
            argnums = (0, 1) if len(args) == 2 else 0
            g = adc.grad(fn, argnums=argnums, jit=jit)
            vg = adc.value_and_grad(fn, argnums=argnums, jit=jit)
            leaves, t_leaves = leaves_of(args), leaves_of(tangents)
            for call, kind, inputs in ((lambda: g(*args), "grad", leaves),
                                       (lambda: vg(*args), "value_and_grad", leaves),
                                       (lambda: adc.jvp(fn, args, tangents, jit=jit), "jvp", [*leaves, *t_leaves])):
                call()
                func = generated(fn, kind, args, jit)
                func(*inputs)
                rows.append(_row(case, kind, jit, *paired(call, lambda: func(*inputs), samples)))
    return rows


def _row(case: str, call: str, jit: bool, api: float, raw: float, overhead: float) -> dict[str, Any]:
    return {"case": case, "call": call, "jit": jit, "api_us": api * 1e6, "generated_us": raw * 1e6,
            "overhead_us": overhead * 1e6}


def measure_evals(samples: int) -> list[dict[str, Any]]:
    """The ``jit=True`` gradients of three GradBench eval modules and of workload 2, through
    ``adc.grad`` and alone."""
    import os
    import sys

    os.environ["ADC_GRADBENCH_JIT"] = "1"
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradbench"))
    from evals import det, llsq, lse, ode
    from workloads import loop_sum

    rng = np.random.default_rng(0)
    cases = {"llsq n=16": (llsq.gradient, (rng.normal(size=16), 128)),
             "lse n=2500": (lse.gradient, (rng.normal(size=2500),)),
             "ode n=1000 s=1": (ode.gradient, (rng.normal(size=1000), 1)),
             "workload 2, loop_sum n=1000": (adc.grad(loop_sum, jit=True), (rng.normal(size=1000),)),
             "det ell=6, after ell=5 (the second signature)": (det.gradient, (rng.normal(size=(6, 6)),))}
    det.gradient(rng.normal(size=(5, 5)))  # the first signature
    rows = []
    for case, (g, args) in cases.items():
        g(*args)
        func = g.specialize(*args)
        func = getattr(func, "dispatcher", func)
        rows.append(_row(case, "grad", True, *paired(lambda: g(*args), lambda: func(*args), samples)))
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| arguments | call | jit | through adc's API (µs) | generated code alone (µs) | overhead (µs, median of the pairs' differences) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['call']} | {'yes' if r['jit'] else 'no'} | {r['api_us']:.2f} | "
                     f"{r['generated_us']:.2f} | {r['overhead_us']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=41)
    parser.add_argument("--evals", action="store_true", help="GradBench's llsq, lse and ode gradients instead")
    parser.add_argument("--json", help="write the rows to this file")
    options = parser.parse_args()
    rows = (measure_evals if options.evals else measure)(options.samples)
    print(table(rows))
    if options.json:
        with open(options.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
