"""Long straight-line programs: hundreds of statements in one block differentiate correctly, and
generated expressions nest no deeper than Python and adc's own code generator can read.  (Their
compile time, which used to grow with the cube of the block's length, is measured by
``benchmarks/bench_long_blocks.py``, not here.)"""
from __future__ import annotations

import numpy as np
import pytest

import adc
from modules import load_module

STEPS = 200
FACTOR = 1.0001


def _chain_source(steps: int) -> str:
    body = "".join(f"    t = t * {FACTOR} + 0.0\n" for _ in range(steps))
    return ("import numpy as np\n\ndef f(x):\n    y = x.copy()\n    t = y[:-1] * 1.0\n"
            f"{body}    y[1:] = t\n    return np.sum(y * y)\n")


@pytest.mark.parametrize("jit", [False, True])
def test_a_chain_of_two_hundred_array_statements(tmp_path, jit) -> None:
    """``y[1:] = c * x[:-1]`` through 200 statements: the gradient of ``sum(y * y)`` is
    ``2 x`` at ``x[0]`` and ``2 c**2 x`` at the others but the last (0).  Under ``jit`` the
    folded element-wise expression nested 200 deep and code generation raised RecursionError."""
    f = load_module(tmp_path, "long_chain", _chain_source(STEPS)).f
    x = np.array([0.5, -1.25, 2.0, 0.75])
    c2 = (FACTOR ** STEPS) ** 2
    want = np.array([2 * x[0] + 2 * c2 * x[0], 2 * c2 * x[1], 2 * c2 * x[2], 0.0])
    value, got = adc.value_and_grad(f, jit=jit)(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert value == pytest.approx(f(x), rel=1e-14)


def _condition_source(segments: int, additions: int) -> str:
    segment = "    s = s + t\n" * additions + "    s = np.sum(s * x)\n"
    return ("import numpy as np\n\ndef g(x, t):\n    s = t\n" + segment * segments + "    return s\n\n"
            "def f(x, t):\n    while g(x, t) < 1e6:\n        t = t * 1.5 + 1.0\n    return t * np.sum(x)\n")


def test_a_long_helper_in_a_while_condition(tmp_path) -> None:
    """A ``while`` condition folds everything it can, by two plans whose union nested 330
    operations deep (each was bounded alone): RecursionError in code generation.  The loop runs
    ``k`` times, so ``d f / d t = 1.5**k`` and ``d f / d x = t_final`` (``sum(x) = 1``)."""
    module = load_module(tmp_path, "long_condition", _condition_source(16, 20))
    x, t = np.array([0.3, 0.2, 0.5]), 0.5
    k = 0
    while module.g(x, t) < 1e6:
        t, k = t * 1.5 + 1.0, k + 1
    gx, gt = adc.grad(module.f, argnums=(0, 1))(x, 0.5)
    np.testing.assert_allclose(gx, np.full(3, t), rtol=1e-12)
    assert gt == pytest.approx(1.5 ** k, rel=1e-12)
