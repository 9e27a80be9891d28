"""The primitive registry (adc/prims/): invariants that keep one primitive one object.

Every name the front end and the transforms emit is registered; every primitive either has a
derivative rule or says it has none; traits do not contradict each other; the lexicon generated
from the registry still holds every name users could write before it was generated (listed here
explicitly, so a dropped name fails); each family module imports on its own.
"""
from __future__ import annotations

import builtins
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from adc import frontend, frontend_arrays
from adc.builder import Builder
from adc.prims import PRIMS, get, lexicon
from adc.types import FLOAT, Type

ADC = Path(__file__).resolve().parent.parent / "adc"
STRUCTURE = {"if", "for", "while", "comment"}  # IR structure, not primitives (adc/verify.py)

# -- the lexicon as it was written by hand before it was generated ------------------------------
CALLS = {
    "builtins.abs": ("abs", False), "builtins.float": ("float", False), "builtins.int": ("int", False),
    "builtins.max": ("max", True), "builtins.min": ("min", True), "builtins.pow": ("pow", False),
    "builtins.range": ("range", False), "builtins.enumerate": ("enumerate", False), "builtins.len": ("len", False),
    "math.atan": ("atan", False), "math.atan2": ("atan2", False), "math.cos": ("cos", False),
    "math.exp": ("exp", False), "math.fabs": ("abs", False), "math.log": ("log", False),
    "math.log1p": ("log1p", False), "math.pow": ("mathpow", False), "math.sin": ("sin", False),
    "math.sqrt": ("sqrt", False), "math.tan": ("tan", False), "math.tanh": ("tanh", False),
    "numpy.abs": ("abs", False), "numpy.absolute": ("abs", False), "numpy.arctan": ("atan", False),
    "numpy.arctan2": ("atan2", False), "numpy.copy": ("acopy", False), "numpy.cos": ("cos", False),
    "numpy.divide": ("npdiv", False), "numpy.true_divide": ("npdiv", False), "numpy.empty": ("empty", False),
    "numpy.empty_like": ("empty_like", False), "numpy.exp": ("npexp", False), "numpy.fabs": ("abs", False),
    "numpy.fmax": ("fmax", False), "numpy.fmin": ("fmin", False), "numpy.log": ("nplog", False),
    "numpy.log1p": ("nplog1p", False), "numpy.maximum": ("npmax", False), "numpy.minimum": ("npmin", False),
    "numpy.ones": ("ones", False), "numpy.ones_like": ("ones_like", False), "numpy.power": ("nppow", False),
    "numpy.shape": ("shape", False), "numpy.sin": ("sin", False), "numpy.sqrt": ("npsqrt", False),
    "numpy.tan": ("tan", False), "numpy.tanh": ("tanh", False), "numpy.zeros": ("zeros", False),
    "numpy.zeros_like": ("zeros_like", False),
}
NUMPY_FUNCTIONS = {
    "sum": "sum", "mean": "mean", "max": "amax", "amax": "amax", "min": "amin", "amin": "amin",
    "dot": "matmul", "matmul": "matmul", "outer": "outer", "transpose": "transpose", "reshape": "reshape",
    "ravel": "ravel", "swapaxes": "swapaxes", "moveaxis": "moveaxis", "where": "where", "clip": "clip",
    "concatenate": "concatenate", "stack": "stack",
    "array": "array", "asarray": "array", "arange": "arange", "broadcast_to": "broadcast_to",
}
ARRAY_METHODS = {
    "sum": "sum", "mean": "mean", "max": "amax", "min": "amin", "reshape": "reshape", "ravel": "ravel",
    "flatten": "flatten", "copy": "acopy", "dot": "matmul", "transpose": "transpose", "swapaxes": "swapaxes",
}
ARITY = {
    "sum": (1, 2), "mean": (1, 2), "amax": (1, 2), "amin": (1, 2), "matmul": (2, 2), "outer": (2, 2),
    "transpose": (1, 64), "swapaxes": (3, 3), "moveaxis": (3, 3), "reshape": (2, 64), "ravel": (1, 1),
    "acopy": (1, 1), "where": (1, 3), "clip": (3, 3), "concatenate": (1, 1), "stack": (1, 1), "array": (1, 1),
    "arange": (1, 3), "broadcast_to": (2, 2),
}
# the name an error message shows for a handler (the first spelling of it)
SHOWN_FUNCTION = {"amax": "max", "amin": "min", "matmul": "dot", "array": "array"}
SHOWN_METHOD = {"amax": "max", "amin": "min", "matmul": "dot", "acopy": "copy", "ravel": "ravel"}
MODULES = {"math": math, "numpy": np, "builtins": builtins}


def _object(path: str) -> object:
    module, _, attr = path.rpartition(".")
    return getattr(MODULES[module], attr)


def test_lexicon_keeps_every_call_name() -> None:
    for path, (name, variadic) in CALLS.items():
        found = frontend.KNOWN_FUNCTIONS.get(_object(path))
        assert found is not None, f"{path} is no longer known"
        assert (found.name, found.variadic) == (name, variadic), path
    # names added since (issue 10) are checked by tests/test_coverage.py and docs/coverage.md
    assert {id(o) for o in frontend.KNOWN_FUNCTIONS} >= {id(_object(p)) for p in CALLS}


def test_lexicon_keeps_every_array_name() -> None:
    assert frontend_arrays.NUMPY_FUNCTIONS.items() >= NUMPY_FUNCTIONS.items()
    assert frontend_arrays.ARRAY_METHODS.items() >= ARRAY_METHODS.items()
    assert frontend_arrays.ARITY.items() >= ARITY.items()
    for handler, shown in SHOWN_FUNCTION.items():
        assert frontend_arrays._function_name(handler) == shown
    for handler, shown in SHOWN_METHOD.items():
        assert frontend_arrays._method_name(handler) == shown


def test_spellings_resolve_and_name_one_primitive_each() -> None:
    owner: dict[int, str] = {}
    for p, s in lexicon.spellings():
        if s.module != lexicon.METHOD:
            obj = lexicon.resolve(s.path)
            assert owner.setdefault(id(obj), p.name) == p.name, f"{s.path} spells two primitives"
        if s.arity is not None:
            low, high = s.arity
            assert 0 <= low <= high and s.handler, s.path
    handlers: dict[str, tuple[int, int]] = {}
    for _, s in lexicon.spellings():
        if s.arity is not None:
            assert handlers.setdefault(s.handler, s.arity) == s.arity, f"two arities for handler {s.handler}"


def _names_used_in_source() -> set[str]:
    """Primitive names adc's own modules emit: ``emit("x"``, ``Op("x"``, ``b.x(`` (the builder's
    shorthand), and the front end's operator tables."""
    builder_own = {n for n in dir(Builder) if not n.startswith("__")} | {"at"}
    found: set[str] = set()
    for path in ADC.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'\b(?:emit|Op)\("([a-z_0-9]+)"', text))
        found |= {n for n in re.findall(r"\bb\.([a-z_0-9]+)\(", text) if n not in builder_own}
    for table in (frontend.BINARY_OPS, frontend.AUG_OPS, frontend.COMPARE_OPS):
        found |= set(table.values())
    return found - STRUCTURE


def test_everything_emitted_is_registered() -> None:
    used = _names_used_in_source()
    assert {"add", "getitem", "sum", "tape", "pop", "select"} <= used  # the scan sees the sources
    missing = sorted(n for n in used if n not in PRIMS)
    assert not missing, f"emitted but not registered: {missing}"


def test_every_front_end_call_lowers_to_a_registered_primitive() -> None:
    for found in frontend.KNOWN_FUNCTIONS.values():
        assert found.name in PRIMS or found.name in ("range", "enumerate", "len"), found
    handled_by_front_end = {"where", "swapaxes", "moveaxis", "array", "broadcast_to"}
    for handler in ARITY:
        assert handler in PRIMS or handler in handled_by_front_end, handler
        owners = [p.name for p, s in lexicon.spellings() if s.handler == handler]
        assert owners and all(o in PRIMS for o in owners), handler


def test_derivative_rule_or_declared_without_one() -> None:
    for p in PRIMS:
        rule = p.partials is not None or p.jvp is not None or p.vjp is not None
        if p.differentiable:
            assert rule or p.flows or p.writes or p.calls, f"{p.name} has no derivative rule; declare differentiable=False"
        else:
            assert not rule, f"{p.name} is declared without a derivative but has a rule"
        if p.partials is not None:
            assert p.arity >= 1 and p.render is None, p.name
        if p.vjp is not None:
            assert p.jvp is not None, f"{p.name}: a transpose without its JVP"


@pytest.mark.parametrize("p", list(PRIMS), ids=lambda p: p.name)
def test_traits_are_consistent(p) -> None:
    if p.view:
        assert not p.fresh, "a view is not new memory"
    if p.writes:  # a statement, or the array it wrote (``y = np.exp(v, out=v)``: another name of ``v``)
        assert p.effect or (p.stateful and p.view), "a write is a statement"
    if p.fresh or p.side_effect:
        assert not p.cse, "new memory or an effect is never merged with another"
    if p.side_effect or p.writes:
        assert not p.hoistable and not p.recomputable, "an effect runs exactly where it is"
    if p.hoistable:
        assert not p.may_raise, "a hoisted op runs even when the loop does not"
    if p.effect:
        assert p.cse is False and p.foldable, p.name
    assert all(0 <= k < max(p.arity, 2) for k in p.shape_args)
    assert set(p.buffered) <= {"array", "result"}
    if p.predicate:
        assert p.result_type([FLOAT] * p.arity).kind == "bool"
        assert p.result_type([Type("float", 1, "float64", (False,))] * p.arity).kind == "bool"
    if p.reduces:
        assert p.structural and (not p.differentiable or p.jvp is not None and p.vjp is not None)


def test_trace_names() -> None:
    from adc.prims import trace_name

    assert {p.name: trace_name(p.name) for p in PRIMS if trace_name(p.name) != p.name} == {
        "atan": "arctan", "select": "where", "npdiv": "divide", "nppow": "power", "asin": "arcsin", "acos": "arccos",
        "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
        # NumPy's functions of a number (their NumPy twins) list as the functions themselves
        **{f"np{name}": name for name in ("exp", "log", "log1p", "sqrt", "sinh", "cosh", "expm1", "log2", "log10")},
        "npasin": "arcsin", "npacos": "arccos", "npacosh": "arccosh", "npatanh": "arctanh",
        "spgammaln": "gammaln", "spgamma": "gamma",
        "fpow": "pow", "mathpow": "pow"}  # Python's ** of floats and math.pow list as the power


def test_get_and_duplicates() -> None:
    assert get("sin").name == "sin"
    with pytest.raises(KeyError):
        get("no_such_primitive")
    with pytest.raises(ValueError):
        PRIMS.register(get("sin"))


@pytest.mark.parametrize("module", ["adc.prims", "adc.prims.registry", "adc.prims.elementwise", "adc.prims.indexing",
                                    "adc.prims.construction", "adc.prims.reductions", "adc.prims.linalg",
                                    "adc.prims.shapes", "adc.prims.runtime", "adc.prims.lexicon", "adc.memory",
                                    "adc.frontend_arrays"])
def test_each_module_imports_first(module: str) -> None:
    """No import cycle: any module imported first, in a fresh interpreter, works."""
    code = f"import {module}; import adc.prims as p; assert 'getitem' in p.PRIMS and 'sin' in p.PRIMS"
    subprocess.run([sys.executable, "-c", code], cwd=ADC.parent, check=True)
