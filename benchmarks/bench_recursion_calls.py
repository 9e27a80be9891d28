"""What one call of a Numba-compiled recursion costs, by what it is passed (docs/gradbench.md, det).

Usage: NUMBA_NUM_THREADS=1 python benchmarks/bench_recursion_calls.py [ell]   (default ell = 9)

det's expansion by minors (the GradBench eval's `det_of_minor`) makes about e * ell! calls.  Numba
increments and decrements the reference count of each array a function is given, with atomic
instructions, unless its pruning pass can prove them unneeded.  This times the same recursion
compiled three ways, medians of 7 calls:

- `plain`: given A only (the counts of A are pruned);
- `one more array`: also given an array it passes down and never reads, as adc's derivative is given
  its tapes and adjoint buffers (the counts are kept);
- `uncounted`: the same, with both arrays passed as views whose reference-count pointer is null
  (an @intrinsic), which Numba's increments skip (what adc passed until the twenty-third session);
- `borrowed`: the same, with both arrays passed as ``adc_stacks.borrowed(x)``, typed as uncounted
  (no member to count: no increment or decrement is emitted at all; what adc passes now).

and adc's gradient (`jit=True`) for scale.  No derivative is written by hand here."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from numba.core import cgutils
from numba.extending import intrinsic

sys.path.insert(0, str(Path(__file__).resolve().parent / "gradbench"))
from evals import det as det_eval  # noqa: E402

from adc.prims.stacks import borrowed  # noqa: E402


@numba.njit
def plain(A, row, used):  # noqa: ANN001, ANN201
    n = A.shape[0]
    if row == n - 1:
        j = 0
        while used & (1 << j):
            j += 1
        return A[row, j]
    total, sign = 0.0, 1.0
    for j in range(n):
        if used & (1 << j) == 0:
            total += sign * A[row, j] * plain(A, row + 1, used | (1 << j))
            sign = -sign
    return total


@numba.njit
def one_more_array(A, row, used, extra):  # noqa: ANN001, ANN201
    n = A.shape[0]
    if row == n - 1:
        j = 0
        while used & (1 << j):
            j += 1
        return A[row, j]
    total, sign = 0.0, 1.0
    for j in range(n):
        if used & (1 << j) == 0:
            total += sign * A[row, j] * one_more_array(A, row + 1, used | (1 << j), extra)
            sign = -sign
    return total


@intrinsic
def uncounted(typingctx, array):  # noqa: ANN001, ANN201
    """A view of ``array`` with a null reference-count pointer (valid while ``array`` lives)."""
    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        view = context.make_array(signature.return_type)(context, builder, args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        return view._getvalue()
    return array(array), codegen


@numba.njit
def run_borrowed(A, extra):  # noqa: ANN001, ANN201
    return one_more_array(borrowed(A), 0, 0, borrowed(extra))


@numba.njit
def run_plain(A):  # noqa: ANN001, ANN201
    return plain(A, 0, 0)


@numba.njit
def run_one_more(A, extra):  # noqa: ANN001, ANN201
    return one_more_array(A, 0, 0, extra)


@numba.njit
def run_uncounted(A, extra):  # noqa: ANN001, ANN201
    return one_more_array(uncounted(A), 0, 0, uncounted(extra))


def median_ms(fn, *args, runs: int = 7) -> float:  # noqa: ANN001
    fn(*args)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    ell = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    A = np.random.default_rng(0).random((ell, ell))
    extra = np.zeros(16)
    assert np.isclose(run_plain(A), np.linalg.det(A)) and run_uncounted(A, extra) == run_plain(A) == run_borrowed(A, extra)
    print(f"ell = {ell}, median of 7 calls:")
    print(f"| recursion | ms |\n|---|---|")
    print(f"| plain (A) | {median_ms(run_plain, A):.1f} |")
    print(f"| one more array | {median_ms(run_one_more, A, extra):.1f} |")
    print(f"| one more array, both uncounted | {median_ms(run_uncounted, A, extra):.1f} |")
    print(f"| one more array, both borrowed (typed as uncounted) | {median_ms(run_borrowed, A, extra):.1f} |")
    print(f"| adc's gradient (jit=True) | {median_ms(det_eval.gradient, A):.1f} |")


if __name__ == "__main__":
    main()
