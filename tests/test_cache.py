"""adc's cache of generated modules: its size limit (least recently used entries go), the limit 0,
and directories adc refuses to load code from.  Each test has its own ``ADC_CACHE_DIR``."""
from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import adc
from adc import cache


def cube(x):
    return x ** 3


# one function per test: a generated module loaded once stays in ``sys.modules`` and is not
# written again
def cube_used(x):
    return x ** 3


def cube_kept(x):
    return x ** 3


def cube_zero(x):
    return x ** 3


def cube_unsafe(x):
    return x ** 3


def scaled_unsafe(x):
    return np.sum(x * x) * 3.0


def scaled_zero(x):
    return np.sum(x * x) * 3.0


def cube_owned(x):
    return x ** 3


def cube_blocked(x):
    return x ** 3


@pytest.fixture
def cache_at(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("ADC_CACHE_DIR", str(path))
    monkeypatch.delenv("ADC_CACHE_MAX_MB", raising=False)
    return path


def fake_entry(folder: Path, name: str, size: int, age: float) -> None:
    """An entry another process left: ``name``.py and its Numba files, last used ``age`` s ago."""
    (folder / "__pycache__").mkdir(parents=True, exist_ok=True)
    files = [folder / f"{name}.py", folder / "__pycache__" / f"{name}.{name[4:-17]}-6.py311.nbi"]
    for file in files:
        file.write_bytes(b"#" * (size // 2))
    used = time.time() - age
    os.utime(files[0], (used, used))


HEX = "0123456789abcdef"


def test_least_recently_used_entries_are_evicted_beyond_the_limit(cache_at, monkeypatch):
    cache_at.mkdir(mode=0o700)
    for k, age in enumerate([300, 100, 200, 10]):
        fake_entry(cache_at, f"adc_old{k}_grad_{HEX}", 40_000, age)
    (cache_at / "keep.txt").write_text("not an entry")
    monkeypatch.setenv("ADC_CACHE_MAX_MB", "0.1")  # 100 kB: room for two old entries and a new one
    monkeypatch.setattr(cache.budget, "path", None)  # as in a fresh process: scan on the first write
    assert adc.grad(cube)(2.0) == 12.0  # writes a module: the two least recently used entries go
    left = sorted(p.name for p in cache_at.glob("adc_*.py"))
    assert [n for n in left if n.startswith("adc_old")] == [f"adc_old1_grad_{HEX}.py", f"adc_old3_grad_{HEX}.py"]
    assert any(n.startswith("adc_cube_grad_") for n in left)
    assert not (cache_at / "__pycache__" / f"adc_old0_grad_{HEX}.old0-6.py311.nbi").exists()
    assert (cache_at / "keep.txt").exists()
    total = sum(e.size for e in cache.entries(cache_at).values())
    assert total <= 100_000


def test_loading_an_entry_marks_it_used_without_touching_its_mtime(cache_at):
    assert adc.grad(cube_used)(1.0) == 3.0
    (module,) = cache_at.glob("adc_cube_used_grad_*.py")
    old = time.time() - 1000
    os.utime(module, (old, old))
    mtime = module.stat().st_mtime_ns
    from adc import backend

    backend._write(module, module.read_text())  # what a new process does when it reuses the file
    assert module.stat().st_mtime_ns == mtime  # Numba's cache is keyed by it
    assert module.stat().st_atime > time.time() - 60


def test_entries_this_process_loaded_are_not_evicted(cache_at):
    assert adc.grad(cube_kept)(1.0) == 3.0
    removed = cache.evict(cache_at, limit=0)
    assert not [e for e in removed if e.name.startswith("adc_cube_kept_grad_")]
    assert list(cache_at.glob("adc_cube_kept_grad_*.py"))


def test_limit_zero_keeps_nothing_on_disk(cache_at, monkeypatch):
    monkeypatch.setenv("ADC_CACHE_MAX_MB", "0")
    np.testing.assert_allclose(adc.grad(scaled_zero)(np.arange(3.0)), 6.0 * np.arange(3.0))
    assert adc.grad(cube_zero, jit=True)(2.0) == 12.0
    assert not cache_at.exists() or not list(cache_at.iterdir())


def running_product(x, k):
    """Recursive: under jit=True it stays a function (``running_product_fwd``/``_bwd``)."""
    if k == 0:
        return 1.0
    return x[k - 1] * running_product(x, k - 1) + np.sin(x[k - 1])


def test_a_kept_recursion_compiles_from_memory(cache_at, monkeypatch):
    """Run from memory (limit 0), the generated module is still a registered module: Numba could
    not link a recursive function's call of itself without one ("unresolved symbol")."""
    monkeypatch.setenv("ADC_CACHE_MAX_MB", "0")
    x = np.array([0.5, -1.5, 2.0, 0.25])
    jit = adc.grad(running_product, jit=True)(x, 4)
    np.testing.assert_allclose(jit, adc.grad(running_product)(x, 4), rtol=1e-14)
    h = 1e-6
    fd = [(running_product(x + h * e, 4) - running_product(x - h * e, 4)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(jit, fd, rtol=1e-7)
    assert not cache_at.exists() or not list(cache_at.iterdir())


def test_a_bad_limit_is_reported_and_the_default_used(cache_at, monkeypatch):
    monkeypatch.setenv("ADC_CACHE_MAX_MB", "lots")
    with pytest.warns(cache.AdcCacheWarning, match=r"ignoring ADC_CACHE_MAX_MB='lots'.*using the default, 256"):
        assert cache.max_bytes() == 256_000_000


def test_a_directory_others_can_write_to_is_not_used(cache_at):
    cache_at.mkdir()
    cache_at.chmod(0o777)
    planted = cache_at / "adc_cube_unsafe_grad_0000000000000000.py"
    planted.write_text("raise SystemExit('planted code ran')\n")
    with pytest.warns(cache.AdcCacheWarning) as record:
        assert adc.grad(cube_unsafe)(3.0) == 27.0
        np.testing.assert_allclose(adc.grad(scaled_unsafe)(np.ones(2)), [6.0, 6.0])
    messages = [str(w.message) for w in record]
    assert len(messages) == 1  # said once
    assert messages[0] == (f"adc: not using the cache directory {cache_at}: other users can write to it (mode 777); "
                           f"make it yours alone with `chmod 700 {cache_at}`; generated code runs from memory "
                           "(set ADC_CACHE_DIR to a directory only you can write to)")
    assert sorted(p.name for p in cache_at.iterdir()) == [planted.name]  # nothing written or loaded there
    assert "NOT used (other users can write to it (mode 777)" in cache.info()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to give a directory away")
def test_a_directory_another_user_owns_is_not_used(cache_at):
    cache_at.mkdir(mode=0o700)
    os.chown(cache_at, 12345, -1)
    with pytest.warns(cache.AdcCacheWarning, match=r"owned by another user \(uid 12345"):
        assert adc.grad(cube_owned)(1.0) == 3.0
    assert list(cache_at.iterdir()) == []


def test_a_directory_that_cannot_be_created_falls_back_to_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ADC_CACHE_DIR", str(blocker / "cache"))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert adc.grad(cube_blocked)(2.0) == 12.0
    assert any("cannot create the cache directory" in str(w.message) for w in record)


def test_numba_modules_are_named_after_the_runtime_code_numba_inlines(monkeypatch):
    """Numba's on-disk cache of a generated module does not notice a change in the overloads and
    intrinsics it inlined (a new adc: ``adc_special.digamma`` at its pole was once NaN), so a jit
    module's name covers their text; a plain module, which imports them afresh, does not."""
    from adc import backend

    package = Path(adc.__file__).resolve().parent
    numba_runtime = {str(p.relative_to(package)) for p in package.rglob("*.py")
                     if any(mark in p.read_text() for mark in ("overload(", "@intrinsic", "jitclass(", "register_jitable("))}
    assert numba_runtime == set(backend._RUNTIME)
    before = {jit: backend.module_name("def f(x):\n    return x\n", "f", jit) for jit in (False, True, "parallel")}
    monkeypatch.setattr(backend, "_runtime_fingerprint", lambda: "another adc\n")
    after = {jit: backend.module_name("def f(x):\n    return x\n", "f", jit) for jit in (False, True, "parallel")}
    assert after[False] == before[False]
    assert after[True] != before[True] and after["parallel"] != before["parallel"]
