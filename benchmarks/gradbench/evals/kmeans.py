"""kmeans: cost(C) = sum_i min_j |C_j - P_i|^2, and the Newton direction J / diag(H).  The Hessian of
the cost with respect to the centroids is diagonal: `adc.sparse_hessian(cost, "diagonal")` is one
Hessian-vector product (forward over reverse) instead of k * d (docs/composition.md)."""
import numpy as np

import adc


def cost(centroids, points):
    diff = points[:, None, :] - centroids[None, :, :]
    dist2 = np.sum(diff * diff, axis=2)
    return np.sum(np.min(dist2, axis=1))


jacobian = adc.grad(cost)
hessian = adc.sparse_hessian(cost, "diagonal", check=False)  # the structure is known: no test pass


def direction(centroids, points):
    J = jacobian(centroids, points)
    return J / hessian(centroids, points).diagonal().reshape(centroids.shape)


def prepare(function, inp):
    P = np.asarray(inp["points"], dtype=np.float64)
    C = np.asarray(inp["centroids"], dtype=np.float64)
    if function == "cost":
        return (lambda: cost(C, P)), float
    return (lambda: direction(C, P)), np.ndarray.tolist
