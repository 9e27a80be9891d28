"""Shared test set-up.

adc writes every generated module (and Numba's on-disk cache) to ``$ADC_CACHE_DIR``.  The test
session points it at a fresh pytest temporary directory before any test compiles anything, so tests
never read generated code left in ``~/.cache/adc`` by another version of adc and never litter the
user's cache.  In case a test module compiles at import (collection) time, before session fixtures
run, this file also points ``ADC_CACHE_DIR`` at a private temporary directory as soon as it is
imported; that directory is removed when the test process exits.

Numba compiles the tests' programs at LLVM optimisation level 0 (``NUMBA_OPT=0``) unless the
environment says otherwise: the same semantics (adc asks for no fast-math), and compiling is most of
the suite's time (level 1 took about 40% less than the default, level 0 another 30% on the jit
coverage tests; the whole suite 362 s against 391 s on two cores).  At level 0 Numba declines to
cache some functions on disk ("dynamic globals"); the tests that check the disk cache compile ones it
caches.  Benchmarks and users keep Numba's default (3).
"""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("NUMBA_OPT", "0")  # before Numba is imported: it reads its settings then

import pytest

import adc.pipeline

# Every program adc makes in the tests is verified after each stage and pass (adc/verify.py).
adc.pipeline.CHECK_IR = True

# The helper module fd.py lives next to this file; make it importable whatever the import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

_collection_cache = tempfile.mkdtemp(prefix="adc-test-cache-")
atexit.register(shutil.rmtree, _collection_cache, ignore_errors=True)
os.environ["ADC_CACHE_DIR"] = _collection_cache


@pytest.fixture(scope="session", autouse=True)
def adc_cache_dir(tmp_path_factory):
    """The session's private adc cache directory, set as ``ADC_CACHE_DIR`` for the whole session."""
    path = tmp_path_factory.mktemp("adc_cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADC_CACHE_DIR", str(path))
        yield path
