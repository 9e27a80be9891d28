"""Forward vs reverse mode on wide inputs and wide outputs (``adc compare``).

Input: a function ``f(x)`` of one array (default ``sum(tanh(x) * x) + sum(x) ** 2``), a function
``g(t, w)`` of a scalar ``t`` with ``m`` outputs (default ``sin(t * w) * t``), and sizes.  Output: a
table of the time of a full derivative by forward mode (one tangent pass per input) and by reverse
mode (one adjoint pass per output), their ratio, and a log-log PNG of both.  Expected shape: for
``f: R^n -> R`` reverse mode is nearly flat in ``n`` while forward mode grows with ``n``; for
``g: R -> R^m`` it is the other way round.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import api
from .errors import AdcError


def wide_input(x):
    """R^n -> R: the cost comparison's default wide-input function."""
    return np.sum(np.tanh(x) * x) + np.sum(x) ** 2


def wide_output(t, w):
    """R -> R^m (``w`` fixed): the cost comparison's default wide-output function."""
    return np.sin(t * w) * t


@dataclass
class Row:
    case: str
    n: int
    forward: float
    reverse: float

    @property
    def ratio(self) -> float:
        return self.forward / self.reverse


def best_time(fn: Callable[[], Any], repeat: int, budget: float) -> float:
    """The least time of up to ``repeat`` calls, stopping early once ``budget`` seconds are spent."""
    times: list[float] = []
    spent = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
        if spent > budget:
            break
    return min(times)


def jacobian_forward(g: Callable[..., Any], t: float, w: np.ndarray) -> np.ndarray:
    """dg/dt for ``g: R -> R^m`` by forward mode: one tangent pass."""
    return np.asarray(api.jvp(g, (t, w), (1.0, np.zeros_like(w)))[1])


def jacobian_reverse(g: Callable[..., Any], t: float, w: np.ndarray) -> np.ndarray:
    """dg/dt for ``g: R -> R^m`` by reverse mode: one adjoint pass per output."""
    _, pullback = api.vjp(g, t, w)
    m = w.shape[0]
    out = np.empty(m)
    seed = np.zeros(m)
    for i in range(m):
        seed[i] = 1.0
        out[i] = pullback(seed)[0]
        seed[i] = 0.0
    return out


def run(f: Callable[..., Any] = wide_input, g: Callable[..., Any] | None = wide_output,
        sizes: Sequence[int] = (1, 10, 100, 1000, 10000), repeat: int = 3, budget: float = 2.0,
        progress: Callable[[str], None] | None = None) -> list[Row]:
    """Time full derivatives by both modes for every size; report each row through ``progress``."""
    rows: list[Row] = []
    grad_fwd = api.grad(f, mode="forward")
    grad_rev = api.grad(f, mode="reverse")
    rng = np.random.default_rng(0)
    for n in sizes:
        x = rng.normal(size=n)
        a, b = grad_fwd(x), grad_rev(x)  # compile, and check both modes agree
        if not np.allclose(a, b, rtol=1e-8, atol=1e-10):
            raise AssertionError(f"forward and reverse gradients differ at n={n}")
        row = Row("R^n -> R", n, best_time(lambda: grad_fwd(x), repeat, budget),
                  best_time(lambda: grad_rev(x), repeat, budget))
        rows.append(row)
        if progress:
            progress(format_row(row))
    if g is not None:
        for m in sizes:
            w = np.linspace(0.1, 2.0, m)
            jacobian_forward(g, 0.7, w)
            jacobian_reverse(g, 0.7, w)
            row = Row("R -> R^m", m, best_time(lambda: jacobian_forward(g, 0.7, w), repeat, budget),
                      best_time(lambda: jacobian_reverse(g, 0.7, w), repeat, budget))
            rows.append(row)
            if progress:
                progress(format_row(row))
    return rows


def _fmt_time(t: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def format_row(row: Row) -> str:
    return f"{row.case:<9} {row.n:>7}  {_fmt_time(row.forward):>10}  {_fmt_time(row.reverse):>10}  {row.ratio:>9.3g}"


HEADER = f"{'case':<9} {'size':>7}  {'forward':>10}  {'reverse':>10}  {'fwd/rev':>9}"



class MissingDependency(AdcError):
    """An optional package a command needs is not installed."""


def require_matplotlib() -> None:
    """Fail before timing anything when the plot cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(f"adc compare --plot needs matplotlib to draw the plot ({exc}); install it "
                                "(pip install matplotlib, or pip install 'adc[plot]'), or leave out --plot for "
                                "the table only") from None


def plot(rows: Sequence[Row], path: str) -> None:
    """A log-log plot of both modes' times, one panel per case."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(r.case for r in rows))
    fig, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4.2), squeeze=False)
    for ax, case in zip(axes[0], cases):
        sub = [r for r in rows if r.case == case]
        ns = [r.n for r in sub]
        ax.loglog(ns, [r.forward for r in sub], "o-", label="forward mode (one tangent pass per input)")
        ax.loglog(ns, [r.reverse for r in sub], "s-", label="reverse mode (one adjoint pass per output)")
        ax.set_xlabel("n (inputs)" if case == "R^n -> R" else "m (outputs)")
        ax.set_ylabel("time of the full derivative [s]")
        ax.set_title(f"{case}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(f: Callable[..., Any] | None, sizes: Sequence[int], plot_path: str | None, repeat: int, budget: float,
         outputs: bool = True) -> list[Row]:
    """``adc compare``: prints the table on stdout once, a row as soon as it is timed; saves the
    plot to ``plot_path`` if one is given (matplotlib is checked before anything is timed)."""
    def progress(line: str) -> None:
        print(line, flush=True)

    if plot_path:
        require_matplotlib()
    print(HEADER, flush=True)
    rows = run(f or wide_input, wide_output if outputs else None, sizes, repeat, budget, progress)
    if plot_path:
        plot(rows, plot_path)
    return rows
