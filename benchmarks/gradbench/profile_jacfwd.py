"""Where one `adc.jacfwd` call on one ba observation spends its time (docs/gradbench.md, "ba").

Usage: python benchmarks/gradbench/profile_jacfwd.py   (from the repository root; prints a markdown table)

The per-observation `reproj_err` (15 inputs -> 2 outputs) is the first version of evals/ba.py, read from
commit 37ef9d2 into a temporary file. Each step of `adc.jvp` (adc/api.py) is timed on its own, with the
arguments one `jvp` call gives it; medians in microseconds. Run with one thread
(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1).
"""
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
import adc  # noqa: E402
from adc import api, arguments, failures, pipeline  # noqa: E402
from adc import identity as idm  # noqa: E402
from adc.trees import flatten  # noqa: E402

_src = subprocess.run(["git", "-C", str(REPO), "show", "37ef9d2:benchmarks/gradbench/evals/ba.py"],
                      capture_output=True, text=True, check=True).stdout
_file = Path(tempfile.mkdtemp()) / "ba_one_observation.py"
_file.write_text(_src)
_spec = importlib.util.spec_from_file_location("ba_one_observation", _file)
ba = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ba)
fn = ba.reproj_err
params = np.array([0.0157415, -0.0127909, -0.00440085, 0.413075, -0.0519167, -0.0128838, 390.457, 0, 0, -9.44947e-07, 4.20727e-14, 0.123, -0.0213, -0.7854, 1.0])
f = np.array([-332.65, 262.09])
z = np.zeros(15); z[0] = 1; zf = np.zeros(2)
jac = adc.jacfwd(fn, jit=True)
jac(params, f)
adc.jvp(fn, (params, f), (z, zf), jit=True)
args, types = api._promoted(fn, (params, f))
names = arguments.parameter_names(fn, 2)
leaves, paths = api._leaves_and_paths(args, names)
comp = pipeline.compile_derivative(fn, types, "jvp", [0, 1], True)


def tm(g, n=3000):
    for _ in range(100):
        g()
    ts = []
    for _ in range(n):
        t = time.perf_counter_ns()
        g()
        ts.append(time.perf_counter_ns() - t)
    return np.median(ts) / 1e3


rows = [
 ("reproj_err itself (NumPy, one observation)", lambda: fn(params, f)),
 ("adc.jacfwd(reproj_err, jit=True)(params, feat): 15 columns", lambda: jac(params, f)),
 ("adc.jvp(reproj_err, ..., jit=True): one column", lambda: adc.jvp(fn, (params, f), (z, zf), jit=True)),
 ("  arguments.check_function", lambda: arguments.check_function(fn, "adc.jvp")),
 ("  arguments.bind", lambda: arguments.bind(fn, (params, f))),
 ("  api._promoted (identity + prepare)", lambda: api._promoted(fn, (params, f))),
 ("    identity.identity (walks fn and its callees, checks sources)", lambda: idm.identity(fn)),
 ("    arguments.prepare (coerce + type_of_argument)", lambda: arguments.prepare(fn, (params, f), [])),
 ("  arguments.parameter_names", lambda: arguments.parameter_names(fn, 2)),
 ("  api._leaves_and_paths", lambda: api._leaves_and_paths(args, names)),
 ("  flatten of the 2 tangents + tree compare", lambda: [flatten(a)[1] == flatten(t)[1] for a, t in zip(args, (z, zf))]),
 ("  pipeline.compile_derivative (a cache hit: identity again + key)", lambda: pipeline.compile_derivative(fn, types, "jvp", [0, 1], True)),
 ("  argument + _same_shape on the 2 tangents", lambda: [api._same_shape(arguments.argument(t, "t", True), l, "t") for t, l in zip((z, zf), leaves)]),
 ("  failures.run_generated (the Numba JVP)", lambda: failures.run_generated(comp, [params, f, z, zf])),
 ("    the Numba JVP called directly", lambda: comp.func(params, f, z, zf)),
 ("  api._unflatten x2", lambda: (api._unflatten([1.0], comp.primal.result), api._unflatten([1.0], comp.primal.result))),
]
print("| step | µs |\n|---|---|")
for name, g in rows:
    print(f"| {name} | {tm(g, 300 if 'jacfwd' in name else 3000):.1f} |")
