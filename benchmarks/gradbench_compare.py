"""adc against GradBench's PyTorch tool, JAX (blocking) and the C++ `manual` reference, on the evals adc
answers validly (docs/gradbench.md, "Comparison").

Usage:
    python benchmarks/gradbench_compare.py [--torch PY] [--jax PY] [--evals lse ba] [--runs 5] [--out FILE.json]
                                           [--plot DIR]
    python benchmarks/gradbench_compare.py --from FILE.json [--plot DIR]   (table and plots of a saved run)

Every tool runs one eval at a time through the bundle's `pipe.py`, on the same inputs, one thread each
(`OMP_NUM_THREADS=1`, `OPENBLAS_NUM_THREADS=1`, `MKL_NUM_THREADS=1`, `NUMBA_NUM_THREADS=1`, and for
JAX `XLA_FLAGS=--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`), with
`--min-runs RUNS --min-seconds 0`; `pipe.py` reports the median of each answer's `evaluate` timings.
Every answer is validated against `manual` as usual; an invalid or failed answer is shown, not timed.
`--torch` and `--jax` name pythons that have `torch==2.13.0`, resp. `jax`, plus numpy, pydantic and
`dataclasses-json` (see docs/gradbench.md for the venvs); a peer without a python is left out. JAX
runs GradBench's JAX tool through `benchmarks/gradbench/jax_blocking.py`, which waits for each
result inside the timed call. `manual` is built with GradBench's `-O3`, and its tool rebuilds each
module with `-march=native` at `define`, as GradBench runs it.

Prints one markdown table: per eval and size, each tool's primal and derivative medians, J/F, and
adc's derivative time over each peer's (below 1: adc is faster). `--plot DIR` also writes
`DIR/gradbench_EVAL.png`, the derivative times per size and tool (needs matplotlib).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "gradbench"))
import reference  # noqa: E402

# eval -> (the sizes, smallest first: each a list of eval arguments, and its label)
SIZES = {
    "lse": [(["-n", str(n)], f"n={n}") for n in (2500, 10000, 40000, 160000)],
    "ba": [(["--min", str(i), "--max", str(i)], f"ba{i}") for i in (1, 2, 3)],
    "llsq": [(["-n", "16"], "n=16")],
    "ode": [(["-n", "1000", "-s", "1"], "n=1000 s=1")],
    "gmm": [(["-d", "2", "-k", "5"], "d=2 k=5")],
    "kmeans": [(["-k", "10", "-n", "1000", "-d", "8"], "k=10 n=1000 d=8")],
    # ell! leaves: adc's recursion compiles slowly under Numba, so only the small sizes
    "det": [(["-l", str(n)], f"ell={n}") for n in (5, 6, 7)],
}
# which peers have a module for the eval (GradBench's JAX tool has no ba, its PyTorch tool no llsq or ode)
PEERS = {"lse": ("pytorch", "jax", "manual"), "ba": ("pytorch", "manual"), "llsq": ("jax", "manual"),
         "ode": ("jax", "manual"), "gmm": ("pytorch", "jax", "manual"), "kmeans": ("pytorch", "jax", "manual"),
         "det": ("manual",)}
DERIVATIVE = {"lse": ("primal", "gradient"), "ba": ("objective", "jacobian"), "llsq": ("primal", "gradient"),
              "ode": ("primal", "gradient"), "gmm": ("objective", "jacobian"), "kmeans": ("cost", "dir"),
              "det": ("primal", "gradient")}
ROW = re.compile(r"^  (\S+)\s+(.*?)\s+(nan|[\d.]+) ms  x(\d+)\s+(valid|FAILED|INVALID)")


def tool_command(tool, root, py):
    if tool == "adc":
        return f"{sys.executable} {HERE / 'gradbench' / 'run.py'}"
    if tool == "pytorch":
        return f"{py} {root / 'python/gradbench/gradbench/tools/pytorch/run.py'}"
    if tool == "jax":
        return f"{py} {HERE / 'gradbench' / 'jax_blocking.py'}"
    return f"{sys.executable} {root / 'python/gradbench/gradbench/cpp.py'} manual"


def run(root, tool, py, name, args, runs, timeout):
    """{function: (median seconds or None, status)} for one eval at one size."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1", XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    inc, _ = reference.json_include()
    if inc:  # the manual tool's `define` runs make again: give it the same headers as reference.build
        env["CXXFLAGS"] = f"-std=c++17 -O3 -I{inc}/nlohmann -I{inc} -I../../cpp"
    env.pop("PYTHONPATH", None)
    cmd = [sys.executable, str(root / "pipe.py"), "--root", str(root), "--eval", name, "--timeout", str(timeout),
           "--tool", tool_command(tool, root, py), "--", *args, "--min-runs", str(runs), "--min-seconds", "0"]
    # a session of its own, so that a timeout ends pipe.py's children (the eval, the tool) too
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                            start_new_session=True)
    try:
        out = proc.communicate(timeout=timeout + 60)[0]
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {f: (None, f"timeout ({timeout:.0f} s)") for f in DERIVATIVE[name]}
    result = {}
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            result[m.group(1)] = (float(m.group(3)) / 1e3 if m.group(5) == "valid" else None, m.group(5).lower())
    if not result:
        result = {f: (None, (out.strip().splitlines() or ["no output"])[-1][:80]) for f in DERIVATIVE[name]}
    return result


def fmt(t):
    if t is None:
        return "-"
    return f"{t * 1e3:.3g} ms" if t < 1 else f"{t:.3g} s"


def table(results):
    lines = ["| eval | size | tool | primal | derivative | J/F | adc / tool (derivative) |", "|---|---|---|---|---|---|---|"]
    for r in results:
        f, d = DERIVATIVE[r["eval"]]
        adc_d = r["tools"].get("adc", {}).get(d, (None,))[0]
        for tool, res in r["tools"].items():
            tf, sf = res.get(f, (None, "missing"))
            td, sd = res.get(d, (None, "missing"))
            jf = f"{td / tf:.3g}" if tf and td else "-"
            ratio = f"{adc_d / td:.3g}" if tool != "adc" and adc_d and td else "-"
            dcell = fmt(td) if td is not None else sd
            lines.append(f"| {r['eval']} | {r['size']} | {tool} | {fmt(tf) if tf is not None else sf} | {dcell} | {jf} | {ratio} |")
    return "\n".join(lines)


def plot(results, folder):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in dict.fromkeys(r["eval"] for r in results):
        rows = [r for r in results if r["eval"] == name]
        d = DERIVATIVE[name][1]
        fig, ax = plt.subplots(figsize=(6, 4))
        for tool in dict.fromkeys(t for r in rows for t in r["tools"]):
            pts = [(i, r["tools"][tool][d][0]) for i, r in enumerate(rows)
                   if tool in r["tools"] and r["tools"][tool].get(d, (None,))[0]]
            if pts:
                ax.plot([i for i, _ in pts], [t for _, t in pts], "o-", label=tool)
        ax.set_xticks(range(len(rows)), [r["size"] for r in rows])
        ax.set_yscale("log")
        ax.set_ylabel(f"{d} time (s, median)")
        ax.set_title(f"GradBench {name}: {d}, one thread")
        ax.legend()
        fig.tight_layout()
        fig.savefig(Path(folder) / f"gradbench_{name}.png", dpi=80)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torch", help="a python with torch==2.13.0 (and numpy, pydantic, dataclasses-json)")
    ap.add_argument("--jax", help="a python with jax (and numpy, pydantic, dataclasses-json)")
    ap.add_argument("--evals", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--max-sizes", type=int, default=99, help="only the first N sizes of each eval")
    ap.add_argument("--sizes", nargs="+", help="only these sizes (labels as in the table: n=2500, ba3)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=900, help="seconds per tool, eval and size")
    ap.add_argument("--out", help="also write the results as JSON")
    ap.add_argument("--from", dest="saved", help="no runs: the table (and plots) of results saved by --out")
    ap.add_argument("--plot", help="write one plot per eval into this folder")
    o = ap.parse_args()
    if o.saved:
        results = json.loads(Path(o.saved).read_text())
        print(table(results))
        if o.plot:
            plot(results, o.plot)
        return
    root = reference.build([*o.evals, "hello"])
    pythons = {"adc": sys.executable, "pytorch": o.torch, "jax": o.jax, "manual": sys.executable}
    results = []
    for name in o.evals:
        for args, size in SIZES[name][:o.max_sizes]:
            if o.sizes and size not in o.sizes:
                continue
            r = {"eval": name, "size": size, "tools": {}}
            for tool in ("adc", *PEERS[name]):
                if pythons[tool]:
                    r["tools"][tool] = run(root, tool, pythons[tool], name, args, o.runs, o.timeout)
                    print(f"{name} {size} {tool}: {r['tools'][tool]}", file=sys.stderr, flush=True)
            results.append(r)
            if o.out:
                Path(o.out).write_text(json.dumps(results, indent=1))
    print(table(results))
    if o.plot:
        plot(results, o.plot)


if __name__ == "__main__":
    main()
