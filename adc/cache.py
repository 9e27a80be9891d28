"""adc's on-disk cache of generated modules: where it is, whether it is safe, how big it may grow.

Input: the environment (``ADC_CACHE_DIR``, ``ADC_CACHE_MAX_MB``).  Output: the directory generated
modules are written to (or ``None``: run them from memory), the least-recently-used eviction that
keeps the directory under its size limit, and what ``adc cache info`` / ``adc cache clear`` show and
do.

An *entry* is one generated module ``adc_<function>_<16 hex digits>.py`` together with the files
Python and Numba keep for it in ``__pycache__/`` (``adc_<function>_<hex>.*``).  An entry's last use
is the access time of its ``.py`` file, set by adc whenever a process loads it (its modification
time is left alone: Numba's on-disk cache is keyed by it).  Only files of that form are ever
counted or removed, so pointing ``ADC_CACHE_DIR`` at a directory that holds other files is harmless.

A directory that another user owns, or that its group or other users can write to, is never used:
code loaded from it could have been put there by someone else.  adc then runs generated code from
memory and says so once (an ``AdcCacheWarning``).
"""
from __future__ import annotations

import os
import re
import stat
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_MB = 256.0
ENTRY = re.compile(r"^(adc_.+_[0-9a-f]{16})(\..+)$")


class AdcCacheWarning(UserWarning):
    """adc cannot use its cache directory and runs generated code from memory."""


def root() -> Path:
    """The configured cache directory: ``$ADC_CACHE_DIR``, default ``~/.cache/adc``."""
    configured = os.environ.get("ADC_CACHE_DIR")
    return Path(configured) if configured else Path(os.path.expanduser("~")) / ".cache" / "adc"


def max_bytes() -> int:
    """The size limit: ``$ADC_CACHE_MAX_MB`` megabytes (default 256; 0 keeps nothing on disk)."""
    text = os.environ.get("ADC_CACHE_MAX_MB", "").strip()
    if not text:
        return int(DEFAULT_MAX_MB * 1e6)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        _warn_once(("limit", text), f"adc: ignoring ADC_CACHE_MAX_MB={text!r} (expected a number of megabytes "
                                    f">= 0); using the default, {DEFAULT_MAX_MB:g}")
        return int(DEFAULT_MAX_MB * 1e6)
    return int(value * 1e6)


def problem(path: Path) -> str | None:
    """Why ``path`` must not hold generated code adc imports (``None`` if it is fine)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"it is owned by another user (uid {st.st_uid}, you are {os.getuid()})"
    if os.name == "posix" and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):  # (Windows has no such bits)
        return (f"other users can write to it (mode {stat.S_IMODE(st.st_mode):o}); "
                f"make it yours alone with `chmod 700 {path}`")
    if not os.access(path, os.W_OK | os.X_OK):
        return "it is not writable"
    return None


_warned: set[object] = set()


def _warn_once(key: object, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, AdcCacheWarning, stacklevel=4)


def directory() -> Path | None:
    """The cache directory to write and import generated modules from, created (mode 700) if
    missing; ``None`` (run from memory, with a one-time warning) if it cannot be created or is
    unsafe, or if the size limit is 0."""
    if max_bytes() == 0:
        return None
    path = root()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        _warn_once(("mkdir", str(path)), f"adc: cannot create the cache directory {path} ({exc.strerror or exc}); "
                                         "generated code runs from memory (set ADC_CACHE_DIR to a directory of yours)")
        return None
    why = problem(path)
    if why is not None:
        _warn_once(("unsafe", str(path)), f"adc: not using the cache directory {path}: {why}; generated code "
                                          "runs from memory (set ADC_CACHE_DIR to a directory only you can write to)")
        return None
    return path


# -- entries, use and eviction --------------------------------------------------------------------

_in_use: set[str] = set()  # entries this process has loaded: never evicted by it


@dataclass
class Entry:
    name: str
    files: list[Path] = field(default_factory=list)
    size: int = 0
    used: float = 0.0  # the access time of the .py file


def entries(path: Path) -> dict[str, Entry]:
    """The cache entries in ``path`` (only files named like generated modules)."""
    found: dict[str, Entry] = {}
    for folder in (path, path / "__pycache__"):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = ENTRY.match(name)
            if match is None:
                continue
            file = folder / name
            try:
                st = file.stat()
            except OSError:
                continue
            entry = found.setdefault(match.group(1), Entry(match.group(1)))
            entry.files.append(file)
            entry.size += st.st_size
            if folder == path and match.group(2) == ".py":
                entry.used = st.st_atime
    return found


def used(file: Path) -> None:
    """Record that ``file`` (a generated ``.py``) was loaded now: its access time, not its
    modification time, which Numba's cache checks."""
    _in_use.add(file.stem)
    try:
        st = file.stat()
        os.utime(file, ns=(time.time_ns(), st.st_mtime_ns))
    except OSError:
        pass


def evict(path: Path, limit: int | None = None) -> list[Entry]:
    """Remove least recently used entries until the directory's entries fit in ``limit`` bytes
    (default ``max_bytes()``); entries loaded by this process stay.  The removed entries."""
    limit = max_bytes() if limit is None else limit
    found = entries(path)
    total = sum(e.size for e in found.values())
    removed: list[Entry] = []
    for entry in sorted(found.values(), key=lambda e: e.used):
        if total <= limit:
            break
        if entry.name in _in_use:
            continue
        _remove(entry)
        total -= entry.size
        removed.append(entry)
    return removed


def _remove(entry: Entry) -> None:
    for file in entry.files:
        try:
            file.unlink()
        except FileNotFoundError:
            pass


def clear(path: Path) -> list[Entry]:
    """Remove every entry (other files in the directory stay)."""
    found = list(entries(path).values())
    for entry in found:
        _remove(entry)
    return found


# -- ``adc cache info`` / ``adc cache clear`` -------------------------------------------------------

def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 or n == 0 else f"{n / 1e3:.1f} kB"


def info() -> str:
    """What ``adc cache info`` prints."""
    path = root()
    limit = max_bytes()
    lines = [f"directory: {path}" + ("" if os.environ.get("ADC_CACHE_DIR") else "  (set ADC_CACHE_DIR to move it)")]
    if not path.exists():
        lines.append("status:    not created yet (adc creates it, mode 700, when it first generates code)")
    else:
        why = problem(path)
        lines.append("status:    in use" if why is None else f"status:    NOT used ({why}); generated code runs from memory")
        found = entries(path).values()
        total = sum(e.size for e in found)
        lines.append(f"entries:   {len(found)} generated modules, {sum(len(e.files) for e in found)} files, {_mb(total)}")
    lines.append(f"limit:     {_mb(limit)}" + ("  (0: nothing is kept on disk)" if limit == 0 else "")
                 + "  (ADC_CACHE_MAX_MB; least recently used entries are removed beyond it)")
    return "\n".join(lines) + "\n"


def clear_command() -> str:
    """What ``adc cache clear`` does and prints."""
    path = root()
    if not path.exists():
        return f"nothing to clear: {path} does not exist\n"
    removed = clear(path)
    size = sum(e.size for e in removed)
    return f"removed {len(removed)} generated modules ({sum(len(e.files) for e in removed)} files, {_mb(size)}) from {path}\n"


class _Budget:
    """When to scan the directory for eviction: on the first module written in a process, after
    every ``EVERY`` modules written, and whenever the bytes written since the last scan would take
    it over the limit (Numba's files come later and are counted at the next scan)."""

    EVERY = 64

    def __init__(self) -> None:
        self.path: Path | None = None  # the directory ``estimate`` is of
        self.estimate = 0
        self.writes = 0

    def wrote(self, path: Path, size: int) -> None:
        self.writes += 1
        limit = max_bytes()
        if path == self.path and self.writes % self.EVERY and self.estimate + size <= limit:
            self.estimate += size
            return
        evict(path, limit)
        self.path, self.estimate = path, sum(e.size for e in entries(path).values())


budget = _Budget()
