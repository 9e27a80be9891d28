"""Timing, optional peers, correctness checks and the result records shared by the bench_* scripts.

Timing: every candidate is a callable plus its arguments.  A timeit-style inner loop (generated
code, arguments bound as locals, garbage collector off as in ``timeit``) runs it ``number`` times
per sample, with ``number`` chosen so one sample lasts at least ``target`` seconds; the candidates of
one table are sampled round-robin (interleaved), so drifts of the machine hit all of them alike, and
each reports the median per-call time over its samples, with the quartiles.
"""
from __future__ import annotations

import gc
import importlib
import json
import math
import os
import platform

try:
    import resource
except ImportError:  # pragma: no cover - not on Linux
    resource = None  # type: ignore[assignment]
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

try:  # an editable install is the normal way; fall back to the work tree
    import adc  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(ROOT))
    import adc  # noqa: F401

import numpy as np


# -- configuration ---------------------------------------------------------------------------------
@dataclass
class Config:
    quick: bool = False
    target: float = 0.002      # seconds per sample (inner loop length is chosen to reach it)
    rounds: int = 101          # samples per candidate, at most
    budget: float = 3.0        # seconds of sampling per candidate, at most (at least min_rounds samples)
    min_rounds: int = 5

    @classmethod
    def make(cls, quick: bool) -> "Config":
        if quick:
            return cls(quick=True, target=0.0005, rounds=7, budget=0.15, min_rounds=3)
        return cls()


# -- optional peers --------------------------------------------------------------------------------
_missing: dict[str, str] = {}


def optional(name: str) -> Any | None:
    """Import an optional peer, or None (with the reason kept for the report)."""
    try:
        return importlib.import_module(name)
    except Exception as exc:  # ImportError, or a broken install
        _missing[name] = f"{type(exc).__name__}: {exc}"
        return None


def missing_note(name: str) -> str:
    return f"{name} not installed ({_missing.get(name, 'import failed')}); skipped"


def jax_module() -> Any | None:
    """JAX on the CPU with float64 enabled, or None."""
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    jax = optional("jax")
    if jax is not None:
        jax.config.update("jax_enable_x64", True)
    return jax


def numba_njit() -> Callable[..., Any] | None:
    numba = optional("numba")
    return None if numba is None else numba.njit


# -- adc's generated code, outside the API wrapper ---------------------------------------------------
def generated_function(fn: Callable[..., Any], argnums: Any, at: Sequence[Any]) -> tuple[Callable[..., Any], str]:
    """The function in ``adc.source(fn, argnums=..., at=..., compact=True)`` (the code adc runs),
    exec'd as is (a diagnostic: it times the generated code without the per-call work of adc's API
    layer)."""
    import re

    src = adc.source(fn, argnums=argnums, at=at, compact=True)
    m = re.search(r"^def (\w+)\(", src, re.M)
    assert m is not None, src
    ns: dict[str, Any] = {}
    exec(compile(src, f"<adc generated {m.group(1)}>", "exec"), ns)
    return ns[m.group(1)], src


# -- timing ----------------------------------------------------------------------------------------
def _inner_loop(fn: Callable[..., Any], args: Sequence[Any]) -> Callable[[int], float]:
    """``loop(number)`` → seconds for ``number`` calls of ``fn(*args)``; arguments are locals."""
    names = [f"a{i}" for i in range(len(args))]
    src = (f"def make(fn, {', '.join(names)}):\n" if names else "def make(fn):\n")
    src += ("    def loop(number, _timer=_timer, _range=range):\n"
            "        t0 = _timer()\n"
            "        for _ in _range(number):\n"
            f"            fn({', '.join(names)})\n"
            "        return _timer() - t0\n"
            "    return loop\n")
    ns: dict[str, Any] = {"_timer": time.perf_counter}
    exec(compile(src, "<bench-loop>", "exec"), ns)
    return ns["make"](fn, *args)


@dataclass
class Candidate:
    key: str
    label: str
    fn: Callable[..., Any]
    args: Sequence[Any] = ()
    kind: str = "gradient"      # gradient | function | value_and_gradient
    tool: str = ""              # adc | hand | peer
    note: str = ""
    max_rounds: int | None = None
    loop: Callable[[int], float] | None = None
    number: int = 1
    samples: list[float] = field(default_factory=list)
    faults: int = 0          # minor page faults during the samples
    calls: int = 0


def _timed(loop: Callable[[int], float], number: int) -> float:
    enabled = gc.isenabled()
    gc.disable()
    try:
        return loop(number)
    finally:
        if enabled:
            gc.enable()


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource is not None else 0


def measure(cands: Sequence[Candidate], cfg: Config, *, rounds: int | None = None,
            target: float | None = None, budget: float | None = None, interleave: bool = True) -> list[dict[str, Any]]:
    """Time the candidates, interleaved (round-robin) unless ``interleave`` is false (then each
    candidate's samples are taken back to back: for multi-threaded peers whose idle thread pools
    would otherwise steal the cores from the next candidate); one result record per candidate."""
    rounds = rounds or cfg.rounds
    target = cfg.target if target is None else target
    budget = cfg.budget if budget is None else budget
    quota: dict[str, int] = {}
    for c in cands:
        c.loop = _inner_loop(c.fn, c.args)
        c.loop(1)  # warm-up (compilation, caches) outside the samples
        number = 1
        while True:  # autorange as timeit does: 1, 2, 5, 10, 20, 50, ...
            t = _timed(c.loop, number)
            if t >= target:
                break
            number = number * 2 if str(number)[0] in "15" else number * 5 // 2
        c.number = number
        per_sample = max(t, 1e-9)
        q = int(budget / per_sample)
        q = max(cfg.min_rounds, min(rounds, q))
        if c.max_rounds is not None:
            q = min(q, c.max_rounds)
        quota[c.key] = q
    if interleave:
        for r in range(max(quota.values(), default=0)):
            for c in cands:
                if r < quota[c.key]:
                    _sample(c)
    else:
        for c in cands:
            for _ in range(quota[c.key]):
                _sample(c)
    return [record(c) for c in cands]


def _sample(c: Candidate) -> None:
    assert c.loop is not None
    f0 = _minflt()
    c.samples.append(_timed(c.loop, c.number) / c.number)
    c.faults += _minflt() - f0
    c.calls += c.number


def record(c: Candidate) -> dict[str, Any]:
    s = sorted(c.samples)
    q1, med, q3 = (float(np.percentile(s, p)) for p in (25, 50, 75))
    return {"key": c.key, "label": c.label, "kind": c.kind, "tool": c.tool, "status": "ok", "median_s": med,
            "q1_s": q1, "q3_s": q3, "min_s": s[0], "repeats": len(s), "number": c.number, "note": c.note,
            "samples": [float(f"{v:.4g}") for v in c.samples],
            "page_faults_per_call": c.faults / c.calls if c.calls else None}


def not_run(key: str, label: str, status: str, note: str, kind: str = "gradient", tool: str = "") -> dict[str, Any]:
    """A row for a candidate that was skipped (peer missing, capped) or failed (error, wrong result)."""
    return {"key": key, "label": label, "kind": kind, "tool": tool, "status": status, "median_s": None, "note": note}


def median_ms(call: Callable[[], Any], runs: int) -> float:
    """The median of ``runs`` timed calls of ``call()`` after one warm-up call, in ms (the
    standalone benchmarks' timer)."""
    call()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def once(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def describe_error(exc: BaseException) -> str:
    """``Type: first line of message (at file:line in function)`` for the innermost frame."""
    import traceback

    text = str(exc).strip()
    msg = f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        fr = frames[-1]
        path = fr.filename
        if str(ROOT) in path:
            path = os.path.relpath(path, ROOT)
        msg += f" (raised at {path}:{fr.lineno} in {fr.name})"
    return msg


# -- correctness -----------------------------------------------------------------------------------
def to_numpy(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return tuple(to_numpy(v) for v in value)
    if hasattr(value, "detach"):  # torch
        return value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def max_rel_err(got: Any, ref: Any) -> float:
    got, ref = to_numpy(got), to_numpy(ref)
    if isinstance(ref, tuple):
        if not isinstance(got, tuple) or len(got) != len(ref):
            return math.inf
        return max(max_rel_err(g, r) for g, r in zip(got, ref))
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    if got.shape != ref.shape:
        return math.inf
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1e-300)
    return float(np.max(np.abs(got - ref))) / scale if ref.size else 0.0


def check(got: Any, ref: Any, rtol: float = 1e-8) -> tuple[bool, float]:
    err = max_rel_err(got, ref)
    return err <= rtol, err


class Table:
    """The rows of one workload, with correctness checks against the hand-written gradient."""

    def __init__(self, name: str, title: str, params: dict[str, Any]) -> None:
        self.name, self.title, self.params = name, title, params
        self.rows: list[dict[str, Any]] = []
        self.pending: list[Candidate] = []
        self.extra: dict[str, Any] = {}
        self.failures: list[dict[str, Any]] = []
        self.order: list[str] = []

    def add_row(self, row: dict[str, Any]) -> None:
        self.order.append(row["key"])
        self.rows.append(row)

    def add(self, cand: Candidate, *, ref: Any = None, compute: Callable[[], Any] | None = None,
            rtol: float = 1e-8) -> None:
        """Queue a candidate for timing, after checking its result against ``ref`` (if given)."""
        self.order.append(cand.key)
        try:
            out = compute() if compute is not None else cand.fn(*cand.args)
        except Exception as exc:
            msg = describe_error(exc)
            self.rows.append(not_run(cand.key, cand.label, "failed", msg, cand.kind, cand.tool))
            self.failures.append({"key": cand.key, "error": msg})
            return
        if ref is not None:
            ok, err = check(out, ref, rtol)
            cand.note = (cand.note + "; " if cand.note else "") + f"max rel err vs hand-written {err:.1e}"
            if not ok:
                self.rows.append(not_run(cand.key, cand.label, "wrong", cand.note, cand.kind, cand.tool))
                self.failures.append({"key": cand.key, "error": f"wrong gradient, max rel err {err:.3g}"})
                return
        self.pending.append(cand)

    def skip(self, key: str, label: str, note: str, kind: str = "gradient", tool: str = "peer") -> None:
        self.order.append(key)
        self.rows.append(not_run(key, label, "skipped", note, kind, tool))

    def paired_ratio(self, num: str, den: str) -> float | None:
        """Median over rounds of (num sample / den sample): samples of one round were taken back to
        back, so a slow phase of the machine cancels out."""
        a, b = self.get(num), self.get(den)
        if not a or not b or not a.get("samples") or not b.get("samples"):
            return None
        rs = [x / y for x, y in zip(a["samples"], b["samples"])]
        return float(np.median(rs))

    def run(self, cfg: Config, **kw: Any) -> None:
        self.rows.extend(measure(self.pending, cfg, **kw))
        self.pending = []

    def get(self, key: str) -> dict[str, Any] | None:
        for r in self.rows:
            if r["key"] == key:
                return r
        return None

    def time(self, key: str) -> float | None:
        r = self.get(key)
        return None if r is None else r.get("median_s")

    def ratio(self, num: str, den: str) -> float | None:
        a, b = self.time(num), self.time(den)
        return None if a is None or b is None else a / b

    def as_dict(self) -> dict[str, Any]:
        pos = {k: i for i, k in enumerate(self.order)}
        self.rows.sort(key=lambda r: pos.get(r["key"], len(pos)))
        return {"name": self.name, "title": self.title, "params": self.params, "rows": self.rows,
                "extra": self.extra, "failures": self.failures}


# -- sub-processes ---------------------------------------------------------------------------------
def run_json(argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float) -> dict[str, Any]:
    """Run a helper process that prints one JSON object on its last stdout line."""
    try:
        proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=str(HERE))
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "note": f"killed after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"status": "failed", "note": f"exit {proc.returncode}: {tail}"}
    return json.loads(lines[-1])


# -- other load on the machine --------------------------------------------------------------------
def _cpu_busy_jiffies() -> tuple[float, float]:
    """(busy, total) seconds of all CPUs since boot, from /proc/stat."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / hz, sum(fields[:8]) / hz


class CpuMonitor:
    """CPU time used on the whole machine while a benchmark ran, minus the benchmark's own (its child
    processes): how many cores other processes kept busy on average."""

    def __enter__(self) -> "CpuMonitor":
        import resource

        self.t0 = time.perf_counter()
        self.busy0, _ = _cpu_busy_jiffies()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        ru_self = resource.getrusage(resource.RUSAGE_SELF)
        self.own0 = ru.ru_utime + ru.ru_stime + ru_self.ru_utime + ru_self.ru_stime
        self.load0 = os.getloadavg()[0]
        return self

    def __exit__(self, *exc: Any) -> None:
        import resource

        wall = time.perf_counter() - self.t0
        busy1, _ = _cpu_busy_jiffies()
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        ru_self = resource.getrusage(resource.RUSAGE_SELF)
        own1 = ru.ru_utime + ru.ru_stime + ru_self.ru_utime + ru_self.ru_stime
        self.result = {"wall_s": round(wall, 1), "machine_busy_cores": round((busy1 - self.busy0) / wall, 2),
                       "benchmark_cores": round((own1 - self.own0) / wall, 2),
                       "other_processes_cores": round(max(0.0, (busy1 - self.busy0) - (own1 - self.own0)) / wall, 2),
                       "loadavg_1min_start": round(self.load0, 2), "loadavg_1min_end": round(os.getloadavg()[0], 2)}


def wait_for_quiet(max_other_cores: float, timeout: float, probe: float = 3.0) -> dict[str, Any]:
    """Wait (at most ``timeout`` s) until other processes use less than ``max_other_cores`` for
    ``probe`` seconds."""
    t0 = time.perf_counter()
    while True:
        b0, _ = _cpu_busy_jiffies()
        time.sleep(probe)
        b1, _ = _cpu_busy_jiffies()
        busy = (b1 - b0) / probe
        waited = time.perf_counter() - t0
        if busy < max_other_cores or waited >= timeout:
            return {"waited_s": round(waited, 1), "busy_cores_when_started": round(busy, 2),
                    "quiet": busy < max_other_cores}


# -- machine description ---------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("adc", "numpy", "numba", "llvmlite", "libcst", "jax", "jaxlib", "torch", "autograd",
                 "threadpoolctl"):
        try:
            from importlib.metadata import version

            out[name] = version(name)
        except Exception:
            out[name] = "not installed"
    return out


def blas_info() -> list[dict[str, Any]]:
    try:
        import threadpoolctl

        return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads", "threading_layer")}
                for d in threadpoolctl.threadpool_info()]
    except Exception as exc:
        return [{"note": f"threadpoolctl unavailable ({type(exc).__name__})"}]


ALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "MALLOC_TOP_PAD_")
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def environment() -> dict[str, Any]:
    return {
        "allocator": {k: os.environ[k] for k in ALLOC_VARS if k in os.environ} or "glibc default",
        "blas_env": {k: os.environ[k] for k in BLAS_VARS if k in os.environ},
        "blas": blas_info(),
    }


def machine() -> dict[str, Any]:
    aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": aff, "cpu_count": os.cpu_count(), "cpu_model": cpu_model(), "platform": platform.platform(),
            "versions": versions()}


# -- script entry ----------------------------------------------------------------------------------
def main(run: Callable[[Config], Table], argv: Sequence[str] | None = None) -> dict[str, Any]:
    import argparse

    p = argparse.ArgumentParser(description=(run.__doc__ or "").strip().splitlines()[0] if run.__doc__ else None)
    p.add_argument("--quick", action="store_true", help="fast smoke run (few, short samples)")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
    args = p.parse_args(argv)
    cfg = Config.make(args.quick)
    t0 = time.perf_counter()
    table = run(cfg)
    result = table.as_dict()
    result["environment"] = environment()
    result["wall_s"] = time.perf_counter() - t0
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1, default=str))
    from report import table_markdown

    print(table_markdown(result))
    return result
