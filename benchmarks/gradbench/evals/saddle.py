"""saddle: min over x of max over y of f(x, y) = (x0^2 + x1^2) - (y0^2 + y1^2) (Siskind and
Pearlmutter's f(x1, y1, x2, y2) with the point x = (x1, y1) and y = (x2, y2)), both by gradient
descent from the same start; the gradient in x differentiates through the inner argmax, whose
steps use the gradient in y: nested AD. ff/fr/rf/rr pick forward or reverse mode for each level."""
import numpy as np

import adc
from evals._descent import TOL, argmin

from . import JIT


def f(x, y):
    return (x[0] * x[0] + x[1] * x[1]) - (y[0] * y[0] + y[1] * y[1])


def neg_f(y, x):
    return -f(x, y)


grad_y_forward = adc.grad(neg_f, mode="forward")
grad_y_reverse = adc.grad(neg_f, mode="reverse")
MODE = {"f": "forward", "r": "reverse"}
# the second descent (over y at the optimal x): -f and its gradient in y, in either mode
NEG_F_AND_GRAD_Y = {o: adc.value_and_grad(neg_f, mode=MODE[o], jit=JIT) for o in "fr"}


def argmax_y(x, start, inner):
    """The inner argmax, written out (adc inlines it): the same descent as _descent.argmin."""
    y = start
    fy = neg_f(y, x)
    gy = inner(y, x)
    eta = TOL
    i = 0
    while np.sqrt(np.sum(gy * gy)) > TOL:
        if i == 10:
            eta = 2.0 * eta
            i = 0
        else:
            y_new = y - eta * gy
            if np.sqrt(np.sum((y - y_new) ** 2)) <= TOL:
                return y
            f_new = neg_f(y_new, x)
            if f_new < fy:
                y = y_new
                fy = f_new
                gy = inner(y, x)
                i = i + 1
            else:
                eta = eta / 2.0
                i = 0
    return y


def max_f_forward(x, start):
    return f(x, argmax_y(x, start, grad_y_forward))


def max_f_reverse(x, start):
    return f(x, argmax_y(x, start, grad_y_reverse))


MAX_F = {"f": max_f_forward, "r": max_f_reverse}
# max over y of f and its gradient in x through the inner argmax, per pair of modes (outer, inner)
MAX_F_AND_GRAD_X = {o + i: adc.value_and_grad(MAX_F[i], mode=MODE[o], jit=JIT) for o in "fr" for i in "fr"}


def saddle(start, outer, inner):
    max_f_and_grad_x = MAX_F_AND_GRAD_X[outer + inner]
    x = argmin(lambda x: max_f_and_grad_x(x, start), start)
    neg_f_and_grad_y = NEG_F_AND_GRAD_Y[outer]
    y = argmin(lambda y: neg_f_and_grad_y(y, x), start)
    return np.concatenate([x, y])


def prepare(function, inp):
    start = np.asarray(inp["start"], dtype=np.float64)
    return (lambda: saddle(start, function[0], function[1])), np.ndarray.tolist
