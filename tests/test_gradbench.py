"""Every GradBench eval through adc's tool (benchmarks/gradbench/run.py) at its smallest sizes.

Each eval runs as GradBench runs it: `shared/gradbench/pipe.py` starts the eval program, which checks
every answer against the C++ reference tool `manual` or, for particle and saddle, against the known
answer. An eval adc cannot differentiate yet must fail with exactly the adc error listed in EVALS, and
no answer may be invalid; it is then reported as xfail. The test fails the day adc gains the
capability (like a strict XPASS) or fails differently. The `test` extra installs what the eval programs
import (`pydantic`, `dataclasses-json`) and the JSON headers the reference is built with
(`nlohmann-json`); `benchmarks/gradbench/reference.py` builds the reference for the evals run here,
once per bundle version, into `~/.cache/adc-gradbench` (`$ADC_GRADBENCH_CACHE`). Outside CI a missing
piece skips the tests with the reason; under CI (`CI` set) it fails them. See docs/gradbench.md.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("adc_gradbench_reference", REPO / "benchmarks/gradbench/reference.py")
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)
TOOL = f"{sys.executable} {REPO / 'benchmarks' / 'gradbench' / 'run.py'}"
QUICK = ["--min-runs", "1", "--min-seconds", "0"]

# eval -> (its smallest sizes, None if adc answers it validly, else the adc error it gives today, or a
# tuple of the errors it gives: how the error begins, with the folder of benchmarks/gradbench/evals/ left
# out of the file name and `…` for any text)
EVALS = {
    "hello": ([], None),
    "lse": (["-n", "2500", *QUICK], None),
    "llsq": (["-n", "16", *QUICK], None),  # np.sign since issue 10
    "det": (["-l", "5", *QUICK], None),  # recursion since issue 11 (kept calls)
    "ode": (["-n", "1000", "-s", "1", *QUICK], None),  # arrays rebound and indexed in loops, since issue 11
    "kmeans": (["-k", "10", "-n", "1000", "-d", "8", *QUICK], None),  # np.expand_dims since issue 10
    "gmm": (["-d", "2", "-k", "5", *QUICK], None),  # math.lgamma since issue 10
    "lstm": (["-l", "2", "-c", "1024", *QUICK], None),  # arrays rebound and written in loops, since issue 11
    "ba": (["--min", "1", "--max", "1", *QUICK], None),
    "ht": (["--min", "1", "--max", "1", "--model", "small", *QUICK], None),  # nested lists in np.array
    "particle": (QUICK, None),  # nested AD since issue 12; `while True:` left by `return`
    "saddle": (QUICK, None),  # nested AD (issue 12); argmax_y returns an array from inside a `while` (issue 11)
}
EVAL_DIR = str(REPO / "benchmarks" / "gradbench" / "evals") + os.sep


def _eval_python():
    for py in (os.environ.get("ADC_GRADBENCH_PYTHON"), sys.executable):
        if py and subprocess.run([py, "-c", "import pydantic, dataclasses_json, numpy"],
                                 capture_output=True).returncode == 0:
            return py
    return None


def _missing(reason):
    (pytest.fail if os.environ.get("CI") else pytest.skip)(reason)


@pytest.fixture(scope="module")
def gradbench():
    """(the built bundle's folder, the python that runs the evals); skips (fails under CI) without them."""
    if reference.bundle() is None:
        _missing("no shared/gradbench bundle beside the repository (set ADC_GRADBENCH_SHARED)")
    py = _eval_python()
    if py is None:
        _missing("the GradBench evals need pydantic and dataclasses-json (pip install -e '.[test]', or set "
                 "ADC_GRADBENCH_PYTHON to a python that has them)")
    try:
        root = reference.build(list(EVALS), opt="-O0")
    except reference.BuildError as e:
        _missing(str(e))
    return root, py


def _errors(log):
    """Every error the tool answered, as in EVALS."""
    for line in log.read_text().splitlines():
        try:  # pipe.py cuts each logged message at 2000 characters: long inputs and outputs do not parse
            resp = json.loads(line).get("response", {})
        except json.JSONDecodeError:
            continue
        if resp.get("success") is False:
            yield resp["error"].removeprefix("adc.").replace(EVAL_DIR, "")


@pytest.mark.parametrize("name, args, gap", [pytest.param(n, *v, id=n) for n, v in EVALS.items()])
def test_eval(gradbench, tmp_path, name, args, gap):
    """Every answer is valid; or, for an eval with a known adc gap, every answer is valid or fails with that error."""
    root, py = gradbench
    log = tmp_path / "log.jsonl"
    # the tool imports this checkout's adc; its derivatives run as plain Python here (Numba would compile
    # for minutes in CI; the jit path has its own tests, and the benchmark uses it)
    env = dict(os.environ, PYTHONPATH=str(REPO), ADC_GRADBENCH_JIT="0")
    out = subprocess.run([py, str(root / "pipe.py"), "--root", str(root), "--eval", name, "--tool", TOOL,
                          "--timeout", "300", "--log", str(log), "--", *args],
                         capture_output=True, text=True, env=env, timeout=360)
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    counts = re.fullmatch(r"gradbench \S+ \S+: (\d+) valid / (\d+) evaluated, (\d+) failed, (\d+) invalid, .*", last)
    assert counts, out.stdout[-3000:] + out.stderr[-2000:]
    valid, evaluated, failed, invalid = map(int, counts.groups())
    assert evaluated > 0 and invalid == 0, out.stdout[-3000:]
    if gap is None:
        assert out.returncode == 0 and valid == evaluated, out.stdout[-3000:]
        return
    assert failed, f"{name} is now valid: move it to the valid evals in EVALS (strict xfail)\n{out.stdout[-3000:]}"
    gaps = (gap,) if isinstance(gap, str) else gap
    patterns = [re.compile(".*?".join(map(re.escape, g.split("…"))), re.S) for g in gaps]
    errors = set(_errors(log))
    seen = {p for e in errors for p in patterns if p.match(e)}
    assert len(seen) == len(patterns) and all(any(p.match(e) for p in patterns) for e in errors), \
        f"expected the adc errors {gaps}, got {errors}"
    pytest.xfail("; ".join(gaps))
