"""The front end's lexicon, generated from the registry: which Python objects (``math.sin``,
``np.maximum``, ``abs``) lower to which primitive, which ``np.<name>`` functions and ``x.<name>()``
methods the array front end lowers through which handler, and how many positional arguments each
handler takes.  Nothing here is written by hand: a primitive's ``names`` are the only source.
"""
from __future__ import annotations

import builtins
import importlib
import math
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from . import PRIMS
from .registry import Primitive, Spelling

METHOD = "ndarray"  # the module part of a method's path: ``ndarray.sum`` is ``x.sum()``
_MODULES = {"math": math, "numpy": np, "builtins": builtins}


@dataclass(frozen=True)
class Call:
    """A Python callable that lowers to a plain call of primitive ``name``."""

    name: str
    variadic: bool = False
    numpy: bool = False  # NumPy's or SciPy's function: of numbers it returns a NumPy number (``np.float64``)
    math: bool = False  # a function of ``math``: it returns a Python float, whatever its arguments


def spellings() -> Iterator[tuple[Primitive, Spelling]]:
    """Every name of every primitive, in registration order."""
    for p in PRIMS:
        for s in p.names:
            yield p, s


def resolve(path: str) -> Any:
    """The Python object a ``module.name`` path names (``numpy.sin`` → ``np.sin``)."""
    module, _, attr = path.rpartition(".")
    if module in _MODULES:
        return getattr(_MODULES[module], attr)
    try:
        return getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError:  # a method of a module's object: ``numpy.add.at``
        return getattr(resolve(module), attr)


def functions() -> dict[Any, Call]:
    """Python callables lowered to a call of their primitive (``math.sin``, ``np.zeros``, ``abs``)."""
    return {resolve(s.path): Call(p.name, s.variadic, s.module.partition(".")[0] in ("numpy", "scipy"),
                                  s.module == "math")
            for p, s in spellings() if s.arity is None}


def _handlers(methods: bool) -> dict[str, str]:
    return {s.attr: s.handler for _, s in spellings()
            if s.arity is not None and (s.module == METHOD) == methods}


def numpy_functions() -> dict[str, str]:
    """``np.<name>`` → the array front end's handler."""
    return _handlers(methods=False)


def array_methods() -> dict[str, str]:
    """``x.<name>(...)`` → the array front end's handler."""
    return _handlers(methods=True)


def arities() -> dict[str, tuple[int, int]]:
    """Each array handler's (least, most) positional arguments, the array of a method counted."""
    return {s.handler: s.arity for _, s in spellings() if s.arity is not None}


def handlers_of(name: str) -> frozenset[str]:
    """The array handlers that lower to primitive ``name`` (``transpose``, ``swapaxes`` ...)."""
    return frozenset(s.handler for s in PRIMS.get(name).names if s.arity is not None)


# -- the coverage table (docs/coverage.md), generated -------------------------------------------------
_COVERAGE_HEAD = """# Coverage: the NumPy, SciPy and math names adc differentiates

Generated from the primitive registry by `python -m adc.prims.coverage_table > docs/coverage.md`;
`tests/test_coverage.py` fails when this file differs from what the registry generates, and checks
every name below against central finite differences in both modes (and, one program per family,
under `jit=True`). Derivative conventions at kinks and singular points are explained in
[rules.md](rules.md#conventions-at-non-differentiable-points).

- **modes**: `fwd+rev` (forward and reverse mode, so `grad`, `jvp`, `vjp`, `jacfwd`, `jacrev`,
  `hessian`), or `none` (allowed in differentiated code, carries no derivative: shapes, integer
  constructors, comparisons);
- **jit**: whether the generated code compiles under `jit=True` (Numba); where it does not, the
  call raises an adc `CompileError` naming the line, never a raw Numba traceback;
- **via**: the primitive the name lowers to (several names may share one; `var`, `std`,
  `softmax`, `log_softmax` and `slogdet` are written by the front end with other primitives).

"""

_COVERAGE_TAIL = """
Indexing is syntax, not a name, so it is not in the table: `x[i]`, slices, `None`, integer arrays
of any rank, several at once (`x[idx]`, `x[[0, 2]]`, `L[rows, cols]`, `x[idx2d, 1:]`) and boolean
masks of any rank (`x[x > 0]`, `A[A > 0]`, `A[:, m]`) read and write in both modes, their axes placed
as NumPy places them; a write through an integer array keeps the last value of a repeated index, as
NumPy does, and `np.add.at` adds them up. The reverse mode of a read through an integer array or a
mask is an `np.add.at`. Under `jit=True`, where Numba lacks a form (`np.add.at`, masks of more than
one dimension, `None` among index arrays), the Numba dialect reads and writes through the kernels
of `adc/prims/kernels.py`, which check every index as NumPy does.

## Still missing

Compared with autograd (about 200 NumPy/SciPy names) and JAX (nearly all of NumPy and most of
`scipy.special`), adc does not yet differentiate: `linalg.norm` with `ord` 2, -2 or `'nuc'` over
two axes of an array of more than 2 dimensions (a batched SVD); `np.pad` modes other than
`constant`, `edge`, `reflect`, `symmetric` and `wrap` (and `reflect_type='odd'`); `svd` with
`full_matrices=True` (the thin SVD is supported; JAX does not differentiate the full one either):
an adc `UnsupportedError` at the user's line says so; `x.sort()` in place (write
`y[:] = np.sort(y)`). Every name above compiles under `jit=True`: the Numba dialect spells what
Numba lacks with the kernels of `adc/prims/kernels.py` (reductions with `axis`/`keepdims`, also
those in adjoints; reads and writes through index arrays and masks, `np.add.at`; einsum, pairwise
for more than two operands; tile, repeat, roll, cumprod, argsort and nansum with an axis; pad of
any rank in every mode; `expand_dims` of several axes), and computes in the dtype NumPy would:
`float32` arrays stay `float32` in both sweeps (docs/arrays.md#float32). An unsupported function
raises an adc `UnsupportedError` at the user's line.
"""


def _modes(p: Primitive) -> str:
    return "fwd+rev" if p.differentiable else "none"


def coverage_rows() -> list[tuple[str, str, str, str, str]]:
    """(name in user code, modes, jit, via, convention), one per spelling, sorted by name."""
    rows = []
    for p, s in spellings():
        name = f"x.{s.attr}()" if s.module == METHOD else s.path.replace("numpy.", "np.").replace("builtins.", "")
        nojit = s.nojit or p.nojit
        jit = "yes" if not nojit else f"not {nojit}"
        rows.append((name, _modes(p), jit, p.name, p.note))
    return sorted(set(rows), key=lambda r: (r[0].startswith("x."), r[0].lower()))


def markdown() -> str:
    rows = coverage_rows()
    differentiable = sum(1 for r in rows if r[1] != "none")
    lines = [_COVERAGE_HEAD, f"{differentiable} names are differentiable ({len(rows)} names in all, "
             f"{len(PRIMS.table)} primitives).\n", "| name | modes | jit | via | convention |", "|---|---|---|---|---|"]
    lines += [f"| `{n}` | {m} | {j} | `{v}` | {c} |" for n, m, j, v, c in rows]
    return "\n".join(lines) + "\n" + _COVERAGE_TAIL

