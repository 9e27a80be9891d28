"""Copy the GradBench bundle to a cache folder and build the `manual` C++ reference for some evals.

Usage: python benchmarks/gradbench/reference.py [--opt -O0] [EVAL ...]   (no EVAL: every eval the reference has)
Prints the built folder (the `--root` for `pipe.py`) on its last line.
`--opt` is the optimisation flag: GradBench's `-O3` by default (for timings). The tests build with
`-O0`: 39 s of CPU for all ten binaries against 81 s at `-O3` (without `-march`, GCC emits no FMA
on x86-64; the tests give the same results at `-O0` and `-O1`).

The bundle (`shared/gradbench`, read-only) is copied once to `$ADC_GRADBENCH_CACHE/<key>` (default
`~/.cache/adc-gradbench/<key>`), where the key hashes the bundle's files, the JSON headers used and
the optimisation flag, so a changed bundle gets a new folder and an unchanged one is reused across runs. Only the requested
evals' binaries are built (`make bin/EVAL`, make skips the ones already built), under a file lock,
so concurrent test runs share one build.

The reference needs nlohmann/json's headers. The bundle's `cpp/json.hpp` is 3.11.2's top header,
which includes the rest from `<nlohmann/...>`. When the PyPI package `nlohmann-json` is installed
(the `test` extra has it), its complete header set is put first on the include path, so `json.hpp`
and everything it includes come from that one version and no system package is needed. Without it,
the build uses the bundle's `json.hpp` and the system's headers (Debian: `nlohmann-json3-dev`).
"""
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE_EVALS = ("ba", "det", "gmm", "hello", "ht", "kmeans", "llsq", "lse", "lstm", "ode")


class BuildError(RuntimeError):
    pass


def bundle() -> Path | None:
    """The shared GradBench bundle: `$ADC_GRADBENCH_SHARED`, else `shared/gradbench` beside the repository."""
    for cand in (os.environ.get("ADC_GRADBENCH_SHARED"), REPO.parent / "shared" / "gradbench",
                 REPO.parent.parent / "shared" / "gradbench"):
        if cand and (Path(cand) / "pipe.py").exists():
            return Path(cand)
    return None


def json_include() -> tuple[str | None, str]:
    """(the include folder of the PyPI `nlohmann-json` package or None, a label for the cache key)."""
    try:
        import nlohmann_json
        from importlib.metadata import version
    except ImportError:
        return None, "system-headers"
    return str(nlohmann_json.get_include()), "nlohmann-json-" + version("nlohmann-json")


def _key(src: Path, headers: str) -> str:
    h = hashlib.sha256(headers.encode())
    for f in sorted(p for p in src.rglob("*") if p.is_file()):
        h.update(str(f.relative_to(src)).encode() + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _copy(src: Path, dest: Path) -> None:
    """Copy the bundle to `dest` atomically (a temporary sibling renamed into place)."""
    if (dest / ".complete").exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        shutil.copytree(src, tmp, dirs_exist_ok=True, copy_function=shutil.copyfile)  # no read-only bits
        (tmp / ".complete").touch()
        try:
            tmp.rename(dest)
        except OSError:  # another run copied it first
            if not (dest / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build(evals=REFERENCE_EVALS, opt: str = "-O3", cache: str | os.PathLike | None = None) -> Path:
    """Copy the bundle (once) and build `manual`'s binaries for `evals`; returns the built folder."""
    src = bundle()
    if src is None:
        raise BuildError("no shared/gradbench bundle beside the repository (set ADC_GRADBENCH_SHARED)")
    inc, label = json_include()
    root = Path(cache or os.environ.get("ADC_GRADBENCH_CACHE") or Path.home() / ".cache" / "adc-gradbench")
    dest = root / _key(src, f"{label} {opt}")
    _copy(src, dest)
    wanted = [e for e in evals if e in REFERENCE_EVALS]
    manual = dest / "tools" / "manual"
    # `-I.../nlohmann` first: `#include "json.hpp"` finds the package's, not the bundle's 3.11.2 one
    headers = f"-I{inc}/nlohmann -I{inc} " if inc else ""
    env = dict(os.environ, CXXFLAGS=f"-std=c++17 {opt} {headers}-I../../cpp")
    with open(dest / ".build-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [e for e in wanted if not (manual / "bin" / e).exists()]
        if missing:
            out = subprocess.run(["make", "-s", "-C", str(manual), "-j2", "NATIVE=no",
                                  *(f"bin/{e}" for e in missing)], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise BuildError(f"building GradBench's C++ reference ({' '.join(missing)}) failed; it needs "
                                 "nlohmann/json's headers (pip install nlohmann-json): " + out.stderr[-1500:])
    return dest


if __name__ == "__main__":
    args = sys.argv[1:]
    opt = "-O3"
    if args[:1] == ["--opt"]:
        opt, args = args[1], args[2:]
    try:
        print(build(args or REFERENCE_EVALS, opt))
    except BuildError as e:
        sys.exit(str(e))
