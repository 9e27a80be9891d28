"""First-call time of a derivative of one long block of statements (docs/performance.md).

Usage: python benchmarks/bench_long_blocks.py [--steps 100 300 1000 3000] [--jit] [--tree DIR] [--timeout S]

The function is a chain of element-wise array statements, the shape of hand-unrolled code::

    y = x.copy(); t = y[:-1] * 1.0
    t = t * 1.0001 + 0.0          # repeated --steps times
    y[1:] = t; return np.sum(y * y)

Each size runs in a fresh process with an empty ``ADC_CACHE_DIR``, timed after ``import adc``:
reading the source, transforming, generating and loading the module (and, with ``--jit``, Numba's
compilation) and the first call of ``adc.grad``.  The process's CPU time is the figure to compare on a shared machine.
``--tree`` runs another checkout's adc (say a worktree of an older commit), for a before/after.
The gradient is checked against its closed form, so a size that times also answered correctly.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent("""
    import importlib.util, json, sys, time
    import numpy as np
    steps, jit, folder = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
    body = "".join("    t = t * 1.0001 + 0.0\\n" for _ in range(steps))
    path = folder + f"/chain{steps}.py"
    with open(path, "w") as out:
        out.write("import numpy as np\\n\\ndef f(x):\\n    y = x.copy()\\n    t = y[:-1] * 1.0\\n"
                  + body + "    y[1:] = t\\n    return np.sum(y * y)\\n")
    spec = importlib.util.spec_from_file_location(f"chain{steps}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import adc
    wall, cpu = time.perf_counter(), time.process_time()
    x = np.array([0.5, -1.25, 2.0, 0.75])
    g = adc.grad(module.f, jit=jit)(x)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    c2 = (1.0001 ** steps) ** 2
    want = np.array([2 * x[0] + 2 * c2 * x[0], 2 * c2 * x[1], 2 * c2 * x[2], 0.0])
    print(json.dumps({"cpu": cpu, "wall": wall, "correct": bool(np.allclose(g, want, rtol=1e-12))}))
""")


def run(steps: int, jit: bool, tree: Path, timeout: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ, ADC_CACHE_DIR=str(Path(folder) / "cache"), PYTHONPATH=str(tree),
                   NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        try:
            done = subprocess.run([sys.executable, "-c", CHILD, str(steps), "1" if jit else "0", folder],
                                  env=env, capture_output=True, text=True, timeout=timeout, cwd=folder)
        except subprocess.TimeoutExpired:
            return {"timeout": timeout}
        if done.returncode:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"rc {done.returncode}"}
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, nargs="+", default=[100, 300, 1000, 3000])
    ap.add_argument("--jit", action="store_true", help="jit=True (Numba) instead of plain Python")
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose adc runs (default: this one)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per size")
    o = ap.parse_args()
    print(f"adc from {o.tree}, jit={o.jit}")
    print("| statements | first call, CPU time | wall clock | gradient |")
    print("|---|---|---|---|")
    for steps in o.steps:
        r = run(steps, o.jit, o.tree, o.timeout)
        if "timeout" in r:
            print(f"| {steps} | > {o.timeout:.0f} s | > {o.timeout:.0f} s | - |", flush=True)
        elif "error" in r:
            print(f"| {steps} | - | - | {r['error']} |", flush=True)
        else:
            print(f"| {steps} | {r['cpu']:.2f} s | {r['wall']:.2f} s | {'correct' if r['correct'] else 'WRONG'} |",
                  flush=True)


if __name__ == "__main__":
    main()
