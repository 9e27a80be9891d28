"""Gradient descent with an adaptive step (Siskind and Pearlmutter's `multivariate-argmin`), the
optimiser of the particle and saddle evals: a step that lowers f is taken and after 10 such steps
the rate doubles; a step that does not is refused and the rate halves; it stops when the gradient
or the step is shorter than 1e-5. This outer optimiser is plain Python; `value_and_grad(x)` returns
f(x) and its gradient, from one call of a function made by `adc.value_and_grad` (one compiled call
per trial point under `jit=True`)."""
import numpy as np

TOL = 1e-5


def argmin(value_and_grad, x):
    (fx, gx), eta, i = value_and_grad(x), TOL, 0
    while True:
        if np.sqrt(np.sum(gx * gx)) <= TOL:
            return x
        if i == 10:
            eta, i = 2.0 * eta, 0
            continue
        x_new = x - eta * gx
        if np.sqrt(np.sum((x - x_new) ** 2)) <= TOL:
            return x
        f_new, g_new = value_and_grad(x_new)
        if f_new < fx:
            x, fx, gx, i = x_new, f_new, g_new, i + 1
        else:
            eta, i = eta / 2.0, 0
