"""particle: a charged particle starts at (0, 8) with velocity (0.75, 0) in the field of charges at
(10, 10 - w) and (10, 0); naive Euler steps (dt = 0.1) with the force -grad_x p(x; w) run until it
crosses the x axis, where linear interpolation gives x0(t_f); w is chosen by gradient descent to
minimise x0(t_f)^2. The Euler loop differentiates p (inner AD) and the descent differentiates the
whole trajectory in w (outer AD): nested AD. ff/fr/rf/rr pick the mode of each level."""
import numpy as np

import adc
from evals._descent import argmin

from . import JIT


def potential(x, w):
    d1 = x - np.array([10.0, 10.0 - w])
    d2 = x - np.array([10.0, 0.0])
    return 1.0 / np.sqrt(np.sum(d1 * d1)) + 1.0 / np.sqrt(np.sum(d2 * d2))


force_forward = adc.grad(potential, mode="forward")
force_reverse = adc.grad(potential, mode="reverse")


def naive_euler(w, grad_p):
    x = np.array([0.0, 8.0])
    xdot = np.array([0.75, 0.0])
    dt = 1e-1
    while True:
        xddot = -grad_p(x, w)
        x_new = x + dt * xdot
        if x_new[1] > 0.0:
            x = x_new
            xdot = xdot + dt * xddot
        else:
            dt_f = -x[1] / xdot[1]
            x_t_f = x + dt_f * xdot
            return x_t_f[0] * x_t_f[0]


def miss_forward(w):
    return naive_euler(w, force_forward)


def miss_reverse(w):
    return naive_euler(w, force_reverse)


MISS = {"f": miss_forward, "r": miss_reverse}
MODE = {"f": "forward", "r": "reverse"}
# the miss and its derivative in w, one compiled function per pair of modes (outer, inner)
MISS_AND_SLOPE = {o + i: adc.value_and_grad(MISS[i], mode=MODE[o], jit=JIT) for o in "fr" for i in "fr"}


def particle(w0, outer, inner):
    miss_and_slope = MISS_AND_SLOPE[outer + inner]

    def value_and_grad(w):
        value, slope = miss_and_slope(w[0])
        return value, np.array([slope])

    w = argmin(value_and_grad, np.array([w0]))
    return float(w[0])


def prepare(function, inp):
    w0 = float(inp["w"])
    return (lambda: particle(w0, function[0], function[1])), float
