"""The ``adc`` command line, run as a separate process (``python -m adc ...``).

Every test runs the CLI exactly as a user would, from the repository root, with its own
``ADC_CACHE_DIR`` so no state leaks from (or into) the user's cache.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import adc
from test_lecture import f as lecture_f

REPO = Path(__file__).resolve().parent.parent
LECTURE = "examples/lecture.py"
BAD_INPUTS = Path(__file__).resolve().parent / "bad_inputs.py"

# The lecture example f(x1, x2) = log(x1) + x1*x2 - sin(x2) at (2, 5).
F_VALUE = math.log(2.0) + 10.0 - math.sin(5.0)  # 11.6521...
DF_DX1 = 1.0 / 2.0 + 5.0  # 5.5
DF_DX2 = 2.0 - math.cos(5.0)  # 1.71634...


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("adc-cli-cache")


@pytest.fixture
def adc_cli(cache_dir: Path):
    """Run ``python -m adc ARGS`` from the repository root; return the CompletedProcess."""

    def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env["ADC_CACHE_DIR"] = str(cache_dir)
        env["PYTHONPATH"] = str(REPO)  # this adc, whatever the working directory
        env.pop("PYTHONHASHSEED", None)
        return subprocess.run([sys.executable, "-m", "adc", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    return run


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"exit code {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def assert_usage_error(proc: subprocess.CompletedProcess[str], *fragments: str, one_line: bool = True) -> str:
    """Exit code 2, nothing on stdout, ``adc: error: ...`` on stderr without a traceback."""
    assert proc.returncode == 2, f"exit code {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert proc.stdout == ""
    err = proc.stderr
    assert err.startswith("adc: error: "), err
    assert "Traceback" not in err
    if one_line:
        assert err.endswith("\n") and err.count("\n") == 1, f"expected a one-line message, got:\n{err}"
    for frag in fragments:
        assert frag in err, f"{frag!r} not in {err!r}"
    return err


def table_rows(text: str, title_prefix: str) -> list[list[str]]:
    """The rows (split on 2+ spaces) of every table whose title starts with ``title_prefix``."""
    tables = []
    for block in text.strip("\n").split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].startswith(title_prefix):
            tables.append([re.split(r"\s{2,}", ln.strip()) for ln in lines[1:]])
    return tables


def row_values(rows: list[list[str]]) -> dict[str, float]:
    """``{node: value}`` for a table (the last row of a node wins, as adjoints accumulate)."""
    assert rows[0] == ["node", "equation", "value"], rows[0]
    return {r[0]: float(r[-1]) for r in rows[1:]}


# ---------------------------------------------------------------------------------------------
# adc trace
# ---------------------------------------------------------------------------------------------


def test_trace_prints_ssa_listing(adc_cli):
    out = ok(adc_cli("trace", f"{LECTURE}:f"))
    lines = [ln.split("#")[0].strip() for ln in out.splitlines()]
    lines = [ln for ln in lines if ln]
    assert lines == [
        "def f(x1, x2):",
        "v0 = x1",
        "v1 = x2",
        "v2 = log(v0)",
        "v3 = v0 * v1",
        "v4 = v2 + v3",
        "v5 = sin(v1)",
        "v6 = v4 - v5",
        "y = v6",
    ]
    # every computed value records the source line it comes from (line 6 of lecture.py)
    assert out.count("# line 6") == 5
    assert out.rstrip().splitlines()[-1].strip() == "y = v6"


def test_python_m_adc_and_console_script_agree(adc_cli, cache_dir):
    script = Path(sys.executable).with_name("adc")
    if not script.exists():
        pytest.skip("no adc console script next to this interpreter")
    env = dict(os.environ, ADC_CACHE_DIR=str(cache_dir))
    proc = subprocess.run([str(script), "trace", f"{LECTURE}:f"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert ok(proc) == ok(adc_cli("trace", f"{LECTURE}:f"))


def test_trace_at_prints_three_tables_with_lecture_numbers(adc_cli):
    out = ok(adc_cli("trace", f"{LECTURE}:f", "--at", "2,5"))
    for needle in ("0.693147", "11.6521", "5.5", "1.71634", "-0.958924", "0.283662"):
        assert needle in out, needle

    evaluation = table_rows(out, "Evaluation trace of f at x1 = 2, x2 = 5")
    forward = table_rows(out, "Forward derivative trace")
    adjoint = table_rows(out, "Reverse adjoint trace")
    assert len(evaluation) == 1 and len(forward) == 2 and len(adjoint) == 1

    ev = row_values(evaluation[0])
    assert ev["v0"] == 2 and ev["v1"] == 5
    assert ev["v2"] == pytest.approx(math.log(2), abs=1e-6)
    assert ev["v3"] == 10
    assert ev["v5"] == pytest.approx(math.sin(5), abs=1e-6)
    assert ev["v6"] == pytest.approx(F_VALUE, abs=1e-4)
    assert ev["y"] == pytest.approx(F_VALUE, abs=1e-4)
    assert evaluation[0][3] == ["v2", "log(v0)", "0.693147"]

    # one tangent pass per input: seeds (1, 0) and (0, 1)
    fw1, fw2 = (row_values(t) for t in forward)
    assert (fw1["dv0"], fw1["dv1"]) == (1, 0)
    assert (fw2["dv0"], fw2["dv1"]) == (0, 1)
    assert fw1["dy"] == pytest.approx(DF_DX1, abs=1e-5)
    assert fw2["dv5"] == pytest.approx(math.cos(5), abs=1e-6)
    assert fw2["dy"] == pytest.approx(DF_DX2, abs=1e-5)

    adj = row_values(adjoint[0])  # the last gv0 / gv1 rows hold the accumulated adjoints
    assert adj["gv6"] == 1
    assert adj["gv5"] == -1
    assert adj["gv0"] == pytest.approx(DF_DX1, abs=1e-5)
    assert adj["gv1"] == pytest.approx(DF_DX2, abs=1e-5)


def test_trace_at_negative_values(adc_cli):
    out = ok(adc_cli("trace", f"{LECTURE}:gates", "--at", "-2,5,-4"))
    assert "Evaluation trace of gates at x = -2, y = 5, z = -4" in out
    ev = row_values(table_rows(out, "Evaluation trace")[0])
    assert (ev["v0"], ev["v1"], ev["v2"]) == (-2, 5, -4)
    assert ev["v3"] == 3 and ev["out"] == -12
    dys = [row_values(t)["dout"] for t in table_rows(out, "Forward derivative trace")]
    assert dys == [-4, -4, 3]  # (z, z, x + y)
    adj = row_values(table_rows(out, "Reverse adjoint trace")[0])
    assert (adj["gv0"], adj["gv1"], adj["gv2"]) == (-4, -4, 3)


def test_trace_at_equals_syntax_and_floats(adc_cli):
    out = ok(adc_cli("trace", f"{LECTURE}:f", "--at=2.0,5.0"))
    assert "11.6521" in out and "1.71634" in out


# ---------------------------------------------------------------------------------------------
# adc source: the generated code is runnable as is
# ---------------------------------------------------------------------------------------------


def exec_source(text: str) -> dict:
    namespace: dict = {}
    exec(compile(text, "<adc source>", "exec"), namespace)
    return namespace


def test_source_reverse_is_runnable(adc_cli):
    out = ok(adc_cli("source", f"{LECTURE}:f", "--mode", "reverse"))
    assert "def f_grad(x1, x2):" in out
    ns = exec_source(out)
    g1, g2 = ns["f_grad"](2.0, 5.0)
    assert g1 == pytest.approx(DF_DX1, rel=1e-12)
    assert g2 == pytest.approx(DF_DX2, rel=1e-12)
    assert g2 == pytest.approx(1.7163378145367738, rel=1e-12)
    # and at another point, so the code is not specialised to constants
    g1, g2 = ns["f_grad"](0.5, -1.0)
    assert g1 == pytest.approx(1 / 0.5 - 1.0) and g2 == pytest.approx(0.5 - math.cos(-1.0))


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_source_compact_is_the_code_adc_runs(adc_cli, mode):
    out = ok(adc_cli("source", f"{LECTURE}:f", "--mode", mode, "--compact"))
    assert out == adc.source(lecture_f, mode=mode, argnums=(0, 1), compact=True)
    assert out != ok(adc_cli("source", f"{LECTURE}:f", "--mode", mode))
    ns = exec_source(out)
    if mode == "reverse":
        assert ns["f_grad"](2.0, 5.0) == (pytest.approx(DF_DX1, rel=1e-15), pytest.approx(DF_DX2, rel=1e-15))
    else:
        value, tangent = ns["f_jvp"](2.0, 5.0, 3.0, -2.0)
        assert value == pytest.approx(F_VALUE, rel=1e-15)
        assert tangent == pytest.approx(3 * DF_DX1 - 2 * DF_DX2, rel=1e-12)


def test_source_default_mode_is_reverse(adc_cli):
    assert ok(adc_cli("source", f"{LECTURE}:f")) == ok(adc_cli("source", f"{LECTURE}:f", "--mode", "reverse"))


def test_source_forward_is_runnable(adc_cli):
    out = ok(adc_cli("source", f"{LECTURE}:f", "--mode", "forward"))
    assert "def f_jvp(x1, x2, dx1, dx2):" in out
    f_jvp = exec_source(out)["f_jvp"]
    value, tangent = f_jvp(2.0, 5.0, 1.0, 0.0)
    assert value == pytest.approx(F_VALUE, rel=1e-12)
    assert tangent == pytest.approx(DF_DX1, rel=1e-12)
    value, tangent = f_jvp(2.0, 5.0, 0.0, 1.0)
    assert value == pytest.approx(F_VALUE, rel=1e-12)
    assert tangent == pytest.approx(DF_DX2, rel=1e-12)
    _, tangent = f_jvp(2.0, 5.0, 3.0, -2.0)  # linear in the tangent
    assert tangent == pytest.approx(3 * DF_DX1 - 2 * DF_DX2, rel=1e-12)


def test_source_neuron_reverse_matches_finite_differences(adc_cli):
    out = ok(adc_cli("source", f"{LECTURE}:neuron", "--mode", "reverse"))
    grad = exec_source(out)["neuron_grad"]
    point = [2.0, -1.0, -3.0, -2.0, -3.0]  # the lecture's sigmoid neuron

    def neuron(w0, x0, w1, x1, w2):
        return 1.0 / (1.0 + math.exp(-(w0 * x0 + w1 * x1 + w2)))

    got = grad(*point)
    assert len(got) == 5
    h = 1e-6
    for i in range(5):
        up, dn = list(point), list(point)
        up[i] += h
        dn[i] -= h
        assert got[i] == pytest.approx((neuron(*up) - neuron(*dn)) / (2 * h), abs=1e-8)
    assert got[0] == pytest.approx(-0.196612, abs=1e-6)  # the lecture's dw0 = -0.20


def test_source_argnums_option(adc_cli):
    out = ok(adc_cli("source", f"{LECTURE}:f", "--argnums", "1"))
    g = exec_source(out)["f_grad"](2.0, 5.0)
    assert g == pytest.approx(DF_DX2, rel=1e-12)


def test_decorated_function_is_accepted(adc_cli, tmp_path):
    path = tmp_path / "decorated.py"
    path.write_text(textwrap.dedent("""\
        import math
        import adc


        @adc.grad(argnums=(0, 1))
        def f(x1, x2):
            return math.log(x1) + x1 * x2 - math.sin(x2)


        @adc.grad
        def h(x):
            return x * math.exp(x)
        """))
    # the CLI differentiates the original function, not the gradient
    out = ok(adc_cli("trace", f"{path}:f"))
    assert "v2 = log(v0)" in out and out.rstrip().endswith("y = v6")
    out = ok(adc_cli("trace", f"{path}:f", "--at", "2,5"))
    assert "11.6521" in out and "1.71634" in out
    g1, g2 = exec_source(ok(adc_cli("source", f"{path}:f")))["f_grad"](2.0, 5.0)
    assert (g1, g2) == (pytest.approx(DF_DX1), pytest.approx(DF_DX2))
    value, tangent = exec_source(ok(adc_cli("source", f"{path}:f", "--mode", "forward")))["f_jvp"](2.0, 5.0, 0.0, 1.0)
    assert value == pytest.approx(F_VALUE) and tangent == pytest.approx(DF_DX2)
    assert exec_source(ok(adc_cli("source", f"{path}:h")))["h_grad"](1.0) == pytest.approx(2 * math.e)


def test_target_relative_to_other_cwd(adc_cli, tmp_path):
    out = ok(adc_cli("trace", f"{REPO / LECTURE}:gates", cwd=tmp_path))
    assert "v3 = v0 + v1" in out


# ---------------------------------------------------------------------------------------------
# bad input: one line on stderr, exit code 2, no traceback
# ---------------------------------------------------------------------------------------------


def test_missing_file(adc_cli):
    assert_usage_error(adc_cli("trace", "examples/no_such_file.py:f"), "no_such_file.py")


def test_unknown_function(adc_cli):
    assert_usage_error(adc_cli("trace", f"{LECTURE}:no_such_function"), "no_such_function")


def test_target_is_not_a_function(adc_cli):
    assert_usage_error(adc_cli("trace", f"{LECTURE}:math"), "math")


@pytest.mark.parametrize("at", ["2", "2,5,7", "1,2,3,4"])
def test_at_wrong_arity(adc_cli, at):
    n = len(at.split(","))
    err = assert_usage_error(adc_cli("trace", f"{LECTURE}:f", "--at", at), "--at", str(n), "2")
    assert "takes 2" in err


def test_source_at_wrong_arity(adc_cli):
    assert_usage_error(adc_cli("source", f"{LECTURE}:f", "--at", "1,2,3"), "--at")


@pytest.mark.parametrize("at", ["a,b", "2,x", "2;5", "", "2,,5"])
def test_at_not_numbers(adc_cli, at):
    assert_usage_error(adc_cli("trace", f"{LECTURE}:f", "--at", at), "--at")


@pytest.mark.parametrize("target", ["examples/lecture.py", "examples/lecture.py:", ":f"])
def test_target_without_function(adc_cli, target):
    assert_usage_error(adc_cli("trace", target), "FILE.py:FUNCTION")


def test_argnums_not_integers(adc_cli):
    assert_usage_error(adc_cli("source", f"{LECTURE}:f", "--argnums", "x"), "--argnums")


def test_argnums_out_of_range(adc_cli):
    assert_usage_error(adc_cli("source", f"{LECTURE}:f", "--argnums", "0,5"), "argnums")


def test_unknown_mode_is_rejected(adc_cli):
    proc = adc_cli("source", f"{LECTURE}:f", "--mode", "sideways")
    assert proc.returncode == 2 and proc.stdout == ""
    # argparse reports it (as ``adc source: error: ...`` after the usage line)
    assert "error:" in proc.stderr and "sideways" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_file_that_raises_on_import(adc_cli, tmp_path):
    path = tmp_path / "explodes.py"
    path.write_text("import math\n\nraise RuntimeError('boom at import')\n\n\ndef f(x):\n    return x\n")
    assert_usage_error(adc_cli("trace", f"{path}:f"), "explodes.py", "RuntimeError", "boom at import")


def test_file_with_syntax_error(adc_cli, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def f(x):\n    return x +\n")
    assert_usage_error(adc_cli("trace", f"{path}:f"), "broken.py", "SyntaxError")


def bad_location(func: str, marker: str) -> tuple[int, int]:
    """(line, 1-based column) of ``marker`` inside ``func`` in tests/bad_inputs.py."""
    lines = BAD_INPUTS.read_text().splitlines()
    start = lines.index(next(ln for ln in lines if ln.startswith(f"def {func}(")))
    for i in range(start + 1, len(lines)):
        if marker in lines[i]:
            return i + 1, lines[i].index(marker) + 1
    raise AssertionError(f"{marker!r} not found in {func}")


@pytest.mark.parametrize("func,marker", [
    ("uses_lambda", "lambda"),
    ("uses_try", "try:"),
])
@pytest.mark.parametrize("command", ["trace", "source"])
def test_unsupported_construct(adc_cli, command, func, marker):
    line, col = bad_location(func, marker)
    err = assert_usage_error(adc_cli(command, f"tests/bad_inputs.py:{func}"), one_line=False)
    first = err.splitlines()[0]
    assert f"bad_inputs.py:{line}:{col}:" in first, err
    assert "hint:" in err


def test_unsupported_construct_with_at(adc_cli):
    line, col = bad_location("uses_dict", "**{")
    err = assert_usage_error(adc_cli("trace", "tests/bad_inputs.py:uses_dict", "--at", "1.5"), one_line=False)
    assert f"bad_inputs.py:{line}:{col}:" in err and "dict" in err


def test_no_arguments_is_a_usage_error(adc_cli):
    proc = adc_cli()
    assert proc.returncode == 2
    assert "adc: error:" in proc.stderr and "Traceback" not in proc.stderr


def test_file_that_exits_on_import(adc_cli, tmp_path):
    path = tmp_path / "exits.py"
    path.write_text("import sys\n\nsys.exit(3)\n\n\ndef f(x):\n    return x\n")
    assert_usage_error(adc_cli("trace", f"{path}:f"), "exits.py")


def test_trace_at_of_tuple_output_has_no_traceback(adc_cli):
    proc = adc_cli("trace", "tests/bad_inputs.py:returns_tuple", "--at", "1,2")
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 2), proc.stderr
    if proc.returncode == 2:
        assert_usage_error(proc, one_line=False)


# ---------------------------------------------------------------------------------------------
# adc --version, adc compare, --at with arrays, adc cache
# ---------------------------------------------------------------------------------------------


def test_version(adc_cli):
    for flag in ("--version",):
        assert ok(adc_cli(flag)) == f"adc {adc.__version__}\n"


def test_compare_prints_its_table_once_and_no_plot_unless_asked(adc_cli, tmp_path):
    proc = adc_cli("compare", "--sizes", "1,2", "--repeat", "1", "--budget", "0.05", "--no-outputs", cwd=tmp_path)
    lines = ok(proc).splitlines()
    assert proc.stderr == ""
    assert [ln.split()[:3] for ln in lines] == [["case", "size", "forward"], ["R^n", "->", "R"], ["R^n", "->", "R"]]
    assert [ln.split()[3] for ln in lines[1:]] == ["1", "2"]
    assert list(tmp_path.iterdir()) == []  # no plot file anywhere


def test_compare_plot_without_matplotlib_fails_before_timing(adc_cli, tmp_path):
    """A ``matplotlib`` that cannot be imported (first on the path): one line, no table, no file."""
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env_path = f"{fake}{os.pathsep}{REPO}"
    proc = subprocess.run([sys.executable, "-m", "adc", "compare", "--sizes", "1,10,100", "--plot", "p.png"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": env_path}, capture_output=True, text=True,
                          timeout=120)
    err = assert_usage_error(proc, "needs matplotlib", "pip install matplotlib", "leave out --plot")
    assert not (tmp_path / "p.png").exists()


ARRAYS = textwrap.dedent("""\
    import numpy as np


    def h(x, s):
        return np.sum(np.tanh(x) * s) + s ** 2


    def mat(W, x):
        return np.sum((W @ x) ** 2)


    def first(x):
        return x[0] * 2.0
    """)


@pytest.fixture
def arrays_file(tmp_path: Path) -> str:
    path = tmp_path / "arrays.py"
    path.write_text(ARRAYS)
    return str(path)


def test_trace_at_takes_numpy_expressions(adc_cli, arrays_file):
    out = ok(adc_cli("trace", f"{arrays_file}:h", "--at", "np.ones(3), 2.0"))
    assert "Evaluation trace of h at x = [1., 1., 1.], s = 2" in out
    ev = table_rows(out, "Evaluation trace")[0]
    assert ev[-1][0] == "y" and float(ev[-1][-1]) == pytest.approx(3 * 2 * math.tanh(1.0) + 4, rel=1e-5)
    adj = {r[0]: r[-1] for r in table_rows(out, "Reverse adjoint trace")[0]}
    assert float(adj["gv1"]) == pytest.approx(3 * math.tanh(1.0) + 4, rel=1e-5)  # d/ds
    assert adj["gv0"] == "[{0}, {0}, {0}]".format(f"{2 * (1 - math.tanh(1.0) ** 2):.6f}")  # d/dx


def test_trace_at_shape_helpers_and_matrices_stay_on_one_row(adc_cli, arrays_file):
    out = ok(adc_cli("trace", f"{arrays_file}:mat", "--at", "ones((2, 3)), arange(3.0)"))
    assert "at W = [[1., 1., 1.], [1., 1., 1.]], x = [0., 1., 2.]" in out
    adjoint = out.split("Reverse adjoint trace")[1].splitlines()
    assert adjoint[-2].split(None, 2) == ["gv0", "np.outer(gv2,", "v1)  [[ 0.,  6., 12.], [ 0.,  6., 12.]]"]  # 2Wx x^T
    assert adjoint[-1].split(None, 2) == ["gv1", "v0.T", "@ gv2         [12., 12., 12.]"]  # 2 W^T W x


def test_source_at_takes_lists_and_rand(adc_cli, arrays_file):
    out = ok(adc_cli("source", f"{arrays_file}:h", "--at", "[1, 2, 3], 2", "--argnums", "0,1"))
    assert "def h_grad(x, s):" in out and "return gx, gs" in out
    ns = exec_source(out)
    gx, gs = ns["h_grad"](np.array([1.0, 2.0, 3.0]), 2.0)
    np.testing.assert_allclose(gx, 2 * (1 - np.tanh([1.0, 2.0, 3.0]) ** 2), rtol=1e-14)
    assert ok(adc_cli("source", f"{arrays_file}:mat", "--at", "rand(2, 3), rand(3)")).startswith("import")


@pytest.mark.parametrize("command", ["trace", "source"])
def test_array_function_without_at_says_what_to_pass(adc_cli, arrays_file, command):
    err = assert_usage_error(adc_cli(command, f"{arrays_file}:first"), f"{arrays_file}:13:", one_line=False)
    assert "hint: without --at adc takes every argument of first to be a float; for array arguments pass example " \
           "values, e.g. --at 'ones(3), 2.0'" in err
    assert "pass an array (NumPy would convert" not in err  # the API's hint does not fit the command line


@pytest.mark.parametrize("at, fragment", [("foo(3), 2", "NameError"), ("'a', 2", "argument 1 is str"),
                                          ("[[1], [2, 3]], 2", "not a list of numbers"), ("1j, 2", "complex")])
def test_at_bad_values(adc_cli, arrays_file, at, fragment):
    assert_usage_error(adc_cli("trace", f"{arrays_file}:h", "--at", at), "--at", fragment)


@pytest.mark.parametrize("target, at", [("f", "-2,5"), ("f", "0,5"), ("gates", "-2,5,-4"), ("neuron", "-1,-2,3,-4,-5")])
def test_at_prints_no_runtime_warnings(adc_cli, cache_dir, target, at):
    """log(-2), 1/0 and exp overflow are shown as nan/inf in the tables, never warned about."""
    for command in ("trace", "source"):
        env = {**os.environ, "ADC_CACHE_DIR": str(cache_dir), "PYTHONWARNINGS": "always"}
        proc = subprocess.run([sys.executable, "-m", "adc", command, f"{LECTURE}:{target}", "--at", at], cwd=REPO,
                              env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    out = ok(adc_cli("trace", f"{LECTURE}:f", "--at", "-2,5"))
    assert "log(v0)   nan" in out


def cache_cli(cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adc", "cache", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "ADC_CACHE_DIR": str(cache), **env})


def test_cache_info_and_clear(tmp_path):
    cache = tmp_path / "cache"
    out = ok(cache_cli(cache, "info"))
    assert out.splitlines()[0] == f"directory: {cache}" and "not created yet" in out
    assert "limit:     256.0 MB" in out and "ADC_CACHE_MAX_MB" in out
    script = tmp_path / "use.py"
    script.write_text("import adc\n\ndef f(x):\n    return x * x\n\ndef g(x):\n    return x ** 3\n\n"
                      "print(adc.grad(f)(3.0), adc.grad(g, jit=True)(2.0))\n")
    env = {**os.environ, "ADC_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert run.stdout == "6.0 12.0\n", run.stderr
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    generated = sorted(p.name for p in cache.glob("adc_*.py"))
    assert len(generated) == 2 and generated[0].startswith("adc_f_grad_") and generated[1].startswith("adc_g_grad_")
    (cache / "notes.txt").write_text("not adc's")  # other files are neither counted nor removed
    out = ok(cache_cli(cache, "info", ADC_CACHE_MAX_MB="1.5"))
    assert "status:    in use" in out and "limit:     1.5 MB" in out
    entries = re.search(r"entries:   (\d+) generated modules, (\d+) files", out)
    assert entries and entries.group(1) == "2" and int(entries.group(2)) >= 3  # + Numba's index and data
    out = ok(cache_cli(cache, "clear"))
    assert re.fullmatch(rf"removed 2 generated modules \(\d+ files, [\d.]+ [kM]B\) from {re.escape(str(cache))}\n", out)
    assert not list(cache.glob("adc_*")) and not list(cache.glob("__pycache__/adc_*"))
    assert (cache / "notes.txt").read_text() == "not adc's"
    assert "entries:   0 generated modules" in ok(cache_cli(cache, "info"))


def test_cache_unknown_action(tmp_path):
    proc = cache_cli(tmp_path, "purge")
    assert proc.returncode == 2 and "invalid choice: 'purge'" in proc.stderr
