"""Front end, the semantics of Python's and NumPy's numbers: which ``/`` and ``**`` a program runs.

A NumPy function of a number returns a NumPy number (``np.float64``), whose arithmetic is NumPy's:
``1.0 / np.sqrt(0.0)`` is inf and ``np.log(0.5) ** 0.5`` nan, where a Python float raises
``ZeroDivisionError`` or gives a complex number.  adc computes a NumPy function of a number with
``math``'s (a Python float: the twins of ``prims/elementwise.py``), so it tells the NumPy numbers of
the user's program apart itself, here.  And Python's ``**`` of floats gives a complex number where
the base is negative and the exponent not an integer, a value adc cannot differentiate.

Input: a program the front end lowered, and the numbers it made by calling a NumPy or SciPy function
(``Lowerer.numpy_numbers``).  Output: the same program with

- each ``/`` and ``**`` of a NumPy number NumPy's (``npdiv``, ``nppow``: Python's operator where it
  is defined, NumPy's where Python would raise), but for a power to a constant natural number
  (``x ** 2``, where only an overflow differs);
- each other ``**`` of floats whose exponent is not known to be an integer ``fpow`` (``**`` of a
  base at least 0; of a negative one NumPy's nan for a NumPy number the pass does not know, such as
  an array's element, and ``math.pow``'s ValueError for a Python float, whose ``**`` would be a
  complex number).

A number stays a NumPy number through Python's operators (the primitives' ``operator`` trait:
``+``, ``*``, ``abs``, ``max``, ``a if c else b`` in its values, not its condition) and through
the values an ``if`` or a loop carries (one path that makes it one is enough); ``math``'s functions
(``math.fabs`` too, whose primitive is an operator) and ``float()`` return Python
floats, and a function adc keeps as a function (a recursive one, or one called from many places)
sees Python floats for its arguments and gives one for its result.
"""
from __future__ import annotations

from .ir import Atom, Const, Op, Region, Var
from .prims import PRIMS, get
from .prims.elementwise import numpy_twin


def follow_number_semantics(region: Region, numpy_numbers: set[Var], python_numbers: set[Var]) -> None:
    """Make each ``/`` and ``**`` in ``region`` that of its operands' numbers (see the module's
    docstring); ``numpy_numbers``: the numbers NumPy's functions returned; ``python_numbers``: those
    ``math``'s functions returned (``math.fabs``: an operator whose result is a Python float
    whatever its operand)."""
    known = set(numpy_numbers)
    while _spread(region, known, python_numbers):
        pass
    _rewrite(region, known, python_numbers)


def _flows(op: Op) -> list[tuple[list[Atom], list[Var]]]:
    """Where ``op`` passes a value on: (the values it may be, the values it becomes)."""
    if op.prim == "if":
        return [([r.yields[k] for r in op.regions], [out]) for k, out in enumerate(op.outs)]
    if op.prim == "for":
        (body,) = op.regions
        return [([op.args[3 + k], body.yields[k]], [body.args[1 + k], out]) for k, out in enumerate(op.outs)]
    if op.prim == "while":
        cond, body = op.regions
        return [([op.args[k], body.yields[k]], [cond.args[k], body.args[k], out]) for k, out in enumerate(op.outs)]
    if op.prim == "select":  # the condition is not the value
        return [(list(op.args[1:]), list(op.outs))]
    if op.prim in PRIMS and get(op.prim).operator:
        return [(list(op.args), list(op.outs))]
    return []


def _spread(region: Region, known: set[Var], python: set[Var]) -> bool:
    """Add to ``known`` the numbers made from its members, in one sweep (never one of ``python``);
    did it grow?"""
    grew = False
    for op in region.ops:
        for inner in op.regions:
            grew |= _spread(inner, known, python)
        for sources, targets in _flows(op):
            if any(isinstance(s, Var) and s in known for s in sources):
                for t in targets:
                    if t not in known and t not in python and t.type is not None and not t.type.is_array:
                        known.add(t)
                        grew = True
    return grew


def _rewrite(region: Region, known: set[Var], python: set[Var]) -> None:
    for op in region.ops:
        for inner in op.regions:
            _rewrite(inner, known, python)
        if op.prim not in PRIMS or not get(op.prim).operator or len(op.outs) != 1:
            continue
        out = op.out.type
        if out is None or out.kind != "float" or out.is_array:
            continue
        twin = numpy_twin(op.prim)
        if twin is not None and op.out not in python and any(isinstance(a, Var) and a in known for a in op.args) \
                and not (op.prim == "pow" and _natural(op.args[1])):
            op.prim = twin
        elif op.prim == "pow" and not _never_complex(*op.args):
            op.prim = "fpow"


def _natural(exponent: Atom) -> bool:
    """Is ``exponent`` a constant integer at least 0, whose ``**`` is NumPy's but for an overflow
    (``x ** 2``: kept Python's, which needs no NumPy call for a negative ``x``)?"""
    return isinstance(exponent, Const) and float(exponent.value).is_integer() and exponent.value >= 0


def _never_complex(base: Atom, exponent: Atom) -> bool:
    """Is Python's ``base ** exponent`` real whatever the values: an integer exponent, or a constant
    base at least 0?"""
    if isinstance(exponent, Const):
        return float(exponent.value).is_integer()
    if exponent.type is not None and exponent.type.kind != "float":
        return True
    return isinstance(base, Const) and base.value >= 0
