"""Functions defined in notebook cells: every transform, redefinition, ``importlib.reload``; and
the error for a function that has no source at all.

The cells run in IPython's ``InteractiveShell`` (what a Jupyter kernel runs them with): a cell's
code gets a file name ``<ipython-input-N-...>`` whose text IPython keeps in ``linecache``, which is
where adc reads it from.  The shell gets a namespace module of its own, so ``__main__`` (pytest's)
is left alone.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from traitlets.config import Config  # noqa: E402

import adc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shell():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    main = sys.modules["__main__"]
    sh = InteractiveShell.instance(config=config, user_module=types.ModuleType("adc_notebook_cells"))
    yield sh
    InteractiveShell.clear_instance()
    sys.modules.pop("adc_notebook_cells", None)
    sys.modules["__main__"] = main


def cell(sh: InteractiveShell, code: str):
    """Run ``code`` as a notebook cell; its last expression's value (an error fails the test)."""
    result = sh.run_cell(textwrap.dedent(code), store_history=True, silent=False)
    if result.error_before_exec or result.error_in_exec:
        raise result.error_before_exec or result.error_in_exec
    return result.result


def everything(sh: InteractiveShell, jit: bool):
    """Every transform of the cell-defined ``f(x, y)`` at (0.7, 1.3), in one cell."""
    return cell(sh, f"""
        x, y = 0.7, 1.3
        (adc.grad(f, argnums=(0, 1), jit={jit})(x, y),
         adc.value_and_grad(f, jit={jit})(x, y),
         adc.jvp(f, (x, y), (1.0, 0.0), jit={jit}),
         adc.vjp(f, x, y, jit={jit})[1](1.0),
         adc.jacfwd(f, jit={jit})(x, y),
         adc.jacrev(f, jit={jit})(x, y),
         adc.hessian(f)(x, y))
    """)


def check_all(results, value, dx, dy, dxx):
    grads, (v, g), (jv, jt), vj, jf, jr, h = results
    assert grads == pytest.approx((dx, dy), rel=1e-12)
    assert (v, g) == pytest.approx((value, dx), rel=1e-12)
    assert (jv, jt) == pytest.approx((value, dx), rel=1e-12)
    assert vj == pytest.approx((dx, dy), rel=1e-12)
    assert jf == pytest.approx(dx, rel=1e-12) and jr == pytest.approx(dx, rel=1e-12)
    assert h == pytest.approx(dxx, rel=1e-10)


@pytest.mark.parametrize("jit", [False, True])
def test_cell_functions_work_with_every_transform_and_redefinition(shell, jit):
    cell(shell, "import math, adc, numpy as np")
    x, y = 0.7, 1.3
    cell(shell, """
        def f(x, y):
            return math.sin(x) * y + x ** 3
    """)
    check_all(everything(shell, jit), math.sin(x) * y + x ** 3, math.cos(x) * y + 3 * x ** 2, math.sin(x),
              -math.sin(x) * y + 6 * x)
    # the same cell, edited and run again: the new definition is differentiated
    cell(shell, """
        def f(x, y):
            return math.exp(x * y) - x ** 2
    """)
    check_all(everything(shell, jit), math.exp(x * y) - x ** 2, y * math.exp(x * y) - 2 * x,
              x * math.exp(x * y), y * y * math.exp(x * y) - 2)


@pytest.mark.parametrize("jit", [False, True])
def test_redefining_a_helper_cell_changes_an_existing_gradient(shell, jit):
    """``g`` is made once; the helper it calls and a constant it reads are redefined in later
    cells: each call differentiates what the names mean now, never a cached old program."""
    cell(shell, f"""
        import adc, numpy as np
        SCALE = 2.0
        def helper(x):
            return x * x
        def loss(w):
            return np.sum(helper(w)) * SCALE
        g = adc.grad(loss, jit={jit})
    """)
    w = np.array([1.0, -2.0, 3.0])
    shell.user_ns["w"] = w
    np.testing.assert_allclose(cell(shell, "g(w)"), 4.0 * w, rtol=1e-14)
    cell(shell, """
        def helper(x):
            return x * x * x
    """)
    np.testing.assert_allclose(cell(shell, "g(w)"), 6.0 * w * w, rtol=1e-14)
    cell(shell, "SCALE = -1.0")
    np.testing.assert_allclose(cell(shell, "g(w)"), -3.0 * w * w, rtol=1e-14)
    # the same text run again is the same function: the same numbers
    cell(shell, """
        def helper(x):
            return x * x * x
    """)
    np.testing.assert_allclose(cell(shell, "g(w)"), -3.0 * w * w, rtol=1e-14)


def test_an_array_cell_and_its_source(shell):
    cell(shell, """
        import adc, numpy as np
        def mse(W, x, t):
            return np.mean((W @ x - t) ** 2)
    """)
    W = np.arange(6.0).reshape(2, 3) / 7
    x, t = np.array([1.0, -1.0, 0.5]), np.array([0.2, 0.3])
    shell.user_ns.update(W=W, x=x, t=t)
    gW = cell(shell, "adc.grad(mse)(W, x, t)")
    np.testing.assert_allclose(gW, np.outer(W @ x - t, x), rtol=1e-13)
    text = cell(shell, "adc.source(mse, at=(W, x, t))")
    assert "def mse_grad(W, x, t):" in text and "W @ x - t" in text  # the cell's own line, quoted


def test_reloading_a_module_the_notebook_imports(shell, tmp_path, monkeypatch):
    module = tmp_path / "adc_nb_model.py"
    module.write_text("import math\n\nK = 2.0\n\n\ndef f(x):\n    return K * math.sin(x)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    cell(shell, "import importlib, adc, adc_nb_model\ng = adc.grad(adc_nb_model.f)")
    assert cell(shell, "g(0.3)") == pytest.approx(2.0 * math.cos(0.3), rel=1e-14)
    # edited on disk (a longer text, so the import system sees a new file even within one second)
    module.write_text("import math\n\nK = 5.0\n\n\ndef f(x):\n    return K * math.sin(x) * x  # edited\n")
    cell(shell, "importlib.reload(adc_nb_model)")
    assert cell(shell, "adc.grad(adc_nb_model.f)(0.3)") == pytest.approx(5.0 * (math.cos(0.3) * 0.3 + math.sin(0.3)),
                                                                     rel=1e-14)
    sys.modules.pop("adc_nb_model", None)


NO_SOURCE = "def f(x):\n    return x * x\n"


def test_exec_of_a_string_is_a_clear_error():
    namespace: dict = {}
    exec(NO_SOURCE, namespace)
    with pytest.raises(adc.SourceError) as info:
        adc.grad(namespace["f"])
    text = str(info.value)
    assert "cannot read the source of 'f'" in text and "made from a string" in text
    assert "hint: define it in a .py file" in text and "Jupyter/IPython cell" in text


def test_the_hint_for_code_made_as_a_string_works():
    """The hint's last suggestion: text registered with linecache under its compile file name."""
    import linecache

    name = "<adc generated: square>"
    linecache.cache[name] = (len(NO_SOURCE), None, NO_SOURCE.splitlines(True), name)
    namespace: dict = {}
    exec(compile(NO_SOURCE, name, "exec"), namespace)
    assert adc.grad(namespace["f"])(3.0) == 6.0


def test_python_dash_c_and_stdin_are_clear_errors(tmp_path):
    body = ("def f(x):\n    return x * x\n"
            "try:\n    adc.grad(f)(2.0)\nexcept adc.SourceError as e:\n    print(e)\n")
    env = {**os.environ, "ADC_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", "import adc\n" + body], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "cannot read the source of 'f': it was made from a string (`python -c`" in proc.stdout
    proc = subprocess.run([sys.executable, "-"], input="import adc\n" + body, capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert "cannot read the source of 'f': it was typed at the plain `python` prompt" in proc.stdout
