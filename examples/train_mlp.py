"""Train the lectures' 2-layer network on a 3-class spiral with softmax loss and adc gradients.

The network (worked-examples.md §6), in the row-vector convention (one example per row of X):

    h      = max(0, X @ W1 + b1)          # hidden layer, ReLU
    scores = h @ W2 + b2                  # one score per class

The loss is the mean softmax cross-entropy plus L2 regularization
``reg * (sum(W1**2) + sum(W2**2))``.  ``loss`` below is a plain module-level function; its gradient
with respect to (W1, b1, W2, b2) comes only from ``adc.grad`` (no hand-written backprop), and the
parameters are updated by mini-batch SGD: ``W <- W - lr * dL/dW``.

ReLU at 0: adc's rule for ``np.maximum(0, z)`` passes no gradient where ``z == 0`` (docs/rules.md);
either one-sided derivative is acceptable (§6), and exact zeros do not occur here anyway.

Run:  python examples/train_mlp.py [--epochs N] [--lr LR] [--batch-size B] [--quiet] [--jit (Numba)]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import adc

SEED = 0
N_PER_CLASS = 100
N_CLASSES = 3
HIDDEN = 100

EPOCHS = 300
LR = 1.0
BATCH_SIZE = 30
REG = 1e-4
PRINT_EVERY = 30


def make_spiral(n_per_class: int = N_PER_CLASS, n_classes: int = N_CLASSES, seed: int = SEED):
    """The CS231n spiral: ``n_classes`` interleaved 2-D arms, ``n_per_class`` noisy points each.

    Returns ``X`` of shape (n_per_class * n_classes, 2) and integer labels ``y``."""
    rng = np.random.default_rng(seed)
    n = n_per_class * n_classes
    X = np.zeros((n, 2))
    y = np.zeros(n, dtype=np.int64)
    for j in range(n_classes):
        ix = range(n_per_class * j, n_per_class * (j + 1))
        r = np.linspace(0.0, 1.0, n_per_class)
        t = np.linspace(j * 4.0, (j + 1) * 4.0, n_per_class) + rng.normal(size=n_per_class) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[ix] = j
    return X, y


def init_params(n_in: int = 2, hidden: int = HIDDEN, n_out: int = N_CLASSES, seed: int = SEED):
    """Small random weights, zero biases: ``(W1, b1, W2, b2)``."""
    rng = np.random.default_rng(seed + 1)
    W1 = 0.01 * rng.normal(size=(n_in, hidden))
    b1 = np.zeros(hidden)
    W2 = 0.01 * rng.normal(size=(hidden, n_out))
    b2 = np.zeros(n_out)
    return W1, b1, W2, b2


def scores(W1, b1, W2, b2, X):
    """Class scores of the 2-layer network (plain NumPy; used for prediction)."""
    h = np.maximum(0.0, X @ W1 + b1)
    return h @ W2 + b2


def loss(W1, b1, W2, b2, X, y, reg):
    """Mean softmax cross-entropy of the 2-layer network plus L2 regularization.

    Numerically stable: the row maximum is subtracted before exponentiating (it cancels out of the
    softmax).  This is the function adc differentiates."""
    h = np.maximum(0.0, X @ W1 + b1)
    s = h @ W2 + b2
    s = s - np.max(s, axis=1, keepdims=True)
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))
    n = X.shape[0]
    data_loss = -np.mean(logp[np.arange(n), y])
    reg_loss = reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    return data_loss + reg_loss


def accuracy(params, X, y) -> float:
    return float(np.mean(np.argmax(scores(*params, X), axis=1) == y))


def train(loss_fn, epochs: int = EPOCHS, lr: float = LR, batch_size: int = BATCH_SIZE, reg: float = REG,
          print_every: int = PRINT_EVERY, quiet: bool = False, seed: int = SEED, name: str = "softmax",
          jit: bool = False):
    """Mini-batch SGD on the spiral with ``adc.grad(loss_fn)``.

    Returns ``(accuracy, history, params)``: the final training accuracy, the full-data loss after
    each epoch (``history[0]`` is the loss before training), and the trained ``(W1, b1, W2, b2)``."""
    X, y = make_spiral(seed=seed)
    params = list(init_params(seed=seed))
    grad_fn = adc.grad(loss_fn, argnums=(0, 1, 2, 3), jit=jit)
    rng = np.random.default_rng(seed + 2)
    n = X.shape[0]
    # Only full batches: every call has the same argument types, so adc compiles the gradient once.
    n_batches = max(1, n // batch_size)
    history = [float(loss_fn(*params, X, y, reg))]
    log = (lambda *a: None) if quiet else print
    log(f"[{name}] {n} points, {N_CLASSES} classes, hidden {params[0].shape[1]}; "
        f"epochs {epochs}, lr {lr}, batch {batch_size}, reg {reg}")
    log(f"[{name}] epoch {0:4d}  loss {history[0]:.4f}")
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        for b in range(n_batches):
            idx = order[b * batch_size:(b + 1) * batch_size]
            grads = grad_fn(*params, X[idx], y[idx], reg)
            for p, g in zip(params, grads):
                p -= lr * g
        history.append(float(loss_fn(*params, X, y, reg)))
        if epoch % print_every == 0 or epoch == epochs:
            log(f"[{name}] epoch {epoch:4d}  loss {history[-1]:.4f}  train acc {accuracy(params, X, y):.3f}")
    acc = accuracy(params, X, y)
    log(f"[{name}] final training accuracy: {acc:.3f}  ({time.perf_counter() - start:.2f} s)")
    return acc, history, tuple(params)


def main(epochs: int = EPOCHS, lr: float = LR, batch_size: int = BATCH_SIZE, reg: float = REG,
         quiet: bool = False, jit: bool = False):
    """Train with softmax loss; returns ``(final training accuracy, loss history)``."""
    acc, history, _ = train(loss, epochs=epochs, lr=lr, batch_size=batch_size, reg=reg, quiet=quiet,
                            name="softmax", jit=jit)
    return acc, history


def parse_args(argv=None, description: str = __doc__.splitlines()[0], epochs: int = EPOCHS, lr: float = LR,
               batch_size: int = BATCH_SIZE, reg: float = REG) -> argparse.Namespace:
    """Command-line flags (shared with train_svm.py, which passes its own defaults)."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--epochs", type=int, default=epochs, help=f"passes over the data (default {epochs})")
    ap.add_argument("--lr", type=float, default=lr, help=f"SGD learning rate (default {lr})")
    ap.add_argument("--batch-size", type=int, default=batch_size, help=f"mini-batch size (default {batch_size})")
    ap.add_argument("--reg", type=float, default=reg, help=f"L2 regularization strength (default {reg})")
    ap.add_argument("--quiet", action="store_true", help="print only the final training accuracy")
    ap.add_argument("--jit", action="store_true", help="compile the gradient with Numba (jit=True)")
    return ap.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    acc, _ = main(epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, reg=args.reg, quiet=args.quiet,
                  jit=args.jit)
    if args.quiet:
        print(f"final training accuracy: {acc:.3f}")
