"""``adc.vjp``'s pullback without a second forward sweep: the VJP program cut between its sweeps.

Input: a function's primal program and its VJP program before clean-up (``reverse``).  Output: a
``VjpParts``, two generated functions, or ``None`` where the cut does not apply:

- ``f_vjp_fwd(*args) -> (*outputs, residuals)`` runs the forward sweep once, when ``vjp`` is
  called: the residuals are the values the reverse sweep reads (``calls.split``, as for kept
  calls); as plain Python (``jit=False``) its output is ``vjp``'s primal output where the function
  returns one number or array (``api._pullback``), else the function itself runs for it;
- ``f_vjp_bwd(*residuals, *cotangents) -> adjoints`` runs the reverse sweep, once per call of the
  pullback.

So ``vjp`` followed by k pullbacks (``jacrev``: one per output element) costs one forward sweep
and k reverse sweeps instead of k of both, as in JAX.  The cut applies when the reverse sweep can
run again on the same residuals: it writes into no memory that it did not make itself (a
restored array, a popped tape, a kept call's residuals all change what the next run would read),
and under Numba every residual is an array or a number (no lists passed in and out).  Where it does
not apply, or a part raises (the error is then reported by the uncut program, as before), the
pullback runs the whole VJP program each time, on copies of the input arrays taken by ``vjp``: on
both paths the pullback is at the primals ``vjp`` was given, as in JAX.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .ir import Program, Var, walk
from .memory import Memory, is_array
from .prims import prim


class Swept(NamedTuple):
    """What the forward part gave: the function's outputs, and the reverse sweep at these
    primals as a function of the cotangents (which gives ``None`` where the caller must run the
    whole program)."""

    outputs: list[Any]
    reverse: Callable[[Sequence[Any]], list[Any] | None]


@dataclass
class VjpParts:
    """The two halves of a VJP, loaded."""

    forward: Any
    backward: Any
    copy_inputs: tuple[bool, ...]  # inputs that may share memory with a residual
    copy_adjoints: tuple[bool, ...]  # adjoints that may share memory with a residual
    fwd_source: str = ""
    bwd_source: str = ""
    # plain Python (``jit=False``): the forward part raises where the function does, with the same
    # values (Numba code gives nan or inf for a domain error, wraps integers, narrows float32)
    python: bool = False
    # Numba code whose forward part raises where the function does all the same (``raises_alike``)
    alike: bool = False
    # False once a part raised where the whole program ran (Numba failing to compile a part, say):
    # from then on the whole program runs.  Where the whole program fails too, it reports the error.
    usable: bool = True

    def gives_output(self, inputs: Sequence[Any]) -> bool:
        """Is the forward part's output, at ``inputs``, the function's (so the function need not
        run again)?  Not for float32 inputs (NumPy's result dtype, which adc's types do not follow);
        under Numba, only for inputs of the dtypes adc's code keeps (float64, int64, bool) and while
        NumPy's floating-point errors neither raise nor call (``np.seterr``) and no warnings filter
        makes its ``RuntimeWarning`` an error: Numba code does neither."""
        dtypes = {np.asarray(a).dtype for a in inputs}
        if self.python:
            return np.dtype(np.float32) not in dtypes
        return self.alike and dtypes <= _KEPT_DTYPES and _numpy_quiet()

    def sweep(self, inputs: Sequence[Any]) -> Swept | None:
        """Run the forward part at ``inputs`` (the arguments' leaves, then the captured arrays):
        its outputs and the reverse sweep (``Swept``); ``None`` where the forward part failed."""
        if not self.usable:
            return None
        inputs = [a.copy() if copy and isinstance(a, np.ndarray) else a for a, copy in zip(inputs, self.copy_inputs)]
        try:
            *outputs, residuals = self.forward(*inputs)
        except Exception:
            return None
        return Swept(outputs, lambda cotangents: self._backward(residuals, cotangents))

    def adjoints_by(self, reverse: Callable[[Sequence[Any]], list[Any] | None] | None,
                    whole: Callable[[Sequence[Any]], Sequence[Any]]) -> Callable[[Sequence[Any]], Sequence[Any]]:
        """The adjoints as a function of the cotangents: by ``reverse`` (what ``sweep`` gave) where
        it runs, else by ``whole``, the uncut program (which reports an error of its own); when the
        uncut program runs where a part failed, the parts are not used again."""
        def adjoints(cotangents: Sequence[Any]) -> Sequence[Any]:
            found = reverse(cotangents) if reverse is not None else None
            if found is not None:
                return found
            found = whole(cotangents)
            if reverse is not None:
                self.usable = False
            return found

        return adjoints

    def _backward(self, residuals: tuple[Any, ...], cotangents: Sequence[Any]) -> list[Any] | None:
        try:
            result = self.backward(*residuals, *cotangents)
        except Exception:
            return None
        adjoints = list(result) if len(self.copy_adjoints) > 1 else [result]
        return [a.copy() if copy and isinstance(a, np.ndarray) else a for a, copy in zip(adjoints, self.copy_adjoints)]


def reruns(bwd: Program, residuals: Sequence[Var]) -> bool:
    """Can ``bwd`` run again on the same ``residuals`` (its first parameters)?  Every write goes
    into memory ``bwd`` made itself, and it calls no generated function (a kept call's reverse part
    pops its residuals)."""
    memory = Memory(bwd)
    for op in walk(bwd.body):
        p = prim(op)
        if p is not None and p.calls:
            return False
        if p is not None and p.side_effect:
            target = op.args[0] if op.args else None
            if not is_array(target) or not memory.made_here(target):  # type: ignore[arg-type]
                return False
    return True


def arrays_and_numbers(residuals: Sequence[Var]) -> bool:
    """Are these residuals arrays and numbers only (what Numba takes back as arguments without
    converting them, and what holds no other array)?"""
    return all(v.type is not None and (v.type.is_array or v.type.kind in ("float", "int", "bool")) for v in residuals)


def sharing(program: Program, values: Sequence[Any], kept: Sequence[Any]) -> tuple[bool, ...]:
    """For each of ``values`` (parameters or yields of ``program``): may it share memory with one
    of ``kept``?  An array inside a kept list or tuple may be any of them."""
    if not arrays_and_numbers([v for v in kept if isinstance(v, Var)]):
        return tuple(is_array(v) for v in values)
    memory = Memory(program)
    roots = {memory.root(v) for v in kept if is_array(v)}
    return tuple(is_array(v) and memory.root(v) in roots for v in values)


_KEPT_DTYPES = {np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)}


def _numpy_quiet() -> bool:
    """Do NumPy's floating-point errors only warn or pass, and no warnings filter raise them?"""
    if not set(np.geterr().values()) <= {"ignore", "warn"}:
        return False
    return not any(entry[0] == "error" and issubclass(RuntimeWarning, entry[2]) for entry in warnings.filters)


def raises_alike(program: Program) -> bool:
    """Does Numba code of ``program`` raise where the function does, and give its values?  Yes when
    every operation that makes a number has an array operand (or makes an integer from shapes,
    or a truth value): NumPy then gives
    inf or nan where Numba code does (Python's numbers raise: ``math.sin(inf)``, ``x / 0.0``); no
    operation makes integers (NumPy and Numba differ on a shift past the width, a division by zero,
    int32 overflow); and no call is kept (it runs code of its own).  Index errors are raised by
    both (``boundscheck``, ``bounds.py``); NumPy set to raise is checked when it runs
    (``gives_output``)."""
    for op in walk(program.body):
        rule = prim(op)
        if rule is None or op.prim in ("shape", "len_range"):
            continue
        if rule.calls:
            return False
        arrays = any(isinstance(a, Var) and a.type is not None and a.type.ndim for a in op.args)
        if not arrays and any(o.type is not None and not o.type.ndim and o.type.kind != "bool" for o in op.outs):
            return False  # a number made from numbers
        if op.prim != "getitem" and any(o.type is not None and o.type.kind == "int" for o in op.outs):
            return False
    return True
