"""The lectures' worked examples (shared/worked-examples.md §1-3)."""
import math


def f(x1, x2):
    return math.log(x1) + x1 * x2 - math.sin(x2)


def gates(x, y, z):
    q = x + y
    return q * z


def neuron(w0, x0, w1, x1, w2):
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    return 1.0 / (1.0 + math.exp(-s3))
