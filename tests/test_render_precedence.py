"""Every primitive's spelling keeps an operand whole: under Numba, code generation folds array
expressions into the statement that uses them, so an operand may arrive as ``a + b``.  A spelling
that puts it next to an attribute, an index or an operator without parentheses changes what the
code computes (``x * x.size`` for the size of ``x * x``: a wrong gradient of ``np.mean(x * x)``).
For each primitive that does not store, the spelling of operands ``a + b`` must parse to the same
program as that of ``(a + b)``."""
from __future__ import annotations

import ast

import pytest

import adc.prims  # noqa: F401  (registers every primitive)
from adc.prims.registry import PRIMS
from adc.types import Type

RENDERED = sorted(name for name, p in PRIMS.table.items() if p.render is not None and not p.writes and not p.side_effect)


# parameters some spellings need (each primitive reads only its own)
PARAMS = {"dim": 0, "reps": (2,), "repeats": 2, "widths": ((1, 1),), "axis": 0, "shift": 1, "dtype": "float64",
          "subscripts": "i,i->", "item": None, "kind": "float", "n": 2}


def _spellings(render, arity_types):
    """``(plain, parenthesized)`` texts for the first arity (1 to 4) and parameters (none, or
    ``PARAMS``) the spelling accepts, or ``None``."""
    for params in ({}, PARAMS):
        for n in range(1, 5):
            plain = [f"a{k} + b{k}" for k in range(n)]
            paren = [f"(a{k} + b{k})" for k in range(n)]
            try:
                return render(plain, params, arity_types[:n]), render(paren, params, arity_types[:n])
            except Exception:  # noqa: BLE001  (this arity or these parameters do not fit the primitive)
                continue
    return None


@pytest.mark.parametrize("name", RENDERED)
def test_an_operand_expression_stays_whole(name):
    p = PRIMS.table[name]
    types = [Type("float", 1)] * 4
    checked = 0
    spellings = [lambda t, params, ts: p.render(t, params)]
    if callable(p.numba):
        spellings.append(lambda t, params, ts: p.numba(t, params, ts))
    for spell in spellings:
        found = _spellings(spell, types)
        if found is None:
            continue
        plain, paren = found
        try:
            expected = ast.dump(ast.parse(paren))
        except SyntaxError:
            continue  # not an expression of its operands (a loop header, a statement template)
        assert ast.dump(ast.parse(plain)) == expected, f"{name}: {plain!r} is not {paren!r}"
        checked += 1
    if not checked:
        pytest.skip(f"{name}: no spelling renders with plain operands")


def test_the_check_sees_a_missing_parenthesis():
    spell = lambda t: f"{t[0]}.size"  # noqa: E731  (the spelling `count` had)
    assert ast.dump(ast.parse(spell(["a0 + b0"]))) != ast.dump(ast.parse(spell(["(a0 + b0)"])))
