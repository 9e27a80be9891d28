"""kmeans: cost(C) = sum_i min_j |C_j - P_i|^2, and the Newton direction J / diag(H).

The cost is NumPy code (`cost`, what the eval times for "cost"); its derivatives are adc's of the
same cost written as the reference's loops (`cost_loops`: for each point, the nearest centroid's
squared distance), which makes no (n, k, d) temporaries: the vectorised form's are 1.3 GB each at
GradBench's largest size (k = 1000, n = 10000, d = 16), and at k = 100, n = 1000, d = 16 its
compiled direction took 4.5x the loops' (docs/gradbench.md).

The Hessian with respect to the centroids is diagonal, so H @ ones is its diagonal: one forward pass
over the gradient program, `adc.jvp(gradient, (C, P), (ones, zeros))`, gives the gradient and that
diagonal together (GradBench's kmeans README: "it is most efficient to compute both at the same
time"), where `adc.sparse_hessian(cost, "diagonal")` and `adc.grad` would make two passes."""
import math

import numpy as np

import adc

from . import JIT


def cost(centroids, points):
    diff = points[:, None, :] - centroids[None, :, :]
    dist2 = np.sum(diff * diff, axis=2)
    return np.sum(np.min(dist2, axis=1))


def cost_loops(centroids, points):
    n, d = points.shape
    k = centroids.shape[0]
    total = 0.0
    for i in range(n):
        closest = math.inf
        for j in range(k):
            dist = 0.0
            for l in range(d):
                t = points[i, l] - centroids[j, l]
                dist += t * t
            closest = min(closest, dist)
        total += closest
    return total


gradient = adc.grad(cost_loops, jit=JIT)


def direction(centroids, points):
    J, H_diagonal = adc.jvp(gradient, (centroids, points), (np.ones_like(centroids), np.zeros_like(points)), jit=JIT)
    return J / H_diagonal


def prepare(function, inp):
    P = np.asarray(inp["points"], dtype=np.float64)
    C = np.asarray(inp["centroids"], dtype=np.float64)
    if function == "cost":
        return (lambda: cost(C, P)), float
    return (lambda: direction(C, P)), np.ndarray.tolist
