"""Run every adc benchmark, each workload in its own process, and check the performance targets.

    python benchmarks/run_all.py                      # full run (several minutes)
    python benchmarks/run_all.py --quick              # smoke run
    python benchmarks/run_all.py --json results.json --markdown results.md

Workloads: 1 scalar (bench_scalar.py), 2 loop (bench_loop.py), 3 mlp (bench_mlp.py), 4 ode
(bench_ode.py).  The MLP runs once per allocator setting (glibc defaults, then
MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=134217728), and in a full run also with
single-threaded BLAS.  Targets are ratios measured in the same process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from report import fmt_ratio, fmt_time, table_markdown, targets_markdown  # noqa: E402

SCRIPTS = {"scalar": "bench_scalar.py", "loop": "bench_loop.py", "mlp": "bench_mlp.py", "ode": "bench_ode.py"}
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "134217728"}
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def base_env(keep_openblas: bool) -> tuple[dict[str, str], dict[str, str]]:
    """The environment for the benchmark processes: no allocator variables; OPENBLAS_CORETYPE and
    OPENBLAS_L2_SIZE unset together (they slow a current NumPy) unless asked to keep them."""
    env = dict(os.environ)
    removed = {}
    for k in harness.ALLOC_VARS:
        if k in env:
            removed[k] = env.pop(k)
    if not keep_openblas and ("OPENBLAS_CORETYPE" in env or "OPENBLAS_L2_SIZE" in env):
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if k in env:
                removed[k] = env.pop(k)
    return env, removed


def configs(quick: bool) -> list[tuple[str, str, dict[str, str]]]:
    """(workload, variant, extra environment)."""
    out = [("scalar", "", {}), ("loop", "", {})]
    out += [("mlp", "malloc default", {}), ("mlp", "malloc tuned", dict(TUNED_MALLOC))]
    if not quick:  # repeated, alternating, since other processes' load changes between runs
        out += [("mlp", "malloc default, repeat", {}), ("mlp", "malloc tuned, repeat", dict(TUNED_MALLOC))]
        out += [("mlp", "malloc default, 1 BLAS thread", dict(ONE_THREAD)),
                ("mlp", "malloc tuned, 1 BLAS thread", dict(TUNED_MALLOC, **ONE_THREAD))]
    out += [("ode", "", {})]
    return out


def run_one(name: str, extra: dict[str, str], env0: dict[str, str], quick: bool, timeout: float) -> dict[str, Any]:
    env = dict(env0, **extra)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    argv = [sys.executable, str(HERE / SCRIPTS[name]), "--json", out] + (["--quick"] if quick else [])
    with harness.CpuMonitor() as mon:
        try:
            proc = subprocess.run(argv, env=env, cwd=str(HERE), capture_output=True, text=True, timeout=timeout)
            rc, err = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            rc, err = -1, f"timed out after {timeout} s"
    try:
        if rc != 0:
            tail = "\n".join(err.strip().splitlines()[-15:])
            return {"name": name, "status": "crashed", "error": tail, "rows": [], "extra": {}, "title": name}
        result = json.loads(Path(out).read_text())
    finally:
        Path(out).unlink(missing_ok=True)
    result["load"] = mon.result
    result["env_extra"] = extra
    return result


# -- targets ---------------------------------------------------------------------------------------
def row_time(res: dict[str, Any] | None, key: str) -> tuple[float | None, str]:
    if res is None:
        return None, "not run"
    for r in res.get("rows", []):
        if r["key"] == key:
            return r.get("median_s"), r["status"]
    return None, "not run"


def _row(res: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((r for r in res.get("rows", []) if r["key"] == key), None)


def ratio_target(name: str, res: dict[str, Any] | None, num: str, den: str, limit: float) -> dict[str, Any] | None:
    """PASS/MISS on the ratio of the two medians; the median of the per-round ratios (samples taken
    back to back) and the ratio of the minima are shown beside it, and a verdict they contradict
    is marked "unstable"."""
    if res is None:
        return None  # workload not run (--only)
    a, sa = row_time(res, num)
    b, sb = row_time(res, den)
    t: dict[str, Any] = {"name": name, "limit": limit, "limit_text": f"≤ {limit:g}x", "num": num, "den": den}
    if a is not None and b is not None:
        ra, rb = _row(res, num) or {}, _row(res, den) or {}
        t["value"] = a / b
        pairs = [x / y for x, y in zip(ra.get("samples") or [], rb.get("samples") or [])]
        t["paired"] = sorted(pairs)[len(pairs) // 2] if pairs else None
        t["min_ratio"] = ra["min_s"] / rb["min_s"] if ra.get("min_s") and rb.get("min_s") else None
        t["shown"] = f"{fmt_ratio(a / b)} ({fmt_time(a)} / {fmt_time(b)})"
        extra = []
        if t["paired"] is not None:
            extra.append(f"paired {fmt_ratio(t['paired'])}")
        if t["min_ratio"] is not None:
            extra.append(f"minima {fmt_ratio(t['min_ratio'])}")
        if extra:
            t["shown"] += "; " + ", ".join(extra)
        t["status"] = "PASS" if a / b <= limit else "MISS"
        others = [v for v in (t["paired"], t["min_ratio"]) if v is not None]
        if any((v <= limit) != (a / b <= limit) for v in others):
            t["status"] += " (unstable)"
    elif sa in ("failed", "wrong"):
        t["value"], t["status"] = None, f"FAIL (adc {sa})"
    else:
        t["value"], t["status"] = None, f"NOT MEASURED ({num}: {sa}, {den}: {sb})"
    return t


def targets(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    sc, lo, od = results.get("scalar"), results.get("loop"), results.get("ode")
    ts = [
        ratio_target("W2 loop, jit: adc gradient vs hand-written Numba gradient", lo, "adc_jit", "hand_numba", 1.5),
    ]
    fc = ((lo or {}).get("extra") or {}).get("first_call_raw") or {}
    cold = fc.get("cold_first_call_s")
    t = {"name": "W2 loop, jit: first call in a fresh process, empty ADC_CACHE_DIR (transformation + compile)",
         "limit": 2.0, "limit_text": "< 2 s", "value": cold}
    if lo is None:
        t = None
    elif cold is None:
        t["status"] = "NOT MEASURED"
    if t is not None and cold is not None:
        t["shown"] = f"{cold:.2f} s (same cache reused: {fc.get('warm_first_call_s') or float('nan'):.2f} s)"
        t["status"] = "PASS" if cold < 2.0 else "MISS"
    ts.append(t)
    ts += [
        ratio_target("W1 f, jit: adc gradient call vs hand-written Numba call", sc, "adc_jit", "hand_numba", 2.0),
        ratio_target("W1 f, Python: adc gradient vs hand-written Python", sc, "adc_py", "hand_py", 1.3),
        ratio_target("W2 loop, Python: adc gradient vs hand-written Python", lo, "adc_py", "hand_py", 1.3),
        ratio_target("cheap gradient W1, Python: adc gradient / f", sc, "adc_py", "f_py", 3.0),
        ratio_target("cheap gradient W1, jit: adc jit gradient / Numba f", sc, "adc_jit", "f_numba", 3.0),
        ratio_target("cheap gradient W2, Python: adc gradient / loop_sum", lo, "adc_py", "f_py", 3.0),
        ratio_target("cheap gradient W2, jit: adc jit gradient / Numba loop_sum", lo, "adc_jit", "f_numba", 3.0),
    ]
    mlps = [(k, v) for k, v in results.items() if k.startswith("mlp")]
    for k, v in mlps:
        variant = k.split(":", 1)[1].strip() if ":" in k else ""
        ts.append(ratio_target(f"cheap gradient W3 MLP ({variant}): adc gradient / mlp_loss", v, "adc_py", "f_py", 3.0))
    ts += [
        ratio_target("cheap gradient W4, Python: adc gradient / ode_loss", od, "adc_py", "f_py", 3.0),
        ratio_target("cheap gradient W4, jit: adc jit gradient / Numba ode_loss", od, "adc_jit", "f_numba", 3.0),
    ]
    for k, v in mlps:
        variant = k.split(":", 1)[1].strip() if ":" in k else ""
        t = ratio_target(f"W3 MLP ({variant}): adc vs hand-written NumPy, alternating", v, "adc_py", "hand_numpy", 1.1)
        if t is None:
            continue
        ts.append(t)
        ts.append(ratio_target(f"W3 MLP ({variant}), jit=True: adc vs hand-written NumPy, alternating", v, "adc_jit",
                               "hand_numpy_jit", 1.1))
    return [t for t in ts if t is not None]


def markdown(meta: dict[str, Any], results: dict[str, dict[str, Any]], ts: list[dict[str, Any]]) -> str:
    m = meta["machine"]
    out = ["# adc benchmark results", "",
           f"- machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['platform']}",
           "- versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
           f"- adc work tree at start: {meta.get('adc_tree')}; at end: {meta.get('adc_tree_end')}",
           f"- removed from the benchmark processes' environment: {meta['removed_env'] or 'nothing'}",
           f"- mode: {'--quick' if meta['quick'] else 'full'}; started {meta['started']}; took {meta['wall_s']:.0f} s",
           "", "## Targets", "",
           "Verdict on the ratio of medians; beside it the median of per-round ratios (samples taken back to "
           "back) and the ratio of the fastest samples. *unstable*: those disagree with the verdict.", "",
           targets_markdown(ts)]
    for key, res in results.items():
        out.append("")
        if res.get("status") == "crashed":
            out += [f"### {key}: the benchmark process crashed", "", "```", res["error"], "```"]
            continue
        out.append(table_markdown(res).replace("### ", f"### [{key}] ", 1))
        env = res.get("environment", {})
        out.append(f"Environment of this process: allocator {env.get('allocator')}; BLAS env {env.get('blas_env')}; "
                   f"BLAS {env.get('blas')}")
        out.append("")
        out.append(f"Machine load while it ran: {res.get('load')}")
        if res.get("failures"):
            out.append("")
            out.append("Failures: " + "; ".join(f"{f['key']}: {f['error']}" for f in res["failures"]))
    return "\n".join(out) + "\n"


def adc_tree() -> str:
    """Commit and modified adc files of the work tree (read-only git queries)."""
    try:
        root = HERE.parent
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "adc"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.split("\n")
        dirty = [ln[3:] for ln in dirty if ln.strip()]
        return f"{head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else "")
    except Exception as exc:
        return f"unknown ({exc})"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fast smoke run")
    p.add_argument("--json", metavar="OUT", help="write all results as JSON")
    p.add_argument("--markdown", metavar="OUT", help="write the tables as Markdown")
    p.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run only these workloads")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="before each workload wait up to SECONDS for other processes to use < 0.3 cores")
    p.add_argument("--keep-openblas-env", action="store_true",
                   help="do not unset OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE for the benchmark processes")
    args = p.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    t0 = time.perf_counter()
    tree0 = adc_tree()
    env0, removed = base_env(args.keep_openblas_env)
    results: dict[str, dict[str, Any]] = {}
    for name, variant, extra in configs(args.quick):
        if args.only and name not in args.only:
            continue
        key = f"{name}: {variant}" if variant else name
        quiet = harness.wait_for_quiet(0.3, args.wait_quiet) if args.wait_quiet > 0 else None
        print(f"== {key} ...", file=sys.stderr, flush=True)
        res = run_one(name, extra, env0, args.quick, timeout=1800)
        if quiet is not None:
            res["quiet_wait"] = quiet
        results[key] = res
        print(f"   done in {res.get('load', {}).get('wall_s', '?')} s; other processes used "
              f"{res.get('load', {}).get('other_processes_cores', '?')} cores", file=sys.stderr, flush=True)
    ts = targets(results)
    meta = {"machine": harness.machine(), "quick": args.quick, "started": started, "wall_s": time.perf_counter() - t0,
            "removed_env": removed, "adc_tree": tree0, "adc_tree_end": adc_tree(), "argv": sys.argv[1:]}
    text = markdown(meta, results, ts)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "targets": ts, "results": results}, indent=1,
                                              default=str))
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
