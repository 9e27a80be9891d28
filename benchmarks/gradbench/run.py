"""adc as a GradBench tool: `python benchmarks/gradbench/run.py` answers the GradBench protocol.

One JSON message a line on stdin, one JSON response a line on stdout (GradBench's CONTRIBUTING.md,
"Protocol"). `define` loads `evals/<module>.py`; `evaluate` asks that module to `prepare` the
function for the input (NumPy conversion at the boundary), makes one untimed-for-the-eval first call
(its time, which includes adc's transformation and, with `jit=True`, Numba's compilation, is
reported as the timing `first_call`), then runs the call at least `min_runs` times and until the
runs add up to `min_seconds`, one `evaluate` timing per run. Where adc cannot differentiate the
eval's function, the response is `"success": false` with the adc error as `error`.

At start it asks glibc's allocator to keep freed memory for reuse (`keep_freed_memory`), as the
caching allocators of GPU frameworks do: by default a large array is a fresh `mmap`, or heap memory
that `free` hands back to the kernel, and its pages are faulted in again on every call (60% of the
ode gradient's time at n = 100000, docs/performance.md). `ADC_GRADBENCH_MALLOC=default` leaves
the allocator alone.
"""
import ctypes
import importlib
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)  # this checkout's adc, whatever the working directory
sys.path.insert(0, HERE)

import adc  # noqa: E402

def keep_freed_memory() -> None:
    """glibc: serve every allocation from the heap (no `mmap`, whose memory goes back to the kernel on
    `free`), and never give the heap's free top back either."""
    if os.environ.get("ADC_GRADBENCH_MALLOC") == "default" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, 2 ** 31 - 1)


EVALS = ("hello", "lse", "llsq", "det", "gmm", "kmeans", "ode", "lstm", "ba", "ht", "particle", "saddle")


def describe(e: BaseException) -> str:
    """The error as the eval sees it: an adc error is its message; anything else has its traceback."""
    if isinstance(e, adc.AdcError):
        return f"adc.{type(e).__name__}: {e}"
    return "".join(traceback.format_exception(e))


def evaluate(module, function, inp):
    call, encode = module.prepare(function, inp)
    t = time.perf_counter_ns()
    result = call()
    timings = [{"name": "first_call", "nanoseconds": time.perf_counter_ns() - t}]
    if isinstance(inp, dict) and "min_runs" in inp:
        min_runs, min_ns = inp["min_runs"], inp["min_seconds"] * 1e9
        total = runs = 0
        while runs < min_runs or total < min_ns:
            t = time.perf_counter_ns()
            result = call()
            ns = time.perf_counter_ns() - t
            timings.append({"name": "evaluate", "nanoseconds": ns})
            total += ns
            runs += 1
    else:  # hello: one run, no Runs fields
        timings.append({"name": "evaluate", "nanoseconds": timings[0]["nanoseconds"]})
    return {"success": True, "output": encode(result), "timings": timings}


def respond(message, modules):
    response = {"id": message["id"]}
    kind = message["kind"]
    if kind == "start":
        response["tool"] = "adc"
    elif kind == "define":
        name = message["module"]
        if name not in EVALS:
            return response | {"success": False, "error": f"adc's GradBench tool has no module {name!r}"}
        t = time.perf_counter_ns()
        modules[name] = importlib.import_module(f"evals.{name}")
        response |= {"success": True, "timings": [{"name": "define", "nanoseconds": time.perf_counter_ns() - t}]}
    elif kind == "evaluate":
        try:
            response |= evaluate(modules[message["module"]], message["function"], message["input"])
        except Exception as e:  # noqa: BLE001 - every failure is an answer, not a crash
            response |= {"success": False, "error": describe(e)}
    return response


def main():
    keep_freed_memory()
    modules = {}
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(respond(json.loads(line), modules)), flush=True)


if __name__ == "__main__":
    main()
