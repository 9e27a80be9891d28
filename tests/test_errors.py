"""Errors adc raises on purpose: located ``UnsupportedError``s, ``DifferentiationError``s and
``SourceError``s, all subclasses of ``adc.AdcError``.

The unsupported constructs live in tests/bad_inputs.py.  The expected line and column of each is
computed here from that file's text (the line holding a marker inside the function, the column
where the marker starts), so the functions may move without editing this file.
"""
from __future__ import annotations

import inspect
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import adc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bad_inputs  # noqa: E402

BAD_FILE = Path(bad_inputs.__file__).resolve()
BAD_LINES = BAD_FILE.read_text().splitlines()


def locate(func_name: str, marker: str) -> tuple[int, int, str]:
    """(line, 1-based column, source line) of the first ``marker`` after ``def func_name(``.

    A marker starting with ``@def:`` is looked up on the ``def`` line itself (parameter errors)."""
    fn = getattr(bad_inputs, func_name)
    _, first = inspect.getsourcelines(fn)
    start = first - 1  # index of the def line
    assert BAD_LINES[start].startswith(f"def {func_name}(")
    on_def = marker.startswith("@def:")
    lines = range(start, start + 1) if on_def else range(start + 1, len(BAD_LINES))
    needle = marker[len("@def:"):] if on_def else marker
    for i in lines:
        if needle in BAD_LINES[i]:
            return i + 1, BAD_LINES[i].index(needle) + 1, BAD_LINES[i]
    raise AssertionError(f"marker {marker!r} not found in {func_name}")


def check_located(exc: BaseException, line: int, col: int, source_line: str, filename: str | os.PathLike,
                  *fragments: str) -> None:
    """``exc`` names file:line:col, shows ``source_line`` with a caret under ``col``, and a hint."""
    assert isinstance(exc, adc.UnsupportedError)
    assert isinstance(exc, adc.AdcError)
    text = str(exc)
    lines = text.splitlines()
    assert f"{os.path.basename(filename)}:{line}:{col}: " in lines[0], text
    assert lines[0].startswith(f"{os.fspath(filename)}:{line}:{col}: ") or \
        lines[0].startswith(f"{os.path.basename(filename)}:{line}:{col}: "), text
    # the offending line, then a caret line whose caret sits under column `col`
    shown = [i for i, ln in enumerate(lines) if ln.rstrip().endswith(source_line.strip()) and i > 0]
    assert shown, f"source line {source_line!r} not shown in:\n{text}"
    i = shown[0]
    shown_line = lines[i].rstrip()
    prefix = len(shown_line) - len(source_line.rstrip())
    assert prefix >= 0 and shown_line[prefix:] == source_line.rstrip(), text
    caret_line = lines[i + 1]
    assert caret_line.strip() == "^", text
    assert caret_line.index("^") == prefix + col - 1, f"caret not under column {col}:\n{text}"
    hints = [ln for ln in lines if ln.startswith("hint: ")]
    assert len(hints) == 1 and len(hints[0]) > len("hint: ") + 3, text
    for frag in fragments:
        assert frag in text, f"{frag!r} not in:\n{text}"


# (function in bad_inputs.py, marker where the caret must point, words the message must contain)
UNSUPPORTED_CASES = [
    ("uses_lambda", "lambda t", ["lambda"]),
    ("uses_listcomp", "[x * k", ["comprehension whose length is known only at run time, inside a loop"]),
    ("uses_genexp", "x * k for", ["comprehension whose length is known only at run time, inside a loop"]),
    ("uses_try", "try:", ["try"]),
    ("uses_with", "with np.errstate", ["with"]),
    ("uses_global", "global SCALE", ["global"]),
    ("uses_nested_def", "def inner", ["nested function"]),
    ("uses_class", "class Box", ["class"]),
    ("uses_string", "y * label", ["got a string"]),
    ("uses_dict", '**{"b"', ["`**` in a dict"]),
    ("uses_starred_call", "*args", ["starred"]),
    ("uses_keyword_call", "base=2.0", ["keyword"]),
    ("uses_kwargs_param", "@def:**options", ["**kwargs"]),
    ("uses_undefined", "not_defined_anywhere", ["not_defined_anywhere", "not defined"]),
    ("uses_print", "print(y)", ["expression statement"]),
    ("uses_fstring", 'f"{x}"', ["f-string"]),
    ("uses_set", "{x, 2.0}", ["set"]),
    ("uses_walrus", "z := x", [":="]),
    ("uses_import", "import cmath", ["import"]),
    ("uses_assert", "assert x", ["assert"]),
    ("uses_raise", "raise ValueError", ["raise"]),
    ("uses_del", "del y", ["del"]),
    ("uses_yield", "yield x", ["yield"]),
    ("uses_complex", "2j", ["complex"]),
    ("uses_attribute", "x.real", [".real"]),
]


def n_params(fn) -> int:
    return len([p for p in inspect.signature(fn).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])


@pytest.mark.parametrize("func_name,marker,fragments", UNSUPPORTED_CASES, ids=[c[0] for c in UNSUPPORTED_CASES])
def test_unsupported_construct_via_grad(func_name, marker, fragments):
    fn = getattr(bad_inputs, func_name)
    line, col, source_line = locate(func_name, marker)
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(*[1.5] * n_params(fn))
    check_located(info.value, line, col, source_line, BAD_FILE, *fragments)
    # the structured fields agree with the text
    assert info.value.loc is not None and info.value.loc.line == line
    assert info.value.hint


@pytest.mark.parametrize("func_name,marker,fragments", UNSUPPORTED_CASES[:6] + UNSUPPORTED_CASES[13:16],
                         ids=[c[0] for c in UNSUPPORTED_CASES[:6] + UNSUPPORTED_CASES[13:16]])
@pytest.mark.parametrize("entry", ["source", "source_forward", "trace", "value_and_grad", "grad_forward", "jvp"])
def test_unsupported_construct_every_entry_point(entry, func_name, marker, fragments):
    fn = getattr(bad_inputs, func_name)
    line, col, source_line = locate(func_name, marker)
    args = [1.5] * n_params(fn)
    calls = {
        "source": lambda: adc.source(fn),
        "source_forward": lambda: adc.source(fn, mode="forward"),
        "trace": lambda: str(adc.trace(fn)),
        "value_and_grad": lambda: adc.value_and_grad(fn)(*args),
        "grad_forward": lambda: adc.grad(fn, mode="forward")(*args),
        "jvp": lambda: adc.jvp(fn, args, [1.0] * len(args)),
    }
    with pytest.raises(adc.UnsupportedError) as info:
        calls[entry]()
    check_located(info.value, line, col, source_line, BAD_FILE, *fragments)


def test_error_in_inlined_helper_points_at_the_helper():
    line, col, source_line = locate("bad_helper", "{t, 2.0}")
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(bad_inputs.calls_bad_helper)(1.5)
    check_located(info.value, line, col, source_line, BAD_FILE, "set")


def test_error_in_indented_function_has_the_real_column():
    # a function defined inside another one: its source is indented by 4 (or 8) columns
    def inner(x):
        y = x * 2.0
        return y + undefined_helper_name()  # noqa: F821  (never executed)

    def with_lambda(x):
        return x * (lambda t: t)(x)

    lines, first = inspect.getsourcelines(with_lambda)
    offending = lines[1]
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(with_lambda)(1.0)
    check_located(info.value, first + 1, offending.index("lambda") + 1, offending, __file__, "lambda")

    lines, first = inspect.getsourcelines(inner)
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(inner)(1.0)
    offending = lines[2]
    check_located(info.value, first + 2, offending.index("undefined_helper_name") + 1, offending, __file__,
                  "undefined_helper_name")


def test_unsupported_error_is_an_adc_error():
    assert issubclass(adc.UnsupportedError, adc.AdcError)
    assert issubclass(adc.SourceError, adc.AdcError)
    assert issubclass(adc.DifferentiationError, adc.AdcError)
    assert issubclass(adc.CompileError, adc.AdcError)
    assert issubclass(adc.AdcError, Exception)


def test_supported_neighbour_still_works():
    # the module with all the bad functions is fine to import and its good functions differentiate
    gx, gy = adc.grad(bad_inputs.fine, argnums=(0, 1))(2.0, 0.5)
    assert gx == pytest.approx(3.0 * math.sin(0.5))
    assert gy == pytest.approx(6.0 * math.cos(0.5))


# ---------------------------------------------------------------------------------------------
# DifferentiationError: the request is wrong
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_of_tuple_output(mode):
    with pytest.raises(adc.DifferentiationError, match="scalar") as info:
        adc.grad(bad_inputs.returns_tuple, mode=mode)(1.0, 2.0)
    assert "returns_tuple" in str(info.value) and "tuple" in str(info.value)


def test_value_and_grad_of_tuple_output():
    with pytest.raises(adc.DifferentiationError, match="scalar"):
        adc.value_and_grad(bad_inputs.returns_tuple, argnums=(0, 1))(1.0, 2.0)


def double(a):
    return a * 2.0


def test_grad_of_array_output():
    with pytest.raises(adc.DifferentiationError, match="scalar") as info:
        adc.grad(double)(np.ones(3))
    assert "array" in str(info.value)


@pytest.mark.parametrize("argnums", [1, 2, -2, (0, 1), (0, 5)])
def test_argnums_out_of_range(argnums):
    with pytest.raises(adc.DifferentiationError, match="out of range"):
        adc.grad(double, argnums=argnums)(1.0)


def test_argnums_out_of_range_in_source():
    with pytest.raises(adc.DifferentiationError, match="out of range"):
        adc.source(double, argnums=1)


def test_argnums_repeated_and_empty():
    with pytest.raises(adc.DifferentiationError, match="repeats"):
        adc.grad(bad_inputs.fine, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(adc.DifferentiationError, match="empty"):
        adc.grad(bad_inputs.fine, argnums=())(1.0, 2.0)


@pytest.mark.parametrize("make", [
    lambda: adc.grad(double, mode="sideways"),
    lambda: adc.grad(mode="sideways")(double),
    lambda: adc.value_and_grad(double, mode="sideways"),
    lambda: adc.source(double, mode="sideways"),
])
def test_unknown_mode(make):
    with pytest.raises(adc.DifferentiationError, match="sideways"):
        make()


def test_non_numeric_argument():
    with pytest.raises(adc.DifferentiationError, match="str"):
        adc.grad(double)("2.0")


def test_not_a_function():
    with pytest.raises(adc.DifferentiationError):
        adc.grad(3)


# ---------------------------------------------------------------------------------------------
# SourceError: no source to read
# ---------------------------------------------------------------------------------------------


def exec_defined():
    namespace: dict = {}
    exec("import math\ndef h(x):\n    return math.sin(x) * x\n", namespace)
    return namespace["h"]


@pytest.mark.parametrize("call", [
    lambda h: adc.grad(h)(1.0),
    lambda h: adc.value_and_grad(h)(1.0),
    lambda h: adc.grad(h, mode="forward")(1.0),
    lambda h: adc.source(h),
    lambda h: adc.trace(h),
    lambda h: adc.jvp(h, (1.0,), (1.0,)),
])
def test_function_without_source(call):
    h = exec_defined()
    assert h(1.0) == pytest.approx(math.sin(1.0))  # it is a fine function, just without a file
    with pytest.raises(adc.SourceError, match="'h'"):
        call(h)


def test_a_lambda_in_a_file_is_read_from_its_line_and_two_alike_are_refused():
    sq = lambda x: x * x  # noqa: E731
    assert adc.grad(sq)(1.5) == 3.0
    a, b = (lambda x: x * 2.0), (lambda x: x * 3.0)  # noqa: E731  (same parameters on one line)
    with pytest.raises(adc.SourceError, match=r"several lambdas with parameters \(x\).*hint: define the function "
                                              r"with `def`"):
        adc.grad(a)(1.0)
    assert b(1.0) == 3.0


@pytest.mark.parametrize("builtin", [math.sin, np.sin])
def test_builtin_is_an_adc_error(builtin):
    with pytest.raises(adc.AdcError):
        adc.grad(builtin)(1.0)


@pytest.mark.parametrize("builtin", [math.sin, np.sin])
def test_builtin_source_is_a_source_error(builtin):
    with pytest.raises(adc.SourceError):
        adc.source(builtin)


def test_reverse_source_of_tuple_output_is_rejected_like_grad():
    with pytest.raises(adc.DifferentiationError, match="scalar"):
        adc.source(bad_inputs.returns_tuple, mode="reverse", argnums=(0, 1))


def test_trace_tables_of_tuple_output():
    tr = adc.trace(bad_inputs.returns_tuple)
    try:
        text = tr.tables(1.0, 2.0)
    except adc.AdcError:
        return  # refusing cleanly is fine too
    assert "Evaluation trace of returns_tuple" in text
    assert "3" in text  # x + y at (1, 2)


def test_numba_failing_inside_its_compiler_is_a_compile_error(monkeypatch):
    """An exception from inside Numba's compiler (an ``AssertionError`` of one of its checks, say)
    is a ``CompileError`` with the jit=False hint, not an evaluation error about the derivative's
    domain (the compiled code itself raises with no Python frame of Numba's)."""
    import numba.core.compiler

    def broken(*args, **kwargs):
        raise AssertionError("a check inside Numba's compiler")

    monkeypatch.setattr(numba.core.compiler, "compile_extra", broken)
    with pytest.raises(adc.CompileError, match=r"(?s)Numba could not compile.*AssertionError.*jit=False"):
        adc.grad(bad_inputs.compiled_once, jit=True)(1.3)
    monkeypatch.undo()
    assert adc.grad(bad_inputs.compiled_once, jit=True)(1.3) == pytest.approx(math.cos(1.3) * 1.3 + math.sin(1.3) + 0.25)
