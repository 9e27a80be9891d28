"""The Numba back end (cache across processes, located errors), `adc compare`, jacfwd/jacrev."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import adc

ROOT = Path(__file__).resolve().parents[1]


def loop_loss(x):
    s = 0.0
    for i in range(len(x) - 1):
        s += math.sin(x[i]) * x[i + 1] + (x[i] - x[i + 1]) ** 2
    return s


def vector_fn(x, A):
    return np.tanh(A @ x) * 2.0


def two_outputs(a, b):
    return a * b + math.sin(a)


def test_jit_matches_python_on_a_loop():
    x = np.linspace(-1.0, 1.0, 50)
    py = adc.grad(loop_loss)(x)
    jit = adc.grad(loop_loss, jit=True)(x)
    fwd = adc.grad(loop_loss, mode="forward", jit=True)(x)
    np.testing.assert_allclose(jit, py, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fwd, py, rtol=1e-10, atol=1e-12)


def test_second_call_reuses_the_compiled_derivative():
    g = adc.grad(loop_loss, jit=True)
    x = np.linspace(0.0, 1.0, 10)
    g(x)
    compiled = g.specialize(x)
    dispatcher = getattr(compiled, "dispatcher", compiled)
    before = len(getattr(dispatcher, "signatures", []))
    g(x + 1.0)
    assert len(getattr(dispatcher, "signatures", [])) == before  # no recompilation


def test_numba_disk_cache_is_used_by_a_second_process(tmp_path):
    script = tmp_path / "work.py"
    script.write_text(textwrap.dedent('''
        import math, sys, numpy as np, adc

        def loss(x):
            s = 0.0
            for i in range(len(x) - 1):
                s += math.sin(x[i]) * x[i + 1]
            return s

        g = adc.grad(loss, jit=True)
        x = np.linspace(0.0, 1.0, 20)
        value = g(x)
        fn = g.specialize(x)
        dispatcher = getattr(fn, "dispatcher", fn)
        print(sum(dispatcher.stats.cache_hits.values()), float(np.sum(value)))
    '''))
    env = dict(os.environ, ADC_CACHE_DIR=str(tmp_path / "cache"))
    first = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    hits_first, total_first = first.stdout.split()
    hits_second, total_second = second.stdout.split()
    assert hits_first == "0"
    assert int(hits_second) >= 1  # loaded from Numba's on-disk cache, not compiled again
    assert float(total_first) == float(total_second)
    assert list((tmp_path / "cache").glob("adc_loss_grad_*.py"))


def test_jacfwd_and_jacrev_agree_with_finite_differences():
    x = np.array([0.1, 0.5, -0.3])
    A = np.arange(6.0).reshape(2, 3) / 5
    jf = adc.jacfwd(vector_fn)(x, A)
    jr = adc.jacrev(vector_fn)(x, A)
    h = 1e-6
    fd = np.stack([(vector_fn(x + h * e, A) - vector_fn(x - h * e, A)) / (2 * h) for e in np.eye(3)], axis=-1)
    assert jf.shape == jr.shape == (2, 3)
    np.testing.assert_allclose(jf, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jr, jf, rtol=1e-12, atol=1e-14)
    ja = adc.jacrev(vector_fn, argnums=1)(x, A)
    assert ja.shape == (2, 2, 3)
    np.testing.assert_allclose(ja, adc.jacfwd(vector_fn, argnums=1)(x, A), rtol=1e-12, atol=1e-14)
    da, db = adc.jacrev(two_outputs, argnums=(0, 1))(0.5, 2.0)
    assert da == pytest.approx(2.0 + math.cos(0.5)) and db == pytest.approx(0.5)


def test_compare_command_runs_and_writes_its_plot(tmp_path):
    out = tmp_path / "fr.png"
    env = dict(os.environ, ADC_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "adc", "compare", "--sizes", "1,4,16", "--repeat", "1",
                           "--budget", "0.2", "--plot", str(out)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert out.exists() and out.stat().st_size > 5000
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["case", "size", "forward", "reverse", "fwd/rev"]  # the table, once
    assert sum(line.startswith("case") for line in lines) == 1
    rows = [line.split() for line in lines if line.startswith(("R^n", "R -> "))]
    assert len(rows) == 6 and lines[-1] == f"plot saved to {out}"
    wide = [r for r in lines if r.startswith("R^n")]
    ratios = [float(r.split()[-1]) for r in wide]
    assert ratios[-1] > 1.0  # forward mode needs 16 passes for 16 inputs, reverse one
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".png"] == ["fr.png"]


def test_compare_rejects_bad_sizes(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "adc", "compare", "--sizes", "a,b"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 2 and proc.stderr.startswith("adc: error:") and "Traceback" not in proc.stderr
