"""One module per GradBench eval. Each defines the eval's maths as plain NumPy/Python, its derivatives
with adc only, and `prepare(function, input) -> (call, encode)`: `call()` computes the answer from
inputs already converted to NumPy, `encode(result)` turns it into the eval's JSON output."""

import os

# Whether the evals compile their derivatives with Numba (the benchmark's choice, per eval in
# docs/gradbench.md).  ADC_GRADBENCH_JIT=0 runs the same derivatives as plain Python: the test
# suite does that, to check the answers without paying Numba's compile time in CI.
# ADC_GRADBENCH_JIT=parallel compiles every eval's with jit="parallel" (to compare the two).
_CHOICE = os.environ.get("ADC_GRADBENCH_JIT", "1")
JIT = "parallel" if _CHOICE == "parallel" else _CHOICE != "0"
PARALLEL = "parallel" if JIT else False  # for the evals that use Numba's parallel compilation
