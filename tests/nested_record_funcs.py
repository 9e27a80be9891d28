"""Loops nested in loops whose trip counts are known before the outermost starts: the reverse
sweep keeps their values in records indexed ``i * k + j`` (``reverse._nested_record``)."""
import math


def coupled(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        s = x[i]
        for j in range(3):
            s = math.sin(s * w + x[j])
        total += s * s
    return total


def triple(x, w):
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        for j in range(n):
            s = x[j]
            for l in range(2):
                s = math.cos(s * w) + x[i]
            total += s * w
    return total


def triangular(x, w):
    total = 0.0
    for i in range(x.shape[0]):
        s = x[i]
        for j in range(i):
            s = math.sin(s * w + x[j])
        total += s
    return total


def in_branch(x, w):
    n = x.shape[0]
    total = 0.0
    for i in range(n):
        if x[i] > 0.5:
            s = x[i]
            for j in range(n):
                s = math.tanh(s * x[j] + w)
            total += s
        else:
            total += x[i] * w
    return total
