"""A character-level recurrent network: the hidden state ``h`` is rebound at every time step, the
parameters are a dict, and the gradient is taken in reverse mode (backpropagation through time)
under ``jit=True``.  Trained with Adagrad to predict the next character of a short text.

    python examples/char_rnn.py
"""
from __future__ import annotations

import numpy as np

import adc

TEXT = "differentiate the program, not the formula. " * 3


def one_hot(text: str, vocabulary: str) -> np.ndarray:
    out = np.zeros((len(text), len(vocabulary)))
    out[np.arange(len(text)), [vocabulary.index(c) for c in text]] = 1.0
    return out


def init(vocab: int, hidden: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"Wxh": rng.normal(scale=0.1, size=(hidden, vocab)), "Whh": rng.normal(scale=0.1, size=(hidden, hidden)),
            "bh": np.zeros(hidden), "Why": rng.normal(scale=0.1, size=(vocab, hidden)), "by": np.zeros(vocab)}


def loss(params, inputs, targets, h0):
    """Mean cross-entropy of the next-character predictions over the sequence."""
    h = h0
    total = 0.0
    for t in range(inputs.shape[0]):
        h = np.tanh(params["Wxh"] @ inputs[t] + params["Whh"] @ h + params["bh"])
        logits = params["Why"] @ h + params["by"]
        shifted = logits - np.max(logits)
        total = total - np.sum(targets[t] * (shifted - np.log(np.sum(np.exp(shifted)))))
    return total / inputs.shape[0]


def train(steps: int = 150, hidden: int = 24, rate: float = 0.1, jit: bool = True, quiet: bool = False):
    vocabulary = "".join(sorted(set(TEXT)))
    encoded = one_hot(TEXT, vocabulary)
    inputs, targets = encoded[:-1], encoded[1:]
    params = init(len(vocabulary), hidden)
    memory = {k: np.zeros_like(v) for k, v in params.items()}
    gradient = adc.value_and_grad(loss, jit=jit)
    h0 = np.zeros(hidden)
    history = []
    for step in range(steps):
        value, grads = gradient(params, inputs, targets, h0)
        for k in params:  # Adagrad
            memory[k] += grads[k] * grads[k]
            params[k] = params[k] - rate * grads[k] / np.sqrt(memory[k] + 1e-8)
        history.append(value)
        if not quiet and step % 25 == 0:
            print(f"step {step:4d}  loss {value:.4f}")
    if not quiet:
        print(f"final loss {history[-1]:.4f} (uniform guessing: {np.log(len(vocabulary)):.4f})")
    return params, history


if __name__ == "__main__":
    train()
