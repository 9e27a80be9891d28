"""The command line: ``adc trace``, ``adc source``, ``adc compare``, ``adc cache`` (and ``python -m adc``).

Input: ``FILE.py:FUNC`` and options.  Output: the SSA listing, the trace tables at a point, or the
generated derivative source on stdout; a one-line message and exit code 2 on bad input.  It only
calls the public API (and ``cache`` for ``adc cache``).
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
from typing import Any, Callable, Sequence

import numpy as np

from . import api
from .errors import AdcError, UnsupportedError, format_located


class UsageError(Exception):
    pass


def load_function(spec: str) -> Callable[..., Any]:
    """``path/to/file.py:func`` → the function (the original one if it is adc-decorated)."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"expected FILE.py:FUNCTION, got {spec!r}")
    if not os.path.isfile(path):
        raise UsageError(f"no such file: {path}")
    module_name = "adc_cli_" + os.path.splitext(os.path.basename(path))[0]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec_obj = importlib.util.spec_from_file_location(module_name, path)
        if spec_obj is None or spec_obj.loader is None:
            raise UsageError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec_obj)
        sys.modules[module_name] = module
        try:
            spec_obj.loader.exec_module(module)
        except AdcError:
            raise
        except (Exception, SystemExit) as exc:
            raise UsageError(f"importing {path} failed: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.pop(0)
    fn = getattr(module, name, None)
    if fn is None:
        raise UsageError(f"{path} has no function {name!r}")
    fn = api.original(fn)
    if not callable(fn):
        raise UsageError(f"{path}:{name} is not a function")
    return fn


def _rand(*shape: int) -> np.ndarray:
    """Standard normal values of ``shape``, the same on every run (seed 0)."""
    return np.random.default_rng(0).normal(size=shape)


# What an ``--at`` expression can use besides literals (documented in ``adc trace --help``).
AT_NAMES: dict[str, Any] = {"np": np, "numpy": np, "math": math, "ones": np.ones, "zeros": np.zeros,
                            "full": np.full, "arange": np.arange, "linspace": np.linspace, "eye": np.eye,
                            "array": np.array, "rand": _rand, "pi": math.pi, "e": math.e, "inf": math.inf,
                            "nan": math.nan, "float": float, "int": int}
AT_HELP = ("example arguments, comma-separated Python values: numbers (2,5: an int stays an int, for a loop "
           "bound), lists (float arrays; array([0, 2]) keeps integers), or NumPy expressions, e.g. --at 'ones(3), 2.0' or --at 'rand(2, 3), arange(3.0)'; "
           "ones, zeros, full, arange, linspace, eye, array, rand(*shape) (seeded normal values), np, math are "
           "available")


def parse_at(text: str | None, fn: Callable[..., Any]) -> list[Any] | None:
    """``--at`` → the example arguments: the text is evaluated as a Python tuple with ``AT_NAMES``
    (``2,5`` gives the ints 2 and 5, ``ones(3), 2.0`` an array and a float); a list becomes an array."""
    if text is None:
        return None
    try:
        value = eval(compile(text, "--at", "eval"), {"__builtins__": {}, **AT_NAMES})  # the user's own input
    except SyntaxError:
        raise UsageError(f"--at expects comma-separated values such as 2,5 or 'ones(3), 2.0', got {text!r}") from None
    except Exception as exc:
        raise UsageError(f"--at {text!r} could not be evaluated ({type(exc).__name__}: {exc}); it takes numbers, "
                         "lists and NumPy expressions such as ones(3) (see adc trace --help)") from None
    values = list(value) if isinstance(value, tuple) else [value]
    for k, v in enumerate(values):
        if isinstance(v, list):
            try:
                values[k] = np.array(v, dtype=float)
            except (TypeError, ValueError):
                raise UsageError(f"--at: argument {k + 1} ({v!r}) is not a list of numbers") from None
        elif not isinstance(v, (int, float, np.ndarray, np.number)) or isinstance(v, (complex, np.complexfloating)):
            raise UsageError(f"--at: argument {k + 1} is {type(v).__name__} {v!r}; pass numbers or arrays")
    from .frontend import param_names

    n = len(param_names(fn))
    if len(values) != n:
        raise UsageError(f"--at gives {len(values)} values but {fn.__name__} takes {n} arguments")
    return values


def parse_argnums(text: str | None, n: int | None = None) -> int | tuple[int, ...] | None:
    if text is None:
        return None
    try:
        nums = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--argnums expects comma-separated integers, got {text!r}") from None
    return nums[0] if len(nums) == 1 else nums


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="adc", description="Automatic differentiation by source transformation.")
    parser.add_argument("--version", action="version", version=f"adc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("trace", help="print the SSA evaluation trace (with --at: the three trace tables)")
    t.add_argument("target", help="FILE.py:FUNCTION")
    t.add_argument("--at", help=AT_HELP + "; without --at every argument is taken to be a float")
    s = sub.add_parser("source", help="print the generated derivative source")
    s.add_argument("target", help="FILE.py:FUNCTION")
    s.add_argument("--mode", choices=["reverse", "forward"], default="reverse")
    s.add_argument("--argnums", help="comma-separated argument indices (default: every argument that can be "
                                     "real; an int in --at counts as a float unless the function uses it as "
                                     "an integer)")
    s.add_argument("--at", help="the " + AT_HELP + "; the code is specialised to their types and shapes")
    s.add_argument("--compact", action="store_true",
                   help="print the code adc runs (unit seed and single-use values folded) instead of "
                        "the lecture layout")
    c = sub.add_parser("compare", help="time full derivatives by forward vs reverse mode on wide inputs/outputs")
    c.add_argument("target", nargs="?", help="FILE.py:FUNCTION of one array argument (default: "
                                             "sum(tanh(x) * x) + sum(x) ** 2)")
    c.add_argument("--sizes", default="1,10,100,1000,10000", help="comma-separated sizes (default 1..10^4)")
    c.add_argument("--plot", "--out", dest="plot", metavar="FILE",
                   help="also save a log-log plot of the table to FILE (a .png; needs matplotlib)")
    c.add_argument("--repeat", type=int, default=3, help="timed repetitions per point (the least counts)")
    c.add_argument("--budget", type=float, default=2.0, help="seconds to spend at most per point")
    c.add_argument("--no-outputs", action="store_true", help="skip the R -> R^m (wide output) case")
    k = sub.add_parser("cache", help="show or clear adc's cache of generated modules ($ADC_CACHE_DIR)")
    k.add_argument("action", choices=["info", "clear"],
                   help="info: where it is, how big, its limit; clear: remove every generated module")
    return parser


def join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--at -2,5`` → ``--at=-2,5`` so argparse does not take ``-2,5`` for an option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--at", "--argnums") and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            out.append(f"{argv[i]}={argv[i + 1]}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def run(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(join_negative_values(argv))
    if args.command == "compare":
        return run_compare(args)
    if args.command == "cache":
        from . import cache

        print(cache.info() if args.action == "info" else cache.clear_command(), end="")
        return 0
    fn = load_function(args.target)
    at = parse_at(args.at, fn)
    try:
        if args.command == "trace":
            tr = api.trace(fn, at)
            text = tr.tables(*at) if at is not None else str(tr)
        else:
            argnums = parse_argnums(args.argnums)  # default: every argument that can be real (ints too)
            text = api.source(fn, args.mode, argnums, at=at, compact=args.compact)
    except AdcError as exc:
        if at is None and "array" in str(exc):  # the function wants arrays: say how to give them
            hint = (f"without --at adc takes every argument of {fn.__name__} to be a float; for array arguments "
                    "pass example values, e.g. --at 'ones(3), 2.0' (see adc trace --help)")
            if isinstance(exc, UnsupportedError):
                raise UsageError(format_located(exc.message, exc.loc, hint)) from None
            raise UsageError(f"{exc}\nhint: {hint}") from None
        raise
    print(text, end="")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from . import compare

    try:
        sizes = [int(v) for v in args.sizes.split(",")]
    except ValueError:
        raise UsageError(f"--sizes expects comma-separated integers, got {args.sizes!r}") from None
    if any(n < 1 for n in sizes):
        raise UsageError("--sizes must be positive")
    fn = load_function(args.target) if args.target else None
    if fn is not None:
        from .frontend import param_names

        params = param_names(fn)
        if len(params) != 1:
            raise UsageError(f"adc compare times a function of one array argument; {fn.__name__} takes "
                             f"{len(params)} ({', '.join(params)})")
    compare.main(fn, sizes, args.plot, args.repeat, args.budget, not args.no_outputs)
    if args.plot:
        print(f"plot saved to {args.plot}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(argv)
    except UsageError as exc:
        print(f"adc: error: {exc}", file=sys.stderr)
        return 2
    except AdcError as exc:
        print(f"adc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
