"""Arguments at the API boundary: which functions adc accepts, how arguments are bound,
checked and converted, and ``argnums``.

Input: a user function and the arguments of a call.  Output: the positional arguments (defaults
filled in), each checked and converted (lists to float arrays, differentiated ints to floats), or
an ``AdcError`` that names the argument or parameter at fault.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

from .errors import DifferentiationError, format_located, transform_problem
from .marks import mark as mark
from .trees import TreeType, flatten, is_tree, leaf_paths, type_of_argument, unflatten
from .types import Type, type_of

Argnums = int | Sequence[int]


def normalize_argnums(argnums: Argnums, nargs: int, name: str) -> tuple[list[int], bool]:
    check_argnums_type(argnums)
    single = isinstance(argnums, (int, np.integer))
    nums = [int(argnums)] if single else [int(a) for a in argnums]  # type: ignore[arg-type, union-attr]
    if not nums:
        raise DifferentiationError(f"argnums of {name} is empty; name at least one argument")
    for a in nums:
        if not -nargs <= a < nargs:
            raise DifferentiationError(f"argnums={argnums!r} is out of range for {name}() called with {nargs} arguments")
    nums = [a % nargs for a in nums]
    if len(set(nums)) != len(nums):
        raise DifferentiationError(f"argnums={argnums!r} repeats an argument")
    return nums, single


def argnums_of(fn: Callable[..., Any], argnames: str | Sequence[str], argnums: Any) -> Argnums:
    """``argnames`` (a parameter name, or a sequence of them) as positions: one name gives one
    gradient, a sequence a tuple of gradients in its order.  ``argnums`` must be left at its
    default."""
    from .frontend import param_names

    if argnums != 0:
        raise DifferentiationError("pass either argnums or argnames, not both")
    names = param_names(fn)
    wanted = [argnames] if isinstance(argnames, str) else list(argnames)
    missing = [n for n in wanted if not isinstance(n, str) or n not in names]
    if missing or not wanted:
        raise DifferentiationError(f"argnames={argnames!r} must name parameters of {fn.__name__} "
                                   f"(its parameters: {', '.join(names)})")
    nums = [names.index(n) for n in wanted]
    return nums[0] if isinstance(argnames, str) else tuple(nums)


def check_argnums_type(argnums: Any) -> None:
    def is_int(a: Any) -> bool:
        return isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))

    if is_int(argnums) or (isinstance(argnums, (tuple, list)) and all(is_int(a) for a in argnums)):
        return
    raise DifferentiationError(f"argnums must be an int or a tuple of ints (argument positions), got {argnums!r}")


def parameter_names(fn: Callable[..., Any], n: int) -> list[str]:
    """The names of ``n`` flat arguments of ``fn`` (``Signature.flat``; for messages and leaf names)."""
    from .frontend import signature_of

    names = signature_of(fn).flat(n)
    return (names + [f"#{i}" for i in range(len(names), n)])[:n]


def positional(fn: Callable[..., Any], n: int) -> int:
    """How many of ``n`` flat arguments of ``fn`` are positional (``argnums`` count those, as in JAX)."""
    from .frontend import signature_of

    return n - len(signature_of(fn).kwonly)


def argument(value: Any, what: str, differentiated: bool) -> Any:
    """One argument as adc passes it on: NumPy arrays and numbers as they are, lists (and tuples)
    as float arrays, differentiated ones as floats (ints are promoted).  Anything else is an
    ``AdcError`` naming ``what`` (e.g. "argument x of f")."""
    kind = type(value)
    if kind is float or (kind is np.ndarray and value.dtype.kind == "f"):
        return value
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value, dtype=float)
        except (ValueError, TypeError) as exc:
            raise DifferentiationError(f"{what} is a {kind.__name__} that is not a rectangular array of real "
                                       f"numbers ({exc}); pass a NumPy float array") from None
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise DifferentiationError(f"{what} is an array of {value.dtype}; adc differentiates real "
                                       f"numbers: pass a float array{_complex_hint(value.dtype.kind == 'c')}")
        if differentiated and value.dtype.kind != "f":
            return value.astype(np.float64)
        return value
    if isinstance(value, (bool, np.bool_)):
        if differentiated:
            raise DifferentiationError(f"cannot differentiate with respect to an argument of type bool ({what}); "
                                       "pass a float")
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        if not differentiated:
            return value
        try:
            return float(value)
        except OverflowError:
            raise DifferentiationError(f"{what} is an int too large for a float (about 2**{int(value).bit_length()})") from None
    if isinstance(value, (complex, np.complexfloating)):
        raise DifferentiationError(f"{what} is complex ({value!r}); adc differentiates real-valued "
                                   f"functions of real numbers{_complex_hint(True)}")
    if differentiated:
        raise DifferentiationError(f"{what} has type {kind.__name__}; expected a float or a NumPy float array "
                                   f"(cannot differentiate with respect to an argument of type {kind.__name__})")
    raise DifferentiationError(f"{what} has type {kind.__name__}; adc passes numbers (float, int, bool) and "
                               "NumPy arrays to the function")


def _complex_hint(complex_: bool) -> str:
    return "; pass the real and imaginary parts as two float arguments" if complex_ else ""


def prepare(fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> tuple[list[Any], tuple[Type | TreeType, ...]]:
    """Differentiated arguments as floats, lists as arrays, and the arguments' types (a
    ``TreeType`` for a dict, list, tuple, namedtuple or dataclass argument)."""
    args = coerce(fn, args, wrt)
    return args, tuple(type_of_argument(a) for a in args)


def coerce(fn: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> list[Any]:
    """Every argument checked and converted by ``argument`` (every leaf of a tree argument, the
    messages naming it by its path: ``argument params['W'] of loss``)."""
    names = parameter_names(fn, len(args))
    return [_converted(a, names[i], fn.__name__, i in wrt) for i, a in enumerate(args)]


def _converted(value: Any, name: str, function: str, differentiated: bool) -> Any:
    if not is_tree(value):
        return argument(value, f"argument {name} of {function}", differentiated)
    leaves, tree = flatten(value, f"argument {name} of {function}")
    paths = leaf_paths(tree, name)
    return unflatten(tree, [argument(leaf, f"argument {p} of {function}", differentiated)
                            for leaf, p in zip(leaves, paths)])


def direction_leaves(values: Sequence[Any], layout: Any, argnums: Sequence[int], labels: Sequence[str],
                     names: Sequence[str]) -> list[Any]:
    """The leaves of ``values`` (tangents, or the vectors of ``hvp``: one per argument ``argnums[k]``
    of the call flattened as ``layout``, each with that argument's structure and its leaves'
    shapes), as floats; a mismatch is an error naming ``labels[k]`` and the argument ``names[i]``."""
    out: list[Any] = []
    for v, i, label in zip(values, argnums, labels):
        leaves, tree = flatten(v, label)
        if (tree if tree.kind != "leaf" else None) != layout.trees[i]:
            raise DifferentiationError(f"{label} must have the structure of {names[i]} (JAX's convention: a tree "
                                       f"like its primal); got {type(v).__name__}")
        for leaf, k in zip(leaves, layout.spans[i]):
            shape = np.shape(layout.leaves[k])
            leaf = argument(leaf, label, True)
            if np.shape(leaf) != shape:
                raise DifferentiationError(f"{label} has shape {np.shape(leaf)}, but it must have shape {shape}")
            out.append(np.asarray(leaf, dtype=float) if shape else float(leaf))
    return out


def like_of(original: Any, prepared: Any) -> Any:
    """What a derivative with respect to ``original`` looks like: an array of its (float) dtype, a
    NumPy float scalar of its own type (``np.float32``), or a float."""
    if isinstance(original, np.floating) and not isinstance(original, float):
        return original
    return prepared


def check_function(fn: Any, transform: str = "adc") -> None:
    """adc reads Python source: built-ins and other callables without it, functions made by adc
    (composition is not built yet) and decorated functions (``inspect`` would show the source of
    the undecorated one) are rejected clearly; so are ``*args``, ``**kwargs`` and keyword-only
    parameters (located at the parameter)."""
    import types

    problem = transform_problem(fn)
    if problem is not None:
        raise DifferentiationError(format_located(f"{transform}: {problem[0]}", None, problem[1]))
    if isinstance(fn, types.MethodType):  # model.loss: its function, with `self` bound to the object
        from .frontend_objects import bound_method

        if bound_method(fn) is None:
            from .errors import SourceError

            raise SourceError(f"adc differentiates methods of plain Python objects and classes; {fn.__name__!r} is "
                              f"bound to a {type(fn.__self__).__name__}; hint: wrap the call in a function, "
                              f"e.g. `def f(x): return obj.{fn.__name__}(x)`")
        fn = fn.__func__
    if not isinstance(fn, types.FunctionType):
        from .errors import SourceError

        name = getattr(fn, "__name__", repr(fn))
        raise SourceError(f"adc differentiates Python functions defined in source files; {name!r} is a "
                          f"{type(fn).__name__}; hint: wrap it, e.g. `def f(x): return math.sin(x)`")
    from .frontend import signature_function

    fn = signature_function(fn)  # a decorator's wrapper(*args, **kwargs) takes the wrapped function's parameters
    code = fn.__code__
    params = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & inspect.CO_VARARGS)]
    taken = next((p for p in params if p.startswith("_adc")), None)
    if taken is not None:  # the call wrapper with the function's parameters reads its own globals by such names
        raise DifferentiationError(f"parameter `{taken}` of {fn.__name__}: names that start with `_adc` are adc's own; "
                                   "rename the parameter")
    if code.co_flags & inspect.CO_VARKEYWORDS:
        from .builder import Builder
        from .frontend import Lowerer, read_source

        Lowerer(read_source(fn), Builder(simplify=False, role="primal")).bind_params([])  # raises, located


def bind(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The flat arguments of a call of ``fn`` with ``args`` and ``kwargs``, defaults filled in: the
    positional ones (``*args``'s among them), then the keyword-only ones (``Signature``)."""
    from .frontend import signature_function, signature_of

    signature = signature_of(fn)
    names = list(signature.names)
    if not kwargs and len(args) == len(names) and not signature.kwonly:
        return tuple(args)
    try:
        bound = inspect.signature(signature_function(fn), follow_wrapped=False).bind(*args, **(kwargs or {}))
    except TypeError as exc:
        raise DifferentiationError(f"{fn.__name__}() called with wrong arguments: {exc} "
                                   f"(its parameters: {', '.join(names)})") from None
    bound.apply_defaults()
    return (*bound.args, *(bound.kwargs[k] for k in signature.kwonly))


def call_flat(fn: Callable[..., Any], args: Sequence[Any], protect: bool = True) -> Any:
    """Call ``fn`` with flat arguments (``bind``'s): the keyword-only ones by keyword.  With
    ``protect``, on copies of the arrays among them (and in their trees): a function that writes
    into an argument (``x[0] = v``) never changes the caller's arrays when adc calls it."""
    from .frontend import signature_of

    if protect:
        def copied(a: Any) -> Any:
            if isinstance(a, np.ndarray):
                return a.copy()
            if is_tree(a):
                leaves, tree = flatten(a)
                return unflatten(tree, [x.copy() if isinstance(x, np.ndarray) else x for x in leaves])
            return a
        args = [copied(a) for a in args]
    kwonly = signature_of(fn).kwonly
    n = len(args) - len(kwonly)
    return fn(*args[:n], **dict(zip(kwonly, args[n:])))


def check_arity(fn: Callable[..., Any], args: Sequence[Any]) -> None:
    from .frontend import signature_of

    signature = signature_of(fn)
    n = len(signature.names) + len(signature.kwonly)
    if len(args) != n and not (signature.star is not None and len(args) > n):
        raise DifferentiationError(f"{fn.__name__}() takes {n} positional arguments but {len(args)} were given")


def check_at(fn: Callable[..., Any], at: Any) -> None:
    if not isinstance(at, (tuple, list)):
        raise DifferentiationError(f"at= takes a tuple of example arguments, one per parameter of "
                                   f"{fn.__name__} (e.g. at=(2.0, 5)); got {type(at).__name__}")
    check_arity(fn, at)
