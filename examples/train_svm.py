"""Train the lectures' 2-layer network on the 3-class spiral with the multiclass SVM loss.

Same network, data and mini-batch SGD as ``train_mlp.py`` (worked-examples.md §6); only the loss
differs.  The multiclass SVM (hinge) loss of example i with scores s and true class y_i is

    L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + 1)

averaged over the batch, plus L2 regularization ``reg * (sum(W1**2) + sum(W2**2))``.  It is
vectorized: the true-class scores are picked with integer-array indexing ``s[np.arange(n), y]``,
and the j == y_i terms (each would be max(0, 1) = 1) are excluded with ``np.where`` on a one-hot
mask ``np.arange(C)[None, :] == y[:, None]``.  The gradient comes only from ``adc.grad``.

Kinks: at a hinge margin of exactly 0 adc's ``np.maximum`` rule passes no gradient (one-sided
derivative, acceptable per §6); with random float data exact ties do not occur.

Run:  python examples/train_svm.py [--epochs N] [--lr LR] [--batch-size B] [--quiet]
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np


def _load_train_mlp():
    """``train_mlp.py`` from this directory, whether run as a script or loaded by path."""
    path = Path(__file__).resolve().with_name("train_mlp.py")
    loaded = sys.modules.get("train_mlp")
    if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() == path:
        return loaded
    spec = importlib.util.spec_from_file_location("train_mlp", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_mlp"] = module
    spec.loader.exec_module(module)
    return module


train_mlp = _load_train_mlp()
make_spiral, init_params, scores, train = (train_mlp.make_spiral, train_mlp.init_params, train_mlp.scores,
                                           train_mlp.train)

EPOCHS = 300
LR = 0.5
BATCH_SIZE = 30
REG = 1e-4


def loss(W1, b1, W2, b2, X, y, reg):
    """Mean multiclass SVM loss of the 2-layer network plus L2 regularization (differentiated by adc)."""
    h = np.maximum(0.0, X @ W1 + b1)
    s = h @ W2 + b2
    n = X.shape[0]
    correct = s[np.arange(n), y]
    margins = np.maximum(0.0, s - correct[:, None] + 1.0)
    true_class = np.arange(s.shape[1])[None, :] == y[:, None]
    margins = np.where(true_class, 0.0, margins)
    data_loss = np.sum(margins) / n
    reg_loss = reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    return data_loss + reg_loss


def main(epochs: int = EPOCHS, lr: float = LR, batch_size: int = BATCH_SIZE, reg: float = REG,
         quiet: bool = False):
    """Train with the SVM loss; returns ``(final training accuracy, loss history)``."""
    acc, history, _ = train(loss, epochs=epochs, lr=lr, batch_size=batch_size, reg=reg, quiet=quiet, name="svm")
    return acc, history


if __name__ == "__main__":
    args = train_mlp.parse_args(description=__doc__.splitlines()[0], epochs=EPOCHS, lr=LR,
                                batch_size=BATCH_SIZE, reg=REG)
    acc, _ = main(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, reg=args.reg, quiet=args.quiet)
    if args.quiet:
        print(f"final training accuracy: {acc:.3f}")
