"""Issue 11's remaining language items: arrays and tuples returned early from inside loops and
branches (GradBench saddle's `argmax_y`), lists built with `append`, bound and static methods,
`*args` and keyword-only parameters of the differentiated function.  Each case: the value, and
the gradient against central finite differences, in both modes; forward == reverse == jit on a few
small cases; <vjp(u), v> == <u, jvp(v)> for array and tuple results; the caller's arrays unchanged."""
from __future__ import annotations

import numpy as np
import pytest

import adc
import language_funcs as F
from test_array_state import copies, fd_gradient

RNG = np.random.default_rng(11)
X = np.array([0.3, -0.4, 0.8])
A = np.array([[0.5, 0.2], [-0.1, 0.4]])

# (scalar function, arguments, the argument differentiated); the thresholds pick early returns
# at different iterations and no early return at all
EARLY = [
    (F.summed(F.array_returned_in_while), (X, 0.5)),
    (F.summed(F.array_returned_in_while), (X, 1.3)),
    (F.summed(F.array_returned_in_while), (X, 50.0)),
    (F.summed(F.array_returned_in_for), (X, 1.0)),
    (F.summed(F.array_returned_in_for), (X, 2.5)),
    (F.summed(F.array_returned_in_for), (X, 50.0)),
    (F.summed(F.array_returned_in_nested_if), (X, 0.0)),
    (F.summed(F.array_returned_in_nested_if), (X, 50.0)),
    (F.summed(F.matrix_returned_in_while), (A, 2.0)),
    (F.summed(F.matrix_returned_in_while), (A, 4.0)),
    (F.summed(F.matrix_returned_in_while), (A, 20.0)),
    (F.tuple_loss, (X, 0.5)),
    (F.tuple_loss, (X, 1.2)),
    (F.tuple_loss, (X, 50.0)),
    (F.arrays_of_two_shapes_merged, (X, 1.0)),
    (F.arrays_of_two_shapes_merged, (X, -1.0)),
]


def _id(case):
    fn, args = case
    return f"{getattr(fn, '__qualname__', fn.__name__).split('.')[0]}-{args[-1]}"


def check_gradient(fn, args, mode, jit=False, argnums=0):
    given = copies(args)
    value, grad = adc.value_and_grad(fn, argnums=argnums, mode=mode, jit=jit)(*given)
    np.testing.assert_allclose(value, fn(*copies(args)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grad, fd_gradient(fn, args, argnums), rtol=1e-6, atol=1e-7,
                               err_msg=f"{mode}, jit={jit}")
    for a, b in zip(given, args):
        np.testing.assert_array_equal(a, b, err_msg="the caller's argument changed")
    return grad


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,args", EARLY, ids=[_id(c) for c in EARLY])
def test_early_return(fn, args, mode):
    check_gradient(fn, args, mode)


@pytest.mark.parametrize("fn,args", [EARLY[1], EARLY[12]], ids=["while", "tuple"])
def test_early_return_jit(fn, args):
    """forward == reverse == jit (the empty array standing for "not returned yet" compiles)."""
    grads = [check_gradient(fn, args, mode, jit) for mode in ("reverse", "forward") for jit in (False, True)]
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,t", [(F.array_returned_in_while, 1.3), (F.array_returned_in_for, 2.5),
                                  (F.matrix_returned_in_while, 4.0), (F.tuple_returned_early, 1.2)])
def test_early_return_vjp_jvp(fn, t):
    """<vjp(u), v> == <u, jvp(v)> for the array (or tuple) the loop returns."""
    x = A if fn is F.matrix_returned_in_while else X
    v = RNG.normal(size=x.shape)
    out, tangent = adc.jvp(fn, (x, t), (v, 0.0))
    value, pullback = adc.vjp(fn, x, t)
    u = tuple(RNG.normal(size=np.shape(o)) for o in out) if isinstance(out, tuple) else RNG.normal(size=out.shape)
    pairs = zip(u, tangent) if isinstance(out, tuple) else [(u, tangent)]
    rhs = sum(float(np.sum(a * b)) for a, b in pairs)
    np.testing.assert_allclose(np.sum(pullback(u)[0] * v), rhs, rtol=1e-10)
    want = fn(x, t)
    for a, b in zip(out if isinstance(out, tuple) else [out], want if isinstance(want, tuple) else [want]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


# -- lists built with `append` ---------------------------------------------------------------------
W = np.array([[0.5, -0.3], [0.2, 0.4]])
LISTS = [
    (F.rnn_states_stacked, (W, X), 0),
    (F.rnn_states_stacked, (W, X), 1),
    (F.appended_then_summed, (X,), 0),
    (F.appended_then_iterated, (X, 0.5), 0),
    (F.appended_then_iterated, (X, 0.5), 1),
    (F.appended_in_both_branches, (X, 0.5), 0),
    (F.appended_in_both_branches, (X, -0.5), 0),
    (F.appended_scalars, (X,), 0),
    (F.appended_in_unknown_loop, (X,), 0),  # run-time lists (tests/test_dynamic_lists.py)
    (F.appended_in_while, (X,), 0),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,args,argnum", LISTS, ids=[f"{f.__name__}-{a}" for f, _, a in LISTS])
def test_list_append(fn, args, argnum, mode):
    check_gradient(fn, args, mode, argnums=argnum)


def test_list_append_jit():
    grads = [check_gradient(F.appended_then_summed, (X,), mode, jit) for mode in ("reverse", "forward")
             for jit in (False, True)]
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn,line,message", [
    (F.appended_to_alias, "b.append(x)", "`a` refers to the same list"),
    (F.appended_in_helper, "out.append(x)", "`out` is not a list made in this function"),
    (F.appended_on_one_path, "if np.sum(x) > 0.0:", "`out` is a list of 2 on one path and a list of 1 on another"),
])
def test_list_append_refused(fn, line, message):
    """Where the length of a list built in straight-line code would depend on data, or Python
    would show the append through another name, adc refuses at the user's line."""
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(fn)(X)
    text = str(info.value)
    assert message in text and line in text and "language_funcs.py:" in text and "hint:" in text


# -- objects: bound methods, static and class methods ------------------------------------------------
Y = np.array([0.1, 0.5])
X2 = np.array([0.3, -0.2])


def new_model(scale=2.0):
    return F.Model(np.array([[0.5, -0.3], [0.2, 0.4]]), np.array([0.1, 0.2]), scale)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_bound_method(mode):
    """adc.grad(model.loss): self's arrays and number read from the object; self.predict, a static
    and a class method inlined; the gradient with respect to the explicit arguments."""
    model = new_model()
    W = model.W.copy()
    for argnum in (0, 1):
        check_gradient(model.loss, (X2, Y), mode, argnums=argnum)
    np.testing.assert_array_equal(model.W, W, err_msg="the object's array changed")


def test_bound_method_sees_attribute_changes():
    """Attributes are read at every call: a rebound number, a rebound array and an array written in
    place are all seen by the next call."""
    model = new_model()
    g = adc.grad(model.loss)
    check = lambda: np.testing.assert_allclose(g(X2, Y), fd_gradient(model.loss, (X2, Y), 0), rtol=1e-6, atol=1e-7)
    check()
    model.scale = 3.0
    check()
    model.W = model.W * 2.0
    check()
    model.W[0, 0] = -1.5
    check()
    F.Model.eps = 0.5  # a class attribute
    try:
        check()
    finally:
        F.Model.eps = 0.01


def test_bound_method_jit():
    model = new_model()
    grads = [check_gradient(model.loss, (X2, Y), mode, jit) for mode in ("reverse", "forward") for jit in (False, True)]
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn", [F.Model.penalty, new_model().penalty, F.Model.ridge, new_model().ridge],
                         ids=["static", "static-of-instance", "classmethod", "classmethod-of-instance"])
def test_static_and_class_methods(fn, mode):
    check_gradient(fn, (X2,), mode)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_global_object(mode):
    """A global object of a plain class read inside a plain function: its method and attributes."""
    check_gradient(F.global_model_loss, (X2, Y), mode)


def test_bound_method_vjp_jvp():
    model = new_model()
    v, u = RNG.normal(size=2), RNG.normal(size=2)
    out, tangent = adc.jvp(model.predict, (X2,), (v,))
    value, pullback = adc.vjp(model.predict, X2)
    np.testing.assert_allclose(out, model.predict(X2), rtol=1e-12)
    np.testing.assert_allclose(np.sum(pullback(u)[0] * v), np.sum(u * tangent), rtol=1e-10)


def test_property_refused():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(new_model().uses_property)(X2)
    text = str(info.value)
    assert "`Model.size` is a property" in text and "self.size" in text and "hint:" in text


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_objects_holding_objects(mode):
    net = F.Net(F.Layer(np.array([[0.5, -0.3], [0.2, 0.4]]), "tanh"), F.Layer(np.array([[1.0, 2.0]]), "linear"))
    check_gradient(net.loss, (X2,), mode)


def test_object_used_as_a_number_refused():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(F.Net(None, None).times_self)(X2)
    assert "got an object of class Net" in str(info.value) and "return self * x" in str(info.value)


# -- *args and keyword-only parameters ---------------------------------------------------------------
R1, R2 = np.array([0.5, 1.5, -0.5]), np.array([2.0, -1.0, 0.3])


def fd_of_call(fn, args, kwargs, i):
    """Central differences of ``fn(*args, **kwargs)`` with respect to positional argument ``i``."""
    return fd_gradient(lambda *a: fn(*a, **kwargs), args, i)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("fn,args,kwargs", [
    (F.with_star, (X,), {}),
    (F.with_star, (X, R1, R2), {}),
    (F.with_kwonly, (X,), {}),
    (F.with_kwonly, (X,), {"scale": 0.5, "power": 3}),
    (F.with_both, (X, R1, R2), {"scale": -1.5}),
], ids=["star-none", "star-two", "kwonly-defaults", "kwonly-given", "both"])
def test_star_args_and_keyword_only(fn, args, kwargs, mode):
    """JAX's convention: argnums count the positional arguments, those `*args` takes included;
    keyword arguments are passed through, not differentiated."""
    given = copies(args)
    nums = tuple(range(len(args)))
    grads = adc.grad(fn, argnums=nums, mode=mode)(*given, **kwargs)
    assert len(grads) == len(args)
    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, fd_of_call(fn, args, kwargs, i), rtol=1e-6, atol=1e-7)
    last = adc.grad(fn, argnums=-1, mode=mode)(*given, **kwargs)
    np.testing.assert_allclose(last, grads[-1], rtol=1e-12)
    value, _ = adc.value_and_grad(fn, mode=mode)(*given, **kwargs)
    np.testing.assert_allclose(value, fn(*args, **kwargs), rtol=1e-12)
    for a, b in zip(given, args):
        np.testing.assert_array_equal(a, b, err_msg="the caller's argument changed")


def test_star_args_and_keyword_only_jit():
    kwargs = {"scale": -1.5}
    grads = [adc.grad(F.with_both, argnums=(0, 2), mode=mode, jit=jit)(X, R1, R2, **kwargs)
             for mode in ("reverse", "forward") for jit in (False, True)]
    for g in grads:
        for got, i in zip(g, (0, 2)):
            np.testing.assert_allclose(got, fd_of_call(F.with_both, (X, R1, R2), kwargs, i), rtol=1e-6, atol=1e-7)


def test_star_args_and_keyword_only_transforms():
    """jvp/vjp/jacobians: the keyword-only parameters at their defaults or given, never differentiated."""
    v, u = RNG.normal(size=3), 1.3
    out, tangent = adc.jvp(F.with_kwonly, (X,), (v,))
    value, pullback = adc.vjp(F.with_kwonly, X)
    cotangents = pullback(u)
    assert len(cotangents) == 1  # one per positional argument
    np.testing.assert_allclose(np.sum(cotangents[0] * v), u * tangent, rtol=1e-10)
    kwargs = {"scale": 0.5}
    want = fd_of_call(F.with_both, (X, R1, R2), kwargs, 1)
    np.testing.assert_allclose(adc.jacfwd(F.with_both, argnums=1)(X, R1, R2, **kwargs), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(adc.jacrev(F.with_both, argnums=1)(X, R1, R2, **kwargs), want, rtol=1e-6, atol=1e-7)


def test_star_args_errors():
    with pytest.raises(adc.DifferentiationError, match="out of range"):
        adc.grad(F.with_kwonly, argnums=1)(X, scale=2.0)  # a keyword-only argument is not an argnum
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(F.with_kwargs)
    assert "**kwargs of the function being differentiated" in str(info.value)
    assert "def with_kwargs(x, **options):" in str(info.value)


def test_container_attribute_refused():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(F.HoldsList().loss)(X2)
    text = str(info.value)
    assert "`self.layers` is an attribute holding a list" in text and "return np.sum(self.layers[0] * x)" in text
    assert "pass the list as an argument" in text


# -- `return` inside loops adc unrolls --------------------------------------------------------------
LAYERS = [(np.array([[0.4, -0.7], [0.9, 0.2]]), np.array([0.1, -0.3])),
          (np.array([[-0.5, 0.3], [0.8, 0.6]]), np.array([0.2, 0.05])),
          (np.array([[0.7, 0.1], [-0.2, 0.5]]), np.array([-0.1, 0.3]))]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("t", [-5.0, 0.5, 50.0])
def test_return_in_loop_over_list(t, mode):
    fn = lambda x: F.first_layer_over(LAYERS, x, t)  # noqa: E731 - FD of the function of x alone
    grad = adc.grad(F.first_layer_over, argnums=1, mode=mode)(LAYERS, X2, t)
    np.testing.assert_allclose(grad, fd_gradient(fn, (X2,), 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("t", [0.3, 0.7, 50.0])  # returns at k = 0, at k = 1, never
def test_return_in_loop_that_appends(t, mode):
    check_gradient(F.return_in_append_loop, (X, t), mode)


def test_continue_in_unrolled_loop_refused():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(F.continue_in_list_loop, argnums=1)([X, -X], X)
    assert "`break` or `continue` in a loop over a list, tuple or dict" in str(info.value)
    assert "for w in ws:" in str(info.value) and "`return` works" in str(info.value)
