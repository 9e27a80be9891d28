"""The lectures' worked examples (shared/worked-examples.md §1-3), in every mode adc offers,
and the three trace tables of §1 (evaluation, forward derivative, adjoint)."""
import importlib.util
import math
import sys
from pathlib import Path

import pytest

import adc
from fd import assert_close_seq, fd_grad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "lecture.py"


# --- the examples, as module-level functions ---------------------------------------------------

def _load_examples():
    """examples/lecture.py (what the README demo runs): the tests use its functions directly."""
    spec = importlib.util.spec_from_file_location("adc_test_lecture_examples", EXAMPLES)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_lecture = _load_examples()
f, gates, neuron = _lecture.f, _lecture.gates, _lecture.neuron


def gates_q(x, y, z):
    q = x + y
    return q


def max_gate(x, y, z, w):
    return 2.0 * (x * y + max(z, w))


@adc.grad(argnums=(0, 1))
def f_decorated(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


@adc.grad
def f_decorated_bare(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


@adc.value_and_grad(argnums=(0, 1), mode="forward")
def f_decorated_vg(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


# --- exact expected values ---------------------------------------------------------------------

F_VALUE = math.log(2) + 10 - math.sin(5)          # 11.652...
F_GRAD = (5.5, 2 - math.cos(5))                   # (5.5, 1.716...)
F_AT = (2.0, 5.0)

GATES_AT = (-2.0, 5.0, -4.0)
GATES_GRAD = (-4.0, -4.0, 3.0)

MAX_GATE_AT = (3.0, -4.0, 2.0, -1.0)
MAX_GATE_GRAD = (-8.0, 6.0, 2.0, 0.0)             # max routes the gradient to the larger input

NEURON_AT = (2.0, -1.0, -3.0, -2.0, -3.0)
_L = 1.0 / (1.0 + math.exp(-1.0))                 # s3 = 1
_DS = _L * (1.0 - _L)
NEURON_VALUE = _L
NEURON_GRAD = (-1.0 * _DS, 2.0 * _DS, -2.0 * _DS, -3.0 * _DS, _DS)
NEURON_LECTURE = (-0.197, 0.393, -0.393, -0.590, 0.197)

CASES = [
    (f, F_AT, F_VALUE, F_GRAD),
    (gates, GATES_AT, -12.0, GATES_GRAD),
    (max_gate, MAX_GATE_AT, -20.0, MAX_GATE_GRAD),
    (neuron, NEURON_AT, NEURON_VALUE, NEURON_GRAD),
]
CASE_IDS = [c[0].__name__ for c in CASES]
MODES = [("reverse", False), ("forward", False), ("reverse", True), ("forward", True)]
MODE_IDS = ["reverse", "forward", "reverse-jit", "forward-jit"]


def test_lecture_numbers_by_hand():
    """The hand-worked numbers of the notes agree with the exact values used below."""
    assert F_VALUE == pytest.approx(11.652, abs=1e-3)
    assert F_GRAD[1] == pytest.approx(1.716, abs=1e-3)
    assert NEURON_VALUE == pytest.approx(0.731, abs=1e-3)
    assert NEURON_GRAD == pytest.approx(NEURON_LECTURE, abs=1e-3)
    assert gates_q(*GATES_AT) == 3.0
    assert gates(*GATES_AT) == -12.0


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
def test_grad(fn, at, value, expected, mode, jit):
    argnums = tuple(range(len(at)))
    g = adc.grad(fn, argnums, mode=mode, jit=jit)(*at)
    assert isinstance(g, tuple) and len(g) == len(at)
    assert all(type(c) is float for c in g)
    assert g == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert_close_seq(g, fd_grad(fn, at))


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
def test_value_and_grad(fn, at, value, expected, mode, jit):
    argnums = tuple(range(len(at)))
    v, g = adc.value_and_grad(fn, argnums, mode=mode, jit=jit)(*at)
    assert type(v) is float
    assert v == pytest.approx(value, rel=1e-12)
    assert v == pytest.approx(fn(*at), rel=1e-14)
    assert g == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("mode,jit", MODES, ids=MODE_IDS)
@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
def test_grad_single_argnum(fn, at, value, expected, mode, jit):
    """argnums=i (an int) returns a bare float, the i-th component of the gradient."""
    for i in range(len(at)):
        g = adc.grad(fn, i, mode=mode, jit=jit)(*at)
        assert type(g) is float
        assert g == pytest.approx(expected[i], rel=1e-12, abs=1e-12)


def test_grad_default_argnum_is_first():
    assert adc.grad(f)(*F_AT) == pytest.approx(5.5, rel=1e-14)
    assert adc.grad(neuron)(*NEURON_AT) == pytest.approx(NEURON_GRAD[0], rel=1e-12)


@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
def test_int_arguments(fn, at, value, expected):
    """The lecture writes f(2, 5): int arguments work and give float gradients."""
    iat = tuple(int(a) for a in at)
    argnums = tuple(range(len(at)))
    for mode in ("reverse", "forward"):
        g = adc.grad(fn, argnums, mode=mode)(*iat)
        assert all(type(c) is float for c in g)
        assert g == pytest.approx(expected, rel=1e-12, abs=1e-12)
        v, g = adc.value_and_grad(fn, argnums, mode=mode, jit=True)(*iat)
        assert type(v) is float and v == pytest.approx(value, rel=1e-12)
        assert all(type(c) is float for c in g)
        assert g == pytest.approx(expected, rel=1e-12, abs=1e-12)
    out, pullback = adc.vjp(fn, *iat)
    assert out == pytest.approx(value, rel=1e-12)
    cts = pullback(1)
    assert all(type(c) is float for c in cts)
    assert cts == pytest.approx(expected, rel=1e-12, abs=1e-12)
    out, t = adc.jvp(fn, iat, (1,) + (0,) * (len(iat) - 1))
    assert type(out) is float and type(t) is float
    assert t == pytest.approx(expected[0], rel=1e-12, abs=1e-12)


def test_lecture_f_int_args_readme():
    assert adc.grad(f, argnums=(0, 1))(2, 5) == pytest.approx((5.5, 1.7163378145367738), rel=1e-14)


@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_jvp(fn, at, value, expected, jit):
    """jvp with each unit tangent gives one gradient component; a general tangent gives <grad, t>."""
    n = len(at)
    for i in range(n):
        tangents = tuple(1.0 if j == i else 0.0 for j in range(n))
        out, dout = adc.jvp(fn, at, tangents, jit=jit)
        assert out == pytest.approx(value, rel=1e-12)
        assert dout == pytest.approx(expected[i], rel=1e-12, abs=1e-12)
    t = tuple(0.5 * (j + 1) * (-1) ** j for j in range(n))
    out, dout = adc.jvp(fn, at, t, jit=jit)
    assert dout == pytest.approx(sum(a * b for a, b in zip(expected, t)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("fn,at,value,expected", CASES, ids=CASE_IDS)
@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_vjp(fn, at, value, expected, jit):
    out, pullback = adc.vjp(fn, *at, jit=jit)
    assert out == pytest.approx(value, rel=1e-12)
    cts = pullback(1.0)
    assert isinstance(cts, tuple) and len(cts) == len(at)
    assert all(type(c) is float for c in cts)
    assert cts == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # the pullback is linear in the cotangent
    assert pullback(-2.5) == pytest.approx(tuple(-2.5 * e for e in expected), rel=1e-12, abs=1e-12)


def test_decorator_forms():
    assert f_decorated(2.0, 5.0) == pytest.approx(F_GRAD, rel=1e-14)
    assert f_decorated(2, 5) == pytest.approx(F_GRAD, rel=1e-14)
    g = f_decorated_bare(2.0, 5.0)
    assert type(g) is float and g == pytest.approx(5.5, rel=1e-14)
    v, g = f_decorated_vg(2.0, 5.0)
    assert v == pytest.approx(F_VALUE, rel=1e-14)
    assert g == pytest.approx(F_GRAD, rel=1e-14)
    # the decorated function still names the original
    assert f_decorated.__name__ == "f_decorated"


def test_examples_lecture_module():
    """examples/lecture.py (what the README demo runs) gives the lecture's numbers."""
    spec = importlib.util.spec_from_file_location("adc_test_examples_lecture", EXAMPLES)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    try:
        spec.loader.exec_module(mod)
        assert adc.grad(mod.f, (0, 1))(2, 5) == pytest.approx(F_GRAD, rel=1e-14)
        assert adc.grad(mod.gates, (0, 1, 2))(-2, 5, -4) == pytest.approx(GATES_GRAD, rel=1e-14)
        v, g = adc.value_and_grad(mod.neuron, (0, 1, 2, 3, 4), mode="forward")(*NEURON_AT)
        assert v == pytest.approx(0.731, abs=1e-3)
        assert g == pytest.approx(NEURON_LECTURE, abs=1e-3)
    finally:
        del sys.modules[spec.name]


def test_generated_code_goes_to_session_cache_dir(adc_cache_dir):
    adc.grad(gates, (0, 1, 2))(*GATES_AT)
    assert any(p.name.startswith("adc_gates") and p.suffix == ".py" for p in adc_cache_dir.iterdir())


# --- §1 trace tables -----------------------------------------------------------------------------

def rows_as_dict(rows):
    return {r.name: r.value for r in rows}


def test_trace_evaluation_rows():
    rows = adc.trace(f).evaluation(2, 5)
    names = [r.name for r in rows]
    assert names == ["v0", "v1", "v2", "v3", "v4", "v5", "v6", "y"]
    eq = {r.name: r.equation for r in rows}
    assert eq["v0"] == "x1" and eq["v1"] == "x2"
    assert eq["v2"] == "log(v0)" and eq["v3"] == "v0 * v1" and eq["v5"] == "sin(v1)"
    assert eq["v4"] == "v2 + v3" and eq["v6"] == "v4 - v5" and eq["y"] == "v6"
    val = rows_as_dict(rows)
    assert val["v0"] == 2 and val["v1"] == 5
    assert val["v2"] == pytest.approx(math.log(2), rel=1e-14)       # 0.693
    assert val["v3"] == 10
    assert val["v4"] == pytest.approx(10.693, abs=1e-3)
    assert val["v5"] == pytest.approx(-0.959, abs=1e-3)
    assert val["v6"] == pytest.approx(11.652, abs=1e-3)
    assert val["y"] == pytest.approx(F_VALUE, rel=1e-14)


def test_trace_forward_wrt_x1():
    rows = adc.trace(f).forward_trace(2, 5, wrt=0)
    assert [r.name for r in rows] == ["dv0", "dv1", "dv2", "dv3", "dv4", "dv5", "dv6", "dy"]
    val = rows_as_dict(rows)
    assert val["dv0"] == 1 and val["dv1"] == 0
    assert val["dv2"] == pytest.approx(0.5, rel=1e-14)
    assert val["dv3"] == pytest.approx(5.0, rel=1e-14)
    assert val["dv4"] == pytest.approx(5.5, rel=1e-14)
    assert val["dv5"] == 0
    assert val["dv6"] == pytest.approx(5.5, rel=1e-14)
    assert val["dy"] == pytest.approx(5.5, rel=1e-14)
    eq = {r.name: r.equation for r in rows}
    assert eq["dv0"] == eq["dv1"] == "seed"
    assert eq["dv2"] == "dv0 / v0"


def test_trace_forward_wrt_x2():
    rows = adc.trace(f).forward_trace(2, 5, wrt=1)
    val = rows_as_dict(rows)
    assert val["dv0"] == 0 and val["dv1"] == 1
    assert val["dv2"] == 0
    assert val["dv3"] == pytest.approx(2.0, rel=1e-14)
    assert val["dv5"] == pytest.approx(math.cos(5), rel=1e-14)     # 0.284
    assert val["dy"] == pytest.approx(1.716, abs=1e-3)
    assert val["dy"] == pytest.approx(F_GRAD[1], rel=1e-14)
    assert rows[-1].name == "dy"


def test_trace_adjoint():
    rows = adc.trace(f).adjoint_trace(2, 5)
    names = [r.name for r in rows]
    assert names[0] == "gv6" and rows[0].value == 1
    final = {}
    for r in rows:          # adjoints are accumulated: the last row of a name is its final value
        final[r.name] = r.value
    assert final["gv5"] == pytest.approx(-1.0)
    assert final["gv4"] == pytest.approx(1.0)
    assert final["gv3"] == pytest.approx(1.0)
    assert final["gv2"] == pytest.approx(1.0)
    assert final["gv0"] == pytest.approx(5.5, rel=1e-14)
    assert final["gv1"] == pytest.approx(1.716, abs=1e-3)
    assert final["gv1"] == pytest.approx(F_GRAD[1], rel=1e-14)
    # the cos(v1) contribution of the lecture's v1bar = 2 - 0.284
    assert any(r.name == "gv1" and r.value == pytest.approx(-math.cos(5), rel=1e-14) for r in rows)


def test_trace_tables_text():
    text = adc.trace(f).tables(2, 5)
    assert "Evaluation trace of f at x1 = 2, x2 = 5" in text
    assert "seed dx1 = 1, dx2 = 0" in text and "seed dx1 = 0, dx2 = 1" in text
    assert "Reverse adjoint trace" in text
    for snippet in ("0.693147", "-0.958924", "11.6521", "5.5", "1.71634", "0.283662"):
        assert snippet in text, snippet
    # the SSA listing
    listing = str(adc.trace(f))
    assert "v2 = log(v0)" in listing and "v3 = v0 * v1" in listing


def test_trace_neuron_final_adjoints():
    rows = adc.trace(neuron).adjoint_trace(*NEURON_AT)
    final = {}
    for r in rows:
        final[r.name] = r.value
    got = tuple(final[f"gv{i}"] for i in range(5))
    assert got == pytest.approx(NEURON_GRAD, rel=1e-12)


def branch_and_loop(x, y):
    if x > y:
        z = x * y
    else:
        z = x + y
    s = 0.0
    for i in range(3):
        s = s + z * i
    return s + math.sin(x)


def test_trace_tables_of_a_program_with_statements_that_have_bodies():
    """An `if` or a `for` is one row (its inner values are not listed); the values are right."""
    text = adc.trace(branch_and_loop).tables(2.0, 1.0)
    assert "if statement (line" in text and "for statement (line" in text
    # s = 3 z = 3 x y at x > y; ds/dx = 3 y + cos(x), ds/dy = 3 x
    assert f"{6 + math.sin(2.0):.6g}" in text
    assert f"{3 + math.cos(2.0):.6g}" in text and "  dout  dv" in text
    # the reverse table ends with the adjoints the statements with bodies result in: the gradient
    # (a statement with several results was left out, and with it gx and gy)
    rows = {row.name: row for row in adc.trace(branch_and_loop).adjoint_trace(2.0, 1.0)}
    assert rows["gv0"].equation.startswith("if statement") and rows["gv1"].equation.startswith("if statement")
    assert (rows["gv0"].value, rows["gv1"].value) == pytest.approx(adc.grad(branch_and_loop, argnums=(0, 1))(2.0, 1.0))
    assert rows["gv1"].value == pytest.approx(6.0) and rows["gv0"].value == pytest.approx(3 + math.cos(2.0))
