"""Unsupported constructs in and around control flow raise ``adc.UnsupportedError`` naming this
file, the offending line and column (with a caret under it) and a ``hint:``.

The functions below are module-level so adc can read their source.  Each offending construct sits on
a line holding a marker text unique within its function; the expected line and column are computed
from this file's text, so the functions may move.
"""
from __future__ import annotations

import inspect
import math
import os
from pathlib import Path

import numpy as np
import pytest

import adc

COUNTER = 0.0


# ---------------------------------------------------------------------------------------------
# Functions using unsupported constructs (inside loops and branches)
# ---------------------------------------------------------------------------------------------


def yields_in_loop(x, n):
    s = 0.0
    for i in range(n):
        s += x
        y = yield s
    return s


def try_in_loop(x, n):
    s = 0.0
    for i in range(n):
        try:
            s += math.log(x)
        except ValueError:
            s += 0.0
    return s


def with_in_branch(x, n):
    s = x
    if x > 0.0:
        with np.errstate(all="ignore"):
            s = math.log(x)
    return s * n


def global_in_branch(x, n):
    if x > 0.0:
        global COUNTER
    return x * n


def lambda_in_loop(x, n):
    s = 0.0
    for i in range(n):
        f = lambda t: t * x
        s += x
    return s


def class_in_loop(x, n):
    s = 0.0
    for i in range(n):
        class Acc:
            pass
        s += x
    return s


def for_else(x, n):
    s = 0.0
    for i in range(n):
        s += x
        if s > 10.0:
            break
    else:
        s = -s
    return s


def while_else(x, n):
    s = x
    while s < 10.0:
        s = s * 2.0 + 1.0
    else:
        s = s + 1.0
    return s * n


def writes_into_argument(x, n):
    s = 0.0
    for i in range(n):
        x[0] = 1.0
        s += x[i]
    return s


def writes_into_argument_2d(A, n):
    s = 0.0
    for i in range(n):
        if A[i, 0] > 0.0:
            A[i, 0] = 0.0
        s += A[i, 1]
    return s


def range_float_bound(x, n):
    s = 0.0
    for i in range(x):
        s += x
    return s * n


def range_float_start(x, n):
    s = 0.0
    for i in range(n * 0.5, n):
        s += x
    return s


def range_float_step(x, n):
    s = 0.0
    for i in range(0, n, 0.5):
        s += x
    return s


def range_zero_step(x, n):
    s = 0.0
    for i in range(0, n, 0):
        s += x
    return s


def iterates_zip(a, b):
    s = 0.0
    for k in zip(a, b):
        s += 1.0
    return s


def iterates_scalar(x, n):
    s = 0.0
    for k in x:
        s += k
    return s * n


def enumerate_one_target(x, n):
    s = 0.0
    for pair in enumerate(x):
        s += 1.0
    return s * n


def range_outside_for(x, n):
    r = range(n)
    return x * n


def array_condition(x, n):
    s = 0.0
    if x:
        s = 1.0
    return s * n


def while_array_condition(x, n):
    s = 0.0
    while x:
        s += 1.0
    return s * n


# ---------------------------------------------------------------------------------------------
# Locating the expected line and column
# ---------------------------------------------------------------------------------------------

THIS_FILE = Path(__file__).resolve()
LINES = THIS_FILE.read_text().splitlines()

X3 = np.array([0.5, 1.5, 2.5])
A32 = np.array([[0.5, 1.0], [-0.5, 2.0], [1.5, 0.3]])


def locate(fn, marker) -> tuple[int, int, str]:
    """(line, 1-based column, source line) of the first ``marker`` after ``def fn(``; a marker
    ``(other_fn, text)`` is looked up in ``other_fn`` (an error inside a callee)."""
    if isinstance(marker, tuple):
        fn, marker = marker
    _, first = inspect.getsourcelines(fn)
    start = first - 1
    assert LINES[start].startswith(f"def {fn.__name__}(")
    for i in range(start + 1, len(LINES)):
        if LINES[i].startswith("def "):
            break
        if marker in LINES[i]:
            return i + 1, LINES[i].index(marker) + 1, LINES[i]
    raise AssertionError(f"marker {marker!r} not found in {fn.__name__}")


def check_located(exc: BaseException, fn, marker, *fragments: str, check_col: bool = True,
                  require_hint: bool = True) -> None:
    line, col, source_line = locate(fn, marker)
    assert isinstance(exc, adc.UnsupportedError) and isinstance(exc, adc.AdcError)
    text = str(exc)
    lines = text.splitlines()
    head = lines[0]
    name = os.path.basename(THIS_FILE)
    where = f"{name}:{line}:" + (f"{col}: " if check_col else "")
    assert where in head, f"expected {where!r} in the first line of:\n{text}"
    assert head.startswith(str(THIS_FILE)) or head.startswith(name) or f"{os.sep}{name}:" in head, text
    assert exc.loc is not None and exc.loc.line == line, text
    # the offending line is shown, with a caret under the column
    shown = [i for i, ln in enumerate(lines[1:], 1) if ln.rstrip().endswith(source_line.strip())]
    assert shown, f"source line {source_line!r} not shown in:\n{text}"
    i = shown[0]
    assert i + 1 < len(lines) and lines[i + 1].strip() == "^", text
    if check_col:
        prefix = len(lines[i].rstrip()) - len(source_line.rstrip())
        assert lines[i + 1].index("^") == prefix + col - 1, f"caret not under column {col}:\n{text}"
    if require_hint:
        check_hint(exc)
    for frag in fragments:
        assert frag.lower() in text.lower(), f"{frag!r} not in:\n{text}"


def check_hint(exc: BaseException) -> None:
    text = str(exc)
    hints = [ln for ln in text.splitlines() if ln.startswith("hint: ")]
    assert len(hints) == 1 and len(hints[0]) > len("hint: ") + 3, f"no hint in:\n{text}"
    assert exc.hint


# (function, arguments, marker where the caret must point, words the message must contain)
CASES = [
    (yields_in_loop, (1.5, 3), "yield s", ["yield"]),
    (try_in_loop, (1.5, 3), "try:", ["try"]),
    (with_in_branch, (1.5, 3), "with np.errstate", ["with"]),
    (global_in_branch, (1.5, 3), "global COUNTER", ["global"]),
    (lambda_in_loop, (1.5, 3), "lambda t", ["lambda"]),
    (class_in_loop, (1.5, 3), "class Acc", ["class"]),
    (for_else, (1.5, 3), "else:", ["for/else"]),
    (while_else, (1.5, 3), "else:", ["while/else"]),
    (range_float_bound, (1.5, 3), "x):", ["range", "integer"]),
    (range_float_start, (1.5, 3), "n * 0.5", ["range", "integer"]),
    (range_float_step, (1.5, 3), "0.5):", ["range", "integer"]),
    (range_zero_step, (1.5, 3), "range(0, n, 0)", ["step", "zero"]),
    (iterates_zip, (X3, X3), "zip", ["zip"]),
    (iterates_scalar, (1.5, 3), "x:", ["iterable"]),
    (enumerate_one_target, (X3, 3), "pair", ["enumerate"]),
    (range_outside_for, (1.5, 3), "range(n)", ["range", "for"]),
    (array_condition, (X3, 3), "x:", ["truth value", "array"]),
    (while_array_condition, (X3, 3), "x:", ["truth value", "array"]),
]
IDS = [c[0].__name__ for c in CASES]
# errors that are located correctly but come without a hint (adc bug, see test_hint_is_given)
NO_HINT_BUG: set[str] = set()  # every unsupported construct now has a hint


def _wrt(args) -> int:
    return 0  # every bad function takes the differentiated value first


ENTRIES = {
    "grad": lambda fn, args: adc.grad(fn, argnums=_wrt(args))(*args),
    "grad_forward": lambda fn, args: adc.grad(fn, argnums=_wrt(args), mode="forward")(*args),
    "grad_jit": lambda fn, args: adc.grad(fn, argnums=_wrt(args), jit=True)(*args),
    "value_and_grad": lambda fn, args: adc.value_and_grad(fn, argnums=_wrt(args))(*args),
    "source": lambda fn, args: adc.source(fn, argnums=_wrt(args), at=args),
    "source_forward": lambda fn, args: adc.source(fn, mode="forward", argnums=_wrt(args), at=args),
    "trace": lambda fn, args: str(adc.trace(fn, at=args)),
}


@pytest.mark.parametrize("fn,args,marker,fragments", CASES, ids=IDS)
def test_unsupported_construct_is_located(fn, args, marker, fragments):
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn, argnums=_wrt(args))(*args)
    check_located(info.value, fn, marker, *fragments, require_hint=fn.__name__ not in NO_HINT_BUG)


@pytest.mark.parametrize("fn,args", [
    pytest.param(c[0], c[1], id=c[0].__name__,
                 marks=[pytest.mark.xfail(reason="adc bug: this UnsupportedError has no `hint:` line", strict=True)]
                 if c[0].__name__ in NO_HINT_BUG else [])
    for c in CASES])
def test_hint_is_given(fn, args):
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn, argnums=_wrt(args))(*args)
    check_hint(info.value)


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e != "grad"])
@pytest.mark.parametrize("fn,args,marker,fragments", CASES, ids=IDS)
def test_every_entry_point_reports_the_same_error(entry, fn, args, marker, fragments):
    with pytest.raises(adc.UnsupportedError) as info:
        ENTRIES[entry](fn, args)
    check_located(info.value, fn, marker, *fragments, require_hint=fn.__name__ not in NO_HINT_BUG)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,args", [(writes_into_argument, (X3, 3)), (writes_into_argument_2d, (A32, 3))])
def test_writing_into_an_argument_acts_on_a_copy(fn, args, mode):
    """Once refused; now as if the function began with ``x = x.copy()`` (test_argument_writes.py)."""
    from test_language import check_gradient

    check_gradient(fn, args, mode)


def test_errors_do_not_poison_the_cache():
    """After an error, a supported function in the same module still differentiates, and asking again
    for the bad one raises again (the failure is not cached as a success)."""
    for _ in range(2):
        with pytest.raises(adc.UnsupportedError):
            adc.grad(for_else)(1.5, 3)
    assert adc.grad(fine_loop)(1.5, 3) == pytest.approx(3 * 2 * 1.5)


def fine_loop(x, n):
    s = 0.0
    for i in range(n):
        s += x * x
    return s


def writes_then_for_else(x, n):
    x[0] = 1.0
    for i in range(n):
        x[1] = x[1] * 2.0
    else:
        x[2] = 0.0
    return np.sum(x)


def test_input_arrays_are_untouched_by_a_failed_call():
    x = X3.copy()
    with pytest.raises(adc.UnsupportedError):
        adc.grad(writes_then_for_else)(x, 3)
    np.testing.assert_array_equal(x, X3)
