"""Both layouts of the generated code, run: the lecture layout that ``adc source`` prints (one
adjoint statement per primal statement) and the compact code adc executes must compute the same
numbers."""
from __future__ import annotations

import itertools

import numpy as np

import adc

_counter = itertools.count()


def run_source(fn, args, argnums, mode, compact):
    """Exec what ``adc.source`` prints and call it: the gradient (reverse) or ``(value, tangent)``
    for tangents of 0.5 in every differentiated argument (forward)."""
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in nums:
        if not isinstance(args[i], np.ndarray):
            args[i] = float(args[i])
    text = adc.source(fn, mode=mode, argnums=argnums, at=args, compact=compact)
    namespace: dict = {}
    exec(compile(text, f"<adc source {next(_counter)}>", "exec"), namespace)
    suffix = "_grad" if mode == "reverse" else "_jvp"
    func = namespace[fn.__name__ + suffix]
    if mode == "reverse":
        return func(*args)
    tangents = [np.full_like(args[i], 0.5) if isinstance(args[i], np.ndarray) else 0.5 for i in nums]
    return func(*args, *tangents)


def flatten(value):
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in flatten(v)]
    return list(np.ravel(np.asarray(value, dtype=float)))


def assert_layouts_agree(fn, args, argnums, mode, rtol=1e-12, atol=1e-12):
    lecture = flatten(run_source(fn, args, argnums, mode, compact=False))
    compact = flatten(run_source(fn, args, argnums, mode, compact=True))
    assert len(lecture) == len(compact)
    np.testing.assert_allclose(compact, lecture, rtol=rtol, atol=atol,
                               err_msg=f"{fn.__name__} {mode}: compact vs lecture layout")
