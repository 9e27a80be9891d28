"""The determinant by expansion in minors, written recursively as in a linear-algebra course, and
its gradient by reverse mode.  adc keeps ``det`` a function: the generated module defines its
forward part ``det_fwd`` (value and residuals) and its reverse part ``det_bwd`` once, and both call
themselves, as ``det`` does.  The gradient of the determinant is ``det(A) * inv(A).T`` (Jacobi's
formula), which the script checks.

    python examples/det_minors.py
"""
from __future__ import annotations

import numpy as np

import adc


def minor(A: np.ndarray, i: int, j: int) -> np.ndarray:
    """A without row i and column j."""
    rows = np.vstack([A[:i], A[i + 1:]])
    return np.hstack([rows[:, :j], rows[:, j + 1:]])


def det(A: np.ndarray) -> float:
    """Laplace expansion along the first row."""
    n = A.shape[0]
    if n == 1:
        return A[0, 0]
    if n == 2:
        return A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0]
    total = 0.0
    for j in range(n):
        total += (-1.0) ** j * A[0, j] * det(minor(A, 0, j))
    return total


grad_det = adc.grad(det)


def main(n: int = 6, seed: int = 0, quiet: bool = False) -> float:
    """The largest difference between adc's gradient and Jacobi's formula for a random n x n matrix."""
    A = np.random.default_rng(seed).standard_normal((n, n))
    g = grad_det(A)
    error = float(np.max(np.abs(g - np.linalg.det(A) * np.linalg.inv(A).T)))
    if not quiet:
        print(f"det(A) = {det(A):.6f} (numpy: {np.linalg.det(A):.6f})")
        print(f"max |grad det(A) - det(A) inv(A)^T| = {error:.2e}")
        print(adc.source(det, at=(A,), compact=True))
    return error


if __name__ == "__main__":
    main()
