"""``adc.vjp`` followed by several pullbacks, and ``adc.jacrev`` (one pullback per output): since
the pullback reruns only the reverse sweep on the residuals of one forward sweep
(``adc/vjp_parts.py``), k pullbacks cost one forward and k reverse sweeps instead of k of both.
One thread, median of ``--runs`` calls after a warm-up, ms.  To compare with an older adc, run the
same command with ``PYTHONPATH`` pointing at its checkout.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/bench_pullbacks.py [--runs 21]
"""
from __future__ import annotations

import argparse

import numpy as np

import adc
from harness import median_ms


def features(w, x):
    """m = 16 outputs, each a nonlinear feature of a 2000-element array."""
    h = np.tanh(x * w[0] + w[1])
    z = np.exp(-h * h) * x
    return np.array([np.sum(z * w[k]) + np.sum(np.sin(h + w[k])) for k in range(2, 18)])


def reproj_err(cam, X, w, feat):
    """GradBench ba's per-observation reprojection error, one observation per column (as in
    benchmarks/gradbench/evals/ba.py, without its theta == 0 branch)."""
    rot = cam[0:3]
    Xc = X - cam[3:6]
    sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2]
    theta = np.sqrt(sqtheta)
    costheta, sintheta = np.cos(theta), np.sin(theta)
    u = rot / theta
    cross = np.array([u[1] * Xc[2] - u[2] * Xc[1], u[2] * Xc[0] - u[0] * Xc[2], u[0] * Xc[1] - u[1] * Xc[0]])
    tmp = (u[0] * Xc[0] + u[1] * Xc[1] + u[2] * Xc[2]) * (1.0 - costheta)
    Xcam = Xc * costheta + cross * sintheta + u * tmp
    proj = Xcam[0:2] / Xcam[2]
    rsq = proj[0] * proj[0] + proj[1] * proj[1]
    L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
    return w * (proj * L * cam[6] + cam[7:9] - feat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=18) * 0.3, rng.normal(size=2000)
    p = 4096
    cam = rng.normal(size=(11, p)) * 0.1
    cam[3:6] -= 5.0
    cam[6] = 300.0
    part = (cam, rng.normal(size=(3, p)), rng.uniform(0.5, 1.0, p), rng.normal(size=(2, p)))
    rows = [np.zeros((2, p)), np.zeros((2, p))]
    rows[0][0] = rows[1][1] = 1.0

    def two_rows(jit: bool) -> None:
        _, pullback = adc.vjp(reproj_err, *part, jit=jit)
        for seed in rows:
            pullback(seed)

    print("| workload | jit | ms |")
    print("|---|---|---|")
    for jit in (False, True):
        print(f"| `jacrev(features, argnums=0)`, 16 outputs, x of 2000 | {jit} | "
              f"{median_ms(lambda: adc.jacrev(features, jit=jit)(w, x), args.runs):.3f} |")
        print(f"| `vjp(reproj_err)` + 2 pullbacks, 4096 observations | {jit} | {median_ms(lambda: two_rows(jit), args.runs):.3f} |")


if __name__ == "__main__":
    main()
