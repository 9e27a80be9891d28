"""The public API: ``grad``, ``value_and_grad``, ``jvp``, ``vjp``, ``source``, ``trace``.

Input: user functions and arguments.  Output: derivatives with the type and shape of the
arguments, generated source, and SSA traces.  This layer only converts arguments, asks the pipeline
for the (cached) compiled derivative for the arguments' types, calls it and shapes the results.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, Sequence

import numpy as np

from .arguments import (Argnums, argnums_of, bind, call_flat, check_argnums_type, check_arity, check_at, check_function, coerce,
                        direction_leaves, like_of,
                        mark, normalize_argnums, parameter_names, positional, prepare, argument)
from .errors import AdcError, DifferentiationError, EvaluationError
from .marks import made_mark
from .fastpath import Cache, Runners, cached_call, signature
from .failures import (dispatcher_type, failed, recover, report, report_user_failure, run_generated, with_captured)
from .identity import Dependencies, dependencies, identity, read_text
from . import jacobians as nested
from .backend import Jit, check_jit
from .jacobians import Stack, jacobian as nested_jacobian, level_argnums, mark_jacobian, stack_of
from .pipeline import Compiled, compile_derivative, compile_vjp_parts, primal
from .trace import Trace
from .trees import TreeDef, TreeType, call_key, describe_tree, flatten, flatten_args, is_tree, leaf_paths, leaves_like, leaves_of, unflatten
from .types import FLOAT, Type
from .vjp_parts import VjpParts


def _unaliased(values: tuple[Any, ...], inputs: Sequence[Any]) -> tuple[Any, ...]:
    """Arrays the caller may write into: none is returned twice or is one of the inputs."""
    seen = {id(a) for a in inputs if isinstance(a, np.ndarray)}
    out = []
    for v in values:
        if isinstance(v, np.ndarray):
            if id(v) in seen:
                v = v.copy()
            seen.add(id(v))
        out.append(v)
    return tuple(out)


def _misshapen(grads: Sequence[Any], like: Sequence[Any]) -> bool:
    """Does a gradient have neither its argument's shape nor one that broadcasts to it?"""
    for g, a in zip(grads, like):
        if type(g) is np.ndarray and type(a) is np.ndarray and g.shape == a.shape:
            continue
        if np.shape(g) != np.shape(a) and not _broadcasts(g, a):
            return True
    return False


def _broadcasts(value: Any, like: Any) -> bool:
    try:
        np.broadcast_shapes(np.shape(value), np.shape(like))
    except ValueError:
        return False
    return np.broadcast_shapes(np.shape(value), np.shape(like)) == np.shape(like)


def _shape_like(value: Any, like: Any) -> Any:
    """A derivative with the type of its primal: float for a scalar (``np.float32`` for an
    ``np.float32``), an array of its dtype."""
    if isinstance(like, np.ndarray):
        if isinstance(value, np.ndarray) and value.dtype == like.dtype and value.shape == like.shape \
                and value.flags.writeable:
            return value
        return np.array(np.broadcast_to(value, like.shape), dtype=like.dtype)
    if isinstance(like, np.floating) and not isinstance(like, float):
        return type(like)(value)
    return float(value)


def _dtype_like(value: Any, like: Any) -> Any:
    """A tangent or cotangent in the float dtype of its primal (float32 stays float32, as in JAX),
    so the generated code, and Numba's typing of it, sees one dtype."""
    if isinstance(like, np.ndarray) and like.dtype.kind == "f" and isinstance(value, np.ndarray) \
            and value.dtype != like.dtype:
        return value.astype(like.dtype)
    return value


def _checked(compiled: Compiled) -> Callable[..., Any]:
    """The compiled function; under ``jit`` wrapped so that a Numba compilation problem on its
    first call is reported as an adc error."""
    func = compiled.func
    if not isinstance(func, dispatcher_type()):
        return func

    @functools.wraps(compiled.func.py_func)
    def call(*args: Any) -> Any:
        return run_generated(compiled, args)

    call.dispatcher = func  # type: ignore[attr-defined]  (the Numba dispatcher: stats, signatures)
    return call


def _check_scalar_output(fn: Callable[..., Any], types: Sequence[Any], has_aux: bool = False) -> None:
    """``grad`` needs a scalar float result (a pair ``(value, aux)`` with ``has_aux``): checked on
    the primal program, before any derivative is built."""
    prog = primal(fn, types)
    name = f"{made_mark(fn)}({fn.__name__})" if made_mark(fn) else fn.__name__  # adc.grad(f): the gradient
    if has_aux:
        if prog.result.kind != "tuple" or len(prog.result.children) != 2 or prog.result.children[0].kind != "leaf":
            raise DifferentiationError(f"has_aux=True needs {name} to return a pair (value, aux), but it returns "
                                       f"{'one value' if prog.out_tree is None else describe_tree(prog.result)}")
    elif prog.out_tree is not None:
        raise DifferentiationError(f"grad needs {name} to return a scalar, but it returns "
                                   f"{describe_tree(prog.result)}; use adc.vjp or adc.jacrev for vector outputs")
    out = prog.outputs[0]
    if out.type is not None and out.type.is_array:
        raise DifferentiationError(f"grad needs {name} to return a scalar, but it returns an array "
                                   f"({out.type}); use adc.vjp or adc.jacrev for vector outputs")
    if out.type is not None and out.type.kind != "float":
        raise DifferentiationError(f"grad needs {name} to return a float, but it returns {out.type}")


_ADC_ATTRIBUTES = ("specialize", "__wrapped__")  # and every ``__adc...__``


def _named_like(fn: Callable[..., Any], attributes: bool = True) -> Callable[[Any], Any]:
    """``functools.wraps(fn)``, with the user's attributes of ``fn`` (``attributes``) but never
    adc's: a function adc made carries its ``specialize`` and its marks (``__adc_jacobian__``,
    what ``compose.made_by`` and ``jacobians.stack_of`` read), which would make the new function pass
    for the one it wraps (``adc.grad(adc.grad(adc.grad(f)))`` was the second derivative, and a
    transform of ``adc.grad(adc.jacrev(adc.grad(f)))`` or of ``adc.grad(functools.partial(...))``
    dropped levels)."""
    def wrap(wrapper: Any) -> Any:
        functools.update_wrapper(wrapper, fn, updated=())
        if attributes:
            wrapper.__dict__.update({k: v for k, v in getattr(fn, "__dict__", {}).items()
                                     if k not in _ADC_ATTRIBUTES and not k.startswith("__adc")})
        return wrapper
    return wrap


class Transformed:
    """A function transformed by ``grad`` or ``value_and_grad``; call it like the original."""

    def __init__(self, fn: Callable[..., Any], argnums: Argnums, mode: str, jit: Jit, with_value: bool,
                 has_aux: bool = False, checkpoints: int | None = None) -> None:
        transform = "adc.value_and_grad" if with_value else "adc.grad"
        _check_mode(mode, ("reverse", "forward"))
        check_jit(jit)
        if not callable(fn):
            raise DifferentiationError(f"expected a function to differentiate, got {type(fn).__name__}")
        check_function(fn, transform)
        check_argnums_type(argnums)
        self.checkpoints = _check_checkpoints(checkpoints, mode)
        self.fn, self.argnums, self.mode, self.jit, self.with_value = fn, argnums, mode, jit, with_value
        self.has_aux = has_aux
        self.transform = transform
        self.__adc_wrapped__ = fn
        # the wrapper made by ``as_function`` and its globals: its fast path is set there
        self.wrapper: Callable[..., Any] | None = None
        self.fast_globals: dict[str, Any] | None = None
        self.slow_code: Any = None  # the wrapper's code before a fast path is installed
        self.fast_blocks: list[str] = []  # the wrapper's checking blocks, one per signature (``_checking_block``)
        self.runners = Runners(fn, self._slow_again)  # by call signature
        _named_like(fn, attributes=False)(self)  # the user's attributes would hide this object's own

    def as_function(self) -> Callable[..., Any]:
        """A plain function with ``fn``'s parameters and defaults.  Until a signature of numbers
        and arrays has compiled it sends every call to ``_call``; then ``_install_fast_path`` makes
        it the generated code itself (plain Python, numbers only) or checks in front of the
        generated functions of up to ``FAST_SIGNATURES`` signatures."""
        from .frontend import function_name, signature_function, signature_of

        signature = signature_of(self.fn)
        names = list(signature.names)
        star = [f"*{signature.star}"] if signature.star else ["*"] if signature.kwonly else []
        params = ", ".join([*names, *star, *signature.kwonly])
        flat = [*names, *star[:1 if signature.star else 0], *signature.kwonly]  # the arguments, flat
        tuple_ = f"({', '.join(flat)}{',' if len(flat) == 1 else ''})"
        name = function_name(self.fn)
        text = f"def {name}({params}):\n    return _adc_slow_({tuple_})\n"
        namespace: dict[str, Any] = {"_adc_slow_": self._call, **_WRAPPER_BUILTINS}
        self.fast_globals = namespace
        exec(compile(text, f"<adc wrapper of {self.fn.__name__}>", "exec"), namespace)
        wrapper = self.wrapper = namespace[name]
        self.slow_code = wrapper.__code__
        _named_like(self.fn)(wrapper)
        defaults = signature_function(self.fn)  # a decorator's wrapper: the wrapped function's defaults
        wrapper.__defaults__, wrapper.__kwdefaults__ = defaults.__defaults__, defaults.__kwdefaults__
        wrapper.__adc_wrapped__ = self.fn  # type: ignore[attr-defined]
        wrapper.specialize = self.specialize  # type: ignore[attr-defined]
        wrapper.__wrapped__ = self.fn  # type: ignore[attr-defined]
        return mark(wrapper, self.transform)

    def _kind(self) -> str:
        if self.has_aux and self.mode == "reverse":
            return "aux"
        return ("value_and_grad" if self.with_value else "grad") if self.mode == "reverse" else "jvp"

    def specialize(self, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        """The generated derivative function for arguments like ``args``, with no wrapper at all
        (what ``adc.source`` shows); call it with arguments of the same types and shapes."""
        args = bind(self.fn, args, kwargs)
        wrt, _ = normalize_argnums(self.argnums, positional(self.fn, len(args)), self.fn.__name__)
        prepared, types = prepare(self.fn, args, wrt)
        if self.mode == "reverse":
            _check_scalar_output(self.fn, types, self.has_aux)
        compiled = compile_derivative(self.fn, types, self._kind(), _leaf_wrt(prepared, types, wrt), self.jit,
                                      checkpoints=self.checkpoints)
        return _checked(compiled)

    def _call(self, args: tuple[Any, ...]) -> Any:
        """Calls by argument signature: the first call of a signature checks, compiles and builds
        a small runner; later calls only compute the signature, check that no global the function
        reads has been rebound, and run it."""
        found = signature(args)
        key, leaves = found if found is not None else (None, None)
        runner = self.runners.get(key) if key is not None else None
        if runner is not None:
            return runner(args, leaves)
        deps = self.runners.dependencies()
        runner, fast = self._runner(args)
        result = runner(args, leaves)  # compiles under jit; errors surface here, before caching
        if key is not None:
            self.runners.put(key, runner)
            if fast is not None and self.wrapper is not None and len(self.fast_blocks) < FAST_SIGNATURES and \
                    (self.wrapper.__code__ is self.slow_code or self.fast_blocks):  # (not the generated code itself)
                self._install_fast_path(fast, args, deps)
        return result

    def _slow_again(self) -> None:
        """A global or closure value the function reads has changed: the runners are dropped, and
        so is the fast path (the next call compiles for the new values, or finds them cached)."""
        if self.wrapper is not None:
            self.wrapper.__code__ = self.slow_code
        self.fast_blocks = []

    def _install_fast_path(self, fast: Fast, args: tuple[Any, ...], deps: Dependencies) -> None:
        """Calls with exactly the types of ``args`` (a signature of numbers and arrays; arrays also
        of the same dtype and shape; where the wrapper checks, a differentiated float
        argument may be a ``float`` or an ``np.float64`` alike), while the globals the function reads are
        unchanged, skip the dispatch.  The first signature, in plain Python with numbers only: the
        wrapper's code becomes the generated function's own, with a guard in place of its
        docstring line (no extra call frame; line numbers still match the generated file), and no
        other signature is added.  Otherwise the wrapper gets one more checking block
        (``_checking_block``; the first ``FAST_SIGNATURES`` signatures each get one, tried in
        turn): it checks, calls
        the generated function, and returns its result when every gradient already has its
        argument's class, dtype and shape, is writeable and is no input and no other gradient, and
        (``value_and_grad``) the value is a float or ``np.float64``, returned as
        ``(float(value), gradients)`` (else
        ``fast.done`` shapes it as the checked path does).  Either way an exception goes
        to ``failures.failed``, as on the checked path."""
        namespace = self.fast_globals
        assert namespace is not None and self.wrapper is not None
        if deps.arrays:
            return  # a global array could change in place: every call takes the checked path
        compiled = fast.compiled
        tag = f"_adc{len(self.fast_blocks)}"  # this signature's names in the wrapper's globals
        namespace[f"{tag}_fast_"] = compiled.func
        namespace[f"{tag}_fail_"] = lambda exc, call_args: _fast_failed(compiled, namespace, tag, exc, call_args)
        namespace[f"{tag}_done_"] = fast.done
        for k, a in enumerate(args):
            namespace[f"{tag}_t{k}_"] = type(a)
            if type(a) is np.ndarray:
                namespace[f"{tag}_d{k}_"], namespace[f"{tag}_s{k}_"] = a.dtype, a.shape
        unchanged = []
        for k, (where, name, value) in enumerate(deps.reads):
            namespace[f"{tag}_w{k}_"], namespace[f"{tag}_v{k}_"] = where, value
            unchanged.append(f"{read_text(where, name, f'{tag}_w{k}_')} is {tag}_v{k}_")
        mine = self.wrapper.__code__
        generated = getattr(compiled.func, "__code__", None)
        arrays = [k for k, a in enumerate(args) if type(a) is np.ndarray]
        # differentiated float arguments, which the checked path passes on as a ``float`` whether
        # they are one or an ``np.float64`` (an argument not differentiated is passed as it is)
        floats = [k for k in fast.wrt if type(args[k]) is float or type(args[k]) is np.float64]
        numpy_float = any(type(args[k]) is np.float64 for k in floats)  # the wrapper converts it
        if arrays or numpy_float or self.jit or self.with_value or generated is None or self.fast_blocks or \
                generated.co_varnames[:generated.co_argcount] != mine.co_varnames[:mine.co_argcount]:
            # (keyword calls need the user's parameter names; ``value_and_grad`` regroups the result)
            names = self.slow_code.co_varnames[:self.slow_code.co_argcount]
            self.fast_blocks.append(_checking_block(names, tag, unchanged, arrays, fast.wrt, self.with_value,
                                                    floats, not self.jit))
            self.wrapper.__code__ = _checking_wrapper(self.slow_code, namespace, self.fast_blocks)
            return
        code = _guarded_code(compiled, namespace, tag, unchanged)
        if code is not None:
            self.wrapper.__code__ = code

    def _runner(self, args: tuple[Any, ...]) -> tuple[Callable[[tuple[Any, ...], list[Any] | None], Any], Fast | None]:
        check_arity(self.fn, args)
        wrt, single = normalize_argnums(self.argnums, positional(self.fn, len(args)), self.fn.__name__)
        prepared, types = prepare(self.fn, args, wrt)
        trees = any(isinstance(t, TreeType) for t in types)
        layout = flatten_args(prepared, parameter_names(self.fn, len(args))) if trees else None
        leaf_wrt = layout.leaf_positions(wrt) if layout is not None else wrt
        _check_scalar_output(self.fn, types, self.has_aux)
        compiled = compile_derivative(self.fn, types, self._kind(), leaf_wrt, self.jit, checkpoints=self.checkpoints)
        with_value, reverse, fn, has_aux = self.with_value, self.mode == "reverse", self.fn, self.has_aux
        n_out = len(compiled.primal.outputs)
        # every argument passed on as it is (floats, float arrays, ints not differentiated): the
        # signature decides that, so calls like this one convert nothing
        same = all(x is y for x, y in zip(leaves_of(prepared), leaves_of(args)))

        def run(call_args: tuple[Any, ...], leaves: list[Any] | None) -> Any:
            """``leaves``: those of ``call_args`` (``None``: not taken yet)."""
            if same and layout is None:
                like = [call_args[i] for i in wrt]
            elif same:
                call_args = leaves if leaves is not None else leaves_of(call_args)
                like = [call_args[k] for k in leaf_wrt]
            elif layout is None:
                converted = coerce(fn, call_args, wrt)
                like = [like_of(call_args[i], converted[i]) for i in wrt]
                call_args = converted
            else:  # the generated code takes the leaves of the trees (each flattened once per call)
                converted = coerce(fn, call_args, wrt)
                leaves, originals = leaves_of(converted), leaves_of(call_args)
                like = [like_of(originals[k], leaves[k]) for k in leaf_wrt]
                call_args = leaves
            if reverse:
                values, grads = split(run_generated(compiled, call_args))
            else:
                values, grads = _forward_gradient(compiled, call_args, leaf_wrt)
            return shaped(values, grads, call_args, like)

        def split(result: Any) -> tuple[Sequence[Any], Sequence[Any]]:
            """The generated reverse-mode code's result as (values, gradients)."""
            if has_aux:
                return result[:n_out], result[n_out:]
            if with_value:
                return result[:1], result[1:]
            return (), ((result,) if len(leaf_wrt) == 1 else result)

        def shaped(values: Sequence[Any], grads: Sequence[Any], call_args: Sequence[Any], like: list[Any]) -> Any:
            """What ``grad`` returns: each gradient of its argument's type, shape and dtype, none
            an input or another gradient, in the arguments' structure."""
            if _misshapen(grads, like):
                report_user_failure(compiled, call_args, f"the gradient of {fn.__name__} does not have the shape of "
                              f"its argument ({[np.shape(g) for g in grads]} vs {[np.shape(a) for a in like]})")
            grads = _unaliased(tuple(_shape_like(g, a) for g, a in zip(grads, like)), call_args)
            if layout is not None:
                grads = tuple(layout.regroup(wrt, grads))
            out = grads[0] if single else grads
            if has_aux:
                value, aux = _unflatten(values, compiled.primal.result)
                return ((value, aux), out) if with_value else (out, aux)
            return (_output(values[0]), out) if with_value else out

        fast = None
        kinds = (float, np.float64, int, bool, np.ndarray)
        simple = all(type(a) in kinds for a in args) and all(type(args[i]) in (float, np.float64, np.ndarray)
                                                             for i in wrt)
        # passed on as they are, but for NumPy floats, which the fast path converts as ``prepare`` does
        passed = same or all(x is y or (type(y) is np.float64 and type(x) is float) for x, y in zip(prepared, args))
        from .frontend import signature_of

        signature = signature_of(fn)  # the fast path's code takes the parameters as the function does
        plain = signature.star is None and not signature.kwonly
        if reverse and not has_aux and simple and passed and layout is None and plain \
                and single == (len(wrt) == 1):
            fast = Fast(compiled, wrt, lambda result, call_args: shaped(*split(result), call_args,
                                                                        [call_args[i] for i in wrt]))
        return run, fast


@dataclasses.dataclass(frozen=True)
class Fast:
    """What ``grad``'s call fast path runs: the compiled derivative, the differentiated argument
    positions, and ``done(result, args)``, which shapes a result as the checked path does."""

    compiled: Compiled
    wrt: list[int]
    done: Callable[[Any, tuple[Any, ...]], Any]


def _check_mode(mode: Any, allowed: Sequence[str], hint: str = "") -> None:
    """``mode`` is one of ``allowed``; else an adc error naming them (and, for a value that is no
    string, ``hint``)."""
    if isinstance(mode, str) and mode in allowed:
        return
    names = ", ".join(repr(m) for m in allowed[:-1]) + f" or {allowed[-1]!r}"
    given = repr(mode) if isinstance(mode, str) else f"a value of type {type(mode).__name__}"
    raise DifferentiationError(f"mode must be {names}, got {given}" + ("" if isinstance(mode, str) else hint))


def _check_checkpoints(checkpoints: Any, mode: str = "reverse") -> int | None:
    """``checkpoints=k``: ``None`` or an int >= 1, for reverse mode (docs/composition.md#checkpointing)."""
    if checkpoints is None:
        return None
    if type(checkpoints) is not int or checkpoints < 1:
        raise DifferentiationError(f"checkpoints must be None or an int >= 1 (snapshots per outermost loop), "
                                   f"got {checkpoints!r}")
    if mode != "reverse":
        raise DifferentiationError("checkpoints applies to reverse mode; forward mode keeps nothing per iteration")
    return checkpoints


def _leaf_wrt(prepared: Sequence[Any], types: Sequence[Any], wrt: list[int]) -> list[int]:
    """The positions among the generated code's inputs (the leaves of tree arguments) of the
    arguments ``wrt``."""
    if not any(isinstance(t, TreeType) for t in types):
        return wrt
    return flatten_args(prepared, [f"#{i}" for i in range(len(prepared))]).leaf_positions(wrt)


def _fast_failed(compiled: Compiled, namespace: dict[str, Any], tag: str, exc: Exception,
                 call_args: tuple[Any, ...]) -> Any:
    """What the fast path's ``<tag>_fail_`` does: where the guard of unchecked indices failed, or
    ``jit="parallel"`` code failed to compile or run as parallel code, other code gives the result
    (``failures.recover``; the fast path passes the generated code the call's own arguments), and
    the fast path calls what ``compiled`` runs from then on; any other failure is reported as on
    the checked path."""
    # raises unless other code gives the result; the fast path may still hold the parallel code
    # ``compiled`` has since stopped running
    result = recover(compiled, exc, call_args, call_args, failing=namespace[f"{tag}_fast_"])
    namespace[f"{tag}_fast_"] = compiled.func
    return namespace[f"{tag}_done_"](result, call_args)


# the signatures of numbers and arrays that get a block of their own in the wrapper of a function
# ``grad`` or ``value_and_grad`` returns (``_install_fast_path``); later ones take the checked path
FAST_SIGNATURES = 8

# the builtins a fast path's code uses, under names no parameter of the user's can hide
# (``def f(x, len)``); ``_adc_floats_``: the values ``value_and_grad`` returns as a ``float``
_WRAPPER_BUILTINS = {"_adc_float_": float, "_adc_float64_": np.float64, "_adc_Exception_": Exception,
                     "_adc_floats_": (float, np.float64)}


def _checking_block(names: Sequence[str], tag: str, unchanged: list[str], arrays: Sequence[int], wrt: Sequence[int],
                    with_value: bool, floats: Sequence[int] = (), convert: bool = True) -> str:
    """The wrapper's block for one signature (its names start with ``tag``): it calls
    ``<tag>_fast_`` when the arguments ``names`` have the types ``<tag>_tK_`` (the arrays ``arrays``
    also the dtype ``<tag>_dK_`` and the shape ``<tag>_sK_``) and the ``unchanged`` conditions
    hold, reporting what it raises through ``<tag>_fail_``; else the next block runs.  With arrays
    or ``with_value``, the result (the gradients of the arguments ``wrt``, after the value with
    ``with_value``) is returned as it is (regrouped as ``(value, gradients)``) only if
    ``_result_ready`` holds, else through ``<tag>_done_``.  The differentiated arguments ``floats``
    may be a ``float`` or an ``np.float64`` (``w[0]``), passed on as a ``float``, as the checked
    path passes them (not converted under Numba, with ``convert`` false, which takes both alike)."""
    passed = [f"_adc_float_({n})" if k in floats else n for k, n in enumerate(names)]
    given = ", ".join(passed if convert else names)
    converted = f"({', '.join(passed)}{',' if len(names) == 1 else ''})"
    guards = [f"({n}.__class__ is _adc_float_ or {n}.__class__ is _adc_float64_)" if k in floats else
              f"{n}.__class__ is {tag}_t{k}_" + (f" and {n}.dtype == {tag}_d{k}_ and {n}.shape == {tag}_s{k}_"
                                                 if k in arrays else "") for k, n in enumerate(names)]
    checks = " and ".join(guards + unchanged) or "True"
    call = f"{tag}_fast_({given})"
    if arrays or with_value:
        ready = _result_ready(names, tag, arrays, wrt, with_value)
        result = "_adc_r_" if not with_value else "(_adc_float_(_adc_r_[0]), _adc_r_[1])" if len(wrt) == 1 \
            else "(_adc_float_(_adc_r_[0]), _adc_r_[1:])"
        body = (f"            _adc_r_ = {call}\n"
                f"        except _adc_Exception_ as _adc_exc_:\n"
                f"            return {tag}_fail_(_adc_exc_, {converted})\n"
                f"        if {ready}:\n"
                f"            return {result}\n"
                f"        return {tag}_done_(_adc_r_, {converted})\n")
    else:
        body = (f"            return {call}\n"
                f"        except _adc_Exception_ as _adc_exc_:\n"
                f"            return {tag}_fail_(_adc_exc_, {converted})\n")
    return f"    if {checks}:\n        try:\n{body}"


def _checking_wrapper(slow: Any, namespace: dict[str, Any], blocks: Sequence[str]) -> Any:
    """The code of a wrapper with the parameters of ``slow`` (the wrapper's code that calls
    ``_adc_slow_``) that tries the checking ``blocks`` in turn, then calls ``_adc_slow_``."""
    names = slow.co_varnames[:slow.co_argcount]
    tuple_ = f"({', '.join(names)}{',' if len(names) == 1 else ''})"
    text = f"def {slow.co_name}({', '.join(names)}):\n{''.join(blocks)}    return _adc_slow_({tuple_})\n"
    exec(compile(text, slow.co_filename, "exec"), namespace)
    return namespace.pop(slow.co_name).__code__


def _result_ready(names: Sequence[str], tag: str, arrays: Sequence[int], wrt: Sequence[int], with_value: bool) -> str:
    """The condition under which ``_adc_r_``, the generated code's gradients of the arguments
    ``wrt`` (one, or a tuple; ``with_value``: a tuple of the value, a float or ``np.float64``, and
    the gradients), holds what ``grad`` or ``value_and_grad`` returns: an array argument's gradient
    an array of its class, dtype and shape, writeable, and neither an array argument nor an earlier
    gradient (``_unaliased``); a float argument's a float."""
    # a tuple of ``1 + len(wrt)`` or ``len(wrt)`` entries, or the one gradient: the generated
    # function's ``return`` fixes which, so only the entries' classes are checked
    first = 1 if with_value else 0
    results = ["_adc_r_"] if len(wrt) == 1 and not with_value else [f"_adc_r_[{first + j}]" for j in range(len(wrt))]
    parts = ["_adc_r_[0].__class__ in _adc_floats_"] if with_value else []
    for j, (i, r) in enumerate(zip(wrt, results)):
        if i not in arrays:
            parts.append(f"{r}.__class__ is _adc_float_")
            continue
        parts.append(f"{r}.__class__ is {tag}_t{i}_ and {r}.dtype == {tag}_d{i}_ and {r}.shape == {tag}_s{i}_ "
                     f"and {r}.flags.writeable")
        others = [names[k] for k in arrays] + [results[m] for m, w in enumerate(wrt[:j]) if w in arrays]
        parts += [f"{r} is not {o}" for o in others]
    return " and ".join(parts)


def _guarded_code(compiled: Compiled, namespace: dict[str, Any], tag: str, unchanged: list[str]) -> Any:
    """The code of the generated function with a guard in place of its docstring line (calls with
    other argument types than ``<tag>_tK_``, or after a global in ``unchanged`` was rebound, go to
    ``_adc_slow_``) and its body inside ``try``, reporting what it raises through ``<tag>_fail_``; the ``def``
    moves up into the blank lines above it, so the body keeps its line numbers.  The module's
    imports go into ``namespace`` (the globals the code will run with).  ``None`` if the source
    does not have that shape."""
    import ast
    import types

    func = compiled.func
    if not isinstance(func, types.FunctionType):
        return None
    code = func.__code__
    lines = compiled.source.splitlines(True)
    head = code.co_firstlineno - 1  # the ``def`` line
    doc = lines[head + 1].strip() if head + 1 < len(lines) else ""
    if not (doc.startswith('"""') and doc.endswith('"""') and len(doc) > 6) or head < 2 \
            or lines[head - 1].strip() or lines[head - 2].strip():
        return None
    params = code.co_varnames[:code.co_argcount]
    tuple_ = f"({', '.join(params)}{',' if len(params) == 1 else ''})"
    stored = {n.id for n in ast.walk(ast.parse(compiled.source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    keep = bool(stored & set(params))  # the body assigns a parameter: keep the arguments for the report
    checks = " or ".join([f"{p}.__class__ is not {tag}_t{k}_" for k, p in enumerate(params)]
                         + [f"not ({u})" for u in unchanged])
    lines[head - 2] = lines[head]
    lines[head - 1] = f"    if {checks}: return _adc_slow_({tuple_})\n" if checks else "    pass\n"
    lines[head] = f"    _adc_args_ = {tuple_}\n" if keep else "\n"
    lines[head + 1] = "    try:\n"
    lines[head + 2:] = ["    " + line if line.strip() else line for line in lines[head + 2:]]
    lines.append("    except _adc_Exception_ as _adc_exc_:\n")
    lines.append(f"        return {tag}_fail_(_adc_exc_, {'_adc_args_' if keep else tuple_})\n")
    module: dict[str, Any] = {"__name__": func.__module__}
    exec(compile("".join(lines), code.co_filename, "exec"), module)
    namespace.update({k: v for k, v in module.items() if not k.startswith("__") and k != code.co_name})
    return module[code.co_name].__code__


def _forward_gradient(compiled: Compiled, args: list[Any], wrt: list[int]) -> tuple[Sequence[Any], list[Any]]:
    """The outputs and the gradient of the first output by forward mode: one tangent pass per
    input component (one with zero tangents when every differentiated array is empty)."""
    n = len(compiled.primal.outputs)
    zeros = [np.zeros_like(args[i]) if isinstance(args[i], np.ndarray) else 0.0 for i in wrt]
    grads: list[Any] = []
    values: Sequence[Any] | None = None
    for k, i in enumerate(wrt):
        if isinstance(args[i], np.ndarray):
            g = np.zeros(args[i].size, dtype=args[i].dtype)
            for j in range(args[i].size):
                seed = np.zeros(args[i].size, dtype=args[i].dtype)
                seed[j] = 1.0
                tangents = zeros[:k] + [seed.reshape(args[i].shape)] + zeros[k + 1:]
                result = run_generated(compiled, [*args, *tangents])
                values, g[j] = result[:n], result[n]
            grads.append(g.reshape(args[i].shape))
        else:
            tangents = zeros[:k] + [1.0] + zeros[k + 1:]
            result = run_generated(compiled, [*args, *tangents])
            values = result[:n]
            grads.append(result[n])
    if values is None:  # no component to seed: the outputs alone
        values = run_generated(compiled, [*args, *zeros])[:n]
    return values, grads


def _output(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def _decorator(with_value: bool) -> Callable[..., Any]:
    def transform(fn: Callable[..., Any] | None = None, argnums: Argnums = 0, *, has_aux: bool = False,
                  argnames: str | Sequence[str] | None = None, mode: str = "reverse", jit: Jit = False,
                  checkpoints: int | None = None) -> Any:
        def make(f: Callable[..., Any]) -> Callable[..., Any]:
            if isinstance(f, functools.partial) and made_mark(f) is None:
                return _through_partial(f, make_inner)
            return make_inner(f, 0)

        def make_inner(f: Callable[..., Any], shift: int) -> Callable[..., Any]:
            """``shift``: how many leading arguments a ``functools.partial`` binds (argnums count
            the arguments of the call, as in JAX)."""
            nums = _shifted(argnums, shift) if argnames is None else argnums_of(f, argnames, argnums)
            if stack_of(f) is not None:  # the gradient of a Jacobian that is one number (jacobians.py)
                return _stack_gradient(f, nums, with_value, has_aux, checkpoints, jit)
            return Transformed(f, nums, mode, jit, with_value, has_aux, checkpoints).as_function()

        return make if fn is None else make(fn)

    return transform


def _stack_gradient(fn: Callable[..., Any], argnums: Argnums, with_value: bool, has_aux: bool,
                    checkpoints: int | None, jit: bool) -> Callable[..., Any]:
    """``grad``/``value_and_grad`` of a function made by ``jacfwd``/``jacrev``/``hessian`` whose
    value is one number: its pullback of 1 (``jacobians.vjp``)."""
    transform = "adc.value_and_grad" if with_value else "adc.grad"
    made, name = made_mark(fn), fn.__name__
    if has_aux or checkpoints is not None:
        raise DifferentiationError(f"{transform} of {made}({name}) takes neither has_aux nor checkpoints")
    check_argnums_type(argnums)
    stack = stack_of(fn)
    assert stack is not None

    def gradient(*args: Any, **kwargs: Any) -> Any:
        bound = bind(stack.base, args, kwargs)
        wrt, single = normalize_argnums(argnums, positional(stack.base, len(bound)), name)
        value, pullback = nested.vjp(stack, bound, {}, wrt, jit)
        if not isinstance(value, float):
            what = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
            raise DifferentiationError(f"grad needs {made}({name}) to return a scalar, but it returns {what}; use "
                                       f"adc.vjp or adc.jvp of {made}({name}), or a Jacobian of it")
        cotangents = pullback(1.0)
        grads = cotangents[wrt[0]] if single else tuple(cotangents[i] for i in wrt)
        return (value, grads) if with_value else grads

    return mark(_named_like(fn)(gradient), transform)


def _shifted(argnums: Argnums, shift: int) -> Argnums:
    """``argnums`` of a call of a ``functools.partial`` as positions of the underlying function."""
    def one(a: Any) -> Any:
        is_int = isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
        return int(a) + shift if is_int and a >= 0 else a  # a wrong type: Transformed reports it

    if not shift:
        return argnums
    return tuple(one(a) for a in argnums) if isinstance(argnums, (tuple, list)) else one(argnums)


def _through_partial(p: functools.partial, make: Callable[[Callable[..., Any], int], Callable[..., Any]]) -> Any:
    """``grad(functools.partial(f, *bound, **keywords))``: ``f`` transformed, called with the bound
    arguments first (they are not differentiated unless ``argnums`` names them)."""
    inner = p.func
    while isinstance(inner, functools.partial):  # partial of a partial
        p = functools.partial(inner.func, *inner.args, *p.args, **{**inner.keywords, **p.keywords})
        inner = p.func
    transformed = make(inner, len(p.args))
    bound, keywords = p.args, p.keywords

    @_named_like(inner)
    def call(*args: Any, **kwargs: Any) -> Any:
        return transformed(*bound, *args, **{**keywords, **kwargs})

    call.__adc_bound__ = True  # type: ignore[attr-defined]  # transformed again: refused (compose.problem)
    return mark(call, made_mark(transformed) or "adc.grad")


grad = _decorator(False)
grad.__name__ = grad.__qualname__ = "grad"
grad.__doc__ = """``grad(f, argnums=0, *, mode="reverse", jit=False, checkpoints=None)``: the gradient of scalar-valued ``f``.

Returns a function with ``f``'s signature that returns ``df/dargs[argnums]`` (a tuple of gradients
when ``argnums`` is a tuple), each with the type and shape of its argument.  Usable as ``@grad`` or
``@grad(argnums=..., mode=..., jit=...)``.  ``mode="forward"`` computes the same gradient with one
tangent pass per input component; ``jit=True`` compiles the generated code with Numba.

As ``jax.grad``: ``f`` must return one real number (use ``jacrev``/``vjp`` for arrays and tuples);
an int in a differentiated position counts as a float; the defaults of ``f``'s parameters apply.
The derivative is generated and compiled on the first call for each argument signature (types,
dtypes, shapes) and cached by ``f``'s code and every global and closure value it reads.
``f`` may be made by ``adc.grad`` (second derivatives), or by ``adc.jacfwd``/``adc.jacrev``/
``adc.hessian`` when its value is one number (``grad(jacrev(f))`` of ``f: R -> R`` is ``f''``).

Args:
    fn: ``f``, a plain Python function of numbers and NumPy arrays, defined in a file or a notebook
        cell; omitted when ``grad(argnums=...)`` is used as a decorator.
    argnums: the index of the argument to differentiate with respect to, or a tuple of indices.
    mode: ``"reverse"`` (one adjoint pass) or ``"forward"`` (one tangent pass per input component).
    jit: compile the generated derivative with Numba; ``"parallel"``: with Numba's
        ``parallel=True``, which fuses element-wise array loops (docs/performance.md), or, where
        Numba's parallel compiler fails, as with ``True`` (an ``adc.ParallelFallbackWarning``).
    checkpoints: reverse mode keeps at most this many snapshots of each outermost loop (a ``for``
        over a range, or a ``while``) and recomputes the rest (binomial checkpointing, Griewank's Revolve), so
        memory does not grow with the trip count; see docs/composition.md#checkpointing.

Returns:
    A function taking ``f``'s arguments and returning the gradient.

Example:
    >>> import math, adc
    >>> def f(x1, x2):
    ...     return math.log(x1) + x1 * x2 - math.sin(x2)
    >>> adc.grad(f)(2.0, 5.0)
    5.5
    >>> adc.grad(f, argnums=(0, 1))(2.0, 5.0)
    (5.5, 1.7163378145367738)
    >>> import numpy as np
    >>> def sq(w):
    ...     return np.sum(w ** 2)
    >>> adc.grad(sq, jit=True)(np.array([1.0, -2.0]))
    array([ 2., -4.])
"""
value_and_grad = _decorator(True)
value_and_grad.__name__ = value_and_grad.__qualname__ = "value_and_grad"
value_and_grad.__doc__ = """``value_and_grad(f, argnums=0, *, mode="reverse", jit=False, checkpoints=None)``: like ``grad``,
but the returned function gives ``(f(*args), gradient)``.

As ``jax.value_and_grad``: the value comes from the same pass as the gradient (reverse mode runs
``f``'s statements once, then the adjoint sweep).  Arguments as for ``grad``.

Returns:
    A function taking ``f``'s arguments and returning ``(value, gradient)``.

Example:
    >>> import math, adc
    >>> def f(x1, x2):
    ...     return math.log(x1) + x1 * x2 - math.sin(x2)
    >>> adc.value_and_grad(f, argnums=(0, 1))(2.0, 5.0)
    (11.652071455223084, (5.5, 1.7163378145367738))
"""


def original(fn: Any) -> Callable[..., Any]:
    """The user's function behind an adc-transformed one (or ``fn`` itself); the command line
    uses it to read ``@adc.grad``-decorated functions in a file."""
    while hasattr(fn, "__adc_wrapped__"):
        fn = fn.__adc_wrapped__
    return fn


def _promoted(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[list[Any], tuple[Type, ...]]:
    """``jvp``/``vjp`` arguments: integer scalars count as real numbers (``f(2, 5)``) unless the
    function uses them as integers (an index, a range bound), then they pass through, like
    integer arrays (labels) always do."""
    return prepare(fn, args, _promotion(fn, args))


def _promotion(fn: Callable[..., Any], args: Sequence[Any]) -> list[int]:
    """The positions of ``jvp``/``vjp`` arguments that are integer scalars counted as real numbers."""
    promoted: list[int] = []
    ident = identity(fn)
    for i, a in enumerate(args[:positional(fn, len(args))]):  # keyword-only arguments: never differentiated
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            continue
        _, types = prepare(fn, args, promoted + [i])
        key = (ident, types)
        ok = _promotable.get(key)
        if ok is None:
            try:
                primal(fn, types, ident)
                ok = True
            except AdcError:  # used as integers (an index, a range bound): kept as ints
                ok = False
            _promotable[key] = ok
        if ok:
            promoted.append(i)
    return promoted


_promotable: dict[tuple[Any, ...], bool] = {}  # (function, types) → lowers (ints promoted so far)


def _all_float_wrt(args: Sequence[Any]) -> list[int]:
    return [i for i, a in enumerate(args) if isinstance(a, (float, np.floating, np.ndarray))
            and (not isinstance(a, np.ndarray) or a.dtype.kind == "f")]


def _unflatten(values: Sequence[Any], tree: TreeDef) -> Any:
    """Output values in the function's returned structure."""
    return unflatten(tree, [_output(v) for v in values])


def _same_shape(value: Any, like: Any, what: str) -> Any:
    """``value`` (a tangent or cotangent) checked to have the shape of ``like``."""
    if np.shape(value) != np.shape(like):
        raise DifferentiationError(f"{what} has shape {np.shape(value)}, but it must have shape "
                                   f"{np.shape(like)}")
    return value


def _zero_tangent(primal: Any) -> Any:
    """A zero tangent with the structure and shapes of ``primal``."""
    leaves, tree = flatten(primal)
    return unflatten(tree, [np.zeros_like(p, dtype=float) if isinstance(p, np.ndarray) else 0.0 for p in leaves])


def _leaves_and_paths(args: Sequence[Any], names: Sequence[str]) -> tuple[list[Any], list[str]]:
    """The leaves of the arguments and how a message names each (``params['W']``)."""
    leaves, paths = [], []
    for a, name in zip(args, names):
        sub, tree = flatten(a)
        leaves += sub
        paths += leaf_paths(tree, name)
    return leaves, paths


def _sequence(value: Any, what: str, call: str) -> tuple[Any, ...]:
    if not isinstance(value, (tuple, list)):
        raise DifferentiationError(f"adc.jvp takes {what} as a tuple, one entry per argument ({call}); "
                                   f"got {type(value).__name__}")
    return tuple(value)


def jvp(fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, jit: Jit = False) -> tuple[Any, Any]:
    """``(f(*primals), J(primals) @ tangents)`` by forward mode, in one pass.  ``primals`` and
    ``tangents`` are tuples (as in JAX); each tangent has the shape of its primal.

    As ``jax.jvp``: the Jacobian-vector product of ``f`` at ``primals`` along ``tangents``, for any
    ``f`` returning a number, an array or a flat tuple of them (the result has the same structure).
    Integer arguments used as integers (indices, loop bounds) get no tangent.  ``f`` may be made
    by ``adc.grad`` (``jvp(grad(f))``: the gradient and a Hessian-vector product, in the structure
    of the arguments) or by ``adc.jacfwd``/``adc.jacrev``/``adc.hessian`` (the Jacobian and its
    derivative along ``tangents``, in the Jacobian's structure: one JVP per seed of the Jacobian).

    Args:
        fn: the function to differentiate.
        primals: a tuple of arguments, one per parameter (defaults fill the rest).
        tangents: a tuple of tangents, one per primal, each of its primal's shape.
        jit: compile the generated tangent code with Numba (``"parallel"``: with
            ``parallel=True``, as for ``grad``).

    Returns:
        ``(f(*primals), tangent_out)``.

    Example:
        >>> import math, adc
        >>> def f(x1, x2):
        ...     return math.log(x1) + x1 * x2 - math.sin(x2)
        >>> adc.jvp(f, (2.0, 5.0), (1.0, 0.0))
        (11.652071455223084, 5.5)
    """
    check_jit(jit)
    stack = stack_of(fn)
    if stack is not None:  # the derivative of a Jacobian (jacobians.py)
        return _stack_jvp(stack, primals, tangents, jit)
    key, leaves = None, (None, None)
    if type(primals) is tuple and type(tangents) is tuple and len(primals) == len(tangents):
        p, t = signature(primals), signature(tangents)
        if p is not None and t is not None:
            key, leaves = (p[0], t[0]), (p[1], t[1])
    return cached_call(_RUNNERS, fn, ("jvp", jit), key, lambda: _jvp_runner(fn, primals, tangents, jit),
                       primals, tangents, *leaves)


def _stack_jvp(stack: Stack, primals: Sequence[Any], tangents: Sequence[Any], jit: bool) -> tuple[Any, Any]:
    """``jvp`` of a function made by ``jacfwd``/``jacrev``/``hessian``: ``(J, dJ)`` (``jacobians.jvp``)."""
    call = "adc.jvp(f, (x, y), (dx, dy))"
    primals, tangents = _sequence(primals, "primals", call), _sequence(tangents, "tangents", call)
    if len(primals) != len(tangents):
        raise DifferentiationError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    bound = bind(stack.base, primals)
    tangents = tangents + tuple(_zero_tangent(p) for p in bound[len(tangents):])  # parameters left at their defaults
    return nested.jvp(stack, bound, tangents, _promotion(stack.base, bound), jit)


def _jvp_runner(fn: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...],
                jit: bool, flat: bool = False) -> Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, Any]]:
    """The checked path of ``jvp`` for calls with the signature of ``primals`` and ``tangents``
    (already ``bind``'s flat arguments if ``flat``): checks them, compiles, and returns the runner
    for such calls (conversions it needs decided)."""
    check_function(fn, "adc.jvp")
    call = "adc.jvp(f, (x, y), (dx, dy))"
    primals, tangents = _sequence(primals, "primals", call), _sequence(tangents, "tangents", call)
    if len(primals) != len(tangents):
        raise DifferentiationError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    bound = tuple(primals) if flat else bind(fn, primals)
    tangents = tangents + tuple(_zero_tangent(p) for p in bound[len(tangents):])  # parameters left at their defaults
    promoted = _promotion(fn, bound)
    args, types = prepare(fn, bound, promoted)
    names = parameter_names(fn, len(args))
    leaves, paths = _leaves_and_paths(args, names)
    tangent_leaves = []
    for a, t, name in zip(args, tangents, names):
        tree, t_leaves, t_tree = flatten(a)[1], *flatten(t, f"the tangent of {name}")
        if t_tree != tree:
            raise DifferentiationError(f"the tangent of {name} must have the structure of {name} (JAX's convention: "
                                       f"a tangent is a tree like its primal); got {type(t).__name__}")
        tangent_leaves += t_leaves
    n_leaves = len(flatten_args(args, names).leaf_positions(range(positional(fn, len(args)))))
    wrt = [k for k in _all_float_wrt(leaves) if k < n_leaves]  # keyword-only arguments: never differentiated
    labels = [k for k in range(n_leaves) if isinstance(leaves[k], np.ndarray) and leaves[k].dtype.kind in "biu"]
    _check_no_tangent(tangent_leaves, labels, paths)
    compiled = compile_derivative(fn, types, "jvp", wrt, jit)
    ts = [_dtype_like(_same_shape(argument(tangent_leaves[k], f"the tangent of {paths[k]}", True), leaves[k],
                                  f"the tangent of {paths[k]}"), leaves[k]) for k in wrt]
    n = len(compiled.primal.outputs)
    unpack = _unpacker(compiled.primal.result)
    # what a call with this signature must convert: nothing when every leaf is passed on as it is
    same_args = len(bound) == len(primals) and all(x is y for x, y in zip(leaves, leaves_of(bound)))
    same_tangents = len(bound) == len(primals) and all(tangent_leaves[k] is t for k, t in zip(wrt, ts))

    def run(primals: Sequence[Any], tangents: Sequence[Any], p_leaves: list[Any] | None = None,
            t_leaves: list[Any] | None = None) -> tuple[Any, Any]:
        """``p_leaves``, ``t_leaves``: the leaves of ``primals`` and ``tangents`` (``None``: not
        taken yet)."""
        if same_args:
            call_leaves = p_leaves if p_leaves is not None else leaves_of(primals)
        else:
            bound = tuple(primals) if flat else bind(fn, primals)
            call_leaves = leaves_of(coerce(fn, bound, promoted))
        if same_tangents:
            t_leaves = t_leaves if t_leaves is not None else leaves_of(tangents)
            call_ts = [t_leaves[k] for k in wrt]
        else:
            filled = tuple(primals) if flat else bind(fn, primals)
            t_leaves = leaves_of(tangents + tuple(_zero_tangent(p) for p in filled[len(tangents):]))
            call_ts = [_dtype_like(argument(t_leaves[k], f"the tangent of {paths[k]}", True), call_leaves[k])
                       for k in wrt]
        if labels:
            _check_no_tangent(t_leaves, labels, paths)
        result = run_generated(compiled, [*call_leaves, *call_ts])
        return unpack(result[:n]), unpack(result[n:])

    return run


def _check_no_tangent(tangents: Sequence[Any], labels: Sequence[int], paths: Sequence[str]) -> None:
    """An integer or boolean array is data to ``jvp`` (labels, indices, masks: JAX gives it a
    ``float0`` tangent), so a tangent other than zero for one is refused (adc's result would leave
    it out)."""
    for k in labels:
        if np.any(tangents[k]):
            raise DifferentiationError(f"the tangent of {paths[k]} is not zero, but {paths[k]} is an integer or boolean array, "
                                       "which jvp treats as data (labels, indices, masks) with no tangent, as JAX does; pass "
                                       f"{paths[k]}.astype(float) to differentiate along it, or a zero tangent")


def _unpacker(tree: TreeDef) -> Callable[[Sequence[Any]], Any]:
    """``_unflatten`` along ``tree``, with no walk for a single output."""
    if tree.kind == "leaf":
        return lambda values: _output(values[0])
    return lambda values: _unflatten(values, tree)


_RUNNERS = Cache()  # the runners of ``jvp``, ``vjp`` and the Jacobians, per function and call signature


def vjp(fn: Callable[..., Any], *primals: Any, jit: Jit = False,
        checkpoints: int | None = None) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), pullback)``; ``pullback(cotangent)`` returns one cotangent per primal.
    A cotangent has the shape of ``f``'s output (a tuple of them for a tuple output).

    As ``jax.vjp``: ``pullback(v)`` is ``v @ J(primals)``, computed by one reverse sweep; it can be
    called many times (one row of the Jacobian per unit ``v``).  The forward sweep runs once, here,
    and each pullback runs only the reverse sweep on what it kept (where the reverse sweep cannot
    run twice on that, as for a loop whose values go on a tape, each pullback runs both).  ``f`` may be made by ``adc.grad``
    or by ``adc.jacfwd``/``adc.jacrev``/``adc.hessian`` (then the cotangent has the Jacobian's
    structure and the pullback runs one VJP per seed of the Jacobian).

    Args:
        fn: the function to differentiate.
        *primals: its arguments.
        jit: compile the generated code with Numba (``"parallel"``: with ``parallel=True``,
            as for ``grad``).
        checkpoints: keep at most this many snapshots per outermost loop and recompute the rest
            (binomial checkpointing; see docs/composition.md#checkpointing).

    Returns:
        ``(f(*primals), pullback)``.

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.sin(x) * 2.0
        >>> out, pullback = adc.vjp(f, np.array([0.0, 1.0]))
        >>> pullback(np.array([1.0, 1.0]))
        (array([2.        , 1.08060461]),)
    """
    check_jit(jit)
    checkpoints = _check_checkpoints(checkpoints)
    stack = stack_of(fn)
    if stack is not None:  # the pullback of a Jacobian (jacobians.py)
        if checkpoints is not None:
            raise DifferentiationError("checkpoints applies to adc.vjp of a function adc reads, not of a Jacobian")
        return nested.vjp(stack, primals, {}, _promotion(stack.base, bind(stack.base, primals)), jit)
    found = signature(primals)
    key, leaves = found if found is not None else (None, None)
    return cached_call(_RUNNERS, fn, ("vjp", jit, checkpoints), key,
                       lambda: _vjp_runner(fn, primals, jit, checkpoints), primals, leaves)


def _vjp_runner(fn: Callable[..., Any], primals: tuple[Any, ...], jit: bool, checkpoints: int | None = None,
                flat: bool = False) -> Callable[[tuple[Any, ...], list[Any] | None], tuple[Any, Callable[[Any], tuple[Any, ...]]]]:
    """The checked path of ``vjp`` for calls with the signature of ``primals`` (already ``bind``'s
    flat arguments if ``flat``): checks, compiles, and returns the runner for such calls."""
    check_function(fn, "adc.vjp")
    bound = tuple(primals) if flat else bind(fn, primals)
    promoted = _promotion(fn, bound)
    args, types = prepare(fn, bound, promoted)
    layout = flatten_args(args, parameter_names(fn, len(args)))
    kept = range(positional(fn, len(args)))  # keyword-only arguments get no cotangent (JAX: none)
    wrt = list(range(len(layout.leaf_positions(kept))))
    compiled = compile_derivative(fn, types, "vjp", wrt, jit, checkpoints=checkpoints)
    # the pullback reruns only the reverse sweep where it can (``vjp_parts.py``; checkpointing: never)
    parts = compile_vjp_parts(fn, types, wrt, jit) if checkpoints is None else None
    same = len(bound) == len(primals) and all(x is y for x, y in zip(layout.leaves, leaves_of(bound)))

    def run(primals: tuple[Any, ...], p_leaves: list[Any] | None) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
        """``p_leaves``: the leaves of ``primals`` (``None``: not taken yet)."""
        if same:
            args, leaves = primals, p_leaves if p_leaves is not None else leaves_of(primals)
        else:
            primals = tuple(primals) if flat else bind(fn, primals)
            args = tuple(coerce(fn, primals, promoted))
            leaves = leaves_of(args)
        return _pullback(fn, compiled, layout, kept, primals, args, leaves, parts)

    return run


def _vjp_bound(fn: Callable[..., Any], primals: Sequence[Any], jit: bool) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``vjp`` at flat arguments (``bind``'s): one cotangent per positional argument."""
    return _vjp_runner(fn, tuple(primals), jit, flat=True)(tuple(primals), None)


def _finite_numbers(values: Sequence[Any]) -> bool:
    """Are ``values`` all numbers or numeric arrays, and all finite?"""
    for v in values:
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf" or (v.dtype.kind == "f" and not np.isfinite(v).all()):
                return False
        elif not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v):
            return False
    return True


def _pullback(fn: Callable[..., Any], compiled: Compiled, layout: Any, kept: range, primals: tuple[Any, ...],
              args: Sequence[Any], leaves: list[Any], parts: VjpParts | None = None
              ) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``fn(*args)`` and the pullback of ``fn`` at ``args`` (whose leaves are ``leaves``), with a
    cotangent for each of the arguments ``kept``.  With ``parts``, the forward sweep runs once here
    and each pullback runs the reverse sweep on its residuals (``vjp_parts.py``)."""
    prog = compiled.primal
    n = len(prog.outputs)
    inputs = with_captured(compiled, leaves) if parts is not None else leaves
    swept = parts.sweep(inputs) if parts is not None else None
    reverse = swept.reverse if swept is not None else None
    # without the cut the pullback runs the whole program later: on the primals as given now (JAX's)
    given = leaves if reverse is not None else [a.copy() if isinstance(a, np.ndarray) else a for a in leaves]
    if swept is not None and parts is not None and parts.gives_output(inputs) and prog.out_tree is None \
            and prog.result.kind == "leaf" and not prog.writes_arguments and _finite_numbers(swept.outputs):
        # one output (a number or an array) computed by plain Python, which raises where the
        # function does: the forward part's (a copy, since it may be a residual or an input), so
        # the function does not run a second time.  Numba code does not raise where Python does
        # (it gives nan or inf, wraps integers), so under jit the function runs unless its
        # operations raise alike (``vjp_parts.raises_alike``: NumPy's on arrays); a tuple, list or
        # dict is the function's own, with its own types, and so is the output of float32
        # arrays (NumPy's result dtype, which adc's types do not follow) and one that is not
        # finite (where NumPy scalars give inf, Python floats may raise).
        (value,) = swept.outputs
        out = value.copy() if isinstance(value, np.ndarray) else value
    else:
        try:
            out = call_flat(fn, args, protect=prog.writes_arguments)
        except Exception as exc:  # the function itself fails at this point: say where
            report(compiled, exc, args)
    if parts is not None and reverse is None and parts.usable:  # its forward part failed where the function runs
        parts.usable = False
    outs = leaves_like(out, prog.result, f"the output of {fn.__name__}")
    if any(np.iscomplexobj(o) for o in outs):  # the function's own value, where adc's code raises
        raise DifferentiationError(
            f"{fn.__name__} returns a complex number at these arguments (Python's ** of a negative float to a "
            "power that is not an integer); adc differentiates real functions: keep the base at least 0, or "
            "write np.power(x, y), which gives NumPy's nan")
    like = [like_of(p, a) for p, a in zip(leaves_of(primals), leaves)]

    def whole(cts: Sequence[Any]) -> Sequence[Any]:
        return run_generated(compiled, [*given, *cts])[n:]

    adjoints_of = parts.adjoints_by(reverse, whole) if parts is not None else whole

    def pullback(cotangent: Any) -> tuple[Any, ...]:
        if prog.out_tree is not None and not isinstance(cotangent, (tuple, list, dict)) \
                and not dataclasses.is_dataclass(cotangent):
            raise DifferentiationError(f"{fn.__name__} returns a tuple of {n}; its pullback takes a tuple "
                                       f"of {n} cotangents, got {type(cotangent).__name__}")
        if prog.out_tree is not None and isinstance(cotangent, (tuple, list)) and prog.result.kind in ("tuple", "list") \
                and len(cotangent) != len(prog.result.children):
            raise DifferentiationError(f"pullback expected {len(prog.result.children)} cotangents, got {len(cotangent)}")
        cts = leaves_like(cotangent, prog.result, f"the cotangent of {fn.__name__}'s output")
        what = [f"the cotangent of {fn.__name__}'s output" + (f" #{k}" if prog.out_tree is not None else "")
                for k in range(n)]
        cts = [_dtype_like(_same_shape(argument(c, w, True), o, w), o) for c, o, w in zip(cts, outs, what)]
        adjoints = adjoints_of(cts)
        grads = _unaliased(tuple(_shape_like(g, a) if isinstance(a, (float, np.floating, np.ndarray)) else _output(g)
                                 for g, a in zip(adjoints, like)), [*leaves, *given, *cts])
        return tuple(layout.regroup(kept, grads))

    return out, mark(pullback, "adc.vjp")


def _types_for(fn: Callable[..., Any], at: Sequence[Any] | None, wrt: Sequence[int] = ()) -> tuple[list[Any] | None, tuple[Type, ...]]:
    from .frontend import signature_of

    if at is None:
        signature = signature_of(fn)
        return None, tuple(FLOAT for _ in (*signature.names, *signature.kwonly))
    check_at(fn, at)
    return prepare(fn, at, wrt)


def source(fn: Callable[..., Any], mode: str = "reverse", argnums: Argnums | None = 0, *,
           at: Sequence[Any] | None = None, compact: bool = False) -> str:
    """The generated derivative source (``str``), as ``adc source`` prints it.

    ``mode="reverse"`` gives the gradient function; ``mode="forward"`` the JVP (dual-number)
    function; ``mode="hvp"`` the Hessian-vector product (forward over reverse, see ``adc.hvp``).  ``at`` gives example arguments whose types the code is specialised to (default: every
    argument a float); an int in a differentiated position counts as a float, as in ``grad``.
    ``argnums=None`` differentiates with respect to every argument that can be real (ints too,
    unless the function uses them as integers, as ``jvp`` does).  By default the code has the
    lecture layout: a seed, then one adjoint statement per primal statement.  ``compact=True``
    gives the code adc actually runs: the same derivative with the unit seed folded and every
    single-use scalar folded into its use.  (JAX has no counterpart: this is the code adc writes.)

    Example:
        >>> import math, adc
        >>> def f(x1, x2):
        ...     return math.log(x1) + x1 * x2 - math.sin(x2)
        >>> print(adc.source(f, argnums=(0, 1), compact=True))
        import math
        <BLANKLINE>
        import numpy as np
        <BLANKLINE>
        <BLANKLINE>
        def f_grad(x1, x2):
            \"\"\"Gradient of f with respect to x1, x2 (reverse mode, generated by adc).\"\"\"
            # reverse sweep
            return x2 + 1.0 / x1, x1 - math.cos(x2)
        <BLANKLINE>
    """
    check_function(fn, "adc.source")
    _check_mode(mode, ("reverse", "forward", "hvp"), "; example arguments go in at=(...): adc.source(f, at=(x,))")
    if argnums is None:
        if at is None:
            prepared, types = _types_for(fn, at)
        else:
            check_at(fn, at)
            prepared, types = _promoted(fn, at)
        wrt = [i for i, t in enumerate(types) if isinstance(t, TreeType) or t.kind == "float"]
        if not wrt:
            raise DifferentiationError(f"{fn.__name__} has no argument to differentiate with respect to: "
                                       "every one is used as an integer")
    else:
        prepared, types = _types_for(fn, at)
        wrt, _ = normalize_argnums(argnums, positional(fn, len(types)), fn.__name__)
        if at is not None:
            prepared, types = _types_for(fn, at, wrt)
    if prepared is not None:
        wrt = _leaf_wrt(prepared, types, wrt)
    kind = {"reverse": "grad", "forward": "jvp", "hvp": "hvp"}[mode]
    if kind in ("grad", "hvp"):
        _check_scalar_output(fn, types)
    compiled = compile_derivative(fn, types, kind, wrt, load=False, compact=compact)
    return compiled.source


def trace(fn: Callable[..., Any], at: Sequence[Any] | None = None) -> Trace:
    """The SSA program of ``fn``; ``str()`` is the ``v0 = ...`` listing, ``.tables(*args)`` the
    evaluation, forward-derivative and adjoint traces with values (what ``adc trace`` prints).

    ``at``: example arguments whose types the program is made for (default: every argument a
    float); arrays need it.  (JAX's counterpart is ``jax.make_jaxpr``.)

    Example:
        >>> import math, adc
        >>> def f(x1, x2):
        ...     return math.log(x1) + x1 * x2 - math.sin(x2)
        >>> print(adc.trace(f))
        def f(x1, x2):
            v0 = x1
            v1 = x2
            v2 = log(v0)              # line 2
            v3 = v0 * v1              # line 2
            v4 = v2 + v3              # line 2
            v5 = sin(v1)              # line 2
            v6 = v4 - v5              # line 2
            y = v6
        <BLANKLINE>
    """
    check_function(fn, "adc.trace")
    _, types = _types_for(fn, at)
    return Trace(fn, primal(fn, types), types)


def _plain(a: np.ndarray) -> Any:
    """A 0-d Jacobian (scalar in, scalar out) as a float."""
    return float(a) if a.shape == () else a


def _jacobian_args(fn: Callable[..., Any], argnums: Argnums, args: Sequence[Any],
                   kwargs: dict[str, Any]) -> tuple[list[int], bool, list[Any]]:
    args = bind(fn, args, kwargs)
    wrt, single = normalize_argnums(argnums, positional(fn, len(args)), getattr(fn, "__name__", "f"))
    return wrt, single, coerce(fn, args, wrt)


def jacfwd(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: Jit = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by forward mode (use it for tall Jacobians, few inputs).
    ``J[out_index + in_index]``, like ``jax.jacfwd``.

    Vector mode: one pass of generated code carries every input direction (a trailing batch axis
    on each tangent), seeded with the identity.  Where ``fn`` uses an op without a batched rule
    (``np.max``, a transpose, linear algebra, ...) or returns a tuple, one JVP per input component.

    Returns a function with ``fn``'s arguments; its result has shape ``out.shape + in.shape`` (a
    float for a scalar function of a scalar; a tuple of Jacobians when ``argnums`` is a tuple; for
    ``fn`` returning a tuple, dict, ..., that structure of Jacobians, one per output, as in JAX).

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.array([1.0, 2.0]) * x[0] * x[1]
        >>> adc.jacfwd(f)(np.array([3.0, 4.0]))
        array([[4., 3.],
               [8., 6.]])
    """
    check_jit(jit)
    stack = _stack(fn, "adc.jacfwd", ("jacfwd", argnums))
    options = ("jacfwd", tuple(argnums) if isinstance(argnums, (list, tuple)) else argnums, jit)

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        if stack is not None:  # a Jacobian of a Jacobian (jacobians.py)
            return nested_jacobian(stack, args, kwargs, jit)
        args = bind(fn, args, kwargs)
        found = signature(args)
        return cached_call(_RUNNERS, fn, options, found[0] if found is not None else None,
                           lambda: _jacfwd_runner(fn, argnums, args, jit), args)

    return _made_jacobian(jacobian, fn, "adc.jacfwd", [("jacfwd", argnums)])


def _jacfwd_runner(fn: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...],
                   jit: bool) -> Callable[[tuple[Any, ...]], Any]:
    """The Jacobian by forward mode for calls like ``args``: vector mode (one pass carrying every
    direction, seeded with the identity) when every op of ``fn`` has a batched rule and ``fn``
    returns one value; else one JVP per input component."""
    from .vector import supports

    wrt, single = normalize_argnums(argnums, positional(fn, len(args)), getattr(fn, "__name__", "f"))
    prepared, types = prepare(fn, args, wrt)
    layout = flatten_args(prepared, parameter_names(fn, len(args)))
    leaf_wrt = layout.leaf_positions(wrt)
    prog = primal(fn, types)
    shapes = [np.shape(layout.leaves[k]) for k in leaf_wrt]
    sizes = [int(np.prod(shape)) for shape in shapes]
    if prog.out_tree is not None or not sum(sizes) or not supports(prog, leaf_wrt):
        return lambda call_args: _jacfwd_columns(fn, wrt, single, call_args, jit, prog.result)
    compiled = compile_derivative(fn, types, "vjvp", leaf_wrt, jit)
    k = sum(sizes)
    offsets = np.cumsum([0, *sizes]).tolist()
    seeds = []  # the identity, split by input: the generated code never writes into its tangents
    for shape, size, start, leaf in zip(shapes, sizes, offsets, (layout.leaves[i] for i in leaf_wrt)):
        dtype = leaf.dtype if isinstance(leaf, np.ndarray) else np.float64
        seed = np.zeros((size, k), dtype=dtype)
        seed[np.arange(size), start + np.arange(size)] = 1.0
        seeds.append(seed.reshape(shape + (k,)))
    n_out = len(prog.outputs)
    same = all(x is y for x, y in zip(layout.leaves, leaves_of(args)))

    def run(call_args: tuple[Any, ...]) -> Any:
        leaves = leaves_of(call_args if same else coerce(fn, call_args, wrt))
        result = run_generated(compiled, [*leaves, *seeds])
        out_shape = np.shape(result[0])
        columns = np.broadcast_to(result[n_out], out_shape + (k,))
        blocks = [_plain(np.array(columns[..., a:b]).reshape(out_shape + shape))
                  for a, b, shape in zip(offsets, offsets[1:], shapes)]
        results = layout.regroup(wrt, blocks)
        # the output's structure around its one leaf (``grad(f, argnums=(0,))`` returns a tuple of one)
        return unflatten(prog.result, [results[0] if single else tuple(results)])

    return run


def _jacfwd_columns(fn: Callable[..., Any], wrt: list[int], single: bool, args: tuple[Any, ...], jit: bool,
                    result: TreeDef) -> Any:
    """The Jacobian by one JVP per input component; for a function returning the structure
    ``result`` (a tuple, ...), JAX's: that structure, each leaf the Jacobian of that output."""
    args = coerce(fn, args, wrt)
    zeros = [_zero_tangent(a) for a in args]
    per_output: list[list[Any]] = [[] for _ in range(result.size)]  # per output leaf: one entry per argument
    out_shapes: list[tuple[int, ...]] = []  # the output leaves' shapes, once an empty leaf needs them
    for i in wrt:
        leaves, tree = flatten(args[i])
        blocks: list[list[Any]] = [[] for _ in range(result.size)]  # per output leaf: one block per leaf of the argument
        for k, leaf in enumerate(leaves):
            shape = np.shape(leaf)
            columns = []
            run = None  # one runner for this leaf's columns: their tangents differ only in values
            for j in range(int(np.prod(shape))):
                seed = np.zeros(shape)
                seed.flat[j] = 1.0
                seeds = flatten(zeros[i])[0]
                seeds[k] = seed if shape else 1.0
                tangents = list(zeros)
                tangents[i] = unflatten(tree, seeds)
                if run is None:
                    run = _jvp_runner(fn, tuple(args), tuple(tangents), jit, flat=True)
                out = leaves_like(run(tuple(args), tuple(tangents))[1], result, f"the output of {fn.__name__}")
                columns.append([np.asarray(o) for o in out])
            if not columns and not out_shapes:  # an empty leaf, no column: one pass for the outputs' shapes
                values = _jvp_runner(fn, tuple(args), tuple(zeros), jit, flat=True)(tuple(args), tuple(zeros))[0]
                out_shapes += [np.shape(o) for o in leaves_like(values, result, f"the output of {fn.__name__}")]
            for m, block in enumerate(blocks):
                column = [c[m] for c in columns]
                block.append(_plain(np.stack(column, axis=-1).reshape(column[0].shape + shape)) if column
                             else np.zeros(out_shapes[m] + shape))
        for m, block in enumerate(blocks):
            per_output[m].append(unflatten(tree, block))
    return unflatten(result, [r[0] if single else tuple(r) for r in per_output])


def jacrev(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: Jit = False) -> Callable[..., Any]:
    """The Jacobian of ``fn`` by reverse mode: one VJP per output component (use it for wide
    Jacobians, few outputs).  ``J[out_index + in_index]``, like ``jax.jacrev``.

    Returns a function with ``fn``'s arguments, with the same result as ``jacfwd`` (for ``fn``
    returning a tuple, dict, ..., that structure of Jacobians, one per output).

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.array([1.0, 2.0]) * x[0] * x[1]
        >>> adc.jacrev(f)(np.array([3.0, 4.0]))
        array([[4., 3.],
               [8., 6.]])
    """
    check_jit(jit)
    stack = _stack(fn, "adc.jacrev", ("jacrev", argnums))

    def jacobian(*args: Any, **kwargs: Any) -> Any:
        if stack is not None:  # a Jacobian of a Jacobian (jacobians.py)
            return nested_jacobian(stack, args, kwargs, jit)
        wrt, single, args = _jacobian_args(fn, argnums, args, kwargs)
        out, pullback = _vjp_bound(fn, args, jit)
        result = primal(fn, prepare(fn, args, wrt)[1]).result  # a tuple, ...: JAX's, that structure of Jacobians
        outs = [np.asarray(o) for o in leaves_like(out, result, f"the output of {fn.__name__}")]
        trees = [flatten(args[i]) for i in wrt]  # (leaves, structure) of each argument
        per_output = []
        for n, o in enumerate(outs):
            rows: list[list[list[Any]]] = [[[] for _ in leaves] for leaves, _ in trees]
            for j in range(o.size):
                seeds = [np.zeros(p.shape) if p.shape else 0.0 for p in outs]
                seeds[n] = nested.unit(o.shape, j)
                cts = pullback(unflatten(result, seeds))
                for k, i in enumerate(wrt):
                    for m, ct in enumerate(flatten(cts[i])[0]):
                        rows[k][m].append(np.asarray(ct, dtype=_float_dtype(trees[k][0][m])))
            results = [unflatten(tree, [_plain(np.stack(r).reshape(o.shape + np.shape(leaf))) if r
                                        else np.zeros(o.shape + np.shape(leaf), dtype=_float_dtype(leaf))  # no row
                                        for r, leaf in zip(rs, leaves)])
                       for rs, (leaves, tree) in zip(rows, trees)]
            per_output.append(results[0] if single else tuple(results))
        return unflatten(result, per_output)

    return _made_jacobian(jacobian, fn, "adc.jacrev", [("jacrev", argnums)])


def _float_dtype(leaf: Any) -> Any:
    """The dtype of a Jacobian's block with respect to ``leaf`` (JAX's): a float array's own, else float64."""
    return leaf.dtype if isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f" else np.float64


def _stack(fn: Callable[..., Any], transform: str, *levels: tuple[str, Argnums]) -> Stack | None:
    """The transforms ``levels`` over ``fn`` when ``fn`` is itself made by ``jacfwd``/``jacrev``/
    ``hessian`` (a Jacobian of a Jacobian), else ``None`` once ``fn`` is checked."""
    inner = stack_of(fn)
    if inner is None:
        check_function(fn, transform)
    for _, argnums in levels:
        check_argnums_type(argnums)
    if inner is None:
        return None
    return Stack(inner.base, inner.levels + tuple((k, level_argnums(a)) for k, a in levels))


def _made_jacobian(made: Callable[..., Any], fn: Callable[..., Any], transform: str,
                   levels: list[tuple[str, Argnums]]) -> Callable[..., Any]:
    """``made`` marked as made by ``transform`` from ``fn``: a function ``jacfwd``/``jacrev``/``hessian``
    transform again (``jacobians.py``)."""
    made = mark(_named_like(fn)(made), transform)
    mark_jacobian(made, fn, tuple((k, level_argnums(a)) for k, a in levels))
    return made


HESSIAN_DIRECTIONS = 64  # columns of a Hessian per vector-mode pass (its tangents are (..., 64) arrays)


class _HvpRunner:
    """The compiled Hessian-vector products of ``fn`` at arguments like ``args``: ``product`` (one
    forward-over-reverse pass) and ``hessian`` (vector mode where it can); the generated code takes
    the leaves of tree arguments.  ``same``: the call's leaves were passed on unconverted, so a
    later call with the same signature can run it on its own leaves."""

    def __init__(self, fn: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...], jit: Jit) -> None:
        self.wrt, self.single = normalize_argnums(argnums, positional(fn, len(args)), fn.__name__)
        self.args, types = prepare(fn, args, self.wrt)
        _check_scalar_output(fn, types)
        self.layout = flatten_args(self.args, parameter_names(fn, len(args)))
        self.leaf_wrt = self.layout.leaf_positions(self.wrt)
        originals = leaves_of(args)
        self.like = [like_of(originals[k], self.layout.leaves[k]) for k in self.leaf_wrt]
        self.same = len(originals) == len(self.layout.leaves) and all(
            a is b for a, b in zip(self.layout.leaves, originals))
        self.fn, self.types, self.jit = fn, types, jit
        self._compiled: Compiled | None = None
        self._blocks: tuple[Compiled, list[np.ndarray]] | None | bool = None  # ``hessian``'s, once made

    @property
    def compiled(self) -> Compiled:
        """The one-direction product (made on first use)."""
        if self._compiled is None:
            self._compiled = compile_derivative(self.fn, self.types, "hvp", self.leaf_wrt, self.jit)
        return self._compiled

    def hessian(self, leaves: list[Any] | None = None) -> Any:
        """The Hessian with respect to the one differentiated leaf ``x``, at ``leaves`` (default:
        the runner's own), of shape ``x.shape + x.shape`` (a float for a number):
        ``HESSIAN_DIRECTIONS`` columns per vector-mode pass where every op of the gradient program
        has a batched forward rule (``jax.hessian`` is ``jacfwd`` of ``jacrev``, vmapped), else one
        product per column.  Whether it can, and the seeds, are decided on the first call."""
        leaves = self.layout.leaves if leaves is None else leaves
        x = leaves[self.leaf_wrt[0]]
        if not isinstance(x, np.ndarray):
            return float(self.product([1.0], leaves)[0])
        n = x.size
        if self._blocks is None:
            self._blocks = self._vector_mode(x) if n else False
        if self._blocks:
            compiled, seeds = self._blocks
            columns = [np.asarray(run_generated(compiled, [*leaves, seed]), dtype=float).reshape(n, -1) for seed in seeds]
        else:
            eye = np.eye(n)
            columns = [np.asarray(self.product([eye[j].reshape(x.shape)], leaves)[0], dtype=float).reshape(n, 1)
                       for j in range(n)]
        matrix = np.concatenate(columns, axis=1) if columns else np.zeros((0, 0))
        return matrix.reshape(x.shape + x.shape).astype(x.dtype, copy=False)

    def _vector_mode(self, x: np.ndarray) -> tuple[Compiled, list[np.ndarray]] | bool:
        """The vector-mode program and its seed blocks (the identity, ``HESSIAN_DIRECTIONS`` columns
        each: the generated code never writes into its tangents), or ``False`` where an op of the
        gradient program has no batched rule."""
        from .vector import Unbatched

        try:
            compiled = compile_derivative(self.fn, self.types, "vhvp", self.leaf_wrt, self.jit)
        except Unbatched:
            return False
        eye = np.eye(x.size)
        return compiled, [eye[:, s:s + HESSIAN_DIRECTIONS].reshape(x.shape + (-1,)).copy()
                          for s in range(0, x.size, HESSIAN_DIRECTIONS)]

    def product(self, vectors: Sequence[Any], leaves: list[Any] | None = None) -> tuple[Any, ...]:
        """``H @ v`` for the leaves ``vectors`` of ``v`` (one per differentiated leaf), leaf by leaf,
        at the arguments' leaves (default: those the runner was made with)."""
        leaves = self.layout.leaves if leaves is None else leaves
        result = run_generated(self.compiled, [*leaves, *vectors])
        result = (result,) if len(self.leaf_wrt) == 1 else tuple(result)
        return tuple(_shape_like(r, a) for r, a in zip(result, self.like))


def hvp(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: Jit = False) -> Callable[..., Any]:
    """The Hessian-vector product of scalar ``fn``: ``hvp(fn)(*args, v)`` is ``H(args) @ v``, with
    ``H`` the Hessian with respect to ``args[argnums]`` and ``v`` shaped like that argument (a tuple
    of vectors, one per argument, when ``argnums`` is a tuple; the result is then a tuple of
    ``sum_j H_ij v_j``).  For a dict, list, tuple, namedtuple or dataclass argument ``v`` has its
    structure, and so has the result.

    Forward over reverse, in the IR: the JVP (forward mode) of the generated gradient program, in
    direction ``v``; one pass costs a small constant times the gradient, and no Hessian is formed.
    Loops with records and tapes, ``while``, branches and array writes are handled: the runtime
    primitives of the reverse sweep have forward rules of their own (a tape of values gets a tape of
    tangents).  ``adc.source(f, mode="hvp", at=...)`` shows the generated code.  (JAX composes it as
    ``jax.jvp(jax.grad(f), (x,), (v,))[1]``.)

    Example:
        >>> import numpy as np, adc
        >>> def f(x):
        ...     return np.sum(x ** 3)
        >>> adc.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 1.0]))
        array([ 6., 12.])
    """
    check_jit(jit)
    check_function(fn, "adc.hvp")
    check_argnums_type(argnums)

    def prepared(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[_HvpRunner, list[Any], bool]:
        """The runner for a call, the vector's leaves, and whether the runner may serve later calls
        with this call's signature (arguments and vector passed on unconverted, no container)."""
        if not args:
            raise DifferentiationError(f"hvp of {fn.__name__} takes {fn.__name__}'s arguments and then the vector v")
        *primals, v = args
        primals_ = bind(fn, tuple(primals), kwargs)
        runner = _HvpRunner(fn, argnums, primals_, jit)
        vs = (v,) if runner.single else tuple(v) if isinstance(v, (tuple, list)) else (v,)
        if len(vs) != len(runner.wrt):
            raise DifferentiationError(f"hvp of {fn.__name__} with argnums={argnums!r} takes a tuple of "
                                       f"{len(runner.wrt)} vectors, got {len(vs)}")
        names = parameter_names(fn, len(primals_))
        vectors = direction_leaves(vs, runner.layout, runner.wrt, ["the vector v of hvp"] * len(vs), names)
        reusable = runner.single and runner.same and not kwargs and len(primals_) == len(primals) and vectors[0] is v
        return runner, vectors, reusable

    def answer(runner: _HvpRunner, vectors: list[Any]) -> Any:
        out = runner.layout.regroup(runner.wrt, runner.product(vectors))
        return out[0] if runner.single else tuple(out)

    def made(args: tuple[Any, ...]) -> Callable[..., Any]:
        """The runner for calls with the signature of ``args``: the compiled product on their
        values; for arguments that are converted, everything again at each later call."""
        runner, vectors, reusable = prepared(args, {})
        if reusable:
            return lambda *call: runner.product([call[-1]], list(call[:-1]))[0]
        pending = [(runner, vectors)]  # this call's own, prepared already

        def each(*call: Any) -> Any:
            return answer(*(pending.pop() if pending else prepared(call, {})[:2]))
        return each

    def product(*args: Any, **kwargs: Any) -> Any:
        found = signature(args) if not kwargs and args else None
        if found is None:
            return answer(*prepared(args, kwargs)[:2])
        return cached_call(_RUNNERS, fn, ("hvp", argnums, jit), found[0], lambda: made(args), *args)

    return mark(_named_like(fn)(product), "adc.hvp")


def _scalar_valued(fn: Callable[..., Any], args: tuple[Any, ...], argnums: Argnums) -> bool:
    """Does ``fn`` return one number at arguments like ``args`` (differentiated: ``argnums``)?"""
    wrt, _ = normalize_argnums(argnums, positional(fn, len(args)), fn.__name__)
    prog = primal(fn, prepare(fn, args, wrt)[1])
    out = prog.outputs[0] if prog.outputs else None
    return prog.out_tree is None and out is not None and not (out.type is not None and out.type.is_array)


def hessian(fn: Callable[..., Any], argnums: Argnums = 0, *, jit: Jit = False) -> Callable[..., Any]:
    """The Hessian of scalar ``fn`` w.r.t. ``args[argnums]``: forward mode over reverse mode in the
    IR (the JVP of the generated gradient program), up to ``HESSIAN_DIRECTIONS`` input directions
    per vector-mode pass, or one Hessian-vector product per input component where an op of the
    gradient program has no batched rule.  ``H[in_index + in_index]``.

    Works for everything ``grad`` differentiates: loops (their records and tapes get tangent records
    and tapes), ``while``, branches, array writes and recursive functions.  ``jit=True`` compiles the
    generated code with Numba.

    As ``jax.hessian``: for one array argument the result has shape ``in.shape + in.shape`` (a float
    for a scalar argument); with a tuple ``argnums`` it is a tuple of tuples of blocks
    (``H[i][j]`` of shape ``args[i].shape + args[j].shape``), and for a dict, list, tuple,
    namedtuple or dataclass argument the same structure twice (a dict of dicts for a dict), each
    block of shape ``out.shape + a.shape + b.shape`` (``jacfwd(jacrev(fn))``, ``jacobians.py``).
    An ``fn`` returning an array, or a tuple or dict of values, gets ``jacfwd(jacrev(fn))`` too:
    shape ``out.shape + in.shape + in.shape``, in the structure of its result.

    Example:
        >>> import math, numpy as np, adc
        >>> def f(x1, x2):
        ...     return math.log(x1) + x1 * x2 - math.sin(x2)
        >>> adc.hessian(f)(2.0, 5.0)
        -0.25
        >>> adc.hessian(f, argnums=(0, 1))(2.0, 5.0)
        ((-0.25, 1.0), (1.0, -0.9589242746631385))
        >>> def g(x):
        ...     return np.sum(x ** 3)
        >>> adc.hessian(g)(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    check_jit(jit)
    levels = [("jacrev", argnums), ("jacfwd", argnums)]  # jacfwd(jacrev(fn)), as JAX's
    stack = _stack(fn, "adc.hessian", *levels)
    one = isinstance(argnums, (int, np.integer))

    def prepared(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Callable[..., Any], bool]:
        """A function of the call's arguments giving this call's Hessian, and whether it gives
        any later call's with the same signature (arguments passed on unconverted, all given)."""
        bound = bind(fn, args, kwargs)
        if not one or any(is_tree(a) for a in bound) or not _scalar_valued(fn, bound, argnums):
            # blocks in JAX's structure: jacfwd(jacrev(fn)) (for fn returning an array or a tuple too)
            blocks = Stack(fn, tuple((k, level_argnums(a)) for k, a in levels))
            return (lambda *call: nested_jacobian(blocks, call, kwargs, jit)), not kwargs
        runner = _HvpRunner(fn, int(argnums), bound, jit)
        if runner.same and not kwargs and len(bound) == len(args):
            return (lambda *call: runner.hessian(list(call))), True
        return (lambda *call: runner.hessian()), False

    def made(args: tuple[Any, ...]) -> Callable[..., Any]:
        """The runner for calls with the signature of ``args``."""
        run, reusable = prepared(args, {})
        if reusable:
            return run
        pending = [run]  # this call's own, prepared already

        def each(*call: Any) -> Any:
            return (pending.pop() if pending else prepared(call, {})[0])(*call)
        return each

    def hess(*args: Any, **kwargs: Any) -> Any:
        if stack is not None:  # the Hessian of a Jacobian (jacobians.py)
            return nested_jacobian(stack, args, kwargs, jit)
        found = signature(args) if not kwargs else None
        if found is None:
            return prepared(args, kwargs)[0](*args)
        return cached_call(_RUNNERS, fn, ("hessian", argnums, jit), found[0], lambda: made(args), *args)

    return _made_jacobian(hess, fn, "adc.hessian", levels)
