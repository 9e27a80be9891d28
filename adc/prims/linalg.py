"""Linear algebra: ``matmul`` (``@``, ``np.dot``, ``x.dot``) and ``outer``.  Both are bilinear; their
JVP is the product rule and their transpose products with the other operand (the VJP of
``y = a @ b`` is ``g @ b.T`` and ``a.T @ g``), never a Jacobian.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..types import BOOL, FLOAT, Type
from . import batching
from .registry import KERNELS, P_MUL, Form, RowRule, atomic, call, elementwise, lowered, structural


def _product_dtype(ts: Sequence[Type]) -> str:
    """A product's dtype, as NumPy's: ``float32`` of ``float32`` arrays, else ``float64``."""
    return "float32" if all(t.ndim and t.dtype == "float32" for t in ts) else "float64"


def _matmul_type(ts: Sequence[Type]) -> Type:
    """A float product, but of two bool arrays NumPy's logical one, a bool array (or number)."""
    a, c = ts
    ndim = max(a.ndim + c.ndim - 2, 0)
    # the rows of ``a`` and the columns of ``c`` (reverse mode sums an adjoint over a length-1 axis
    # another operand broadcasts: ``(A @ u) * u.T`` with ``u`` of shape (3, 1))
    ones = ((a.one(0),) if a.ndim == 2 else ()) + ((c.one(1),) if c.ndim == 2 else ())
    if a.kind == "bool" and c.kind == "bool":
        return Type("bool", ndim, "bool", ones) if ndim else BOOL
    return Type("float", ndim, _product_dtype(ts), ones) if ndim else FLOAT


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


def _matmul_rows(op: Any, constant: Any) -> RowRule | None:
    """``a @ c`` for a matrix ``a``: row ``i`` is ``a[i] @ c``."""
    a, c = (x.type for x in op.args)
    return RowRule((0,)) if a is not None and c is not None and a.ndim == 2 and c.ndim in (1, 2) else None


# Numba code calls ``adc_arrays.matmul``: Numba's ``@`` takes float operands of one dtype (the kernel
# casts them), and sums the product of two bool arrays where NumPy's is logical
_MATMUL = Form("{0} @ {1}", P_MUL, (P_MUL, P_MUL + 1), numba=call("adc_arrays.matmul", 2))
elementwise("matmul", 2, _MATMUL, _MATMUL, lambda a, c: a @ c, None, _matmul_type, jvp=_matmul_jvp,
            vjp=_matmul_vjp, vjvp=batching.matmul, may_raise=True, rows=_matmul_rows, numba_imports=KERNELS,
            names=lowered("matmul", (2, 2), "numpy.dot", "numpy.matmul", "ndarray.dot")
            + lowered("vdot", (2, 2), "numpy.vdot") + lowered("matrix_power", (2, 2), "numpy.linalg.matrix_power"))


def _outer_type(ts: Sequence[Type]) -> Type:
    """``(a.size, c.size)``: an axis of length 1 where every axis of its operand has length 1."""
    return Type("float", 2, _product_dtype(ts), tuple(all(t.one(k) for k in range(t.ndim)) for t in ts))


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


def _matrix_of(rows: Callable[[Type], bool], cols: Callable[[Type], bool]) -> Callable[[Sequence[Type]], Type]:
    """The type of a matrix made from the matrix ``a``, whose axes have length 1 where ``rows(a)``
    and ``cols(a)`` say."""
    return lambda ts: Type("float", 2, ts[0].dtype if ts[0].kind == "float" else "float64", (rows(ts[0]), cols(ts[0])))


def _short_side(a: Type) -> bool:
    """Is ``min(m, n)`` 1 for the matrix ``a`` (the inner size of its thin SVD or QR)?"""
    return a.one(0) or a.one(1)


_sq = _matrix_of(_short_side, _short_side)  # a square matrix (inv, cholesky): 1 x 1 where it is


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
           lambda ts: Type("float", ts[1].ndim, _product_dtype(ts), (ts[0].one(0) or ts[1].one(0), *((ts[1].one(1),) if ts[1].ndim == 2 else ()))),
           jvp=_solve_jvp, vjp=_solve_vjp, may_raise=True, uniform=True, names=lowered("solve", (2, 2), "numpy.linalg.solve"))


# --- einsum (issue 10, round 2): multilinear; tensordot, inner and kron lower to it -----------------------
def einsum_parts(spec: str) -> tuple[list[str], str]:
    """``'ij,jk->ik'`` as (['ij', 'jk'], 'ik'); the implicit output is the letters used once, sorted."""
    inputs, arrow, out = spec.replace(" ", "").partition("->")
    subs = inputs.split(",")
    if not arrow:
        letters = "".join(subs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return subs, out


def einsum_relabels(spec: str) -> bool:
    """Does the einsum of one operand ``spec`` only relabel (or take a diagonal of) its axes, summing
    over none (``'ij->ji'``)?  NumPy's result is then a view of the operand."""
    subs, out = einsum_parts(spec)
    return len(subs) == 1 and all(c in out for c in subs[0].replace(".", ""))


def _einsum_type(ts: Sequence[Type], p: dict[str, Any]) -> Type:
    subs, out = einsum_parts(p["spec"])
    dtype = "float32" if all(t.dtype == "float32" for t in ts) else "float64"
    # an output axis has length 1 where every operand's axis of that letter has
    ones = tuple(all(t.one(k) for s, t in zip(subs, ts) for k, c in enumerate(s) if c == letter) for letter in out)
    return Type("float", len(out), dtype, ones) if out else FLOAT


def _einsum_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    terms = [b.emit("einsum", *[t if j == k else a for j, a in enumerate(op.args)], params=op.params)
             for k, t in enumerate(ts) if t is not None]
    return _sum_terms(b, terms)


def _einsum_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    subs, out = einsum_parts(op.param("spec"))
    grads = []
    for k, a in enumerate(op.args):
        others = [(s, x) for j, (s, x) in enumerate(zip(subs, op.args)) if j != k]
        seen = out + "".join(s for s, _ in others)
        operands = [(out, g), *others]
        if any(c not in seen for c in subs[k]):  # a letter summed over this operand alone: broadcast it back
            operands.append((subs[k], b.emit("ones_like", a)))
        spec = ",".join(s for s, _ in operands) + "->" + subs[k]
        grads.append(b.emit("einsum", *[x for _, x in operands], params=(("spec", spec),)))
    return grads


def _numba_einsum(t: Sequence[str], p: dict[str, Any], ts: Sequence[Type]) -> str:
    """``adc_arrays.einsum`` (Numba has no ``np.einsum``) takes one or two operands: more are
    contracted pairwise, left to right, each step keeping the letters still to be used."""
    subs, out = einsum_parts(p["spec"])
    left, text = subs[0], t[0]
    for k in range(1, len(subs)):
        later = "".join(subs[k + 1:]) + out
        kept = out if k == len(subs) - 1 else "".join(dict.fromkeys(c for c in left + subs[k] if c in later))
        text = f"adc_arrays.einsum({f'{left},{subs[k]}->{kept}'!r}, {text}, {t[k]})"
        left = kept
    return text if len(subs) > 1 else f"adc_arrays.einsum({p['spec']!r}, {t[0]})"


def _einsum_render(t: Sequence[str], p: dict[str, Any]) -> str:
    """``np.einsum``; a stack of matrices times a matrix over their middle axis (``'ijz,jl->ilz'``,
    the batched tangent of ``a @ c``) as ``np.matmul(c.T, t)``, which runs 1.4-2.6x as fast."""
    subs, out = einsum_parts(p["spec"])
    if len(subs) == 2 and len(subs[1]) == 2 and len(subs[0]) in (2, 3) and "." not in p["spec"]:
        j, l = subs[1]
        head, mid, last = subs[0][:-2], subs[0][-2], subs[0][-1]
        if mid == j and out == head + l + last and len(set(subs[0] + l)) == len(subs[0]) + 1:
            return f"np.matmul({atomic(t[1])}.T, {t[0]})"
    if einsum_relabels(p["spec"]):  # a view in NumPy, a copy here
        return f"np.einsum({p['spec']!r}, {t[0]}).copy()"
    return f"np.einsum({p['spec']!r}, {', '.join(t)})"


def _einsum_rows(op: Any, constant: Any) -> RowRule | None:
    """An einsum whose result's first index is a batch index, first in the operands that have it and
    nowhere else in them (``'vij,vj->vi'``): row ``v`` comes from those operands' rows ``v``."""
    spec = str(op.param("spec"))
    if "->" not in spec or "." in spec:
        return None
    inputs, output = spec.split("->")
    if not output or output[0] in output[1:]:
        return None
    batch, operands = output[0], inputs.split(",")
    if any(batch in s[1:] for s in operands):
        return None
    rows = tuple(k for k, s in enumerate(operands) if s[:1] == batch)
    return RowRule(rows) if rows else None


structural("einsum", _einsum_render,
           lambda *a, spec="": np.einsum(spec, *a), _einsum_type, jvp=_einsum_jvp, vjp=_einsum_vjp, vjvp=batching.einsum,
           rows=_einsum_rows, numpy_view=lambda op: einsum_relabels(op.param("spec")), names=lowered("einsum", (2, 9), "numpy.einsum") + lowered("tensordot", (2, 2), "numpy.tensordot")
           + lowered("inner", (2, 2), "numpy.inner") + lowered("kron", (2, 2), "numpy.kron"),
           note="any number of operands, `...` and letters repeated in one operand (a diagonal) included; "
                "tensordot, inner and kron lower to it", numba_imports=KERNELS, numba=_numba_einsum)


# --- cholesky, eigh (issue 10, round 2) --------------------------------------------------------------------
# Like NumPy, both read only the lower triangle of ``a``: a tangent ``da`` acts as the symmetric
# ``tril(da) + tril(da, -1).T``, and the cotangent of ``a`` lies in its lower triangle.
def _t(b: Any, x: Any) -> Any:
    return b.emit("transpose", x)


def _mm(b: Any, *xs: Any) -> Any:
    out = xs[0]
    for x in xs[1:]:
        out = b.emit("matmul", out, x)
    return out


def _lower_sym(b: Any, da: Any) -> Any:
    """The symmetric matrix a lower-triangle reader sees for tangent ``da``."""
    return b.add(b.emit("tril", da), _t(b, b.emit("tril", da, params=(("k", -1),))))


def _eye_like(b: Any, a: Any) -> Any:
    return b.emit("eye", b.emit("shape", a, params=(("dim", 0),)))


def _to_lower(b: Any, s: Any) -> Any:
    """The cotangent of a lower-triangle reader whose cotangent as a symmetric matrix is ``s``:
    ``tril(s + s.T)`` with the diagonal counted once."""
    both = b.add(s, _t(b, s))
    return b.sub(b.emit("tril", both), b.mul(b.mul(both, 0.5), _eye_like(b, s)))


def _phi(b: Any, x: Any) -> Any:
    """The lower triangle of ``x`` with its diagonal halved."""
    return b.sub(b.emit("tril", x), b.mul(b.mul(x, 0.5), _eye_like(b, x)))


def _chol_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    low_inv = b.emit("inv", op.out)
    return _mm(b, op.out, _phi(b, _mm(b, low_inv, _lower_sym(b, ts[0]), _t(b, low_inv))))


def _chol_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    low_inv = b.emit("inv", op.out)
    s = _mm(b, _t(b, low_inv), _phi(b, _mm(b, _t(b, op.out), g)), low_inv)
    return [_to_lower(b, b.mul(b.add(s, _t(b, s)), 0.5))]


structural("cholesky", lambda t, p: f"np.linalg.cholesky({t[0]})", np.linalg.cholesky, _sq,
           jvp=_chol_jvp, vjp=_chol_vjp, may_raise=True, fresh=True,
           names=lowered("cholesky", (1, 1), "numpy.linalg.cholesky"),
           note="reads the lower triangle of `a`, as NumPy does: the gradient lies there")


def _vectors(b: Any, op: Any) -> Any:
    return b.emit("eigvecsh", op.args[0])


def _eigvals_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    v = _vectors(b, op)
    return b.emit("sum", b.mul(v, _mm(b, _lower_sym(b, ts[0]), v)), params=(("axis", 0),))


def _eigvals_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    v = _vectors(b, op)
    return [_to_lower(b, _mm(b, b.mul(v, g), _t(b, v)))]


structural("eigvalsh", lambda t, p: f"np.linalg.eigvalsh({t[0]})", np.linalg.eigvalsh,
           lambda ts: Type("float", 1, "float64", (_short_side(ts[0]),)), jvp=_eigvals_jvp, vjp=_eigvals_vjp, may_raise=True,
           fresh=True, names=lowered("eigvalsh", (1, 1), "numpy.linalg.eigvalsh")
           + lowered("eigh", (1, 1), "numpy.linalg.eigh"),
           note="eigenvalues of the symmetric matrix the lower triangle of `a` gives; the eigenvectors' "
                "derivative needs distinct eigenvalues")
def _gaps(b: Any, a: Any) -> Any:
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it (``w`` the eigenvalues)."""
    w = b.emit("eigvalsh", a)
    full = ("s", False, False, False)
    d = b.sub(b.emit("getitem", w, params=(("index", ("n", full)),)), b.emit("getitem", w, params=(("index", (full, "n")),)))
    on = b.eq(_eye_like(b, a), 1.0)
    return b.select(on, 0.0, b.div(1.0, b.select(on, 1.0, d)))


def _eigvecs_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    v = op.out
    return _mm(b, v, b.mul(_gaps(b, op.args[0]), _mm(b, _t(b, v), _lower_sym(b, ts[0]), v)))


def _eigvecs_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    v = op.out
    s = _mm(b, v, b.mul(_gaps(b, op.args[0]), _mm(b, _t(b, v), g)), _t(b, v))
    return [_to_lower(b, b.mul(b.add(s, _t(b, s)), 0.5))]


structural("eigvecsh", lambda t, p: f"np.linalg.eigh({t[0]})[1]", lambda a: np.linalg.eigh(a)[1], _sq,
           jvp=_eigvecs_jvp, vjp=_eigvecs_vjp, may_raise=True, fresh=True)


# --- svd, pinv, qr (issue 10, missing names) ----------------------------------------------------------
# ``np.linalg.svd(a)`` is three primitives of ``a`` (``svd_u``, ``svdvals``, ``svd_vh``; thin SVD);
# ``np.linalg.qr(a)`` two (``qr_q``, ``qr_r``; reduced QR).  Each takes its derivative from the
# primal factors, recomputed where the derivative needs them.
def _svd_part(k: int) -> Any:
    return lambda a: np.linalg.svd(a, full_matrices=False)[k]


def _thin(b: Any, a: Any) -> tuple[Any, Any, Any]:
    """``U, s, V`` of the thin SVD of ``a`` (``V = Vh.T``)."""
    return b.emit("svd_u", a), b.emit("svdvals", a), _t(b, b.emit("svd_vh", a))


def _row(b: Any, v: Any) -> Any:
    """A vector as a row ``v[None, :]``, to scale the columns of a matrix."""
    return b.emit("getitem", v, params=(("index", ("n", ("s", False, False, False))),))


def _svdvals_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    u, _, v = _thin(b, op.args[0])
    return b.emit("sum", b.mul(u, _mm(b, ts[0], v)), params=(("axis", 0),))


def _svdvals_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    return [_mm(b, b.mul(b.emit("svd_u", op.args[0]), _row(b, g)), b.emit("svd_vh", op.args[0]))]


def _svd_gaps(b: Any, s: Any) -> Any:
    """``F[i, j] = 1 / (s_j**2 - s_i**2)`` off the diagonal, 0 on it (distinct singular values)."""
    row, col = _row(b, s), _col(b, s)
    on = b.eq(b.emit("eye", b.emit("shape", s, params=(("dim", 0),))), 1.0)
    return b.select(on, 0.0, b.div(1.0, b.select(on, 1.0, b.sub(b.mul(row, row), b.mul(col, col)))))


def _col(b: Any, v: Any) -> Any:
    return b.emit("getitem", v, params=(("index", (("s", False, False, False), "n")),))


def _sym(b: Any, x: Any) -> Any:
    return b.add(x, _t(b, x))


def _svd_u_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    """``dU = U (F o (dS S + (dS S)^T)) + (dA V - U dS) / s`` with ``dS = U^T dA V`` (JAX's rule)."""
    u, s, v = _thin(b, op.args[0])
    dav = _mm(b, ts[0], v)
    ds = _mm(b, _t(b, u), dav)
    return b.add(_mm(b, u, b.mul(_svd_gaps(b, s), _sym(b, b.mul(ds, _row(b, s))))),
                 b.div(b.sub(dav, _mm(b, u, ds)), _row(b, s)))


def _svd_vh_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    """``dV = V (F o (S dS + (S dS)^T)) + (dA^T U - V dS^T) / s``; the result is ``dV^T``."""
    u, s, v = _thin(b, op.args[0])
    datu = _mm(b, _t(b, ts[0]), u)
    ds = _mm(b, _t(b, u), ts[0], v)
    dv = b.add(_mm(b, v, b.mul(_svd_gaps(b, s), _sym(b, b.mul(_col(b, s), ds)))),
               b.div(b.sub(datu, _mm(b, v, _t(b, ds))), _row(b, s)))
    return _t(b, dv)


def _skew(b: Any, x: Any) -> Any:
    return b.sub(x, _t(b, x))


def _svd_u_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    """``gA = U ((skew(U^T gU) o F) S) V^T + (gU - U U^T gU) S^-1 V^T``."""
    u, s, v = _thin(b, op.args[0])
    utg = _mm(b, _t(b, u), g)
    inner = b.mul(b.mul(_skew(b, utg), _svd_gaps(b, s)), _row(b, s))
    return [_mm(b, b.add(_mm(b, u, inner), b.div(b.sub(g, _mm(b, u, utg)), _row(b, s))), _t(b, v))]


def _svd_vh_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    """With ``gV = gVh^T``: ``gA = U (S (skew(V^T gV) o F)) V^T + U S^-1 (gVh - gVh V V^T)``."""
    u, s, v = _thin(b, op.args[0])
    gv = _t(b, g)
    inner = b.mul(_col(b, s), b.mul(_skew(b, _mm(b, _t(b, v), gv)), _svd_gaps(b, s)))
    rest = b.sub(g, _mm(b, g, v, _t(b, v)))
    return [b.add(_mm(b, u, inner, _t(b, v)), _mm(b, b.div(u, _row(b, s)), rest))]


def _vec_type(ts: Sequence[Type]) -> Type:
    """Singular values (``min(m, n)``) or eigenvalues (``n``): of length 1 where the matrix's
    smaller side is."""
    return Type("float", 1, ts[0].dtype if ts[0].kind == "float" else "float64", (_short_side(ts[0]),))


_SVD = "np.linalg.svd({}, full_matrices=False)[{}]"
structural("svdvals", lambda t, p: _SVD.format(t[0], 1), _svd_part(1), _vec_type, jvp=_svdvals_jvp, vjp=_svdvals_vjp,
           may_raise=True, fresh=True, names=lowered("svd", (1, 2), "numpy.linalg.svd"),
           note="thin SVD (`full_matrices=False`); the singular vectors' derivative needs distinct nonzero "
                "singular values (their signs are NumPy's)")
structural("svd_u", lambda t, p: _SVD.format(t[0], 0), _svd_part(0), _matrix_of(lambda a: a.one(0), _short_side), jvp=_svd_u_jvp, vjp=_svd_u_vjp,
           may_raise=True, fresh=True)
structural("svd_vh", lambda t, p: _SVD.format(t[0], 2), _svd_part(2), _matrix_of(_short_side, lambda a: a.one(1)), jvp=_svd_vh_jvp, vjp=_svd_vh_vjp,
           may_raise=True, fresh=True)


def _pinv_terms(b: Any, a: Any, p: Any, d: Any) -> Any:
    """``dP = -P d P + P P^T d^T (I - A P) + (I - P A) d^T P^T P`` for ``P = pinv(A)`` (constant rank)."""
    m, n = [_eye_like(b, x) for x in (a, p)]
    dt = _t(b, d)
    return b.add(b.add(b.neg(_mm(b, p, d, p)), _mm(b, p, _t(b, p), dt, b.sub(m, _mm(b, a, p)))),
                 _mm(b, b.sub(n, _mm(b, p, a)), dt, _t(b, p), p))


def _pinv_vjp(b: Any, op: Any, g: Any) -> list[Any]:
    a, p = op.args[0], op.out
    m, n = [_eye_like(b, x) for x in (a, p)]
    gt = _t(b, g)
    return [b.add(b.add(b.neg(_mm(b, _t(b, p), g, _t(b, p))), _mm(b, b.sub(m, _mm(b, a, p)), gt, p, _t(b, p))),
                  _mm(b, _t(b, p), p, gt, b.sub(n, _mm(b, p, a))))]


structural("pinv", lambda t, p: f"np.linalg.pinv({t[0]})", np.linalg.pinv, _matrix_of(lambda a: a.one(1), lambda a: a.one(0)),
           jvp=lambda b, op, ts: _pinv_terms(b, op.args[0], op.out, ts[0]), vjp=_pinv_vjp, may_raise=True, fresh=True,
           names=lowered("pinv", (1, 1), "numpy.linalg.pinv"),
           note="derivative of a matrix of constant rank (NumPy's cutoff rcond=1e-15 decides the rank)")


def _qr_solve_r(b: Any, x: Any, r: Any) -> Any:
    """``x @ inv(r)``: raises LinAlgError for a wide matrix (its R is not square)."""
    return _mm(b, x, b.emit("inv", r))


def _qr_parts(b: Any, op: Any, d: Any) -> tuple[Any, Any, Any, Any]:
    a = op.args[0]
    q, r = b.emit("qr_q", a), b.emit("qr_r", a)
    dx_rinv = _qr_solve_r(b, d, r)
    qt = _mm(b, _t(b, q), dx_rinv)
    low = b.emit("tril", qt, params=(("k", -1),))
    return q, r, dx_rinv, (qt, b.sub(low, _t(b, low)))


def _qr_q_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    q, _, dx_rinv, (qt, do) = _qr_parts(b, op, ts[0])
    return b.add(_mm(b, q, b.sub(do, qt)), dx_rinv)


def _qr_r_jvp(b: Any, op: Any, ts: Sequence[Any]) -> Any:
    _, r, _, (qt, do) = _qr_parts(b, op, ts[0])
    return _mm(b, b.sub(qt, do), r)


def _qr_vjp(b: Any, a: Any, gq: Any, gr: Any) -> Any:
    """``gA = (gQ + Q copyltu(M)) inv(R)^T`` with ``M = R gR^T - gQ^T Q`` (m >= n)."""
    q, r = b.emit("qr_q", a), b.emit("qr_r", a)
    m = _mm(b, r, _t(b, gr)) if gr is not None else b.neg(_mm(b, _t(b, gq), q))
    low = b.emit("tril", m, params=(("k", -1),))
    sym = b.add(b.add(low, _t(b, low)), b.mul(m, _eye_like(b, m)))
    left = _mm(b, q, sym) if gq is None else b.add(gq, _mm(b, q, sym))
    return _mm(b, left, _t(b, b.emit("inv", r)))


structural("qr_q", lambda t, p: f"np.linalg.qr({t[0]})[0]", lambda a: np.linalg.qr(a)[0], _matrix_of(lambda a: a.one(0), _short_side), jvp=_qr_q_jvp,
           vjp=lambda b, op, g: [_qr_vjp(b, op.args[0], g, None)], may_raise=True, fresh=True,
           names=lowered("qr", (1, 1), "numpy.linalg.qr"),
           note="reduced QR of a tall or square matrix of full rank (a wide one raises LinAlgError when "
                "differentiated)")
structural("qr_r", lambda t, p: f"np.linalg.qr({t[0]})[1]", lambda a: np.linalg.qr(a)[1], _matrix_of(_short_side, lambda a: a.one(1)), jvp=_qr_r_jvp,
           vjp=lambda b, op, g: [_qr_vjp(b, op.args[0], None, g)], may_raise=True, fresh=True)
