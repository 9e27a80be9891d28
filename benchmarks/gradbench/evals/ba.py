"""ba: bundle adjustment (ADBench), written over all observations at once, as NumPy code is.

Each observation's reprojection error depends on its camera (11 parameters), its point (3) and its
weight: its Jacobian is a dense 2 x 15 block, and the full Jacobian (CSR) holds one block per
observation. `reproj_err` is the per-observation maths of the reference, with one observation per
column: `cam` is (11, p) (the observations' cameras, `cams[obs[:, 0]].T`), `X` is (3, p), so
`cam[6]` is every observation's focal length, and the one branch (`theta == 0`) is an `np.where`.
Since observation i's error depends only on column i of those arrays, the pullback of the
cotangent "1 in residual row r of every observation" gives row r of every block at once: a block
has 2 rows and 15 columns, so reverse mode needs two sweeps where forward mode needs 15
directions. `adc.vjp` runs the forward sweep once per chunk of `CHUNK` observations and each
pullback only the reverse sweep. One `adc.jvp` gives the diagonal of the weight errors'. Both are
compiled with `jit="parallel"`: Numba fuses the sweeps' consecutive element-wise statements into
fewer loops (on one thread too: 156 against 176 ms at ba7, docs/gradbench.md).

(Earlier versions: `adc.jacfwd(reproj_err_one_observation, jit=True)` per observation, 82 s for ba1,
because each call cost ~2 ms of adc's per-call Python work; then 15 `adc.jvp` calls over all
observations, one per parameter; then one `adc.batched_jvp` pass carrying the 15 directions, about
4x as long as the two reverse sweeps; see docs/gradbench.md.)"""
import numpy as np

import adc

NCAM = 11
CHUNK = 8192  # observations per forward sweep (its residuals, about 700 bytes per observation: 5.7 MB)


def rodrigues_rotate_point(rot, X):
    """Rotate each column of X (3, p) by the angle-axis vector in the same column of rot (3, p)."""
    sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2]
    theta = np.sqrt(sqtheta)
    costheta = np.cos(theta)
    sintheta = np.sin(theta)
    w = rot / theta
    w_cross_X = np.array([w[1] * X[2] - w[2] * X[1], w[2] * X[0] - w[0] * X[2], w[0] * X[1] - w[1] * X[0]])
    tmp = (w[0] * X[0] + w[1] * X[1] + w[2] * X[2]) * (1.0 - costheta)
    rot_cross_X = np.array([rot[1] * X[2] - rot[2] * X[1], rot[2] * X[0] - rot[0] * X[2],
                            rot[0] * X[1] - rot[1] * X[0]])
    return np.where(sqtheta != 0.0, X * costheta + w_cross_X * sintheta + w * tmp, X + rot_cross_X)


def project(cam, X):
    Xcam = rodrigues_rotate_point(cam[0:3], X - cam[3:6])
    proj = Xcam[0:2] / Xcam[2]
    rsq = proj[0] * proj[0] + proj[1] * proj[1]
    L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
    return proj * L * cam[6] + cam[7:9]


def reproj_err(cam, X, w, feat):
    """(2, p): observation i sees point X[:, i] with camera cam[:, i], weighted by w[i]."""
    return w * (project(cam, X) - feat)


def weight_err(w):
    return 1.0 - w * w


from . import PARALLEL


def objective(cams, X, w, obs, feats):
    return reproj_err(cams[obs[:, 0]].T, X[obs[:, 1]].T, w, feats.T).T.ravel(), weight_err(w)


def jacobian(cams, X, w, obs, feats):
    """The sparse Jacobian of (reproj_err, weight_err) in CSR form: rows (row pointers), cols, vals."""
    n, m, p = cams.shape[0], X.shape[0], w.shape[0]
    c, j = obs[:, 0], obs[:, 1]
    block = 2 * (NCAM + 4)  # the entries of one observation's 2 x 15 block
    vals = np.empty(block * p + p)
    blocks = vals[:block * p].reshape(p, 2, NCAM + 4)
    cams_t, X_t, feats_t = cams.T.copy(), X.T.copy(), feats.T.copy()  # one camera, point, feature per column
    for start in range(0, p, CHUNK):
        stop = min(start + CHUNK, p)
        # the chunk's cameras, points and features, one observation per column
        part = (cams_t.take(c[start:stop], axis=1), X_t.take(j[start:stop], axis=1), w[start:stop],
                np.ascontiguousarray(feats_t[:, start:stop]))
        _, pullback = adc.vjp(reproj_err, *part, jit=PARALLEL)
        for row, seed in enumerate(row_seeds(stop - start)):
            # one reverse sweep per residual row gives that row of every observation's block
            g_cam, g_x, g_w, _ = pullback(seed)
            blocks[start:stop, row, :NCAM] = g_cam.T
            blocks[start:stop, row, NCAM:NCAM + 3] = g_x.T
            blocks[start:stop, row, NCAM + 3] = g_w
    vals[block * p:] = adc.jvp(weight_err, (w,), (np.ones(p),), jit=PARALLEL)[1]  # the diagonal
    # the 15 columns of an observation's block row (both rows share them), 32-bit like the reference's where they fit
    index = np.int32 if NCAM * n + 3 * m + p <= np.iinfo(np.int32).max else np.int64
    row_cols = np.empty((p, NCAM + 4), dtype=index)
    row_cols[:, :NCAM] = (NCAM * c)[:, None] + np.arange(NCAM)
    row_cols[:, NCAM:NCAM + 3] = (NCAM * n + 3 * j)[:, None] + np.arange(3)
    row_cols[:, NCAM + 3] = NCAM * n + 3 * m + np.arange(p)
    cols = np.empty(block * p + p, dtype=index)
    cols[:block * p].reshape(p, 2, NCAM + 4)[:] = row_cols[:, None, :]
    cols[block * p:] = row_cols[:, NCAM + 3]
    rows = np.concatenate([np.arange(2 * p + 1) * (NCAM + 4), 2 * p * (NCAM + 4) + np.arange(1, p + 1)])
    return rows, cols, vals


def row_seeds(size):
    """The two cotangents of `size` observations' residuals (2, size): ones in row 0, then in row 1."""
    seeds = np.zeros((2, 2, size))
    seeds[0, 0] = seeds[1, 1] = 1.0
    return seeds


def load(inp):
    """GradBench's BA input holds one camera, point, weight and feature, each to be repeated."""
    n, m, p = int(inp["n"]), int(inp["m"]), int(inp["p"])
    cams = np.tile(np.asarray(inp["cam"], dtype=np.float64), (n, 1))
    X = np.tile(np.asarray(inp["x"], dtype=np.float64), (m, 1))
    w = np.full(p, float(inp["w"]))
    feats = np.tile(np.asarray(inp["feat"], dtype=np.float64), (p, 1))
    obs = np.stack([np.arange(p) % n, np.arange(p) % m], axis=1)
    return cams, X, w, obs, feats


def encode_objective(result):
    err, w_err = result
    return {"reproj_error": {"elements": err[:2].tolist(), "repeated": len(err) // 2},
            "w_err": {"element": float(w_err[0]), "repeated": len(w_err)}}


def encode_jacobian(result):
    rows, cols, vals = result
    k = 2 * (NCAM + 4)  # the first 30 entries and the last one
    return {"rows": rows[:k].tolist() + [int(rows[-1])], "cols": cols[:k].tolist() + [int(cols[-1])],
            "vals": vals[:k].tolist() + [float(vals[-1])]}


def prepare(function, inp):
    args = load(inp)
    if function == "objective":
        return (lambda: objective(*args)), encode_objective
    return (lambda: jacobian(*args)), encode_jacobian
