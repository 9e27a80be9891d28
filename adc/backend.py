"""Back end: generated Python source → a callable, plain or compiled by Numba.

Input: the text of a generated module and the name of its function.  Output: the function.  The
module is written to adc's cache directory (``$ADC_CACHE_DIR``, default ``~/.cache/adc``; see
``cache.py``: its size limit, least-recently-used eviction and safety checks) under a name derived
from a hash of its text (the text is compared before a module is reused, and a file whose text
differs is rewritten) and imported from there, so tracebacks and ``inspect.getsource`` show the
generated code and Numba's on-disk cache (``cache=True``) lets a second process skip compilation.
If the directory cannot be used (not writable, writable by other users, limit 0) the module is
executed from memory and registered with ``linecache`` instead.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import linecache
import os
import sys
import tempfile
import types
from pathlib import Path
from typing import Any, Callable, Literal, Union

import numpy as np

from . import cache
from .errors import CompileError, DifferentiationError

Jit = Union[bool, Literal["parallel"]]
"""``jit=``: ``False`` (plain Python), ``True`` (Numba) or ``"parallel"`` (Numba's ``parallel=True``:
it fuses consecutive element-wise array operations into one loop and runs such loops on its threads)."""


def check_jit(jit: Any) -> None:
    """Refuse a ``jit=`` that is none of ``False``, ``True``, ``"parallel"``."""
    if not (isinstance(jit, (bool, np.bool_)) or (isinstance(jit, str) and jit == "parallel")):
        raise DifferentiationError(f"jit must be False, True or \"parallel\", got {jit!r}")


def cache_dir() -> Path | None:
    """The directory generated modules go to, or ``None`` (run them from memory)."""
    return cache.directory()


def module_name(source: str, func: str, jit: Jit = False, unchecked: bool = False) -> str:
    """The module's name: from a hash of its text; a module Numba compiles is one of its own (its
    namespace holds the compiled functions its main function calls), and so is one compiled with
    ``parallel=True`` (Numba's on-disk cache is per module, and its index does not record
    ``boundscheck``: "checked" keeps modules cached before it was set apart), and one whose main
    function runs without bounds checks (``unchecked``, ``bounds.py``)."""
    flavour = {False: "", True: "numba checked\n", "parallel": "numba parallel checked\n"}[jit]
    if jit and unchecked:
        flavour = flavour.replace("checked", "unchecked")
    if jit:
        flavour += _runtime_fingerprint()
    digest = hashlib.sha256((flavour + source).encode()).hexdigest()[:16]
    return f"adc_{func}_{digest}"


# the modules whose Numba overloads, intrinsics and classes compiled code inlines: Numba's on-disk
# cache of a generated module does not notice when they change (a new adc), so their text is part
# of the module's name
_RUNTIME = ("prims/kernels.py", "prims/special.py", "prims/stacks.py", "prims/revolve.py")


@functools.lru_cache(maxsize=None)
def _runtime_fingerprint() -> str:
    """A digest of the text of the modules ``_RUNTIME`` names."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _RUNTIME:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()[:16] + "\n"


def _write(path: Path, source: str) -> None:
    if path.exists() and path.read_text() == source:
        cache.used(path)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(source)
    os.replace(tmp, path)
    cache.used(path)
    cache.budget.wrote(path.parent, len(source))


def load_module(source: str, func: str, jit: Jit = False, unchecked: bool = False) -> dict[str, Any]:
    """Import the generated module (from the cache directory when possible); its namespace."""
    name = module_name(source, func, jit, unchecked)
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__adc_source__", None) == source:
        return vars(loaded)
    folder = cache_dir()
    if folder is not None:
        path = folder / f"{name}.py"
        try:
            _write(path, source)
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(name, None)
                raise
            module.__adc_source__ = source  # type: ignore[attr-defined]  (checked before reuse)
            return vars(module)
        except OSError:
            sys.modules.pop(name, None)
    filename = f"<adc {name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)  # registered as a module: Numba links a recursive call through it
    exec(compile(source, filename, "exec"), vars(module))
    module.__adc_source__ = source  # type: ignore[attr-defined]
    sys.modules[name] = module
    return vars(module)


def load(source: str, func: str, jit: Jit = False, unchecked: bool = False) -> Callable[..., Any]:
    """The function ``func`` of the generated module ``source``; compiled with Numba if ``jit``
    (with ``parallel=True`` if it is ``"parallel"``; ``unchecked``: ``func`` without bounds checks,
    its indices proved in range by ``bounds.py``; the functions it calls keep theirs)."""
    namespace = load_module(source, func, jit, unchecked)
    fn = namespace[func]
    if not jit:
        return fn
    for name, other in list(namespace.items()):  # the functions it calls (kept recursion): compiled too
        if name != func and isinstance(other, types.FunctionType) and other.__module__ == fn.__module__:
            namespace[name] = njit(other, parallel=jit == "parallel")
    return njit(fn, parallel=jit == "parallel", boundscheck=not unchecked)


def njit(fn: Callable[..., Any], parallel: bool = False, boundscheck: bool = True) -> Callable[..., Any]:
    try:
        import numba
    except ImportError as exc:  # pragma: no cover - numba is a dependency
        raise CompileError(f"jit=True needs numba ({exc}); install it or use jit=False") from None
    cached = not fn.__code__.co_filename.startswith("<")
    from .numba_compat import patch_array_expression_names

    patch_array_expression_names()
    # boundscheck: an index out of range raises IndexError, as in NumPy, where unchecked code would
    # read or write past the array (a silently wrong value or derivative, or another array's memory)
    return numba.njit(cache=cached, error_model="numpy", parallel=parallel, boundscheck=boundscheck)(fn)
