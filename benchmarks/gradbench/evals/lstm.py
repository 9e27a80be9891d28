"""lstm: ADBench's LSTM (diagonal weights) over a one-hot character sequence; the loss is the mean
log-likelihood of the next character, the jacobian its gradient with respect to the parameters."""
import numpy as np

import adc

from . import JIT


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def objective(main_params, extra_params, state, sequence):
    l = main_params.shape[0] // 2
    b = sequence.shape[1]
    c = sequence.shape[0]
    hidden = state[0::2].copy()  # state rows: hidden and cell of each layer
    cell = state[1::2].copy()
    total = 0.0
    for t in range(c - 1):
        x = sequence[t] * extra_params[0]
        for i in range(l):
            w = main_params[2 * i]  # forget, ingate, outgate, change weights; the next row: biases
            bias = main_params[2 * i + 1]
            forget = sigmoid(x * w[:b] + bias[:b])
            ingate = sigmoid(hidden[i] * w[b:2 * b] + bias[b:2 * b])
            outgate = sigmoid(x * w[2 * b:3 * b] + bias[2 * b:3 * b])
            change = np.tanh(hidden[i] * w[3 * b:] + bias[3 * b:])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * np.tanh(cell[i])
            x = hidden[i]
        ypred = x * extra_params[1] + extra_params[2]
        lse = np.log(np.sum(np.exp(ypred)) + 2.0)
        total = total + np.sum(sequence[t + 1] * (ypred - lse))
    return -total / ((c - 1) * b)


jacobian = adc.grad(objective, argnums=(0, 1), jit=JIT)


def prepare(function, inp):
    args = [np.asarray(inp[k], dtype=np.float64) for k in ("main_params", "extra_params", "state", "sequence")]
    if function == "objective":
        return (lambda: objective(*args)), float
    return (lambda: jacobian(*args)), lambda g: np.concatenate([g[0].ravel(), g[1].ravel()]).tolist()
