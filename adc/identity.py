"""What a derivative depends on besides argument types: the cache key of a function.

Input: a user function.  Output: ``Dependencies``: a hashable key (the code of the function and of
every user function it reads, with their files, and the values of every global and closure
variable they read) and the places those values were read from, so that a call can check cheaply
that none has been rebound.  Walking a function also checks that the source adc reads compiles to
the code that runs (a file edited after import is a ``SourceError``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
import types as pytypes
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from .marks import made_mark

from .custom import _Custom
from .frontend_objects import is_plain_object, is_user_class

_MISSING = object()


class _Same:
    """A value keyed by identity (unhashable objects); holds it, so its ``id`` is never reused."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.value is self.value


@dataclass(frozen=True)
class Dependencies:
    """Everything a derivative of a function depends on besides the argument types.

    ``key``: the code of the function and of every user function it calls, each with its file and
    qualified name (equal code objects in two modules, or one module before and after
    ``importlib.reload``, compare equal), and the value of every global and closure variable that
    code reads (numbers by value, floats by ``repr`` so that ``-0.0`` is not ``0.0``, arrays by
    content, functions recursively, anything else by identity), with each function's defaults and
    the attributes the code may read of the user's modules it reads (``params.SCALE``).  ``reads``:
    where each of those values was found (a globals dict, a closure cell, a module's dict, or the
    function for its defaults), the name and the object, so that ``current()`` can tell cheaply
    whether one has been rebound since; modules themselves are left out (rebinding ``np`` or
    ``math`` is not a way to change a function), and so are NumPy's, SciPy's and the standard
    library's attributes."""

    key: tuple[Any, ...]
    reads: tuple[tuple[Any, str, Any], ...]
    arrays: tuple[tuple[np.ndarray, tuple[Any, ...]], ...] = ()  # (a global array read, its type when read)

    def current(self) -> bool:
        """Whether every value read is still the one the derivative was made with."""
        for where, name, value in self.reads:
            if isinstance(where, Mapping):
                now = where.get(name, _MISSING)
            elif isinstance(where, pytypes.CellType):
                now = _cell(where)
            else:  # a function's defaults
                now = getattr(where, name, _MISSING)
            if now is not value:
                return False
        return all(_array_type(a) == t for a, t in self.arrays)


def read_text(where: Any, name: str, ref: str) -> str:
    """The expression that reads ``name`` again from ``where`` (one of ``Dependencies.reads``'
    places), given as ``ref`` in generated code (the fast call path's check)."""
    if isinstance(where, Mapping):
        return f"{ref}.get({name!r})"
    return f"{ref}.cell_contents" if isinstance(where, pytypes.CellType) else f"{ref}.{name}"


def _array_type(a: np.ndarray) -> tuple[Any, ...]:
    """What compiled code assumes of a global array it takes as an input: dtype, rank, length-1 axes."""
    return (a.dtype.str, a.ndim, tuple(n == 1 for n in a.shape))


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return _MISSING


# by id (hashing code is slow): (code, its global names, the names it may read as attributes)
_names_read: dict[int, tuple[pytypes.CodeType, tuple[str, ...], frozenset[str]]] = {}


def _names(code: pytypes.CodeType) -> tuple[tuple[str, ...], frozenset[str]]:
    """The global names ``code`` (and code nested in it) loads, sorted, and every name it may read
    as an attribute (``co_names``, which also holds the globals: ``np.sum`` would make a global
    ``sum`` a dependency, so globals come from the instructions)."""
    known = _names_read.get(id(code))
    if known is not None and known[0] is code:
        return known[1], known[2]
    import dis

    found = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    attributes = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            inner_globals, inner_attributes = _names(const)
            found.update(inner_globals)
            attributes.update(inner_attributes)
    names = tuple(sorted(found)), frozenset(attributes)
    _names_read[id(code)] = (code, *names)
    return names


_LIBRARIES = frozenset({"numpy", "scipy", "numba", "adc"})


def _user_module(module: pytypes.ModuleType) -> bool:
    """Is ``module`` the user's, whose attributes a function reads like globals (NumPy's, SciPy's
    and the standard library's are not a way to change a function)?"""
    import sys

    root = module.__name__.partition(".")[0]
    return root not in _LIBRARIES and root not in sys.stdlib_module_names


def dependencies(fn: Callable[..., Any]) -> Dependencies:
    """The ``Dependencies`` of ``fn`` (walks ``fn`` and the user functions it reads)."""
    if made_mark(fn) is not None:  # made by adc.grad & co: what the user's function reads
        from .compose import inner_function

        fn = inner_function(fn)
    key: list[Any] = []
    reads: list[tuple[Any, str, Any]] = []
    arrays: list[tuple[np.ndarray, tuple[Any, ...]]] = []
    seen: dict[int, int] = {}
    objects: dict[int, int] = {}

    def value_key(value: Any) -> Any:
        if isinstance(value, pytypes.FunctionType) and made_mark(value) is not None:
            from .compose import identity_of, made_by

            if made_by(value) is not None:  # a gradient called inside: what its function reads counts too
                return identity_of(value, lambda inner: (value_key(inner),))
        if isinstance(value, pytypes.FunctionType) and made_mark(value) is None:
            if id(value) not in seen:
                visit(value)
            return ("function", seen[id(value)])
        if isinstance(value, np.ndarray) and value.ndim and value.dtype.kind in "biuf":
            # an input of the program, read at every call: only its type is part of the key
            arrays.append((value, _array_type(value)))
            return ("array", *_array_type(value))
        if isinstance(value, np.ndarray):  # refused by the front end: by identity and content
            digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest()
            return ("array", _Same(value), value.dtype.str, value.shape, digest)
        if is_plain_object(value) or is_user_class(value):  # attributes read like globals (frontend_objects)
            return object_key(value)
        if isinstance(value, _Custom):  # a function with custom rules: its code and its rules' code
            return ("custom", value_key(value.fun), *(value_key(getattr(value, r, None)) for r in ("fwd", "bwd", "jvp")))
        if isinstance(value, (float, complex, np.inexact)):
            return (type(value), repr(value))  # tells -0.0 from 0.0, and nan equals itself
        if isinstance(value, (bool, int, str, bytes, np.generic)) or value is None:
            return (type(value), value)
        try:
            hash(value)
            return value
        except Exception:
            return _Same(value)

    def object_key(obj: Any) -> Any:
        """An object by identity and the value of every attribute (a class: of every attribute it
        defines, and its user base classes), each a read checked at every call."""
        if id(obj) in objects:
            return ("object", objects[id(obj)])
        objects[id(obj)] = len(objects)
        cls = is_user_class(obj)
        entry: list[Any] = ["class" if cls else "object", _Same(obj)]
        where = vars(obj)
        for name in sorted(where):
            value = where[name]
            if cls and name.startswith("__") and name.endswith("__"):
                continue
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if not isinstance(value, pytypes.ModuleType):
                reads.append((where, name, where[name]))
            # a method adc cannot read (made by exec) is not called by code adc reads: by identity
            entry.append((name, value_key(value) if not isinstance(value, pytypes.FunctionType) or _readable(value)
                          else _Same(value)))
        bases = obj.__mro__[1:] if cls else (type(obj),)
        entry.extend(value_key(b) for b in bases if is_user_class(b))
        return tuple(entry)

    def visit(f: pytypes.FunctionType) -> None:
        _check_source(f)
        seen[id(f)] = len(seen)
        code = f.__code__
        entry: list[Any] = [code, code.co_filename, code.co_qualname]
        key.append(entry)
        modules: list[pytypes.ModuleType] = []
        for name, cell in zip(code.co_freevars, f.__closure__ or ()):
            value = _cell(cell)
            if not isinstance(value, pytypes.ModuleType):
                reads.append((cell, name, value))
            entry.append((name, value_key(value)))
            modules += [value] if isinstance(value, pytypes.ModuleType) else []
        global_names, attributes = _names(code)
        for name in global_names:
            value = f.__globals__.get(name, _MISSING)
            if value is _MISSING:
                continue  # a builtin or an undefined name
            if not isinstance(value, pytypes.ModuleType):
                reads.append((f.__globals__, name, value))
            entry.append((name, value_key(value)))
            modules += [value] if isinstance(value, pytypes.ModuleType) else []
        for attribute in ("__defaults__", "__kwdefaults__"):  # inlined where it is called without them
            value = getattr(f, attribute)
            if value is None or f is top:  # none (every call passes them) or the wrapper's own (``api``)
                continue
            reads.append((f, attribute, value))
            entry.append((attribute, tuple(
                (k, value_key(v)) for k, v in (value.items() if isinstance(value, dict) else enumerate(value)))))
        done: list[pytypes.ModuleType] = []
        while modules:  # params.SCALE, pkg.params.SCALE: the values the code may read of the user's modules
            module = modules.pop(0)
            if any(m is module for m in done) or not _user_module(module):
                continue
            done.append(module)
            where = vars(module)
            for name in sorted(attributes.intersection(where)):
                value = where[name]
                if isinstance(value, pytypes.ModuleType):
                    modules.append(value)
                    continue
                reads.append((where, name, value))
                entry.append((f"{module.__name__}.{name}", value_key(value)))
        key[seen[id(f)]] = tuple(entry)

    bound: tuple[Any, ...] = ()
    top = fn.__func__ if isinstance(fn, pytypes.MethodType) else fn  # its defaults: the call's (``bind``)
    if isinstance(fn, pytypes.MethodType):  # model.loss: the function, and the object it is bound to
        bound = (("self", value_key(fn.__self__)),)
        fn = fn.__func__
    if id(fn) not in seen:
        visit(fn)  # type: ignore[arg-type]
    return Dependencies((seen[id(fn)], *key, *bound), tuple(reads), tuple(arrays))


_agrees: dict[int, tuple[Any, bool]] = {}  # id(code) → (code, its source text compiles to that code)


def source_agrees(fn: pytypes.FunctionType) -> bool:
    """Whether the source adc reads for ``fn`` compiles to the code that runs (bytecode, names and
    constants; line numbers aside).  It does not when the file was edited after the module was
    imported: ``inspect`` reads the new text, the function still runs the old code."""
    code = fn.__code__
    known = _agrees.get(id(code))
    if known is not None and known[0] is code:
        return known[1]
    import __future__

    from .frontend import read_source

    src = read_source(fn)
    # the text as it stands in the file (``read_source`` dedents it), so that multi-line strings
    # and qualified names compile as they did
    text = "\n".join(" " * src.indent + line if line.strip() else line for line in src.lines) + "\n"
    flags = code.co_flags & sum(getattr(__future__, f).compiler_flag for f in __future__.all_feature_names)
    # a method's private names (``self.__s``) are compiled mangled (``_Model__s``) in its class only
    owner = class_of(code.co_qualname) if src.indent else None
    agrees = True
    outer = [f"def _adc_outer_({', '.join(code.co_freevars)}):"] if src.indent else []
    # a module's class at the top (its name a global of the method), a local class inside the stand-in
    inside = [f"class {owner}:"] if "<locals>" not in code.co_qualname else [*outer, f" class {owner}:"]
    for prefix in [outer] + ([inside] if owner else []):
        try:
            compiled = compile("\n".join([*prefix, text]), code.co_filename, "exec", flags=flags, dont_inherit=True)
        except SyntaxError:
            break  # not checkable; the front end reports what it cannot parse
        found = _find_code(compiled, code, code.co_firstlineno - src.firstline + 1 + len(prefix))
        agrees = found is None or _same_code(found, code)
        if agrees:
            break
    _agrees[id(code)] = (code, agrees)
    return agrees


def class_of(qualname: str) -> str | None:
    """The class a function with this qualified name is defined in (``Model`` for ``Model.loss``
    and ``Model.loss.<locals>.inner``), if any."""
    parts = qualname.split(".")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] != "<locals>" and parts[i + 1] != "<locals>":
            return parts[i]
    return None


def private_name(name: str, qualname: str) -> str:
    """``name`` as Python compiles it in the function ``qualname``: ``__s`` in a method of
    ``Model`` is ``_Model__s`` (private name mangling)."""
    owner = class_of(qualname)
    if owner is None or not name.startswith("__") or name.endswith("__") or not owner.lstrip("_"):
        return name
    return f"_{owner.lstrip('_')}{name}"


def _find_code(code: pytypes.CodeType, like: pytypes.CodeType, line: int) -> pytypes.CodeType | None:
    """The code object in ``code`` with the name of ``like``: the one starting on ``line`` with its
    parameters if there is one (a lambda among others on its line), else the first."""
    found = list(_codes_named(code, like.co_name))
    params = like.co_varnames[:like.co_argcount + like.co_kwonlyargcount]
    return next((c for c in found if c.co_firstlineno == line
                 and c.co_varnames[:c.co_argcount + c.co_kwonlyargcount] == params), found[0] if found else None)


def _codes_named(code: pytypes.CodeType, name: str) -> Iterator[pytypes.CodeType]:
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            if const.co_name == name:
                yield const
            yield from _codes_named(const, name)


def _same_code(a: pytypes.CodeType, b: pytypes.CodeType) -> bool:
    if (a.co_names, a.co_varnames, a.co_freevars, a.co_argcount) != (b.co_names, b.co_varnames, b.co_freevars,
                                                                     b.co_argcount):
        return False
    if _instructions(a) != _instructions(b) or len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, pytypes.CodeType) and isinstance(y, pytypes.CodeType):
            if not _same_code(x, y):
                return False
        elif type(x) is not type(y) or repr(_unwrapped(x)) != repr(_unwrapped(y)):
            return False
    return True


def _unwrapped(value: Any) -> Any:
    """A qualified name without the enclosing functions (``source_agrees`` compiles a nested
    function inside a stand-in for them)."""
    return value.rsplit(".<locals>.", 1)[-1] if isinstance(value, str) and ".<locals>." in value else value


def _instructions(code: pytypes.CodeType) -> list[tuple[str, Any]]:
    """The instructions of ``code`` as (operation, argument), unaffected by what running the code
    changes in place (CPython 3.11 rewrites a method load from a module into an attribute load,
    which changes the instruction's size): jumps by instruction index, not offset."""
    import dis

    # NOPs (kept or dropped depending on line numbers), EXTENDED_ARG prefixes (needed or not
    # depending on how far a jump reaches) and PUSH_NULL (3.11's rewritten method load of a module,
    # ``adc.grad(s)(x)``, pushes its NULL with an instruction of its own) are not compared
    skipped = {"NOP", "EXTENDED_ARG", "CACHE", "PUSH_NULL"}
    everything = list(dis.get_instructions(code))
    listing = [i for i in everything if i.opname not in skipped]
    index: dict[int, int] = {}
    k = 0
    for i in everything:  # a jump to a skipped instruction goes to the one after it
        index[i.offset] = k
        if i.opname not in skipped:
            k += 1
    jumps = set(dis.hasjrel) | set(dis.hasjabs)
    def arg(i: Any) -> Any:
        if i.opcode in jumps:
            return index.get(i.argval, i.argval)
        if isinstance(i.argval, pytypes.CodeType):  # compared with the constants
            return ("code", i.argval.co_name)
        return _unwrapped(i.argval)

    return [(_SAME_OP.get(i.opname, i.opname), arg(i)) for i in listing]


_SAME_OP = {"LOAD_METHOD": "LOAD_ATTR"}


def _readable(fn: pytypes.FunctionType) -> bool:
    """Whether adc can read the source of ``fn`` at all."""
    from .errors import SourceError
    from .frontend import read_source

    try:
        read_source(fn)
    except SourceError:
        return False
    return True


def _check_source(fn: pytypes.FunctionType) -> None:
    if not source_agrees(fn):
        from .errors import SourceError

        code = fn.__code__
        raise SourceError(f"{code.co_filename}:{code.co_firstlineno}: the source of {fn.__name__} in its file is "
                          "not the code that runs: the file was edited after the module was imported\n"
                          "hint: reload the module (importlib.reload) or restart, so that the function and its "
                          "source agree")


def identity(fn: Callable[..., Any]) -> tuple[Any, ...]:
    """What a cached program depends on besides argument types (see ``Dependencies``)."""
    if made_mark(fn) is not None:
        from .compose import identity_of, made_by

        if made_by(fn) is not None:
            return identity_of(fn, identity)
    if not isinstance(fn, (pytypes.FunctionType, pytypes.MethodType)):
        return (fn,)
    return dependencies(fn).key
