"""GradBench's own JAX tool, with `jax.block_until_ready` inside the timed call.

GradBench's JAX tool (`python/gradbench/gradbench/tools/jax/run.py` in the bundle) times only JAX's
asynchronous dispatch. This runs that tool unchanged, except that every function its modules give
to `gradbench.wrap` is wrapped so that it waits for its result. Start it as a GradBench tool (the
working directory is the bundle's root, as `pipe.py` sets it):

    python benchmarks/gradbench/jax_blocking.py
"""
import os
import runpy
import sys

jax_tool = os.path.join(os.getcwd(), "python", "gradbench", "gradbench", "tools", "jax")
sys.path.insert(0, jax_tool)  # the tool imports its modules (`lse`, `gmm`, ...) by their file names

import jax  # noqa: E402
from gradbench import wrap  # noqa: E402


def _blocking(decorator):
    def make(*args, **kwargs):
        decorate = decorator(*args, **kwargs)
        return lambda function: decorate(lambda x: jax.block_until_ready(function(x)))
    return make


wrap.function = _blocking(wrap.function)
wrap.multiple_runs = _blocking(wrap.multiple_runs)
sys.argv = [os.path.join(jax_tool, "run.py")]
runpy.run_path(sys.argv[0], run_name="__main__")
