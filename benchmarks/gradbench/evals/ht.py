"""ht: hand tracking (ADBench). A hand model of 22 bones is posed by 26 parameters `theta` (global
rotation, translation, and 20 finger angles), its 544 vertices are skinned (each a weighted sum of the
bones' transforms), and the objective is the distance from each measured point to its vertex
(`simple`) or to a point inside its triangle, at barycentric coordinates `us` (`complicated`).

The Jacobian (3 rows per point) has one column per `theta` and, in the complicated case, two
columns for the `us`: each point's error depends only on its own two `us`, so that block is
diagonal and one direction per `u` coordinate (all points at once) gives each column. Vector
forward mode computes all of them in one pass (`adc.jacfwd`, `adc.batched_jvp`)."""
import numpy as np

import adc


def angle_axis_to_rotation_matrix(aa):
    norm = np.sqrt(np.sum(aa * aa))
    if norm < 0.0001:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    x, y, z = aa[0] / norm, aa[1] / norm, aa[2] / norm
    s, c = np.sin(norm), np.cos(norm)
    return np.array([[x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s],
                     [x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s],
                     [x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]])


def euler_angles_to_rotation_matrix(xzy):
    tx, ty, tz = xzy[0], xzy[2], xzy[1]
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(tx), -np.sin(tx)], [0.0, np.sin(tx), np.cos(tx)]])
    Ry = np.array([[np.cos(ty), 0.0, np.sin(ty)], [0.0, 1.0, 0.0], [-np.sin(ty), 0.0, np.cos(ty)]])
    Rz = np.array([[np.cos(tz), -np.sin(tz), 0.0], [np.sin(tz), np.cos(tz), 0.0], [0.0, 0.0, 1.0]])
    return Rz @ Ry @ Rx


def to_pose_params(theta, n_bones):
    """One row per pose parameter triple: global rotation, scale, translation, then one per bone."""
    pose = np.zeros((n_bones + 3, 3))
    pose[0] = theta[0:3]
    pose[1] = np.ones(3)
    pose[2] = theta[3:6]
    for finger in range(5):
        row, k = 5 + 4 * finger, 6 + 4 * finger
        pose[row, 0:2] = theta[k:k + 2]
        pose[row + 1, 0] = theta[k + 2]
        pose[row + 2, 0] = theta[k + 3]
    return pose


def skinned_vertex_positions(pose, base_relatives, parents, inverse_base_absolutes, base_positions, weights,
                             is_mirrored):
    """(n_vertices, 3): each vertex moved by the weighted sum of its bones' transforms, then globally."""
    n_bones = base_relatives.shape[0]
    absolutes = np.zeros((n_bones, 4, 4))
    transforms = np.zeros((n_bones, 4, 4))
    for i in range(n_bones):
        tr = np.zeros((4, 4))
        tr[0:3, 0:3] = euler_angles_to_rotation_matrix(pose[i + 3])
        tr[3, 3] = 1.0
        relative = base_relatives[i] @ tr
        if parents[i] == -1:
            absolutes[i] = relative
        else:
            absolutes[i] = absolutes[parents[i]] @ relative
        transforms[i] = absolutes[i] @ inverse_base_absolutes[i]
    # linear blend skinning: each vertex's weighted blend of its bones' transforms, applied once
    blended = (weights @ transforms.reshape(n_bones, 16)).reshape(-1, 4, 4)
    positions = np.einsum("vij,vj->vi", blended[:, 0:3, :], base_positions)
    if is_mirrored:
        positions = positions * np.array([-1.0, 1.0, 1.0])
    R = angle_axis_to_rotation_matrix(pose[0]) * pose[1]
    return positions @ R.T + pose[2]


def objective_simple(theta, base_relatives, parents, inverse_base_absolutes, base_positions, weights, is_mirrored,
                     correspondences, points):
    pose = to_pose_params(theta, base_relatives.shape[0])
    vertices = skinned_vertex_positions(pose, base_relatives, parents, inverse_base_absolutes, base_positions,
                                        weights, is_mirrored)
    return (points - vertices[correspondences]).ravel()


def objective_complicated(theta, us, base_relatives, parents, inverse_base_absolutes, base_positions, weights,
                          is_mirrored, verts, points):
    """`verts`: the three vertices of each point's triangle."""
    pose = to_pose_params(theta, base_relatives.shape[0])
    vertices = skinned_vertex_positions(pose, base_relatives, parents, inverse_base_absolutes, base_positions,
                                        weights, is_mirrored)
    u0, u1 = us[:, 0:1], us[:, 1:2]
    hand_points = u0 * vertices[verts[:, 0]] + u1 * vertices[verts[:, 1]] + (1.0 - u0 - u1) * vertices[verts[:, 2]]
    return (points - hand_points).ravel()


# plain Python: vector forward mode spends its time in NumPy's matrix products and einsum, which
# Numba's loops do not beat (the Jacobian on hand1, big model: 30 ms against 2.1 s compiled)
jacobian_simple = adc.jacfwd(objective_simple, argnums=0)


def jacobian_complicated(theta, us, *data):
    """[d err / d u0, d err / d u1, d err / d theta]: 2 + 26 columns, as the reference lays it out.
    The two blocks come from two vector-mode passes, since `theta` and `us` have no direction in
    common: 26 directions along `theta` (no tangent for `us`, so nothing that depends only on `us`
    is differentiated), then 2 along `us` (no tangent for `theta`: the skinning is not
    differentiated). Each point's error depends only on its own `us`, so seeding every point's u0
    (u1) in one direction gives the column of u0 (u1). (One pass with 28 directions carried 26 zero
    directions through every product with a `us` term and 2 through the skinning.)"""
    seed_us = np.zeros(us.shape + (2,))
    seed_us[:, 0, 0] = 1.0
    seed_us[:, 1, 1] = 1.0
    none = [None] * len(data)
    d_theta = adc.batched_jvp(objective_complicated, (theta, us, *data), (np.eye(theta.shape[0]), None, *none))[1]
    d_us = adc.batched_jvp(objective_complicated, (theta, us, *data), (None, seed_us, *none))[1]
    return np.concatenate([d_us, d_theta], axis=1)


def load(inp):
    model, data = inp["data"]["model"], inp["data"]
    arrays = (np.asarray(model["base_relatives"], dtype=np.float64),
              np.asarray(model["parents"], dtype=np.int64),
              np.asarray(model["inverse_base_absolutes"], dtype=np.float64),
              np.asarray(model["base_positions"], dtype=np.float64),
              np.asarray(model["weights"], dtype=np.float64),
              bool(model["is_mirrored"]))
    theta = np.asarray(inp["theta"], dtype=np.float64)
    correspondences = np.asarray(data["correspondences"], dtype=np.int64)
    points = np.asarray(data["points"], dtype=np.float64)
    if len(inp["us"]) == 0:
        return "simple", (theta, *arrays, correspondences, points)
    triangles = np.asarray(model["triangles"], dtype=np.int64)
    return "complicated", (theta, np.asarray(inp["us"], dtype=np.float64), *arrays, triangles[correspondences],
                           points)


def prepare(function, inp):
    variant, args = load(inp)
    if function == "objective":
        f = objective_simple if variant == "simple" else objective_complicated
        return (lambda: f(*args)), np.ndarray.tolist
    jac = jacobian_simple if variant == "simple" else jacobian_complicated
    return (lambda: jac(*args)), np.ndarray.tolist
