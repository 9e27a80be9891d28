"""Linear algebra: ``matmul`` (``@``, ``np.dot``, ``x.dot``) and ``outer``.  Both are bilinear; their
JVP is the product rule and their transpose products with the other operand (the VJP of
``y = a @ b`` is ``g @ b.T`` and ``a.T @ g``), never a Jacobian.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..types import FLOAT, Type
from .registry import P_MUL, Form, elementwise, lowered, structural


def _matmul_type(ts: Sequence[Type]) -> Type:
    a, c = ts
    ndim = max(a.ndim + c.ndim - 2, 0)
    dtype = "float32" if a.dtype == c.dtype == "float32" else "float64"
    return Type("float", ndim, dtype, (False,) * ndim) if ndim else FLOAT


def _matmul_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    a, c = op.args
    terms = []
    if ts[0] is not None:
        terms.append(b.emit("matmul", ts[0], c))
    if ts[1] is not None:
        terms.append(b.emit("matmul", a, ts[1]))
    return terms[0] if len(terms) == 1 else b.add(*terms)


def _matmul_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    a, c = op.args
    na, nc = a.type.ndim, c.type.ndim
    if na == 2 and nc == 2:
        return [b.emit("matmul", g, b.emit("transpose", c)), b.emit("matmul", b.emit("transpose", a), g)]
    if na == 2 and nc == 1:
        return [b.emit("outer", g, c), b.emit("matmul", b.emit("transpose", a), g)]
    if na == 1 and nc == 2:
        return [b.emit("matmul", c, g), b.emit("outer", a, g)]
    if na == 1 and nc == 1:
        return [b.mul(g, c), b.mul(g, a)]
    from ..errors import UnsupportedError

    raise UnsupportedError(f"reverse mode of `@` on {na}-D and {nc}-D arrays", op.loc,
                           "use 1-D or 2-D operands (batched matmul is not supported yet)")


_MATMUL = Form("{0} @ {1}", P_MUL, (P_MUL, P_MUL + 1))
elementwise("matmul", 2, _MATMUL, _MATMUL, lambda a, c: a @ c, None, _matmul_type, jvp=_matmul_jvp,
            vjp=_matmul_vjp, may_raise=True, names=lowered("matmul", (2, 2), "numpy.dot", "numpy.matmul", "ndarray.dot"))


def _outer_type(ts: Sequence[Type]) -> Type:
    return Type("float", 2, "float64", (False, False))


def _sum_terms(b: Any, terms: Sequence[Any]) -> Any:
    present = [t for t in terms if t is not None]
    total = present[0]
    for t in present[1:]:
        total = b.add(total, t)
    return total


structural("outer", lambda t, p: f"np.outer({t[0]}, {t[1]})", np.outer, _outer_type,
           jvp=lambda b, op, ts: _sum_terms(b, [b.emit("outer", ts[0], op.args[1]) if ts[0] is not None else None,
                                                b.emit("outer", op.args[0], ts[1]) if ts[1] is not None else None]),
           vjp=lambda b, op, g: [b.emit("matmul", g, op.args[1]), b.emit("matmul", op.args[0], g)],
           names=lowered("outer", (2, 2), "numpy.outer"))


# --- inverse, determinant, solve (issue 10) -----------------------------------------------------
# Not linear: their JVP and VJP read the primal operands and result (``op.args``, ``op.out``).  A
# singular matrix raises NumPy's LinAlgError (located at the user's line), never a wrong value.
def _inv_t(b: Any, a: Any) -> Any:
    """``inv(a).T``, recomputed for the derivative of ``det`` and ``slogdet``."""
    return b.emit("transpose", b.emit("inv", a))


def _sq(ts: Sequence[Type]) -> Type:
    return Type("float", 2, ts[0].dtype if ts[0].kind == "float" else "float64", (False, False))


structural("inv", lambda t, p: f"np.linalg.inv({t[0]})", np.linalg.inv, _sq,
           jvp=lambda b, op, ts: b.neg(b.emit("matmul", b.emit("matmul", op.out, ts[0]), op.out)),
           vjp=lambda b, op, g: [b.neg(b.emit("matmul", b.emit("matmul", b.emit("transpose", op.out), g),
                                                  b.emit("transpose", op.out)))],
           may_raise=True, names=lowered("inv", (1, 1), "numpy.linalg.inv"))
structural("det", lambda t, p: f"np.linalg.det({t[0]})", np.linalg.det, lambda ts: FLOAT,
           jvp=lambda b, op, ts: b.mul(op.out, b.emit("sum", b.mul(_inv_t(b, op.args[0]), ts[0]))),
           vjp=lambda b, op, g: [b.mul(b.mul(g, op.out), _inv_t(b, op.args[0]))],
           may_raise=True, names=lowered("det", (1, 1), "numpy.linalg.det"),
           note="d/dA = det(A) inv(A).T: raises LinAlgError at a singular A")
structural("logabsdet", lambda t, p: f"np.linalg.slogdet({t[0]})[1]", lambda a: np.linalg.slogdet(a)[1],
           lambda ts: FLOAT,
           jvp=lambda b, op, ts: b.emit("sum", b.mul(_inv_t(b, op.args[0]), ts[0])),
           vjp=lambda b, op, g: [b.mul(g, _inv_t(b, op.args[0]))],
           may_raise=True, names=lowered("slogdet", (1, 1), "numpy.linalg.slogdet"),
           note="np.linalg.slogdet(a) is (sign(det(a)), logabsdet(a)); the sign has derivative 0")


def _solve_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    a, c = op.args
    rhs = ts[1]
    if ts[0] is not None:
        moved = b.emit("matmul", ts[0], op.out)
        rhs = b.neg(moved) if rhs is None else b.sub(rhs, moved)
    return b.emit("solve", a, rhs)


def _solve_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    gc = b.emit("solve", b.emit("transpose", op.args[0]), g)
    x = op.out
    ga = b.neg(b.emit("outer", gc, x) if x.type.ndim == 1 else b.emit("matmul", gc, b.emit("transpose", x)))
    return [ga, gc]


structural("solve", lambda t, p: f"np.linalg.solve({t[0]}, {t[1]})", np.linalg.solve,
           lambda ts: Type("float", ts[1].ndim, "float64", (False,) * ts[1].ndim),
           jvp=_solve_jvp, vjp=_solve_vjp, may_raise=True, names=lowered("solve", (2, 2), "numpy.linalg.solve"))
