"""kmeans: cost(C) = sum_i min_j |C_j - P_i|^2, and the Newton direction J / diag(H) (the Hessian
of the cost with respect to the centroids is diagonal)."""
import numpy as np

import adc


def cost(centroids, points):
    diff = points[:, None, :] - centroids[None, :, :]
    dist2 = np.sum(diff * diff, axis=2)
    return np.sum(np.min(dist2, axis=1))


jacobian = adc.grad(cost)
hessian = adc.hessian(cost)


def direction(centroids, points):
    J = jacobian(centroids, points)
    H = hessian(centroids, points)
    k, d = centroids.shape
    return J / np.diagonal(H.reshape(k * d, k * d)).reshape(k, d)


def prepare(function, inp):
    P = np.asarray(inp["points"], dtype=np.float64)
    C = np.asarray(inp["centroids"], dtype=np.float64)
    if function == "cost":
        return (lambda: cost(C, P)), float
    return (lambda: direction(C, P)), np.ndarray.tolist
