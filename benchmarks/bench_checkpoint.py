"""Checkpointed loops: peak memory and time of the gradient with and without checkpointing.

Three workloads, the explicit-Euler integrator (state: two floats) as a ``for`` loop and as a
``while`` loop (its snapshots placed without the trip count, ``adc_revolve.online``), and a tanh
RNN (state: a vector of ``--width`` floats), over ``--steps`` steps. For each number of snapshots:
the peak memory of the gradient in plain Python (``tracemalloc``; Numba's allocations are invisible
to it), the time of the gradient under ``jit=True`` (best of ``--repeat``), the time ratio to the
recorded gradient, and beside it the bound on that ratio from the forward steps run, relative to
the recorded gradient's ``n`` (the reverse steps are the same in both, so the ratio of the totals
is at most this): Revolve's optimum ``(T(n, k) + n) / n`` (its advances, first sweep included, plus
one recording step per reversed step) and adc's schedule ``(n + S + n) / n`` (the forward sweep,
the ``S`` recomputed steps counted by driving its kernels, ``adc.prims.revolve.simulate``, and the
recording steps). Writes a Markdown table, and a plot if matplotlib is installed (a message says so
if not).

    python benchmarks/bench_checkpoint.py --steps 1000000 --snapshots 16 64 256
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import adc  # noqa: E402
from adc.prims import revolve  # noqa: E402


def euler(k, c, n):
    x = 1.0
    v = 0.0
    dt = 1e-5
    for i in range(n):
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
    return x * x + v * v


def euler_while(k, c, n):
    x, v, i = 1.0, 0.0, 0
    dt = 1e-5
    while i < n:
        a = -k * x - c * v
        x, v = x + dt * v, v + dt * a
        i += 1
    return x * x + v * v


def rnn(W, h0, n):
    h = h0
    for i in range(n):
        h = np.tanh(W @ h * 0.5 + 0.01)
    return np.sum(h * h)


def _peak(fn: Callable[..., Any], args: tuple[Any, ...]) -> float:
    """Peak traced memory of one call, in MB (compiled before)."""
    fn(*args)
    gc.collect()
    tracemalloc.start()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def _time(fn: Callable[..., Any], args: tuple[Any, ...], repeat: int) -> float:
    fn(*args)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def measure(name: str, fn: Callable[..., Any], args: tuple[Any, ...], mem_args: tuple[Any, ...],
            argnums: Any, snapshots: list[int], repeat: int, unknown: bool = False) -> list[dict[str, Any]]:
    """Rows for ``fn`` recorded and checkpointed (``unknown``: a ``while`` loop's schedule)."""
    n, n_mem = args[-1], mem_args[-1]
    rows = []
    plain_time = _time(adc.grad(fn, argnums=argnums, jit=True), args, repeat)
    want = adc.grad(fn, argnums=argnums, jit=True)(*args)
    rows.append({"workload": name, "snapshots": "recorded", "mem": _peak(adc.grad(fn, argnums=argnums), mem_args),
                 "time": plain_time, "ratio": 1.0, "theory": 1.0, "schedule": 1.0})
    for k in snapshots:
        grad = adc.grad(fn, argnums=argnums, jit=True, checkpoints=k)
        got = grad(*args)
        same = all(np.array_equal(a, b) for a, b in zip(got, want))
        steps, _ = revolve.simulate(n, k, unknown)
        t = _time(grad, args, repeat)
        rows.append({"workload": name, "snapshots": k, "same": same,
                     "mem": _peak(adc.grad(fn, argnums=argnums, checkpoints=k), mem_args),
                     "time": t, "ratio": t / plain_time, "theory": (revolve.theory_steps(n, k) + n) / n,
                     "schedule": (n + steps + n) / n})
        print(rows[-1], flush=True)
    for r in rows:
        r["steps"], r["mem_steps"] = n, n_mem
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| workload | steps (time) | steps (memory) | snapshots | peak memory, Python | time, `jit=True` "
           "| time ÷ recorded | Revolve bound | adc's schedule | gradient == recorded |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['workload']} | {r['steps']:,} | {r['mem_steps']:,} | {r['snapshots']} | {r['mem']:.2f} MB "
                   f"| {r['time'] * 1e3:.1f} ms | {r['ratio']:.2f}x | {r['theory']:.2f}x | {r['schedule']:.2f}x "
                   f"| {'' if r['snapshots'] == 'recorded' else 'yes' if r['same'] else 'NO'} |")
    return "\n".join(out)


def plot(rows: list[dict[str, Any]], path: Path) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no plot (pip install matplotlib, then rerun)"
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for name in dict.fromkeys(r["workload"] for r in rows):
        mine = [r for r in rows if r["workload"] == name and r["snapshots"] != "recorded"]
        base = next(r for r in rows if r["workload"] == name and r["snapshots"] == "recorded")
        ks = [r["snapshots"] for r in mine]
        line = left.plot(ks, [r["mem"] for r in mine], "o-", label=f"{name}, checkpointed")[0]
        left.axhline(base["mem"], ls="--", color=line.get_color(), label=f"{name}, recorded")
        line = right.plot(ks, [r["ratio"] for r in mine], "o-", label=f"{name}, measured")[0]
        right.plot(ks, [r["schedule"] for r in mine], "x:", color=line.get_color(), label=f"{name}, bound")
    left.set(xscale="log", yscale="log", xlabel="snapshots", ylabel="peak memory, MB (Python)")
    right.set(xscale="log", xlabel="snapshots", ylabel="gradient time ÷ recorded (jit=True)")
    for axes in (left, right):
        axes.set_xticks(ks, [str(k) for k in ks], minor=False)
        axes.minorticks_off()
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return f"plot written to {path}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=10 ** 6)
    ap.add_argument("--memory-steps", type=int, default=10 ** 5, help="steps of the (plain Python) memory runs")
    ap.add_argument("--snapshots", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plot", type=Path, default=Path("docs/checkpoint.png"))
    ap.add_argument("--workloads", nargs="+", default=["euler", "euler-while", "rnn"],
                    choices=["euler", "euler-while", "rnn"])
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    W, h0 = rng.normal(size=(a.width, a.width)) / np.sqrt(a.width), rng.normal(size=a.width)
    rows = []
    if "euler" in a.workloads:
        rows += measure("Euler", euler, (4.0, 0.5, a.steps), (4.0, 0.5, a.memory_steps), (0, 1), a.snapshots,
                        a.repeat)
    if "euler-while" in a.workloads:
        rows += measure("Euler, while", euler_while, (4.0, 0.5, a.steps), (4.0, 0.5, a.memory_steps), (0, 1),
                        a.snapshots, a.repeat, unknown=True)
    if "rnn" in a.workloads:
        rows += measure(f"RNN, width {a.width}", rnn, (W, h0, a.steps), (W, h0, a.memory_steps), (0, 1),
                        a.snapshots, a.repeat)
    print(table(rows))
    print(plot(rows, a.plot))


if __name__ == "__main__":
    main()
