"""The training examples (examples/train_mlp.py, examples/train_svm.py): they train to >= 95%
training accuracy with adc gradients, their losses go down, adc's gradients of their losses agree
with central finite differences, and they run as scripts."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    """An example module by path (train_svm imports train_mlp as ``train_mlp`` from sys.modules)."""
    if name in sys.modules and Path(sys.modules[name].__file__).resolve() == EXAMPLES / f"{name}.py":
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


train_mlp = _load("train_mlp")
train_svm = _load("train_svm")
MODULES = {"mlp": train_mlp, "svm": train_svm}


@pytest.fixture(scope="module")
def runs():
    """Each example's default training run (about a second each): (accuracy, loss history)."""
    return {name: m.main(quiet=True) for name, m in MODULES.items()}


@pytest.mark.parametrize("name", MODULES)
def test_reaches_95_percent_training_accuracy(runs, name):
    acc, _ = runs[name]
    assert acc >= 0.95, f"{name}: final training accuracy {acc:.3f} < 0.95"


@pytest.mark.parametrize("name", MODULES)
def test_loss_decreases_substantially(runs, name):
    _, history = runs[name]
    assert all(np.isfinite(history))
    first, last = history[0], history[-1]
    assert last < first
    assert last < 0.25 * first, f"{name}: loss only went from {first:.4f} to {last:.4f}"


def test_mlp_trains_the_same_under_jit(runs):
    """examples/train_mlp.py with jit=True (the Numba dialect's axis reductions and np.add.at): the
    same training, loss for loss, up to rounding."""
    acc, history = train_mlp.main(epochs=30, quiet=True, jit=True)
    _, reference = train_mlp.main(epochs=30, quiet=True)
    np.testing.assert_allclose(history, reference, rtol=1e-9)
    assert history[-1] < 0.5 * history[0]


def test_spiral_data():
    X, y = train_mlp.make_spiral()
    assert X.shape == (300, 2) and y.shape == (300,)
    assert np.array_equal(np.bincount(y), [100, 100, 100])
    X2, y2 = train_mlp.make_spiral()
    assert np.array_equal(X, X2) and np.array_equal(y, y2)  # fixed seed


def _reference_losses(W1, b1, W2, b2, X, y, reg):
    """Plain NumPy softmax and SVM losses, written independently of the examples."""
    s = np.maximum(0.0, X @ W1 + b1) @ W2 + b2
    n = len(y)
    z = s - s.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    softmax = -np.log(p[np.arange(n), y]).mean()
    svm = sum(max(0.0, s[i, j] - s[i, y[i]] + 1.0) for i in range(n) for j in range(s.shape[1]) if j != y[i]) / n
    l2 = reg * ((W1 ** 2).sum() + (W2 ** 2).sum())
    return softmax + l2, svm + l2


def _small_point(seed=0, n=7, d=2, hidden=5, classes=3):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(d, hidden)), rng.normal(size=hidden),
              rng.normal(size=(hidden, classes)), rng.normal(size=classes)]
    X = rng.normal(size=(n, d))
    y = rng.integers(0, classes, size=n)
    return params, X, y, 0.1


@pytest.mark.parametrize("name", MODULES)
def test_loss_value_matches_reference(name):
    params, X, y, reg = _small_point()
    want = _reference_losses(*params, X, y, reg)[0 if name == "mlp" else 1]
    assert MODULES[name].loss(*params, X, y, reg) == pytest.approx(want, rel=1e-12)


def fd_gradient(f, params, i, h=1e-6):
    """d f / d params[i] by central differences, one component at a time."""
    base = [p.copy() for p in params]
    g = np.zeros_like(base[i])
    for k in np.ndindex(base[i].shape):
        plus = [p.copy() for p in base]
        minus = [p.copy() for p in base]
        plus[i][k] += h
        minus[i][k] -= h
        g[k] = (f(*plus) - f(*minus)) / (2 * h)
    return g


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("name", MODULES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_check(name, mode, seed):
    """adc's gradient of the example's loss against central differences, for every parameter."""
    loss = MODULES[name].loss
    params, X, y, reg = _small_point(seed)
    grads = adc.grad(loss, argnums=(0, 1, 2, 3), mode=mode)(*params, X, y, reg)
    assert len(grads) == 4
    for i, (p, g) in enumerate(zip(params, grads)):
        assert g.shape == p.shape
        want = fd_gradient(lambda *ps: loss(*ps, X, y, reg), params, i)
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{name} loss, {mode} mode, gradient of parameter {i}")


@pytest.mark.parametrize("name", MODULES)
def test_value_and_grad_agrees_with_grad(name):
    loss = MODULES[name].loss
    params, X, y, reg = _small_point(2)
    value, grads = adc.value_and_grad(loss, argnums=(0, 1, 2, 3))(*params, X, y, reg)
    assert value == pytest.approx(loss(*params, X, y, reg), rel=1e-12)
    for g, want in zip(grads, adc.grad(loss, argnums=(0, 1, 2, 3))(*params, X, y, reg)):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("name", MODULES)
def test_runs_as_script(name):
    script = EXAMPLES / f"train_{name}.py"
    proc = subprocess.run([sys.executable, str(script), "--epochs", "4"], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    losses = [float(v) for v in re.findall(r"epoch\s+\d+\s+loss (\d+\.\d+)", proc.stdout)]
    assert len(losses) >= 2, proc.stdout
    assert losses[-1] < losses[0], proc.stdout
    assert "final training accuracy" in proc.stdout
