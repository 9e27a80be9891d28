"""A multi-layer perceptron written the way people write it: the parameters are a list of
``(W, b)`` pairs, the forward pass loops over them, and ``adc.grad`` returns gradients in the
same structure.  Trained with plain gradient descent on two interleaved spirals.

    python examples/params_mlp.py
"""
from __future__ import annotations

import numpy as np

import adc


def spirals(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on each of two interleaved spirals, and one-hot labels."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1.0, n)) * 3.0 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    X = np.concatenate([arm, -arm]) + rng.normal(scale=0.02, size=(2 * n, 2))
    y = np.zeros((2 * n, 2))
    y[:n, 0] = 1.0
    y[n:, 1] = 1.0
    return X, y


def init(sizes: list[int], seed: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [(rng.normal(scale=1.0 / np.sqrt(m), size=(m, n)), np.zeros(n)) for m, n in zip(sizes[:-1], sizes[1:])]


def predict(layers, X):
    h = X
    for W, b in layers[:-1]:
        h = np.tanh(h @ W + b)
    W, b = layers[-1]
    return h @ W + b


def loss(layers, X, y):
    """Softmax cross-entropy, plus a small L2 penalty on the weights."""
    logits = predict(layers, X)
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    penalty = 1e-4 * sum(np.sum(W * W) for W, b in layers)
    return -np.sum(y * log_probs) / X.shape[0] + penalty


def train(steps: int = 1000, rate: float = 0.5, jit: bool = False, quiet: bool = False):
    X, y = spirals(100)
    layers = init([2, 32, 32, 2])
    gradient = adc.value_and_grad(loss, jit=jit)
    history = []
    for step in range(steps):
        value, grads = gradient(layers, X, y)
        layers = [(W - rate * gW, b - rate * gb) for (W, b), (gW, gb) in zip(layers, grads)]
        history.append(value)
        if not quiet and step % 50 == 0:
            print(f"step {step:4d}  loss {value:.4f}")
    accuracy = float(np.mean(np.argmax(predict(layers, X), axis=1) == np.argmax(y, axis=1)))
    if not quiet:
        print(f"training accuracy {accuracy:.1%}")
    return layers, history, accuracy


if __name__ == "__main__":
    train()
