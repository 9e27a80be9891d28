"""Sparse Jacobians and Hessians whose structure the user states: one pass per color, not one per
input (Curtis, Powell and Reid's compressed differences, done exactly with JVPs and VJPs).

Input: a function, the arguments it is differentiated with respect to, and its sparsity pattern: a
SciPy sparse matrix or a boolean array of the Jacobian's (Hessian's) shape, ``"diagonal"``, or
``("block", k)`` (square blocks of ``k`` along the diagonal).  Output: the Jacobian or Hessian as a
``scipy.sparse.csr_array`` with the pattern's entries.

The columns (forward mode, ``hvp``) or rows (reverse mode) are colored greedily so that no two of
one color share a row (column).  One JVP seeded with the sum of a color's unit vectors gives every
entry of its columns at once (``J @ seed``: each row holds the one entry of that color); one VJP
does the same for rows (after one forward sweep, where the VJP can be cut: ``vjp_parts.py``).  A
diagonal Hessian is one Hessian-vector product; bundle adjustment's
Jacobian (15 non-zeros per row) takes 15 JVPs, whatever the number of observations.  An entry the
pattern leaves out that the product shows non-zero (a row with no entry of a color, yet a non-zero
product) is an error, not a dropped derivative.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from .arguments import Argnums, bind, check_argnums_type, check_function, mark, normalize_argnums, prepare
from .errors import DifferentiationError, UnsupportedError
from .failures import run_generated, with_captured
from .pipeline import Compiled, compile_derivative, compile_vjp_parts
from .backend import Jit, check_jit
from .trees import TreeType

Pattern = Any  # a scipy.sparse matrix or array, a 2-D boolean array, "diagonal" or ("block", k)


def sparse_jacobian(fn: Callable[..., Any], sparsity: Pattern, argnums: Argnums = 0, *, mode: str = "forward",
                    check: bool = True, jit: Jit = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` (one number or array out) with the stated sparsity, as a
    ``scipy.sparse.csr_array`` of shape ``(out.size, in.size)`` (the arguments ``argnums`` flattened
    and concatenated in order): one JVP per color of the columns (``mode="forward"``) or one VJP per
    color of the rows (``mode="reverse"``).  ``check`` (the default) makes one more pass, along a
    random direction, and raises if the result disagrees with it (the pattern misses an entry).

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.sin(x) * 2.0
        >>> adc.sparse_jacobian(f, "diagonal")(np.array([0.0, 1.0, 2.0])).toarray().round(3)
        array([[ 2.   ,  0.   ,  0.   ],
               [ 0.   ,  1.081,  0.   ],
               [ 0.   ,  0.   , -0.832]])
    """
    check_jit(jit)
    if mode not in ("forward", "reverse"):
        raise DifferentiationError(f"mode must be 'forward' or 'reverse', got {mode!r}")
    check_function(fn, "adc.sparse_jacobian")
    check_argnums_type(argnums)

    plans: dict[tuple[Any, ...], _Plan] = {}

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        call = _Call(fn, argnums, args, kwargs)
        compiled = call.compile("jvp" if mode == "forward" else "vjp", jit)
        if compiled.primal.out_tree is not None:
            raise DifferentiationError(f"sparse_jacobian needs {fn.__name__} to return one number or array, not a "
                                       "tuple; stack the outputs into an array")
        if mode == "forward":
            plan = _plan(plans, sparsity, None, call.size, False)
            return _compressed(call, plan, lambda seed: call.run(compiled, call.split(seed))[-1], check)
        plan = _plan(plans, sparsity, None, call.size, True)
        # one forward sweep, then one reverse sweep per color where the VJP can be cut (``vjp_parts.py``)
        parts = compile_vjp_parts(fn, call.types, call.wrt, jit)
        def whole(cts: Sequence[Any]) -> Sequence[Any]:
            return call.run(compiled, list(cts))[1:]

        swept = parts.sweep(with_captured(compiled, call.args)) if parts is not None else None
        adjoints = whole if parts is None else parts.adjoints_by(swept.reverse if swept is not None else None, whole)

        def product(seed: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
            return call.joined(adjoints([seed.reshape(shape)]))

        return _compressed(call, plan, product, check)

    return mark(jacobian, "adc.sparse_jacobian")


def sparse_hessian(fn: Callable[..., Any], sparsity: Pattern, argnums: Argnums = 0, *, check: bool = True,
                   jit: Jit = False) -> Callable[..., Any]:
    """The Hessian of scalar ``fn`` with the stated sparsity, as a ``scipy.sparse.csr_array`` of
    shape ``(n, n)`` (``n`` the size of the arguments ``argnums``, flattened and concatenated): one
    Hessian-vector product (forward over reverse) per color of the columns.  ``"diagonal"`` is one
    pass: ``adc.sparse_hessian(f, "diagonal")(x).diagonal()`` is the diagonal of a diagonal Hessian.
    ``check`` as for ``sparse_jacobian`` (one more pass; ``check=False``: exactly one per color).

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.sum(x ** 3)
        >>> adc.sparse_hessian(f, "diagonal")(np.array([1.0, 2.0])).diagonal()
        array([ 6., 12.])
    """
    check_jit(jit)
    check_function(fn, "adc.sparse_hessian")
    check_argnums_type(argnums)

    plans: dict[tuple[Any, ...], _Plan] = {}

    def hessian(*args: Any, **kwargs: Any) -> Any:
        from .api import _check_scalar_output

        call = _Call(fn, argnums, args, kwargs)
        _check_scalar_output(fn, call.types)
        compiled = call.compile("hvp", jit)
        plan = _plan(plans, sparsity, call.size, call.size, False)
        return _compressed(call, plan, lambda seed: call.joined(call.run(compiled, call.split(seed))), check)

    return mark(hessian, "adc.sparse_hessian")


class _Call:
    """One call's arguments, the differentiated ones' layout, and how to run generated code."""

    def __init__(self, fn: Callable[..., Any], argnums: Argnums, args: Sequence[Any], kwargs: dict[str, Any]) -> None:
        self.fn = fn
        args = bind(fn, args, kwargs)
        self.wrt, self.single = normalize_argnums(argnums, len(args), fn.__name__)
        self.args, self.types = prepare(fn, args, self.wrt)
        if any(isinstance(t, TreeType) for t in self.types):
            raise UnsupportedError(f"a sparse Jacobian of {fn.__name__} with a dict, list or tuple argument: not "
                                   "supported yet", None, "pass the arrays as separate arguments")
        self.shapes = [np.shape(self.args[i]) for i in self.wrt]
        self.size = sum(int(np.prod(s)) for s in self.shapes)

    def compile(self, kind: str, jit: bool) -> Compiled:
        return compile_derivative(self.fn, self.types, kind, self.wrt, jit)

    def run(self, compiled: Compiled, extra: list[Any]) -> tuple[Any, ...]:
        """One pass of the generated code: ``extra`` are its seeds (tangents or a cotangent)."""
        result = run_generated(compiled, [*self.args, *extra])
        return result if isinstance(result, tuple) else (result,)

    def split(self, seed: np.ndarray) -> list[Any]:
        """A flat seed as one tangent per differentiated argument."""
        out, k = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            part = seed[k:k + size]
            out.append(part.reshape(shape) if shape else float(part[0]))
            k += size
        return out

    def joined(self, parts: Sequence[Any]) -> np.ndarray:
        return np.concatenate([np.ravel(np.asarray(p, dtype=float)) for p in parts])


@dataclass
class _Plan:
    """A pattern, its nonzeros and the coloring of its columns (``by_rows``: of its rows), made on
    a transform's first call for a size and reused."""

    pattern: Any
    i: np.ndarray
    j: np.ndarray
    colors: np.ndarray
    by_rows: bool


def _plan(plans: dict[tuple[Any, ...], _Plan], sparsity: Pattern, rows: int | None, columns: int,
          by_rows: bool) -> _Plan:
    key = (rows, columns, by_rows)
    if key not in plans:
        pattern = pattern_of(sparsity, rows, columns)
        coo = pattern.tocoo()
        plans[key] = _Plan(pattern, coo.row, coo.col, color(pattern.T if by_rows else pattern), by_rows)
    return plans[key]


def _compressed(call: _Call, plan: _Plan, product: Callable[..., Any], check: bool) -> Any:
    """The matrix of ``plan`` filled from one ``product`` per color: of the columns
    (``product(seed)`` is the matrix times ``seed``) or, ``plan.by_rows``, of the rows
    (``product(seed, out_shape)`` is ``seed`` times the matrix); with ``check``, compared with one
    product along a random direction."""
    import scipy.sparse as sp

    pattern, i, j, colors, by_rows = plan.pattern, plan.i, plan.j, plan.colors, plan.by_rows
    ncolors = int(colors.max()) + 1 if colors.size else 0
    m = pattern.shape[1] if by_rows else pattern.shape[0]
    products = np.zeros((ncolors, m))
    out_shape: tuple[int, ...] | None = None
    for c in range(ncolors):
        seed = (colors == c).astype(float)
        if by_rows:
            if out_shape is None:
                out_shape = _output_shape(call, pattern.shape[0])
            got = product(seed, out_shape)
        else:
            got = np.ravel(np.asarray(product(seed), dtype=float))
        if got.size != m:
            raise DifferentiationError(f"the sparsity pattern of {call.fn.__name__} has {pattern.shape[0]} rows, but "
                                       f"{call.fn.__name__} returns {got.size} numbers")
        products[c] = got
    seeded, entry = (i, j) if by_rows else (j, i)  # the seeded axis and the one each product runs along
    covered = np.zeros((ncolors, m), dtype=bool)
    covered[colors[seeded], entry] = True
    stray = np.argwhere((products != 0.0) & ~covered)
    if stray.size:
        c, k = stray[0]
        what = "column" if by_rows else "row"
        raise DifferentiationError(f"the derivative of {call.fn.__name__} has a non-zero in {what} {k} outside the "
                                   f"stated sparsity pattern (in the {'rows' if by_rows else 'columns'} "
                                   f"{np.flatnonzero(colors == c)[:8].tolist()}); state every entry that can be "
                                   "non-zero")
    values = products[colors[seeded], entry]
    matrix = sp.csr_array((values, (i, j)), shape=pattern.shape)
    if check:
        _check(call, matrix, product, by_rows, out_shape)
    return matrix


def _check(call: _Call, matrix: Any, product: Callable[..., Any], by_rows: bool,
           out_shape: tuple[int, ...] | None) -> None:
    """One product along a random direction (fixed seed: deterministic) against the sparse matrix's."""
    r = np.random.default_rng(0).standard_normal(matrix.shape[0] if by_rows else matrix.shape[1])
    if by_rows:
        got, want = product(r, out_shape or _output_shape(call, matrix.shape[0])), matrix.T @ r
    else:
        got, want = np.ravel(np.asarray(product(r), dtype=float)), matrix @ r
    scale = float(np.max(np.abs(matrix).sum(axis=int(by_rows)), initial=0.0)) * float(np.max(np.abs(r)))
    worst = float(np.max(np.abs(got - want), initial=0.0))
    if not worst <= 1e-9 * scale + 1e-300:
        raise DifferentiationError(f"the derivative of {call.fn.__name__} does not have the stated sparsity pattern: "
                                   f"along a random direction it differs from the sparse result by {worst:.3g}; state "
                                   "every entry that can be non-zero (check=False skips this test pass)")


def _output_shape(call: _Call, rows: int) -> tuple[int, ...]:
    """The shape of ``fn``'s output (a cotangent has it), checked against the pattern's rows."""
    shape = np.shape(call.fn(*call.args))
    if int(np.prod(shape)) != rows:
        raise DifferentiationError(f"the sparsity pattern of {call.fn.__name__} has {rows} rows, but its output "
                                   f"has {int(np.prod(shape))} entries")
    return shape


def pattern_of(sparsity: Pattern, rows: int | None, columns: int) -> Any:
    """The pattern as a boolean ``scipy.sparse.csr_array`` (``rows`` None: as stated, or square for
    a named structure)."""
    import scipy.sparse as sp

    n = columns
    if isinstance(sparsity, str):
        if sparsity != "diagonal":
            raise DifferentiationError(f"sparsity must be 'diagonal', ('block', k), a boolean array or a SciPy "
                                       f"sparse matrix, got {sparsity!r}")
        pattern = sp.eye_array(n, format="csr", dtype=bool)
    elif isinstance(sparsity, tuple) and len(sparsity) == 2 and sparsity[0] == "block":
        k = sparsity[1]
        if not isinstance(k, (int, np.integer)) or k <= 0 or n % k:
            raise DifferentiationError(f"('block', k) needs a block size k that divides the {n} inputs, got {k!r}")
        pattern = sp.csr_array(sp.block_diag([np.ones((k, k), dtype=bool)] * (n // int(k)), format="csr"))
    else:
        pattern = sp.csr_array(sparsity if sp.issparse(sparsity) else np.asarray(sparsity)).astype(bool)
        if pattern.ndim != 2 or pattern.shape[1] != n or (rows is not None and pattern.shape[0] != rows):
            raise DifferentiationError(f"the sparsity pattern has shape {pattern.shape}, but the derivative has "
                                       f"{'?' if rows is None else rows} rows and {n} columns (one per input entry)")
    pattern.eliminate_zeros()
    return pattern


def color(pattern: Any) -> np.ndarray:
    """A greedy coloring of the pattern's columns: two columns that share a row differ (the colors
    are 0, 1, ...; their number is how many passes the Jacobian takes).  Plain loops over lists:
    a color is free for column ``j`` unless a neighbour marked it with ``j``."""
    import scipy.sparse as sp

    rows, cols = sp.csr_array(pattern), sp.csc_array(pattern)
    row_ptr, row_idx = rows.indptr.tolist(), rows.indices.tolist()
    col_ptr, col_idx = cols.indptr.tolist(), cols.indices.tolist()
    n = pattern.shape[1]
    colors = [-1] * n
    marked = [-1] * (n + 1)
    for j in range(n):
        for r in col_idx[col_ptr[j]:col_ptr[j + 1]]:
            for k in row_idx[row_ptr[r]:row_ptr[r + 1]]:
                c = colors[k]
                if c >= 0:
                    marked[c] = j
        c = 0
        while marked[c] == j:
            c += 1
        colors[j] = c
    return np.array(colors, dtype=np.int64)
