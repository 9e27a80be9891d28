"""ba: bundle adjustment (ADBench). Each observation's reprojection error depends on one camera
(11 parameters), one point (3) and one weight: its Jacobian is a dense 2 x 15 block, computed by adc
(forward mode, 15 inputs) for every observation and assembled into the sparse (CSR) Jacobian."""
import math

import numpy as np

import adc

NCAM = 11


def rodrigues_rotate_point(rot, X):
    sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2]
    if sqtheta != 0.0:
        theta = math.sqrt(sqtheta)
        costheta = math.cos(theta)
        sintheta = math.sin(theta)
        w = rot / theta
        w_cross_X = np.array([w[1] * X[2] - w[2] * X[1], w[2] * X[0] - w[0] * X[2], w[0] * X[1] - w[1] * X[0]])
        tmp = (w[0] * X[0] + w[1] * X[1] + w[2] * X[2]) * (1.0 - costheta)
        return X * costheta + w_cross_X * sintheta + w * tmp
    rot_cross_X = np.array([rot[1] * X[2] - rot[2] * X[1], rot[2] * X[0] - rot[0] * X[2], rot[0] * X[1] - rot[1] * X[0]])
    return X + rot_cross_X


def project(cam, X):
    Xcam = rodrigues_rotate_point(cam[0:3], X - cam[3:6])
    proj = Xcam[0:2] / Xcam[2]
    rsq = proj[0] * proj[0] + proj[1] * proj[1]
    L = 1.0 + cam[9] * rsq + cam[10] * rsq * rsq
    return proj * L * cam[6] + cam[7:9]


def reproj_err(params, feat):
    """params: one camera, one point and one weight, concatenated (15 values)."""
    return params[14] * (project(params[0:11], params[11:14]) - feat)


reproj_jacobian = adc.jacfwd(reproj_err, jit=True)


def objective(cams, X, w, obs, feats):
    p = w.shape[0]
    err = np.empty((p, 2))
    for i in range(p):
        err[i] = w[i] * (project(cams[obs[i, 0]], X[obs[i, 1]]) - feats[i])
    return err.ravel(), 1.0 - w * w


def weight_err(w):
    return 1.0 - w * w


weight_derivative = adc.grad(weight_err)


def jacobian(cams, X, w, obs, feats):
    """The sparse Jacobian of (reproj_err, w_err) in CSR form: rows (row pointers), cols, vals."""
    n, m, p = cams.shape[0], X.shape[0], w.shape[0]
    cols = np.empty((p, 2, NCAM + 4), dtype=np.int64)
    vals = np.empty((p, 2, NCAM + 4))
    for i in range(p):
        c, j = obs[i]
        vals[i] = reproj_jacobian(np.concatenate([cams[c], X[j], w[i:i + 1]]), feats[i])
        cols[i, :, :NCAM] = NCAM * c + np.arange(NCAM)
        cols[i, :, NCAM:NCAM + 3] = NCAM * n + 3 * j + np.arange(3)
        cols[i, :, NCAM + 3] = NCAM * n + 3 * m + i
    w_vals = np.empty(p)
    for i in range(p):
        w_vals[i] = weight_derivative(w[i])
    rows = np.concatenate([np.arange(2 * p + 1) * (NCAM + 4), 2 * p * (NCAM + 4) + np.arange(1, p + 1)])
    cols = np.concatenate([cols.ravel(), NCAM * n + 3 * m + np.arange(p)])
    vals = np.concatenate([vals.ravel(), w_vals])
    return rows, cols, vals


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
