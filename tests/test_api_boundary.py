"""The API boundary: what the derivative cache is keyed by, functions adc cannot differentiate as
their source reads (adc-made, decorated), how arguments are checked and converted, and that no
exception a user can trigger leaves adc raw (issue 9).

Every expected value here is worked out by hand.
"""
from __future__ import annotations

import functools
import importlib
import io
import math
import os
import subprocess
import sys
import textwrap
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pytest

import adc
from adc import cli

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


def line_of(fn, marker: str) -> int:
    """The number of the first line of ``fn``'s source (in this file) that contains ``marker``."""
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, text in enumerate(lines) if marker in text)


def write_module(folder: Path, name: str, text: str):
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(text))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# 1. the cache is keyed by everything the derivative depends on
# ---------------------------------------------------------------------------------------------

SCALED = """\
SCALE = {scale}


def helper(x):
    return SCALE * x


def f(x):
    return helper(x) * x
"""


def test_equal_code_in_two_modules_gets_two_derivatives(tmp_path):
    one = write_module(tmp_path, "adc_test_equal_one", SCALED.format(scale=2.0))
    two = write_module(tmp_path, "adc_test_equal_two", SCALED.format(scale=3.0))
    assert one.f.__code__ == two.f.__code__  # what the old key was
    assert adc.grad(one.f)(1.5) == pytest.approx(2 * 2.0 * 1.5, rel=1e-15)
    assert adc.grad(two.f)(1.5) == pytest.approx(2 * 3.0 * 1.5, rel=1e-15)
    assert adc.value_and_grad(two.f)(1.5) == pytest.approx((3.0 * 2.25, 9.0), rel=1e-15)
    assert adc.jvp(two.f, (1.5,), (1.0,)) == pytest.approx((6.75, 9.0), rel=1e-15)
    assert "3.0" in adc.source(two.f) and "2.0" in adc.source(one.f)


def test_reload_with_other_constants_and_helpers(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = write_module(tmp_path, "adc_test_reloaded", SCALED.format(scale=2.0))
    old_f = module.f
    g_old = adc.grad(old_f)
    assert g_old(1.5) == pytest.approx(6.0, rel=1e-15)
    (tmp_path / "adc_test_reloaded.py").write_text(SCALED.format(scale=5.0).replace("SCALE * x", "SCALE * x * x"))
    module = importlib.reload(module)
    # the new f: 5 x^3, derivative 15 x^2
    assert adc.grad(module.f)(1.5) == pytest.approx(15 * 2.25, rel=1e-15)
    # the old f reads the module's new globals (helper = 5 x^2), so its derivative is 15 x^2 too
    assert old_f(1.5) == pytest.approx(5 * 1.5 ** 3)
    assert g_old(1.5) == pytest.approx(15 * 2.25, rel=1e-15)


SCALE = 2.0


def reads_scale(x):
    return SCALE * x * x


@pytest.mark.parametrize("jit", [False, True], ids=["plain", "jit"])
def test_a_rebound_global_is_seen_after_the_fast_path(jit, monkeypatch):
    g = adc.grad(reads_scale, jit=jit)
    assert g(1.5) == pytest.approx(6.0, rel=1e-15)
    assert g(1.5) == pytest.approx(6.0, rel=1e-15)  # fast path installed
    monkeypatch.setitem(globals(), "SCALE", 4.0)
    assert g(1.5) == pytest.approx(12.0, rel=1e-15)
    assert g(1.5) == pytest.approx(12.0, rel=1e-15)
    assert adc.jacfwd(reads_scale)(1.5) == pytest.approx(12.0, rel=1e-15)


def make_closure(c):
    def closed(x):
        return c * x * x

    return closed


def test_closures_with_other_values_get_their_own_derivatives():
    assert adc.grad(make_closure(2.0))(1.0) == pytest.approx(4.0, rel=1e-15)
    assert adc.grad(make_closure(7.0))(1.0) == pytest.approx(14.0, rel=1e-15)


def test_generated_files_of_equal_code_are_distinct_across_processes(tmp_path):
    """Two processes share one ADC_CACHE_DIR; each module's derivative is its own."""
    for scale in (2.0, 3.0):
        (tmp_path / f"mod{int(scale)}.py").write_text(SCALED.format(scale=scale))
    script = ("import sys, adc; sys.path.insert(0, sys.argv[1]); import importlib; "
              "m = importlib.import_module(sys.argv[2]); print(adc.grad(m.f)(1.5))")
    env = dict(os.environ, ADC_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=str(ROOT))
    got = []
    for name in ("mod2", "mod3", "mod2", "mod3"):
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path), name], env=env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        got.append(float(out.stdout))
    assert got == pytest.approx([6.0, 9.0, 6.0, 9.0], rel=1e-15)
    assert len(list((tmp_path / "cache").glob("adc_f_grad_*.py"))) == 2


# ---------------------------------------------------------------------------------------------
# 2. composition is not built yet: a clear error, never a wrong number
# ---------------------------------------------------------------------------------------------


def cube(x):
    return x * x * x


def times_two(fn):
    @functools.wraps(fn)
    def wrapper(x):
        return 2.0 * fn(x)

    return wrapper


@times_two
def doubled_square(x):
    return x * x


def calls_doubled(x):
    return doubled_square(x) + x  # marker: calls_doubled


cube_grad = adc.grad(cube)


def calls_a_gradient(x):
    return cube_grad(x) * x  # marker: calls_a_gradient


cube_hessian = adc.hessian(cube)


def calls_a_hessian(x):
    return cube_hessian(x) * x  # marker: calls_a_hessian


@pytest.mark.parametrize("outer", ["source", "trace"])
@pytest.mark.parametrize("inner", ["jacfwd", "jacrev", "hessian"])
def test_transforming_an_adc_made_function_is_refused(outer, inner):
    made = getattr(adc, inner)(cube)
    call = {"source": lambda: adc.source(made), "trace": lambda: adc.trace(made)}[outer]
    with pytest.raises(adc.DifferentiationError, match=f"made by adc.{inner} \\(cube\\)") as info:
        call()
    assert "adc.jacfwd, adc.jacrev and adc.hessian over functions made by" in str(info.value)
    assert "hint:" in str(info.value)


@pytest.mark.parametrize("outer", ["grad", "value_and_grad", "jvp", "vjp"])
@pytest.mark.parametrize("inner", ["jacfwd", "jacrev", "hessian"])
def test_derivatives_of_adc_made_jacobians_compose(outer, inner):
    made = getattr(adc, inner)(cube)
    got = {"grad": lambda: adc.grad(made)(3.0), "value_and_grad": lambda: adc.value_and_grad(made)(3.0)[1],
           "jvp": lambda: adc.jvp(made, (3.0,), (1.0,))[1], "vjp": lambda: adc.vjp(made, 3.0)[1](1.0)[0]}[outer]()
    assert got == pytest.approx(6.0 if inner == "hessian" else 18.0, rel=1e-14)  # of x ** 3 at 3


@pytest.mark.parametrize("outer", ["jacfwd", "jacrev", "hessian"])
@pytest.mark.parametrize("inner", ["jacfwd", "jacrev", "hessian"])
def test_jacobians_of_adc_made_jacobians_compose(outer, inner):
    made = getattr(adc, outer)(getattr(adc, inner)(cube))
    order = (2 if outer == "hessian" else 1) + (2 if inner == "hessian" else 1)
    assert made(3.0) == pytest.approx({2: 18.0, 3: 6.0, 4: 0.0}[order], abs=1e-12)  # of x ** 3 at 3


@pytest.mark.parametrize("outer", ["grad", "value_and_grad", "jacfwd", "jacrev", "hessian", "hvp", "jvp", "vjp"])
def test_transforming_an_adc_made_gradient_composes(outer):
    made = adc.grad(cube)  # 3 x^2
    got = {"grad": lambda: adc.grad(made)(3.0), "value_and_grad": lambda: adc.value_and_grad(made)(3.0)[1],
           "jacfwd": lambda: adc.jacfwd(made)(3.0), "jacrev": lambda: adc.jacrev(made)(3.0),
           "hessian": lambda: adc.hessian(made)(3.0), "hvp": lambda: adc.hvp(made)(3.0, 1.0),
           "jvp": lambda: adc.jvp(made, (3.0,), (1.0,))[1], "vjp": lambda: adc.vjp(made, 3.0)[1](1.0)[0]}[outer]()
    # d/dx 3 x^2 = 6 x = 18 at 3; the Hessian of 3 x^2 (third derivative of cube) is 6
    assert got == pytest.approx(6.0 if outer in ("hessian", "hvp") else 18.0, rel=1e-15)


def test_the_pullback_is_adc_made_too():
    _, pullback = adc.vjp(cube, 3.0)
    assert pullback(1.0) == pytest.approx((27.0,), rel=1e-15)
    with pytest.raises(adc.DifferentiationError, match="made by adc.vjp"):
        adc.grad(pullback)(1.0)


def test_calling_a_gradient_from_a_differentiated_function_inlines_it():
    assert adc.grad(calls_a_gradient)(3.0) == pytest.approx(81.0, rel=1e-15)  # d/dx 3 x^3


def test_hessian_still_works():
    assert adc.hessian(cube)(3.0) == pytest.approx(18.0, rel=1e-15)


def test_a_decorated_function_is_differentiated_as_decorated():
    # adc reads the wrapper's own source (tests/test_wrapped.py): 2 x^2
    assert adc.grad(doubled_square)(3.0) == pytest.approx(12.0, rel=1e-15)
    assert adc.grad(doubled_square.__wrapped__)(3.0) == pytest.approx(6.0, rel=1e-15)
    assert adc.grad(calls_doubled)(3.0) == pytest.approx(13.0, rel=1e-15)  # d/dx (2 x^2 + x)


def test_calling_an_adc_made_hessian_from_a_differentiated_function_is_refused_at_the_call():
    with pytest.raises(adc.UnsupportedError) as info:
        adc.grad(calls_a_hessian)(3.0)
    line = line_of(calls_a_hessian, "cube_hessian(x)")
    assert f"{HERE}:{line}:" in str(info.value) and "made by adc.hessian" in str(info.value)


# ---------------------------------------------------------------------------------------------
# 3. ints, complex numbers and NumPy float scalars
# ---------------------------------------------------------------------------------------------


def product(x, y):
    return x * y * y


def power_loop(a, n):
    for i in range(n):
        a = a * a
    return a


def run_source(text: str, name: str, *args):
    namespace: dict = {}
    exec(compile(text, "<generated>", "exec"), namespace)
    return namespace[name](*args)


def test_source_at_integer_values_differentiates_them_as_floats():
    text = adc.source(product, argnums=(0, 1), at=(2, 5))
    assert text == adc.source(product, argnums=(0, 1), at=(2.0, 5.0))
    assert run_source(text, "product_grad", 2.0, 5.0) == pytest.approx((25.0, 20.0), rel=1e-15)
    assert adc.grad(product, argnums=(0, 1))(2, 5) == pytest.approx((25.0, 20.0), rel=1e-15)


def test_source_argnums_none_keeps_integers_the_function_needs():
    text = adc.source(power_loop, argnums=None, at=(1.5, 3))
    assert "with respect to a (" in text
    assert run_source(text, "power_loop_grad", 1.5, 3) == pytest.approx(8 * 1.5 ** 7, rel=1e-14)


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_cli_source_at_integer_values():
    target = f"{HERE}:product"
    code, text, err = run_cli("source", target, "--at", "2,5")
    assert code == 0, err
    assert text == run_cli("source", target, "--at", "2.0,5.0")[1]
    assert run_source(text, "product_grad", 2.0, 5.0) == pytest.approx((25.0, 20.0), rel=1e-15)
    code, text, err = run_cli("source", f"{HERE}:power_loop", "--at", "1.5,3")
    assert code == 0, err
    assert run_source(text, "power_loop_grad", 1.5, 3) == pytest.approx(8 * 1.5 ** 7, rel=1e-14)


@pytest.mark.parametrize("value", [1 + 2j, np.complex128(1 + 2j), np.array([1 + 2j, 3.0])],
                         ids=["complex", "np.complex128", "complex-array"])
@pytest.mark.parametrize("position", [0, 1], ids=["differentiated", "not-differentiated"])
def test_complex_arguments_are_refused_naming_the_argument(value, position):
    args = [2.0, 3.0]
    args[position] = value
    name = "xy"[position]
    for call in (lambda: adc.grad(product)(*args), lambda: adc.jvp(product, tuple(args), (1.0, 1.0)),
                 lambda: adc.vjp(product, *args)):
        with pytest.raises(adc.DifferentiationError, match=f"argument {name} of product is .*complex"):
            call()


def test_float32_scalar_gets_a_float32_gradient():
    g = adc.grad(cube)(np.float32(2.0))
    assert type(g) is np.float32 and g == np.float32(12.0)
    both = adc.grad(product, argnums=(0, 1))(np.float32(2.0), 5.0)
    assert type(both[0]) is np.float32 and type(both[1]) is float
    assert both == pytest.approx((25.0, 20.0), rel=1e-6)
    _, pullback = adc.vjp(cube, np.float32(2.0))
    (ct,) = pullback(1.0)
    assert type(ct) is np.float32 and ct == np.float32(12.0)
    assert type(adc.grad(cube)(np.float64(2.0))) is float


# ---------------------------------------------------------------------------------------------
# 4. defaults, *args, jvp/vjp misuse, bad arrays, errors raised while the generated code runs
# ---------------------------------------------------------------------------------------------


def with_default(x, scale=2.0):
    return scale * x * x


def star_args(*args):  # marker: star_args
    return args[0]


def star_kwargs(x, **options):  # marker: star_kwargs
    return x


def keyword_only(x, *, scale):  # marker: keyword_only
    return scale * x


def test_default_argument_values_are_used():
    assert adc.grad(with_default)(3.0) == pytest.approx(12.0, rel=1e-15)
    assert adc.grad(with_default)(3.0) == pytest.approx(12.0, rel=1e-15)  # fast path
    assert adc.grad(with_default)(3.0, 1.0) == pytest.approx(6.0, rel=1e-15)
    assert adc.grad(with_default)(3.0, scale=1.0) == pytest.approx(6.0, rel=1e-15)
    assert adc.value_and_grad(with_default)(3.0) == pytest.approx((18.0, 12.0), rel=1e-15)
    assert adc.grad(with_default, mode="forward")(3.0) == pytest.approx(12.0, rel=1e-15)
    assert adc.jacfwd(with_default)(3.0) == pytest.approx(12.0, rel=1e-15)
    assert adc.jacrev(with_default)(3.0, scale=1.0) == pytest.approx(6.0, rel=1e-15)
    assert adc.hessian(with_default)(3.0) == pytest.approx(4.0, rel=1e-15)
    assert adc.jvp(with_default, (3.0,), (1.0,)) == pytest.approx((18.0, 12.0), rel=1e-15)
    value, pullback = adc.vjp(with_default, 3.0)
    assert value == 18.0 and pullback(1.0) == pytest.approx((12.0, 9.0), rel=1e-15)


@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jacrev", "hessian"])
def test_star_kwargs_is_refused_at_the_parameter(transform):
    with pytest.raises(adc.UnsupportedError) as info:
        getattr(adc, transform)(star_kwargs)
    line = line_of(star_kwargs, "# marker")
    assert f"{HERE}:{line}:" in str(info.value)


@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jacrev", "hessian"])
def test_star_args_and_keyword_only_parameters(transform):
    """Since issue 11 (tests/test_language.py has the full checks): JAX's convention, keyword
    arguments passed through and not differentiated."""
    assert getattr(adc, transform)(keyword_only)(2.0, scale=3.0) == pytest.approx(
        0.0 if transform == "hessian" else 3.0, rel=1e-15)
    assert getattr(adc, transform)(star_args)(2.0, 5.0) == pytest.approx(0.0 if transform == "hessian" else 1.0)


@pytest.mark.parametrize("primals, tangents", [(2.0, 1.0), ((2.0,), 1.0), (2.0, (1.0,))])
def test_jvp_needs_tuples(primals, tangents):
    with pytest.raises(adc.DifferentiationError, match="as a tuple, one entry per argument"):
        adc.jvp(cube, primals, tangents)


def elementwise(x):
    return x * 2.0


def total(x):
    return np.sum(x)


def two_outputs(x):
    return x * 2.0, np.sum(x)


def test_pullback_with_a_cotangent_of_the_wrong_shape():
    _, pullback = adc.vjp(elementwise, np.ones(3))
    np.testing.assert_array_equal(pullback(np.arange(3.0))[0], 2.0 * np.arange(3.0))
    with pytest.raises(adc.DifferentiationError, match=r"has shape \(4,\), but it must have shape \(3,\)"):
        pullback(np.ones(4))
    with pytest.raises(adc.DifferentiationError, match=r"has type NoneType"):
        pullback(None)
    _, pullback = adc.vjp(two_outputs, np.ones(3))
    with pytest.raises(adc.DifferentiationError, match="takes a tuple of 2 cotangents"):
        pullback(np.ones(3))
    with pytest.raises(adc.DifferentiationError, match=r"#1 has shape \(3,\), but it must have shape \(\)"):
        pullback((np.ones(3), np.ones(3)))


def test_jvp_tangent_of_the_wrong_shape():
    with pytest.raises(adc.DifferentiationError, match=r"tangent of x has shape \(4,\), but it must have shape \(3,\)"):
        adc.jvp(total, (np.ones(3),), (np.ones(4),))


def test_ragged_list_argument_names_the_argument():
    assert adc.grad(total)([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    with pytest.raises(adc.DifferentiationError, match="argument x of total is a list that is not a rectangular"):
        adc.grad(total)([[1.0, 2.0], [3.0]])


def mismatched(x):
    y = x * np.ones(4)  # marker: mismatched
    return np.sum(y)


def root(x, y):
    s = x * x
    t = s - y
    return math.sqrt(t)  # marker: root


def root_in_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + math.sqrt(x + i)  # marker: root_in_loop
    return s


def logarithm(x):
    a = x + 1.0
    return math.log(a)  # marker: logarithm


def numpy_logarithm(x):
    return np.log(x) + x


def numpy_sine(x):
    return np.sin(x) + x  # marker: numpy_sine


def check_evaluation_error(info, fn, marker: str, cls: type, *fragments: str) -> None:
    error = info.value
    assert isinstance(error, adc.EvaluationError) and isinstance(error, adc.AdcError) and isinstance(error, cls)
    assert isinstance(error.__cause__, cls) and not isinstance(error.__cause__, adc.AdcError)
    text = str(error)
    assert text.startswith(f"{HERE}:{line_of(fn, marker)}:"), text
    assert "hint:" in text
    for fragment in fragments:
        assert fragment in text, text


def test_numpys_sine_of_an_infinite_number_says_what_adc_computes_and_what_to_do():
    """``np.sin(inf)`` is NumPy's nan; adc computes ``np.sin`` of a number with ``math.sin``, which
    raises: the hint says so instead of blaming the derivative, and ``jit=True`` (which it names)
    gives NumPy's values.  ``np.log(0.0)`` is NumPy's -inf (test_numpy_scalar_semantics.py)."""
    with pytest.raises(ValueError) as info:
        adc.value_and_grad(numpy_sine)(math.inf)
    check_evaluation_error(info, numpy_sine, "# marker", ValueError, "numpy_sine itself runs",
                           "with Python's math module", "jit=True")
    value, slope = adc.value_and_grad(numpy_sine, jit=True)(math.inf)
    assert math.isnan(value) and math.isnan(slope)
    with np.errstate(divide="ignore"):
        assert adc.value_and_grad(numpy_logarithm)(0.0) == (-math.inf, math.inf)


def test_a_shape_error_in_the_users_own_code_names_its_line():
    with pytest.raises(ValueError) as info:
        adc.grad(mismatched)(np.ones(3))
    check_evaluation_error(info, mismatched, "# marker", ValueError, "raised by mismatched itself",
                           "x * np.ones(4)")
    line = line_of(mismatched, "# marker")
    col = Path(HERE).read_text().splitlines()[line - 1].index("x * np") + 1
    assert str(info.value).splitlines()[0].startswith(f"{HERE}:{line}:{col}:")


@pytest.mark.parametrize("path", ["first call", "fast path", "forward", "jvp", "vjp", "value_and_grad", "jit"])
def test_an_infinite_derivative_follows_the_documented_convention(path):
    """sqrt'(0) is +inf (docs/rules.md), on every path into generated code: no exception, from the
    generated file or otherwise."""
    g = adc.grad(root, argnums=(0, 1))
    if path == "fast path":
        assert g(2.0, 3.0) == pytest.approx((2.0, -0.5), rel=1e-15)
    call = {"first call": lambda: g(2.0, 4.0), "fast path": lambda: g(2.0, 4.0),
            "forward": lambda: adc.grad(root, argnums=(0, 1), mode="forward")(2.0, 4.0),
            "jvp": lambda: adc.jvp(root, (2.0, 4.0), (1.0, 0.0))[1],
            "vjp": lambda: adc.vjp(root, 2.0, 4.0)[1](1.0),
            "value_and_grad": lambda: adc.value_and_grad(root)(2.0, 4.0)[1],
            "jit": lambda: adc.grad(root, argnums=(0, 1), jit=True)(2.0, 4.0)}[path]
    with np.errstate(divide="ignore"):
        got = np.atleast_1d(np.asarray(call(), dtype=float))
    want = {"jvp": [math.inf], "value_and_grad": [math.inf]}.get(path, [math.inf, -math.inf])
    assert list(got) == want


def test_an_error_of_the_function_itself_names_its_line_in_loops_and_on_the_fast_path():
    g = adc.grad(root_in_loop)
    assert g(2.0, 3) == pytest.approx(sum(0.5 / math.sqrt(2.0 + i) for i in range(3)), rel=1e-14)
    with pytest.raises(ValueError) as info:
        g(-2.5, 3)
    check_evaluation_error(info, root_in_loop, "# marker", ValueError, "raised by root_in_loop itself")
    lg = adc.value_and_grad(logarithm)
    assert lg(1.0) == pytest.approx((math.log(2.0), 0.5), rel=1e-15)
    with pytest.raises(ValueError) as info:
        lg(-3.0)
    check_evaluation_error(info, logarithm, "# marker", ValueError, "math domain error", "math.log(a)")


def test_a_shape_error_under_jit_names_the_users_line():
    def mismatched_pair(x, y):
        return np.sum(x * y)  # marker: pair

    with pytest.raises(ValueError) as info:
        adc.grad(mismatched_pair, jit=True)(np.ones(3), np.ones(4))
    check_evaluation_error(info, mismatched_pair, "# marker", ValueError, "raised by mismatched_pair itself")


# ---------------------------------------------------------------------------------------------
# 5. other misuse: argnums, outputs, arguments
# ---------------------------------------------------------------------------------------------


def vector(x):
    return x * 2.0


def integer_result(x):
    return 3


def test_the_hessian_of_a_vector_function_is_jacfwd_of_jacrev():
    """As ``jax.hessian``: ``out.shape + in.shape + in.shape`` (here zero: ``vector`` is linear)."""
    H = adc.hessian(vector)(np.ones(2))
    assert H.shape == (2, 2, 2) and not H.any()


@pytest.mark.parametrize("call, pattern", [
    (lambda: adc.grad(product, argnums="a"), "argnums must be an int or a tuple of ints"),
    (lambda: adc.grad(product, argnums=1.5), "argnums must be an int or a tuple of ints"),
    (lambda: adc.grad(product, argnums=(0, "y")), "argnums must be an int or a tuple of ints"),
    (lambda: adc.jacfwd(product, argnums=None), "argnums must be an int or a tuple of ints"),
    (lambda: adc.grad(product, argnums=2)(1.0, 2.0), "argnums=2 is out of range for product"),
    (lambda: adc.grad(product, argnums=(0, 0))(1.0, 2.0), "repeats an argument"),
    (lambda: adc.hessian(product, argnums=(0, "y")), "argnums must be an int or a tuple of ints"),
    (lambda: adc.grad(vector)(np.ones(2)), "grad needs vector to return a scalar"),
    (lambda: adc.grad(integer_result)(1.0), "grad needs integer_result to return a float"),
    (lambda: adc.grad(product)(None, 1.0), "argument x of product has type NoneType"),
    (lambda: adc.grad(product)(1.0, None), "argument y of product has type NoneType"),
    (lambda: adc.grad(product)(1.0, "2"), "argument y of product has type str"),
    (lambda: adc.grad(product)(True, 1.0), "cannot differentiate with respect to an argument of type bool"),
    (lambda: adc.grad(product)(np.array(["a"]), 1.0), "argument x of product is an array of <U1"),
    (lambda: adc.jvp(product, (1.0, None), (1.0, 1.0)), "argument y of product has type NoneType"),
    (lambda: adc.jvp(product, (1.0, 2.0), (1.0, None)), "the tangent of y has type NoneType"),
    (lambda: adc.vjp(product, 1.0, "a"), "argument y of product has type str"),
    (lambda: adc.grad(product).specialize(1.0), "product() called with wrong arguments: missing a required "
                                                "argument: 'y'"),
    (lambda: adc.vjp(product, 1.0), "missing a required argument: 'y'"),
    (lambda: adc.jacfwd(product)(1.0, 2.0, 3.0), "too many positional arguments"),
    (lambda: adc.grad(math.sin), "adc differentiates Python functions defined in source files"),
    (lambda: adc.grad(cube)(10 ** 400), "argument x of cube is an int too large for a float"),
    (lambda: adc.source(cube, at=5), "at= takes a tuple of example arguments"),
    (lambda: adc.trace(cube, at=2.0), "at= takes a tuple of example arguments"),
    (lambda: adc.source(product, at=(1.0,)), "product() takes 2 positional arguments but 1 were given"),
    (lambda: adc.grad(cube, mode="sideways"), "mode must be 'reverse' or 'forward'"),
    # an example argument given where ``mode`` is (it raised NumPy's "truth value of an array")
    (lambda: adc.source(cube, np.ones(3)), "got a value of type ndarray; example arguments go in at=(...)"),
    (lambda: adc.source(cube, 2.0), "got a value of type float; example arguments go in at=(...)"),
    (lambda: adc.source(cube, "sideways"), "mode must be 'reverse', 'forward' or 'hvp', got 'sideways'"),
    (lambda: adc.grad(cube, mode=np.ones(3)), "mode must be 'reverse' or 'forward', got a value of type ndarray"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_misuse_is_an_adc_error_naming_what_is_wrong(call, pattern):
    with pytest.raises(adc.AdcError) as info:
        call()
    assert pattern in str(info.value)


def test_calling_the_gradient_with_wrong_arguments_is_pythons_own_error():
    """The function adc.grad returns has f's parameters: Python checks the call, as for f."""
    for args in ((1.0,), (1.0, 2.0, 3.0)):
        with pytest.raises(TypeError) as want:
            product(*args)
        with pytest.raises(TypeError) as got:
            adc.grad(product)(*args)
        assert str(got.value) == str(want.value)


def test_root_in_loop_derivative_at_zero_is_infinite():
    with np.errstate(divide="ignore"):
        assert adc.grad(root_in_loop)(0.0, 3) == math.inf  # sqrt(x + i) at 0 for i = 0: sqrt'(0) = +inf


def test_a_derivative_that_raises_where_the_function_raises_names_the_users_line():
    """The gradient of log never computes log itself; at 0 its partial 1/a divides by zero, where
    the function raises ValueError: the error is the function's own (ValueError), located at the
    user's line."""
    with pytest.raises(ValueError) as info:
        adc.grad(logarithm)(-1.0)
    check_evaluation_error(info, logarithm, "# marker", ValueError, "math.log(a)")


def test_compare_on_a_two_argument_function_is_a_one_line_error():
    code, out, err = run_cli("compare", f"{HERE}:product", "--sizes", "1")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "one array argument; product takes 2 (x, y)" in err


def test_compare_without_matplotlib_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    code, out, err = run_cli("compare", "--sizes", "1", "--repeat", "1", "--plot", str(tmp_path / "p.png"))
    assert code == 2 and out == "" and "Traceback" not in err  # checked before any timing
    assert err.count("\n") == 1 and "needs matplotlib" in err and "leave out --plot" in err
    assert not (tmp_path / "p.png").exists()


ZERO = 0.0


def reads_zero(x):
    return x / (ZERO + 1.0) + math.atan2(ZERO, -1.0) * x


def test_a_global_minus_zero_is_not_zero(monkeypatch):
    g = adc.grad(reads_zero)
    assert g(1.0) == pytest.approx(1.0 + math.pi, rel=1e-15)
    monkeypatch.setitem(globals(), "ZERO", -0.0)
    assert g(1.0) == pytest.approx(1.0 - math.pi, rel=1e-15)


def raises_itself(x):
    return math.log(x - 1.0)  # marker: raises_itself


def test_vjp_of_a_function_that_raises_at_the_point():
    with pytest.raises(ValueError) as info:
        adc.vjp(raises_itself, 0.5)
    check_evaluation_error(info, raises_itself, "# marker", ValueError, "raised by raises_itself itself")


@pytest.mark.parametrize("stage", ["lower", "reverse", "generate"])
def test_a_failure_inside_adc_is_an_internal_error_naming_the_function(stage, monkeypatch):
    import adc.pipeline

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(adc.pipeline, stage, broken)
    monkeypatch.setattr(adc.pipeline, "_cache", {})
    monkeypatch.setattr(adc.pipeline, "_primal_cache", {})
    with pytest.raises(adc.InternalError) as info:
        adc.grad(product)(1.0, 2.0)
    text = str(info.value)
    assert text.startswith(f"{HERE}:{line_of(product, 'def product')}:") and "KeyError" in text and "bug in adc" in text
    assert isinstance(info.value.__cause__, KeyError)


def test_a_file_edited_after_import_is_refused_not_misread(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = write_module(tmp_path, "adc_test_edited", "def f(x):\n    return x * x\n")
    (tmp_path / "adc_test_edited.py").write_text("def f(x):\n    return x * x * x\n")
    import linecache

    linecache.checkcache()
    assert module.f(2.0) == 4.0  # the code that runs
    with pytest.raises(adc.SourceError, match="edited after the module was imported") as info:
        adc.grad(module.f)(2.0)
    assert str(info.value).startswith(f"{tmp_path / 'adc_test_edited.py'}:1:")
    module = importlib.reload(module)
    assert adc.grad(module.f)(2.0) == pytest.approx(12.0, rel=1e-15)


def test_closures_decorators_and_annotations_agree_with_their_source():
    from adc.identity import source_agrees

    for fn in (make_closure(2.0), doubled_square.__wrapped__, cube, with_default, root_in_loop, annotated):
        assert source_agrees(fn)


def annotated(x: float, *unused: float) -> float:  # noqa: not differentiated, only compared
    """A docstring
    on two lines."""
    return x * 2.0


def test_attribute_names_are_not_dependencies():
    from adc.identity import dependencies

    def uses_np_sum(x):
        return np.sum(x * SCALE)

    names = {name for _, name, _ in dependencies(uses_np_sum).reads}
    assert names == {"SCALE"}  # not `sum` (an attribute), not `np` (a module)


LONG_FUNCTION = '''
import math

import numpy as np


def f(b, a):
    y0 = np.zeros(4)
    y0[:2] += b
    y0[1:] *= 3.0
    if b <= -0.5 and np.sum(np.sin(y0)) > -1.0:
        y0[1] *= 0.5 + 0.25 * math.sin(y0[2])
        n1 = 0
        while n1 < 3:
            n1 += 1
            y0[-1] *= 0.5 + 0.25 * math.sin(math.atan2(np.sum(y0), 1.5 + math.cos(y0[1])))
            t2 = a + np.sum(np.concatenate([y0, y0])) * 1.0
        y0[1] = 0.3
    y0[0] = np.mean(y0)
    if np.dot(y0, y0) < 0.5:
        b = b + np.sum(y0)
        n3 = 0
        while n3 < 3:
            n3 += 1
            if y0[2] * 2.0 < -0.5:
                continue
    return b + a + y0[3]
'''


def test_an_unedited_long_function_is_not_taken_for_an_edited_one(tmp_path):
    """Jumps far enough to need EXTENDED_ARG in one compilation and not in another (CPython 3.11
    resizes method loads once the code has run) are the same code: no false 'file was edited'."""
    path = tmp_path / "long_function_module.py"
    path.write_text(LONG_FUNCTION)
    spec = importlib.util.spec_from_file_location("long_function_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.f(-0.7, 0.2)  # run it first, as a notebook user would
    value, grads = adc.value_and_grad(module.f, argnums=(0, 1))(-0.7, 0.2)
    assert value == pytest.approx(module.f(-0.7, 0.2), rel=1e-14)
    h = 1e-6
    fd = (module.f(-0.7 + h, 0.2) - module.f(-0.7 - h, 0.2)) / (2 * h)
    assert grads[0] == pytest.approx(fd, rel=1e-6) and grads[1] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_grad_of_an_array_built_from_scalars_says_it_needs_a_scalar(mode):
    """Checked on the primal program before the transform (it was an InternalError from a pass)."""
    import tree_funcs

    with pytest.raises(adc.DifferentiationError, match=r"grad needs returns_packed_array to return a scalar, but it "
                                                        r"returns an array"):
        adc.grad(tree_funcs.returns_packed_array, mode=mode)(1.0)
    with pytest.raises(adc.DifferentiationError, match="returns an array"):
        adc.source(tree_funcs.returns_packed_array)
