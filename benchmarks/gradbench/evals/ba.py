"""ba: bundle adjustment (ADBench), written over all observations at once, as NumPy code is.

Each observation's reprojection error depends on its camera (11 parameters), its point (3) and its
weight: its Jacobian is a dense 2 x 15 block, and the full Jacobian (CSR) holds one block per
observation. `reproj_err` is the per-observation maths of the reference, with one observation per
column: `cam` is (11, p) (the observations' cameras, `cams[obs[:, 0]].T`), `X` is (3, p), so
`cam[6]` is every observation's focal length, and the one branch (`theta == 0`) is an `np.where`.
Since observation i's error depends only on column i of those arrays, the forward-mode directional
derivative along "parameter k of every observation" gives column k of every block at once.
`adc.batched_jvp` carries the 15 directions (one per parameter, for every observation) in one
vector-mode pass, `feat` undifferentiated; the observations go in chunks of `CHUNK`, so that the
(chunk, 15) tangents stay small. One more `adc.jvp` gives the diagonal of the weight errors'.

(Earlier versions: `adc.jacfwd(reproj_err_one_observation, jit=True)` per observation, 82 s for ba1,
because each call cost ~2 ms of adc's per-call Python work; then 15 `adc.jvp` calls over all
observations, one per parameter; see docs/gradbench.md.)"""
import numpy as np

import adc

NCAM = 11
CHUNK = 1024  # observations per vector-mode pass (its tangents are (CHUNK, 15) arrays)


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


from . import JIT


def objective(cams, X, w, obs, feats):
    return reproj_err(cams[obs[:, 0]].T, X[obs[:, 1]].T, w, feats.T).T.ravel(), weight_err(w)


def jacobian(cams, X, w, obs, feats):
    """The sparse Jacobian of (reproj_err, weight_err) in CSR form: rows (row pointers), cols, vals."""
    n, m, p = cams.shape[0], X.shape[0], w.shape[0]
    c, j = obs[:, 0], obs[:, 1]
    cam, x, feat = cams[c].T, X[j].T, feats.T  # one observation per column
    vals = np.empty((p, 2, NCAM + 4))
    seeds = directions(min(CHUNK, p))
    for start in range(0, p, CHUNK):
        stop = min(start + CHUNK, p)
        part = (np.ascontiguousarray(cam[:, start:stop]), np.ascontiguousarray(x[:, start:stop]), w[start:stop],
                np.ascontiguousarray(feat[:, start:stop]))
        tangents = seeds if stop - start == len(seeds[2]) else directions(stop - start)
        # (2, chunk, 15): the 2 x 15 block of every observation of the chunk
        vals[start:stop] = adc.batched_jvp(reproj_err, part, (*tangents, None), jit=JIT)[1].transpose(1, 0, 2)
    w_vals = adc.jvp(weight_err, (w,), (np.ones(p),), jit=JIT)[1]  # the diagonal
    cols = np.empty((p, 2, NCAM + 4), dtype=np.int64)
    cols[:, :, :NCAM] = (NCAM * c)[:, None, None] + np.arange(NCAM)
    cols[:, :, NCAM:NCAM + 3] = (NCAM * n + 3 * j)[:, None, None] + np.arange(3)
    cols[:, :, NCAM + 3] = (NCAM * n + 3 * m + np.arange(p))[:, None]
    rows = np.concatenate([np.arange(2 * p + 1) * (NCAM + 4), 2 * p * (NCAM + 4) + np.arange(1, p + 1)])
    cols = np.concatenate([cols.ravel(), NCAM * n + 3 * m + np.arange(p)])
    vals = np.concatenate([vals.ravel(), w_vals])
    return rows, cols, vals


def directions(size):
    """The 15 tangent directions of `size` observations, along the last axis: direction k < 11 is
    camera parameter k of every observation, 11 to 13 the point's coordinates, 14 the weight."""
    t_cam, t_x, t_w = np.zeros((NCAM, size, NCAM + 4)), np.zeros((3, size, NCAM + 4)), np.zeros((size, NCAM + 4))
    t_cam[np.arange(NCAM), :, np.arange(NCAM)] = 1.0
    t_x[np.arange(3), :, NCAM + np.arange(3)] = 1.0
    t_w[:, NCAM + 3] = 1.0
    return t_cam, t_x, t_w


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
