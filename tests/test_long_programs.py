"""Long straight-line programs: hundreds of statements in one block differentiate correctly, in
time linear in their length for the passes that rewrite the block, and with generated expressions
nested no deeper than Python and adc's own code generator can read."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import adc

STEPS = 200
FACTOR = 1.0001


def _chain_source(steps: int) -> str:
    body = "".join(f"    t = t * {FACTOR} + 0.0\n" for _ in range(steps))
    return ("import numpy as np\n\ndef f(x):\n    y = x.copy()\n    t = y[:-1] * 1.0\n"
            f"{body}    y[1:] = t\n    return np.sum(y * y)\n")


def _load(folder: Path, name: str, text: str):
    path = folder / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("jit", [False, True])
def test_a_chain_of_two_hundred_array_statements(tmp_path, jit) -> None:
    """``y[1:] = c * x[:-1]`` through 200 statements: the gradient of ``sum(y * y)`` is
    ``2 x`` at ``x[0]`` and ``2 c**2 x`` at the others but the last (0).  Under ``jit`` the
    folded element-wise expression nested 200 deep and code generation raised RecursionError."""
    f = _load(tmp_path, "long_chain", _chain_source(STEPS)).f
    x = np.array([0.5, -1.25, 2.0, 0.75])
    c2 = (FACTOR ** STEPS) ** 2
    want = np.array([2 * x[0] + 2 * c2 * x[0], 2 * c2 * x[1], 2 * c2 * x[2], 0.0])
    value, got = adc.value_and_grad(f, jit=jit)(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert value == pytest.approx(f(x), rel=1e-14)
