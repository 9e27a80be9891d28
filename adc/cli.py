"""The command line: ``adc trace``, ``adc source`` (and ``python -m adc``).

Input: ``FILE.py:FUNC`` and options.  Output: the SSA listing, the trace tables at a point, or the
generated derivative source on stdout; a one-line message and exit code 2 on bad input.  It only
calls the public API.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from typing import Any, Callable, Sequence

from . import api
from .errors import AdcError


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


def _number(text: str) -> float | int:
    """``5`` stays an int (a loop bound can be given), ``2.5`` or ``2e3`` is a float."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_at(text: str | None, fn: Callable[..., Any]) -> list[float | int] | None:
    if text is None:
        return None
    try:
        values = [_number(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--at expects comma-separated numbers, got {text!r}") from None
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
    parser = argparse.ArgumentParser(prog="adc", description="Automatic differentiation by source transformation.")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("trace", help="print the SSA evaluation trace (with --at: the three trace tables)")
    t.add_argument("target", help="FILE.py:FUNCTION")
    t.add_argument("--at", help="comma-separated argument values, e.g. 2,5")
    s = sub.add_parser("source", help="print the generated derivative source")
    s.add_argument("target", help="FILE.py:FUNCTION")
    s.add_argument("--mode", choices=["reverse", "forward"], default="reverse")
    s.add_argument("--argnums", help="comma-separated argument indices (default: every argument that can be "
                                     "real; an int in --at counts as a float unless the function uses it as "
                                     "an integer)")
    s.add_argument("--at", help="example argument values the code is specialised to")
    s.add_argument("--compact", action="store_true",
                   help="print the code adc runs (unit seed and single-use values folded) instead of "
                        "the lecture layout")
    c = sub.add_parser("compare", help="time full derivatives by forward vs reverse mode on wide inputs/outputs")
    c.add_argument("target", nargs="?", help="FILE.py:FUNCTION of one array argument (default: "
                                             "sum(tanh(x) * x) + sum(x) ** 2)")
    c.add_argument("--sizes", default="1,10,100,1000,10000", help="comma-separated sizes (default 1..10^4)")
    c.add_argument("--out", default="forward_vs_reverse.png", help="where to save the log-log plot ('' for none)")
    c.add_argument("--repeat", type=int, default=3, help="timed repetitions per point (the least counts)")
    c.add_argument("--budget", type=float, default=2.0, help="seconds to spend at most per point")
    c.add_argument("--no-outputs", action="store_true", help="skip the R -> R^m (wide output) case")
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
    fn = load_function(args.target)
    at = parse_at(args.at, fn)
    if args.command == "trace":
        tr = api.trace(fn, at)
        print(tr.tables(*at) if at is not None else tr, end="")
        return 0
    argnums = parse_argnums(args.argnums)  # default: every argument that can be real (ints too)
    print(api.source(fn, args.mode, argnums, at=at, compact=args.compact), end="")
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
    print(compare.main(fn, sizes, args.out or None, args.repeat, args.budget, not args.no_outputs), end="")
    if args.out:
        print(f"plot saved to {args.out}")
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
