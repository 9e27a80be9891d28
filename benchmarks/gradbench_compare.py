"""adc against GradBench's PyTorch tool, JAX (blocking) and the C++ `manual` reference, on all 12
GradBench evals (docs/gradbench.md, "Full comparison (all 12 evals)").

Usage:
    python benchmarks/gradbench_compare.py [--torch PY] [--jax PY] [--evals lse ba] [--sizes n=2500]
                                           [--runs 5] [--timeout S] [--out FILE.json] [--plot DIR]
    python benchmarks/gradbench_compare.py ... --update FILE.json   (run some evals/sizes again, merged into FILE)
    python benchmarks/gradbench_compare.py --from FILE.json [--plot DIR]   (tables and plots of a saved run)

Every tool runs one eval at one size at a time through the bundle's `pipe.py`, on the same inputs,
one thread each (`OMP_NUM_THREADS=1`, `OPENBLAS_NUM_THREADS=1`, `MKL_NUM_THREADS=1`,
`NUMBA_NUM_THREADS=1`, and for JAX `XLA_FLAGS=--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1`), with `--min-runs RUNS --min-seconds 0`; `pipe.py` reports the
median of each answer's `evaluate` timings. Every answer is validated as usual (against `manual`,
or the known answers of particle and saddle); an invalid or failed answer is shown, not timed. A
tool that does not finish an eval at a size within `--timeout` seconds is stopped and shown as a
timeout. `--torch` and `--jax` name pythons that have `torch==2.13.0`, resp. `jax`, plus numpy,
pydantic and `dataclasses-json` (docs/gradbench.md says how to make them); a peer without a python
is left out. JAX runs GradBench's JAX tool through `benchmarks/gradbench/jax_blocking.py`, which
waits for each result inside the timed call. `manual` is built with GradBench's `-O3`, and its tool
rebuilds each module with `-march=native` at `define`, as GradBench runs it.

adc runs with a fresh `ADC_CACHE_DIR` per eval, so the `first_call` of an eval's first size
includes adc's transformation and Numba's compilation (later sizes reuse that eval's cache), and
through `benchmarks/gradbench/tap_timings.py`, which keeps those `first_call` timings.

Prints markdown tables: per eval, size and tool the primal and derivative medians, J/F and adc's
derivative time over each peer's (below 1: adc is faster); adc's first call beside its steady
state; and per eval the geometric means over sizes against issue 13's targets. The JSON also keeps
the load average before and after each eval and size. `--plot DIR` writes `DIR/gradbench_EVAL.png`,
the derivative times per size and tool (needs matplotlib).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "gradbench"))
import reference  # noqa: E402

TOOLS = ("adc", "pytorch", "jax", "manual")


@dataclass(frozen=True)
class Eval:
    """What the comparison runs for one eval."""
    sizes: list[tuple[list[str], str]]  # (the eval's arguments, the size's label), smallest first
    peers: tuple[str, ...]  # the tools besides adc that have a module for the eval
    primal: str | None  # the function J/F divides by (particle and saddle have none)
    derivatives: tuple[str, ...]  # the derivative functions, each timed and compared
    # tool -> (how many of the sizes it runs, why not the others): a peer too slow for the run's budget
    limit: dict[str, tuple[int, str]] = field(default_factory=dict)
    target: float = 2.0  # issue 13: adc's derivative within this factor of manual's


def _grid(flag_values: list[tuple[int, ...]], flags: tuple[str, ...]) -> list[tuple[list[str], str]]:
    """Sizes from tuples of values for the given flags: `("-n", "-s")` and `(1000, 1)` -> `-n 1000 -s 1`."""
    return [([a for flag, v in zip(flags, values) for a in (flag, str(v))],
             " ".join(f"{flag.lstrip('-')}={v}" for flag, v in zip(flags, values))) for values in flag_values]


# Sizes: a spread over each eval's default sizes (docs/gradbench.md gives the defaults and why these).
EVALS: dict[str, Eval] = {
    "hello": Eval([([], "4 inputs")], ("pytorch", "jax", "manual"), "square", ("double",)),
    "lse": Eval(_grid([(n,) for n in (2500, 20000, 160000, 1280000)], ("-n",)), ("pytorch", "jax", "manual"),
                "primal", ("gradient",), target=1.5),
    "llsq": Eval(_grid([(n,) for n in (16, 256, 4096)], ("-n",)), ("jax", "manual"), "primal", ("gradient",),
                 target=1.5),
    "ode": Eval(_grid([(1000, 1), (10000, 10), (100000, 100)], ("-n", "-s")), ("jax", "manual"), "primal",
                ("gradient",), target=1.5),
    "gmm": Eval(_grid([(2, 5), (10, 25), (64, 100)], ("-d", "-k")), ("pytorch", "jax", "manual"), "objective",
                ("jacobian",)),
    "kmeans": Eval(_grid([(10, 1000, 8), (100, 1000, 16), (1000, 10000, 16)], ("-k", "-n", "-d")),
                   ("pytorch", "jax", "manual"), "cost", ("dir",)),
    "det": Eval(_grid([(n,) for n in (5, 6, 7, 8, 9)], ("-l",)), ("manual",), "primal", ("gradient",), target=1.5),
    "lstm": Eval(_grid([(2, 1024), (4, 4096), (6, 8192)], ("-l", "-c")), ("pytorch", "manual"), "objective",
                 ("jacobian",)),
    "ht": Eval([(["--min", str(i), "--max", str(i)], f"hand{i}") for i in (1, 6, 11)], ("pytorch", "manual"),
               "objective", ("jacobian",),
               limit={"pytorch": (1, "11 s per Jacobian at hand1; hand6 has 16x the points")}),
    "ba": Eval([(["--min", str(i), "--max", str(i)], f"ba{i}") for i in (1, 7, 14)], ("pytorch", "manual"),
               "objective", ("jacobian",),
               limit={"pytorch": (0, "about 1 min per Jacobian already at ba1 (57 s, docs/gradbench.md)")}),
    "particle": Eval([([], "w=0")], (), None, ("rr", "ff", "fr", "rf"), target=1.5),
    "saddle": Eval([([], "start=(1,1)")], (), None, ("rr", "ff", "fr", "rf"), target=1.5),
}
ROW = re.compile(r"^  (\S+)\s+(.*?)\s+(nan|[\d.]+) ms  x(\d+)\s+(valid|FAILED|INVALID)")
Result = dict[str, list]  # function -> [median seconds or None, status]


def tool_command(tool: str, root: Path, py: str, first_calls: Path) -> str:
    """The shell command that starts `tool` for pipe.py (working directory: the bundle)."""
    if tool == "adc":
        return f"{sys.executable} {HERE / 'gradbench' / 'tap_timings.py'} {first_calls} " \
               f"{sys.executable} {HERE / 'gradbench' / 'run.py'}"
    if tool == "pytorch":
        return f"{py} {root / 'python/gradbench/gradbench/tools/pytorch/run.py'}"
    if tool == "jax":
        return f"{py} {HERE / 'gradbench' / 'jax_blocking.py'}"
    return f"{sys.executable} {root / 'python/gradbench/gradbench/cpp.py'} manual"


def parse(out: str, functions: tuple[str, ...]) -> Result:
    """pipe.py's rows as {function: [median seconds or None, status]}; a function answered several
    times (hello asks four inputs) gets the median of its medians."""
    seen: dict[str, list[tuple[float | None, str]]] = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            valid = m.group(5) == "valid"
            seen.setdefault(m.group(1), []).append((float(m.group(3)) / 1e3 if valid else None, m.group(5).lower()))
    if not seen:
        last = (out.strip().splitlines() or ["no output"])[-1][:80]
        return {f: [None, last] for f in functions}
    result = {}
    for f, rows in seen.items():
        bad = [s for t, s in rows if t is None]
        result[f] = [None, bad[0]] if bad else [statistics.median(t for t, _ in rows), "valid"]
    return result


def run(root: Path, tool: str, py: str, name: str, args: list[str], runs: int, timeout: float,
        cache: str) -> tuple[Result, dict[str, float]]:
    """One tool on one eval at one size: ({function: [median s or None, status]}, adc's {function: first call s})."""
    spec = EVALS[name]
    functions = tuple(f for f in (spec.primal, *spec.derivatives) if f)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               ADC_CACHE_DIR=cache)
    inc, _ = reference.json_include()
    if inc:  # the manual tool's `define` runs make again: give it the same headers as reference.build
        env["CXXFLAGS"] = f"-std=c++17 -O3 -I{inc}/nlohmann -I{inc} -I../../cpp"
    env.pop("PYTHONPATH", None)
    with tempfile.NamedTemporaryFile(suffix=".json") as first:
        # hello takes no arguments: one run per input
        eval_args = [*args, "--min-runs", str(runs), "--min-seconds", "0"] if name != "hello" else []
        cmd = [sys.executable, str(root / "pipe.py"), "--root", str(root), "--eval", name, "--timeout", str(timeout),
               "--tool", tool_command(tool, root, py, Path(first.name)), "--", *eval_args]
        # a session of its own, so that a timeout ends pipe.py's children (the eval, the tool) too
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                                start_new_session=True)
        try:
            out = proc.communicate(timeout=timeout + 30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            out = ""
        if "timeout after" in out or not out:
            return {f: [None, f"timeout ({timeout:.0f} s)"] for f in functions}, {}
        text = Path(first.name).read_text()
    first_calls: dict[str, float] = {}
    for f, t in json.loads(text or "[]"):
        first_calls.setdefault(f, t)  # the first answer of each function: the one that transforms and compiles
    return parse(out, functions), first_calls


def geomean(xs: list[float]) -> float | None:
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def fmt(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def time_of(row: dict, tool: str, function: str | None) -> float | None:
    """The median seconds of `function` for `tool` in a result row, or None."""
    return row["tools"].get(tool, {}).get(function, [None])[0] if function else None


def j_over_f(row: dict, tool: str) -> dict[str, float | None]:
    """Per derivative function of the row's eval: the tool's J/F (None without a primal time)."""
    spec = EVALS[row["eval"]]
    tf = time_of(row, tool, spec.primal)
    return {d: (time_of(row, tool, d) / tf if tf and time_of(row, tool, d) else None) for d in spec.derivatives}


def table(results: list[dict]) -> str:
    """Per eval, size, derivative function and tool: primal, derivative, J/F, adc / tool."""
    lines = ["| eval | size | tool | primal | derivative | J/F | adc / tool (derivative) |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        spec = EVALS[r["eval"]]
        for d in spec.derivatives:
            adc_d = time_of(r, "adc", d)
            label = r["size"] if len(spec.derivatives) == 1 else f"{r['size']} {d}"
            for tool, res in ((t, r["tools"][t]) for t in TOOLS if t in r["tools"]):
                tf, sf = res.get(spec.primal, [None, "-"]) if spec.primal else (None, "-")
                td, sd = res.get(d, [None, "missing"])
                sf, sd = (x if not x.startswith("not run") else "not run" for x in (sf, sd))
                ratio = num(adc_d / td) if tool != "adc" and adc_d and td else "-"
                lines.append(f"| {r['eval']} | {label} | {tool} | {fmt(tf) if tf is not None else sf} | "
                             f"{fmt(td) if td is not None else sd} | {num(j_over_f(r, tool)[d])} | {ratio} |")
    skipped = {f"{r['eval']} {tool}: {res[d][1]}" for r in results for tool, res in r["tools"].items()
               for d in EVALS[r["eval"]].derivatives if res.get(d, [None, ""])[1].startswith("not run")}
    return "\n".join(lines + [""] + sorted(skipped))


def first_call_table(results: list[dict]) -> str:
    """adc's first call of each derivative (transformation + compilation at an eval's first size) and steady state."""
    lines = ["| eval | size | function | first call | steady (median) | first / steady |", "|---|---|---|---|---|---|"]
    for r in results:
        first = r.get("first_call") or {}
        for d in EVALS[r["eval"]].derivatives:
            t1, ts = first.get(d), time_of(r, "adc", d)
            lines.append(f"| {r['eval']} | {r['size']} | {d} | {fmt(t1)} | {fmt(ts)} | "
                         f"{num(t1 / ts) if t1 and ts else '-'} |")
    return "\n".join(lines)


def verdict(value: float | None, limit: float, count: int, sizes: int) -> str:
    """A geometric mean against its target: `0.61 (met)`, `**5.4** (3.6x over)`; `[2 of 3]` when it covers fewer sizes."""
    if value is None:
        return "-"
    cell = f"{value:.3g} (met)" if value <= limit else f"**{value:.3g}** ({value / limit:.2g}x over)"
    return cell + (f" [{count} of {sizes}]" if count < sizes else "")


def summary(results: list[dict]) -> str:
    """Per eval, geometric means over sizes (and derivative functions) of adc / peer and of J/F, against
    issue 13's targets: faster than PyTorch and JAX, within the eval's target of manual, J/F within 1.5x."""
    lines = ["| eval | sizes | adc / manual | target | adc / PyTorch | adc / JAX | J/F adc | J/F manual | "
             "J/F adc / J/F manual (target 1.5) | load before-after |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["eval"] for r in results):
        rows = [r for r in results if r["eval"] == name]
        spec = EVALS[name]
        points = len(rows) * len(spec.derivatives)

        def gm(f) -> tuple[float | None, int]:
            xs = [x for r in rows for d in spec.derivatives if (x := f(r, d))]
            return geomean(xs), len(xs)

        def vs(peer: str, limit: float) -> str:
            g, n = gm(lambda r, d: time_of(r, "adc", d) / time_of(r, peer, d)
                      if time_of(r, "adc", d) and time_of(r, peer, d) else None)
            return verdict(g, limit, n, points)

        jf_adc, _ = gm(lambda r, d: j_over_f(r, "adc")[d])
        jf_manual, _ = gm(lambda r, d: j_over_f(r, "manual")[d])
        jf = gm(lambda r, d: j_over_f(r, "adc")[d] / j_over_f(r, "manual")[d]
                if j_over_f(r, "adc")[d] and j_over_f(r, "manual")[d] else None)
        loads = [x for r in rows for x in r.get("load", [])]
        load = f"{loads[0]:.1f}-{loads[-1]:.1f}" if loads else "-"
        lines.append(f"| {name} | {len(rows)} | {vs('manual', spec.target)} | {spec.target:g} | {vs('pytorch', 1.0)} | "
                     f"{vs('jax', 1.0)} | {num(jf_adc)} | {num(jf_manual)} | {verdict(jf[0], 1.5, jf[1], points)} | {load} |")
    return "\n".join(lines)


def plot(results: list[dict], folder: str) -> None:
    """One log-scale plot per eval: each tool's derivative median per size (and derivative function)."""
    try:
        import matplotlib
    except ImportError:
        print("--plot needs matplotlib, which this python lacks: pip install matplotlib "
              "(or: pip install 'adc[plot]'); the tables above are complete without it.", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(folder).mkdir(parents=True, exist_ok=True)

    for name in dict.fromkeys(r["eval"] for r in results):
        spec = EVALS[name]
        points = [(r, d) for r in results if r["eval"] == name for d in spec.derivatives]
        labels = [r["size"] if len(spec.derivatives) == 1 else f"{r['size']} {d}" for r, d in points]
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for tool in TOOLS:
            xy = [(i, t) for i, (r, d) in enumerate(points) if (t := time_of(r, tool, d))]
            if xy:
                line = "o-" if len(spec.derivatives) == 1 else "o"  # no line between different functions
                ax.plot([i for i, _ in xy], [t for _, t in xy], line, label=tool, color=f"C{TOOLS.index(tool)}")
        ax.set_xticks(range(len(points)), labels, rotation=20 if len(points) > 3 else 0)
        ax.set_yscale("log")
        ax.set_ylabel("derivative time (s, median)")
        ax.set_title(f"GradBench {name}: {'/'.join(spec.derivatives)}, one thread")
        ax.legend()
        fig.tight_layout()
        fig.savefig(Path(folder) / f"gradbench_{name}.png", dpi=80)
        plt.close(fig)


def merge(old: list[dict], new: list[dict]) -> list[dict]:
    """`old` updated by `new`, in EVALS' order of evals and sizes: a row (eval and size) in both is new's,
    keeping old's results of the tools new did not run (`--tools adc` replaces only adc's)."""
    rows = {(r["eval"], r["size"]): r for r in old}
    for r in new:
        kept = rows.get((r["eval"], r["size"]), {}).get("tools", {})
        rows[r["eval"], r["size"]] = r | {"tools": {**kept, **r["tools"]}}
    keys = [(name, label) for name, spec in EVALS.items() for _, label in spec.sizes]
    order = {key: i for i, key in enumerate(keys)}
    return sorted(rows.values(), key=lambda r: order.get((r["eval"], r["size"]), len(order)))


def report(results: list[dict], folder: str | None) -> None:
    print(table(results), "\n\nadc's first call (transformation + compilation) against its steady state:\n",
          first_call_table(results), "\n\nGeometric means over sizes against issue 13's targets "
          "(bold: missed; [m of n]: only the sizes both tools have):\n", summary(results), sep="\n")
    if folder:
        plot(results, folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torch", help="a python with torch==2.13.0 (and numpy, pydantic, dataclasses-json)")
    ap.add_argument("--jax", help="a python with jax (and numpy, pydantic, dataclasses-json)")
    ap.add_argument("--evals", nargs="+", default=list(EVALS), choices=list(EVALS))
    ap.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS, help="only these tools")
    ap.add_argument("--max-sizes", type=int, default=99, help="only the first N sizes of each eval")
    ap.add_argument("--sizes", nargs="+", help="only these sizes (labels as in the table: n=2500, ba7)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=300, help="seconds per tool, eval and size")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--out", help="write the results as JSON (replacing the file)")
    out.add_argument("--update", help="run, then merge the results into this JSON file (same eval and size: replaced)")
    out.add_argument("--from", dest="saved", help="no runs: the tables (and plots) of results saved by --out")
    ap.add_argument("--plot", help="write one plot per eval into this folder")
    o = ap.parse_args()
    if o.saved:
        report(json.loads(Path(o.saved).read_text()), o.plot)
        return
    old = json.loads(Path(o.update).read_text()) if o.update and Path(o.update).exists() else []
    root = reference.build([*(e for e in o.evals if e in reference.REFERENCE_EVALS), "hello"])
    pythons = {"adc": sys.executable, "pytorch": o.torch, "jax": o.jax, "manual": sys.executable}
    results: list[dict] = []
    for name in o.evals:
        spec = EVALS[name]
        with tempfile.TemporaryDirectory(prefix=f"adc-cache-{name}-") as cache:  # cold first call per eval
            for index, (args, size) in enumerate(spec.sizes[:o.max_sizes]):
                if o.sizes and size not in o.sizes:
                    continue
                r = {"eval": name, "size": size, "tools": {}, "first_call": {},
                     "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                     "runs": o.runs, "load": [os.getloadavg()[0]]}
                for tool in ("adc", *spec.peers):
                    if tool not in o.tools or not pythons[tool]:
                        continue
                    if index >= spec.limit.get(tool, (index + 1,))[0]:
                        r["tools"][tool] = {f: [None, f"not run: {spec.limit[tool][1]}"]
                                            for f in (spec.primal, *spec.derivatives) if f}
                        continue
                    r["tools"][tool], first = run(root, tool, pythons[tool], name, args, o.runs, o.timeout, cache)
                    if tool == "adc":
                        r["first_call"] = first
                    print(f"{name} {size} {tool}: {r['tools'][tool]}", file=sys.stderr, flush=True)
                r["load"].append(os.getloadavg()[0])
                results.append(r)
                if o.out or o.update:  # after every size, so an interrupted run keeps what it measured
                    Path(o.out or o.update).write_text(json.dumps(merge(old, results), indent=1))
    report(merge(old, results) if o.update else results, o.plot)


if __name__ == "__main__":
    main()
