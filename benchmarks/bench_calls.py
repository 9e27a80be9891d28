"""First-call time of a program that calls one helper from 200 sites (issue 11, item 6).

Writes the program to a temporary module, then in a fresh process with an empty ``ADC_CACHE_DIR``
times (wall clock, and CPU time of the process, which a loaded machine inflates less) the first
call of ``adc.grad`` (reading, transforming, generating and loading the code, and
one run) and reports the size of the generated module.  ``--inline`` forces the helper to be
inlined at every site (``KEEP_SITES`` raised), which is what adc did before helpers were kept.

    python benchmarks/bench_calls.py [--sites 200] [--inline] [--mode reverse|forward]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def program(sites: int) -> str:
    lines = ["import numpy as np", "", "", "def helper(a, b):", "    c = np.tanh(a * b) + a", "    return c * c - b",
             "", "", "def many(x, y):", "    s = helper(x, y)"]
    lines += [f"    s = s + helper(s, {'x' if k % 2 else 'y'})" for k in range(sites - 1)]
    lines += ["    return s", ""]
    return "\n".join(lines)


def child(folder: str, inline: bool, mode: str) -> None:
    sys.path[:0] = [str(REPO), folder]
    t0 = time.perf_counter()
    import adc
    import adc.frontend_calls

    if inline:
        adc.frontend_calls.KEEP_SITES = 10 ** 9
    from many_sites_program import many

    t1, c1 = time.perf_counter(), time.process_time()
    g = adc.grad(many, mode=mode)
    g(0.3, 0.2)
    t2, c2 = time.perf_counter(), time.process_time()
    g(0.3, 0.2)
    t3 = time.perf_counter()
    text = adc.source(many, mode="forward" if mode == "forward" else "reverse", at=(0.3, 0.2), compact=True)
    print(json.dumps({"import_s": t1 - t0, "first_call_s": t2 - t1, "first_call_cpu_s": c2 - c1,
                      "second_call_s": t3 - t2,
                      "lines": text.count("\n")}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sites", type=int, default=200)
    p.add_argument("--inline", action="store_true")
    p.add_argument("--mode", default="reverse", choices=("reverse", "forward"))
    p.add_argument("--child", default="")
    a = p.parse_args()
    if a.child:
        child(a.child, a.inline, a.mode)
        return
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "many_sites_program.py").write_text(program(a.sites))
        cache = Path(folder, "cache")
        cache.mkdir()
        env = dict(os.environ, ADC_CACHE_DIR=str(cache))
        args = [sys.executable, __file__, "--child", folder, "--mode", a.mode] + (["--inline"] if a.inline else [])
        out = subprocess.run(args, capture_output=True, text=True, env=env, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    result.update(sites=a.sites, inline=a.inline, mode=a.mode)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
