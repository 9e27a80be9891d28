"""NumPy array programs: every array rule checked against central finite differences.

The functions under test live in ``array_funcs.py`` (adc reads their source).  ``CASES`` is the
table: one ``(function, example arguments)`` row per rule and per shape variant (broadcasting of
scalars, rows, columns and ``(1, n)`` with ``(m, 1)``; every reduction with every ``axis`` and
``keepdims``; the four ``@`` combinations; slices, integer-array indexing, construction ...).

For each row, differentiating with respect to every float argument:

* scalar output: ``adc.grad`` in reverse and in forward mode against FD, gradient shapes and
  dtypes equal to the arguments';
* array output: the full Jacobian, built row by row with ``adc.vjp`` (reverse) and column by column
  with ``adc.jvp`` (forward), against FD;
* the inner-product identity ``<vjp(u), v> == <u, jvp(v)>`` for random ``u`` and ``v``.

Then: the lectures' worked examples (§4 ``||W x||^2``, §5 softmax cross-entropy) to the printed
digits, gradient checks of the 2-layer MLP with softmax and multiclass-SVM losses, float32 inputs,
boolean-mask indexing rejected with a hint, and the shape of the generated code for the MLP.
"""
from __future__ import annotations

import re
import zlib
from typing import Any, Callable, NamedTuple

import numpy as np
import pytest

import adc
import array_funcs as af
from layouts import assert_layouts_agree

H = 1e-6
RTOL = 1e-6
ATOL = 1e-7

# --- finite differences on arrays -------------------------------------------------------------


def is_float_arg(a: Any) -> bool:
    return isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f")


def float_argnums(args: tuple) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(args) if is_float_arg(a))


def _shifted(args: tuple, i: int, k: int, delta: float) -> list:
    new = list(args)
    if isinstance(args[i], np.ndarray):
        a = args[i].copy()
        a.flat[k] += delta
        new[i] = a
    else:
        new[i] = args[i] + delta
    return new


def fd_jacobian(fn: Callable, args: tuple, i: int, h: float = H) -> np.ndarray:
    """``d fn / d args[i]`` by central differences, shaped ``out.shape + args[i].shape``
    (the gradient itself when ``fn`` returns a scalar)."""
    out = np.asarray(fn(*args), dtype=np.float64)
    shape = np.shape(args[i])
    cols = []
    for k in range(int(np.prod(shape))):
        plus = np.asarray(fn(*_shifted(args, i, k, h)), dtype=np.float64)
        minus = np.asarray(fn(*_shifted(args, i, k, -h)), dtype=np.float64)
        cols.append((plus - minus) / (2 * h))
    return np.stack(cols, axis=-1).reshape(out.shape + shape)


def assert_like_arg(g: Any, a: Any, what: str) -> None:
    """A derivative has its primal's type: a float for a float, an array of the same shape and dtype."""
    if isinstance(a, np.ndarray):
        assert isinstance(g, np.ndarray), f"{what}: expected an array, got {type(g).__name__}"
        assert g.shape == a.shape, f"{what}: shape {g.shape}, expected {a.shape}"
        assert g.dtype == a.dtype, f"{what}: dtype {g.dtype}, expected {a.dtype}"
    else:
        assert isinstance(g, float), f"{what}: expected a float, got {type(g).__name__}"


def assert_close(got: Any, want: Any, what: str, rtol: float = RTOL, atol: float = ATOL) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=rtol, atol=atol, err_msg=what)


def unit(shape: tuple, k: int, dtype: Any = np.float64) -> Any:
    if shape == ():
        return 1.0
    e = np.zeros(shape, dtype=dtype)
    e.flat[k] = 1.0
    return e


def zero_like(a: Any) -> Any:
    return np.zeros_like(a) if isinstance(a, np.ndarray) else 0.0


def grads_reverse(fn: Callable, args: tuple, wrt: tuple[int, ...]) -> list:
    return list(adc.grad(fn, argnums=wrt, mode="reverse")(*args))


def grads_forward(fn: Callable, args: tuple, wrt: tuple[int, ...]) -> list:
    return list(adc.grad(fn, argnums=wrt, mode="forward")(*args))


def jacobians_vjp(fn: Callable, args: tuple, wrt: tuple[int, ...]) -> list[np.ndarray]:
    """The Jacobians w.r.t. ``args[wrt]``, one pullback per output element."""
    out, pullback = adc.vjp(fn, *args)
    out = np.asarray(out)
    rows: dict[int, list] = {i: [] for i in wrt}
    for m in range(out.size):
        cts = pullback(unit(out.shape, m, out.dtype))
        assert len(cts) == len(args), f"pullback returned {len(cts)} cotangents for {len(args)} primals"
        for i in wrt:
            assert_like_arg(cts[i], args[i], f"cotangent of argument {i}")
            rows[i].append(np.asarray(cts[i], dtype=np.float64))
    return [np.stack(rows[i]).reshape(out.shape + np.shape(args[i])) for i in wrt]


def jacobians_jvp(fn: Callable, args: tuple, wrt: tuple[int, ...]) -> list[np.ndarray]:
    """The Jacobians w.r.t. ``args[wrt]``, one tangent pass per input element."""
    want_out = np.asarray(fn(*args))
    jacs = []
    for i in wrt:
        shape = np.shape(args[i])
        cols = []
        for k in range(int(np.prod(shape))):
            tangents = [zero_like(a) if is_float_arg(a) else None for a in args]
            tangents[i] = unit(shape, k, args[i].dtype if isinstance(args[i], np.ndarray) else None)
            out, tan = adc.jvp(fn, args, tangents)
            assert_close(out, want_out, "jvp primal output", rtol=1e-12, atol=1e-12)
            assert np.shape(tan) == want_out.shape, f"tangent shape {np.shape(tan)}, expected {want_out.shape}"
            cols.append(np.asarray(tan, dtype=np.float64))
        jacs.append(np.stack(cols, axis=-1).reshape(want_out.shape + shape))
    return jacs


# --- example arguments -------------------------------------------------------------------------

_rng = np.random.default_rng(20240607)


def R(*shape: int) -> Any:
    """Random values in [-1.5, -0.2] U [0.2, 1.5] (away from the kinks at 0); a float for shape ()."""
    v = _rng.uniform(0.2, 1.5, size=shape) * _rng.choice([-1.0, 1.0], size=shape)
    return float(v) if shape == () else v


def P(*shape: int) -> Any:
    """Random positive values in [0.5, 2.0]; a float for shape ()."""
    v = _rng.uniform(0.5, 2.0, size=shape)
    return float(v) if shape == () else v


def labels(n: int, classes: int) -> np.ndarray:
    return _rng.integers(0, classes, size=n)


class Case(NamedTuple):
    id: str
    fn: Callable
    args: tuple


CASES: list[Case] = []


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray):
        text = "x".join(str(d) for d in a.shape) or "0d"
        return text + ("i" if a.dtype.kind == "i" else "")
    return "s" if isinstance(a, float) else type(a).__name__


def case(fn: Callable, *args: Any) -> None:
    base = f"{fn.__name__}[{','.join(_describe(a) for a in args)}]"
    name, k = base, 2
    while any(c.id == name for c in CASES):
        name, k = f"{base}#{k}", k + 1
    CASES.append(Case(name, fn, tuple(args)))


# Broadcasting: same shape, scalar with array (both ways), row (n,) with (m, n), column (m, 1)
# with (m, n), (1, n) with (m, 1) (both ways), 1-D, and a 3-D array with a (m, 1) column.
BROADCAST = [((3, 4), (3, 4)), ((), (3, 4)), ((3, 4), ()), ((4,), (3, 4)), ((3, 4), (4,)),
             ((3, 1), (3, 4)), ((3, 4), (3, 1)), ((1, 4), (3, 1)), ((3, 1), (1, 4)), ((5,), (5,)),
             ((5,), ()), ((2, 3, 4), (3, 1))]
BROADCAST_ARRAY_OUT = [((3, 1), (1, 4)), ((4,), (3, 4)), ((), (3, 4)), ((3, 4), (3, 1)), ((3, 4), ())]

for _sa, _sb in BROADCAST:
    case(af.ew_add, R(*_sa), R(*_sb))
    case(af.ew_sub, R(*_sa), R(*_sb))
    case(af.ew_mul, R(*_sa), R(*_sb))
    case(af.ew_div, R(*_sa), R(*_sb))
    case(af.ew_pow, P(*_sa), R(*_sb))
    case(af.ew_maximum, R(*_sa), R(*_sb))
    case(af.ew_minimum, R(*_sa), R(*_sb))
for _sa, _sb in BROADCAST_ARRAY_OUT:
    case(af.add_a, R(*_sa), R(*_sb))
    case(af.sub_a, R(*_sa), R(*_sb))
    case(af.mul_a, R(*_sa), R(*_sb))
    case(af.div_a, R(*_sa), R(*_sb))
    case(af.pow_a, P(*_sa), R(*_sb))
    case(af.maximum_a, R(*_sa), R(*_sb))
    case(af.minimum_a, R(*_sa), R(*_sb))

# elementwise unary functions, on a vector and a matrix
for _shape in [(5,), (3, 4)]:
    for _fn, _gen in [(af.u_neg, R), (af.u_exp, R), (af.u_log, P), (af.u_log1p, P), (af.u_sqrt, P),
                      (af.u_tanh, R), (af.u_sin, R), (af.u_cos, R), (af.u_abs, R)]:
        case(_fn, _gen(*_shape))
for _fn, _gen in [(af.neg_a, R), (af.exp_a, R), (af.log_a, P), (af.log1p_a, P), (af.sqrt_a, P),
                  (af.tanh_a, R), (af.sin_a, R), (af.cos_a, R), (af.abs_a, R)]:
    case(_fn, _gen(3, 4))

# arrays with Python literals
case(af.lit_scale, R(3, 4))
case(af.lit_rdiv, P(3, 4))
case(af.lit_square, R(3, 4))
case(af.lit_half_power, P(3, 4))
case(af.lit_rpow, R(3, 4))
case(af.lit_rsub, R(3, 4))
case(af.lit_chain_a, R(3, 4))

# comparisons (masks) in np.where, np.clip
case(af.w_relu, R(3, 4))
case(af.w_relu, R(5))
case(af.w_leaky, R(3, 4))
for _sa, _sb in [((3, 4), (3, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((3, 4), (3, 1))]:
    case(af.w_lt, R(*_sa), R(*_sb))
    case(af.w_le, R(*_sa), R(*_sb))
case(af.w_ne, R(3, 4), R(4))
case(af.w_scalar_branch, R(3, 4), 0.3)
case(af.where_a, R(3, 1), R(1, 4))
case(af.where_a, R(3, 4), R(4))
case(af.c_const, R(3, 4))
case(af.c_args, R(3, 4), -0.4, 0.6)
case(af.c_args, R(6), -0.5, 0.5)
case(af.c_row_bound, R(3, 4), 0.5 * R(4))
case(af.clip_a, R(3, 4), -0.4, 0.6)
case(af.clip_a, R(3, 4), 0.5 * R(3, 1), 0.8)

# reductions: every function x axis x keepdims on a matrix, raw (r_) and inside a scalar (rs_)
for _fn in ["sum", "mean", "max", "min"]:
    for _axis in ["none", "0", "1", "m1", "01"]:
        for _kd in ["", "_kd"]:
            case(getattr(af, f"r_{_fn}_{_axis}{_kd}"), R(3, 4))
            case(getattr(af, f"rs_{_fn}_{_axis}{_kd}"), R(3, 4))
# ... and on a vector and a 3-D array
for _fn in ["sum", "mean", "max", "min"]:
    case(getattr(af, f"r_{_fn}_none"), R(5))
    case(getattr(af, f"r_{_fn}_0"), R(5))
    case(getattr(af, f"r_{_fn}_m1_kd"), R(5))
    case(getattr(af, f"r_{_fn}_01"), R(2, 3, 4))
    case(getattr(af, f"r_{_fn}_1_kd"), R(2, 3, 4))
    case(getattr(af, f"rs_{_fn}_m1"), R(2, 3, 4))
# method forms
for _fn in [af.m_sum, af.m_mean, af.m_max, af.m_min, af.m_min_axis, af.m_max_axis_kd, af.m_sum_axis_a,
            af.m_mean_axis_a, af.m_max_positional_a, af.m_min_axis_a]:
    case(_fn, R(3, 4))
case(af.m_sum, R(5))
case(af.m_max, R(5))

# linear algebra
case(af.la_mm, R(3, 4), R(4, 2))
case(af.la_mv, R(3, 4), R(4))
case(af.la_vm, R(3), R(3, 4))
case(af.la_vv, R(4), R(4))
case(af.la_dot_mm, R(3, 4), R(4, 2))
case(af.la_dot_mv, R(3, 4), R(4))
case(af.la_dot_vm, R(3), R(3, 4))
case(af.la_dot_vv, R(4), R(4))
case(af.la_matmul_mm, R(3, 4), R(4, 2))
case(af.la_matmul_mv, R(3, 4), R(4))
case(af.la_outer, R(3), R(4))
case(af.la_dot_T, R(4, 3), R(4, 2))
case(af.la_method_dot, R(3, 4), R(4, 2))
case(af.mm_a, R(3, 4), R(4, 2))
case(af.mv_a, R(3, 4), R(4))
case(af.vm_a, R(3), R(3, 4))
case(af.vv_a, R(4), R(4))
case(af.outer_a, R(3), R(4))
case(af.bilinear, R(3), R(3, 4), R(4))

# shapes
case(af.s_T, R(3, 4), R(4, 3))
case(af.s_transpose, R(3, 4), R(4, 3))
case(af.s_reshape_tuple, R(3, 4), R(2, 6))
case(af.s_reshape_ints, R(3, 4), R(2, 6))
case(af.s_reshape_minus1, R(3, 4), R(4, 3))
case(af.s_reshape_flat, R(3, 4), R(12))
case(af.s_np_reshape, R(3, 4), R(6, 2))
case(af.s_np_reshape, R(12), R(6, 2))
case(af.s_ravel, R(3, 4), R(12))
case(af.s_flatten, R(3, 4), R(12))
case(af.s_col, R(3), R(3, 4))
case(af.s_row, R(4), R(3, 4))
case(af.s_newaxis, R(3), R(4))
for _fn in [af.transpose_a, af.np_transpose_a, af.reshape_a, af.reshape_tuple_a, af.reshape_minus1_a,
            af.np_reshape_a, af.ravel_a, af.flatten_a]:
    case(_fn, R(3, 4))
case(af.col_a, R(4))
case(af.row_a, R(4))

# indexing
case(af.i_tail, R(6), R(5))
case(af.i_head, R(6), R(5))
case(af.i_step, R(6), R(3))
case(af.i_step, R(5), R(3))
case(af.i_start_stop_step, R(6), R(2))
case(af.i_row, R(3, 4), R(4))
case(af.i_col, R(3, 4), R(3))
case(af.i_block, R(3, 4), R(2, 2))
case(af.i_elements, R(3, 4))
case(af.i_last, R(5))
case(af.i_pick, P(6, 3), labels(6, 3))
for _fn in [af.tail_a, af.head_a, af.step_a, af.start_stop_step_a]:
    case(_fn, R(6))
for _fn in [af.row0_a, af.col1_a, af.block_a]:
    case(_fn, R(3, 4))
case(af.pick_a, R(6, 3), labels(6, 3))
case(af.gather_a, R(5), np.array([0, 2, 2, 4, 0]))

# construction
case(af.k_zeros, R(3, 4))
case(af.k_zeros_fill, R(4))
case(af.k_ones, R(3, 4))
case(af.k_ones_2d, R(3, 4))
case(af.k_zeros_like, R(3, 4))
case(af.k_ones_like, P(3, 4))
case(af.k_array, R(), R(), R())
case(af.k_array_derived, R(4))
case(af.k_concat0, R(3), R(2), R(5))
case(af.k_concat0_2d, R(2, 3), R(1, 3), R(3, 3))
case(af.k_concat1_2d, R(2, 3), R(2, 1), R(2, 4))
case(af.k_stack0, R(3), R(3), R(2, 3))
case(af.k_stack1, R(3), R(3), R(3, 2))
case(af.k_stack1, R(2, 3), R(2, 3), R(2, 2, 3))
case(af.array_a, R(), R(), R())
case(af.concat0_a, R(3), R(2))
case(af.concat0_a, R(2, 3), R(1, 3))
case(af.concat1_a, R(2, 3), R(2, 2))
case(af.stack0_a, R(3), R(3))
case(af.stack1_a, R(3), R(3))
case(af.stack1_a, R(2, 3), R(2, 3))

# the worked examples and the lectures' networks (batch 6, 4 inputs, 5 hidden, 3 classes)
W_EX = np.array([[0.1, 0.5], [-0.3, 0.8]])
X_EX = np.array([0.2, 0.4])
SCORES_EX = np.array([-2.85, 0.86, 0.28])


def mlp_params(seed: int = 7) -> tuple:
    rng = np.random.default_rng(seed)
    W1, b1 = 0.5 * rng.normal(size=(5, 4)), 0.1 * rng.normal(size=5)
    W2, b2 = 0.5 * rng.normal(size=(3, 5)), 0.1 * rng.normal(size=3)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    return W1, b1, W2, b2, X, y


MLP_ARGS = mlp_params()
Y_ONEHOT = np.eye(3)[MLP_ARGS[5]]
case(af.norm_wx, X_EX, W_EX)
case(af.wx, X_EX, W_EX)
case(af.softmax_ce, SCORES_EX, 2)
case(af.mlp_softmax_loss, *MLP_ARGS)
case(af.mlp_svm_loss, *MLP_ARGS)
case(af.mlp_svm_loss_mask, *MLP_ARGS)
case(af.mlp_softmax_onehot, *MLP_ARGS[:5], Y_ONEHOT)
case(af.mlp_scores_a, *MLP_ARGS[:5])


def _has_int_arg(c: Case) -> bool:
    return any(not is_float_arg(a) for a in c.args)


def _is_scalar_case(c: Case) -> bool:
    return np.ndim(c.fn(*c.args)) == 0


def known_bugs(c: Case, kind: str) -> list:
    """The xfail marks of a table row (none: every bug this file found is fixed)."""
    return []


# --- (1) the table against finite differences, both modes -------------------------------------------


@pytest.mark.parametrize("mode, c", [pytest.param(mode, c, id=f"{mode}-{c.id}", marks=known_bugs(c, mode))
                                     for mode in ["reverse", "forward"] for c in CASES])
def test_table_against_fd(mode: str, c: Case) -> None:
    wrt = float_argnums(c.args)
    assert wrt, "every table row has a float argument"
    want = [fd_jacobian(c.fn, c.args, i) for i in wrt]
    if _is_scalar_case(c):
        got = (grads_reverse if mode == "reverse" else grads_forward)(c.fn, c.args, wrt)
        assert len(got) == len(wrt)
        for g, i in zip(got, wrt):
            assert_like_arg(g, c.args[i], f"gradient w.r.t. argument {i}")
    else:
        got = (jacobians_vjp if mode == "reverse" else jacobians_jvp)(c.fn, c.args, wrt)
    for g, w, i in zip(got, want, wrt):
        assert_close(g, w, f"{c.id}: {mode} derivative w.r.t. argument {i}")


@pytest.mark.parametrize("mode, c", [pytest.param(mode, c, id=f"{mode}-{c.id}") for mode in ["reverse", "forward"]
                                     for c in CASES if mode == "forward" or _is_scalar_case(c)])
def test_lecture_layout_computes_what_the_compact_code_computes(mode: str, c: Case) -> None:
    assert_layouts_agree(c.fn, c.args, float_argnums(c.args), mode, rtol=1e-10, atol=1e-10)


def test_table_covers_every_function() -> None:
    """Every differentiable function in array_funcs.py has at least one row in the table."""
    import inspect

    used = {c.fn.__name__ for c in CASES}
    defined = {name for name, obj in vars(af).items() if inspect.isfunction(obj) and obj.__module__ == af.__name__}
    elsewhere = {"sum_squares", "softmax_ce_plain", "boolean_mask", "gather_sum"}  # tested below
    assert defined - used - elsewhere == set()


# --- (2) forward and reverse mode agree: <vjp(u), v> == <u, jvp(v)> -------------------------------


@pytest.mark.parametrize("c", [pytest.param(c, id=c.id, marks=known_bugs(c, "inner")) for c in CASES])
def test_inner_product_identity(c: Case) -> None:
    rng = np.random.default_rng(zlib.crc32(c.id.encode()))
    out_value = np.asarray(c.fn(*c.args))
    u = float(rng.normal()) if out_value.ndim == 0 else rng.normal(size=out_value.shape)
    v = [None] * len(c.args)
    for i in float_argnums(c.args):
        v[i] = float(rng.normal()) if isinstance(c.args[i], float) else rng.normal(size=c.args[i].shape)

    out, pullback = adc.vjp(c.fn, *c.args)
    cts = pullback(u)
    lhs = sum(float(np.vdot(np.asarray(cts[i]), v[i])) for i in float_argnums(c.args))
    out2, tangent = adc.jvp(c.fn, c.args, v)
    rhs = float(np.vdot(u, np.asarray(tangent)))
    assert_close(out, out_value, "vjp output", rtol=1e-12, atol=1e-12)
    assert_close(out2, out_value, "jvp output", rtol=1e-12, atol=1e-12)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-10)


# --- (3) the worked examples, to the printed digits -------------------------------------------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_worked_example_norm_wx(mode: str) -> None:
    """§4: f(x, W) = ||W x||^2 at W = [[0.1, 0.5], [-0.3, 0.8]], x = [0.2, 0.4]."""
    value, (dx, dW) = adc.value_and_grad(af.norm_wx, argnums=(0, 1), mode=mode)(X_EX, W_EX)
    assert round(value, 3) == 0.116
    assert np.round(dW, 3).tolist() == [[0.088, 0.176], [0.104, 0.208]]
    assert np.round(dx, 3).tolist() == [-0.112, 0.636]
    assert dW.shape == (2, 2) and dx.shape == (2,)
    # the intermediate q = W x and the upstream gradient df/dq = 2 q
    q, _ = adc.jvp(af.wx, (X_EX, W_EX), (np.zeros(2), np.zeros((2, 2))))
    assert np.round(q, 2).tolist() == [0.22, 0.26]
    dq = adc.grad(af.sum_squares, mode=mode)(q)
    assert np.round(dq, 2).tolist() == [0.44, 0.52]
    # the matmul rule: dL/dW = 2 q x^T, dL/dx = 2 W^T q
    np.testing.assert_allclose(dW, np.outer(2 * q, X_EX), rtol=1e-13)
    np.testing.assert_allclose(dx, W_EX.T @ (2 * q), rtol=1e-13)


@pytest.mark.parametrize("fn", [af.softmax_ce, af.softmax_ce_plain])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_worked_example_softmax_ce(fn: Callable, mode: str) -> None:
    """§5: scores [-2.85, 0.86, 0.28], true class index 2: loss 1.04, gradient p - onehot."""
    value, g = adc.value_and_grad(fn, mode=mode)(SCORES_EX, 2)
    assert round(value, 2) == 1.04
    assert np.round(g, 4).tolist() == [0.0154, 0.6312, -0.6466]
    p = np.exp(SCORES_EX) / np.sum(np.exp(SCORES_EX))
    np.testing.assert_allclose(g, p - np.eye(3)[2], rtol=1e-12, atol=1e-14)


# --- (4) the lectures' MLP with softmax / multiclass SVM losses, every parameter ------------------


@pytest.mark.parametrize("fn", [af.mlp_softmax_loss, af.mlp_svm_loss, af.mlp_svm_loss_mask])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_mlp_loss_gradients(fn: Callable, mode: str) -> None:
    args = MLP_ARGS
    names = ["W1", "b1", "W2", "b2"]
    value, grads = adc.value_and_grad(fn, argnums=(0, 1, 2, 3), mode=mode)(*args)
    assert value == pytest.approx(fn(*args), rel=1e-12)
    for name, g, i in zip(names, grads, range(4)):
        assert_like_arg(g, args[i], f"d loss / d {name}")
        assert_close(g, fd_jacobian(fn, args, i), f"{fn.__name__}: {mode} d loss / d {name}")
    # the two ways of dropping the true class's margin agree
    if fn is af.mlp_svm_loss_mask:
        other = adc.grad(af.mlp_svm_loss, argnums=(0, 1, 2, 3), mode=mode)(*args)
        for g, o in zip(grads, other):
            np.testing.assert_allclose(g, o, rtol=1e-12, atol=1e-14)


def test_mlp_gradient_descent_step_lowers_the_loss() -> None:
    """W <- W - lr * dL/dW with adc's gradient lowers the loss (the lectures' training loop)."""
    W1, b1, W2, b2, X, y = MLP_ARGS
    g = adc.grad(af.mlp_softmax_loss, argnums=(0, 1, 2, 3))
    loss = af.mlp_softmax_loss(W1, b1, W2, b2, X, y)
    for _ in range(5):
        d = g(W1, b1, W2, b2, X, y)
        W1, b1, W2, b2 = W1 - 0.1 * d[0], b1 - 0.1 * d[1], W2 - 0.1 * d[2], b2 - 0.1 * d[3]
        new = af.mlp_softmax_loss(W1, b1, W2, b2, X, y)
        assert new < loss
        loss = new


# --- float32 -----------------------------------------------------------------------------------------

FLOAT32_CASES = ["ew_add[4,3x4]", "ew_mul[3x1,3x4]", "ew_div[1x4,3x1]", "ew_pow[s,3x4]", "u_exp[3x4]",
                 "u_tanh[5]", "u_log[3x4]", "w_relu[3x4]", "c_args[3x4,s,s]", "rs_max_0[3x4]",
                 "rs_mean_1_kd[3x4]", "rs_sum_01[3x4]", "la_mm[3x4,4x2]", "la_mv[3x4,4]", "la_vm[3,3x4]",
                 "la_outer[3,4]", "s_reshape_ints[3x4,2x6]", "s_T[3x4,4x3]", "i_block[3x4,2x2]",
                 "i_pick[6x3,6i]", "k_concat1_2d[2x3,2x1,2x4]", "k_stack1[3,3,3x2]",
                 "mlp_softmax_loss[5x4,5,3x5,3,6x4,6i]", "mlp_svm_loss[5x4,5,3x5,3,6x4,6i]"]
CASES_BY_ID = {c.id: c for c in CASES}


def to_float32(a: Any) -> Any:
    return a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a


@pytest.mark.parametrize("case_id", FLOAT32_CASES)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_float32_inputs(case_id: str, mode: str) -> None:
    c = CASES_BY_ID[case_id]
    args32 = tuple(to_float32(a) for a in c.args)
    wrt = float_argnums(c.args)
    got = adc.grad(c.fn, argnums=wrt, mode=mode)(*args32)
    # the float64 reference, at the float32-rounded point
    args64 = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a
                   for a in args32)
    want = adc.grad(c.fn, argnums=wrt, mode=mode)(*args64)
    for g, w, i in zip(got, want, wrt):
        assert_like_arg(g, args32[i], f"float32 gradient w.r.t. argument {i}")
        if isinstance(args32[i], np.ndarray):
            assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=2e-4, atol=2e-5, err_msg=f"{case_id}: argument {i}")


def test_float32_vjp_keeps_dtype() -> None:
    a, b = R(3, 4).astype(np.float32), R(4, 2).astype(np.float32)
    out, pullback = adc.vjp(af.mm_a, a, b)
    ga, gb = pullback(np.ones((3, 2), dtype=np.float32))
    assert (ga.dtype, ga.shape, gb.dtype, gb.shape) == (np.float32, (3, 4), np.float32, (4, 2))
    np.testing.assert_allclose(ga, np.ones((3, 2)) @ b.T, rtol=1e-5)
    np.testing.assert_allclose(gb, a.T @ np.ones((3, 2)), rtol=1e-5)


# --- integer arguments pass through ------------------------------------------------------------------


def test_vjp_passes_int_labels_through() -> None:
    """Minimal reproducer: adc.vjp on a function indexing with an int label array."""
    p, y = P(6, 3), labels(6, 3)
    out, pullback = adc.vjp(af.pick_a, p, y)
    gp = pullback(np.ones(6))[0]
    want = np.zeros((6, 3))
    want[np.arange(6), y] = 1.0
    np.testing.assert_array_equal(gp, want)


def test_jvp_passes_int_labels_through() -> None:
    p, y = P(6, 3), labels(6, 3)
    out, tangent = adc.jvp(af.pick_a, (p, y), (np.ones((6, 3)), None))
    np.testing.assert_array_equal(tangent, np.ones(6))


def test_repeated_integer_index_accumulates() -> None:
    """x[idx] with a repeated index sends the sum of the cotangents to that element (grad path)."""
    x, idx = R(5), np.array([0, 2, 2, 4, 0, 0])
    want = np.bincount(idx, minlength=5) * np.cos(x)
    for mode in ["reverse", "forward"]:
        g = adc.grad(af.gather_sum, mode=mode)(x, idx)
        assert_like_arg(g, x, "gradient")
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-14)
        assert_close(g, fd_jacobian(af.gather_sum, (x, idx), 0), f"{mode} vs FD")


# --- (5) boolean-mask indexing: the adjoint scatters back into the selected elements --------------


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_boolean_mask_indexing(mode: str) -> None:
    x = np.array([0.5, -1.0, 2.0, -0.25, 3.0])
    g = adc.grad(af.boolean_mask, mode=mode)(x)
    np.testing.assert_array_equal(g, [1.0, 0.0, 1.0, 0.0, 1.0])  # d/dx sum(x[x > 0])
    assert_close(g, fd_jacobian(af.boolean_mask, (x,), 0), f"{mode} vs FD")


def test_boolean_mask_indexing_in_source() -> None:
    assert "np.add.at(gx, (v1,), " in adc.source(af.boolean_mask, at=(R(5),), compact=True)


# --- (6) the generated code: matmul backward as transposed products, no Jacobians ---------------


def code_only(src: str) -> str:
    """Generated source without comments (which quote the user's lines, `X @ W1.T` included)."""
    return "\n".join(line.split("#", 1)[0] for line in src.splitlines())


def test_mlp_reverse_source_uses_transposed_matmuls() -> None:
    src = adc.source(af.mlp_softmax_loss, mode="reverse", argnums=(0, 1, 2, 3), at=MLP_ARGS)
    code = code_only(src)
    assert "@" in code
    assert ".T" in code
    assert "np.outer" not in code
    for forbidden in ["np.eye", "np.identity", "np.kron", "np.diag", "jacobian"]:
        assert forbidden not in code.lower(), f"generated code builds a Jacobian-like matrix ({forbidden})"
    # the backward of the two matmuls as products with a transposed operand (g @ c.T, a.T @ g):
    # at least d/dW1 (X.T @ g), d/dh (g @ W2.T) and d/dW2 (h.T @ g)
    transposed_products = re.findall(r"@\s*\w+\.T\b|\b\w+\.T\s*@", code)
    assert len(transposed_products) >= 3, src


def test_mlp_forward_source_has_no_jacobian() -> None:
    code = code_only(adc.source(af.mlp_softmax_loss, mode="forward", argnums=(0, 1, 2, 3), at=MLP_ARGS))
    assert "@" in code
    for forbidden in ["np.eye", "np.identity", "np.kron", "np.outer"]:
        assert forbidden not in code
