"""Differential fuzzing of adc from the command line.

    python tests/fuzz.py --count 1000 --seed 0 [--jit [--parallel]] [--out DIR] [--jobs 2]

Generates ``--count`` random programs (program ``i`` of seed ``S`` is the same on every machine),
checks each one (see ``fuzzgen.check``), prints a table of outcomes and of failure families, and
writes every failing program to ``--out`` (reduced, for the first ``--reduce-per-family`` programs
of each family).  ``--only I`` checks and reduces the single program ``I``; ``--small`` draws the small programs
the CI batch checks with ``jit``.  The exit status is 1
when some program is WRONG or RAW.  docs/fuzzing.md describes what is generated and checked.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

# Check the adc of this checkout, not whichever one is installed.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("ADC_CACHE_DIR", tempfile.mkdtemp(prefix="adc-fuzz-cache-"))

import fuzzgen  # noqa: E402
from fuzzgen import ADC_ERROR, KINK, OK, RAW, SLOW, UNRESOLVED, WRONG, Finding, Program, Result  # noqa: E402

_jit = _small = _containers = _recursion = False


def _check(index_seed: tuple[int, int]) -> Result:
    index, seed = index_seed
    prog = fuzzgen.generate(seed, index, small=_small, containers=_containers, recursion=_recursion)
    try:
        return fuzzgen.check(prog, jit=_jit)
    except fuzzgen.InvalidProgram as exc:  # cannot happen: generate() ran the program
        return Result(prog, [Finding(RAW, "f", "invalid program", str(exc))])


def _reduce(job: tuple[Program, Finding, int]) -> Program:
    prog, finding, budget = job
    return fuzzgen.reduce(prog, finding, budget=budget)


def main_finding(result: Result) -> Finding:
    return fuzzgen.main_finding(result)


def family_of(finding: Finding) -> str:
    return f"{finding.category}: {finding.check} [{finding.channel}]"


def report(path: Path, result: Result, reduced: Program | None, finding: Finding) -> None:
    lines = [f"# adc fuzz program {result.program.seed} ({result.outcome})",
             f"# reduced for: {finding}" if reduced else "# (not reduced)"]
    lines += [f"# finding: {f}"[:400] for f in result.findings]
    body = (reduced or result.program).text()
    if reduced:
        body += "\n\n# ---- original program ----\n" + "".join("# " + line + "\n" for line in result.program.text().splitlines())
    path.write_text("\n".join(lines) + "\n\n" + body)


def table(rows: list[tuple[str, int]], title: str, total: int | None = None) -> str:
    width = max([len(r[0]) for r in rows] + [len(title)])
    out = [f"{title:<{width}}  count"]
    out += [f"{name:<{width}}  {n:5d}" + (f"  ({100 * n / total:.1f}%)" if total else "") for name, n in rows]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    global _jit, _small, _containers, _recursion
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first program index")
    ap.add_argument("--only", type=int, help="check (and reduce) only program ONLY")
    ap.add_argument("--jit", action="store_true", help="also check jit=True (slow: Numba compiles)")
    ap.add_argument("--parallel", action="store_true", help="with --jit: check jit=\"parallel\" instead of jit=True")
    ap.add_argument("--small", action="store_true", help="small programs (the sequence the CI jit tests use)")
    ap.add_argument("--containers", action="store_true",
                    help="programs with names holding pairs (tuples of values), rebound in loops and branches")
    ap.add_argument("--recursion", action="store_true",
                    help="programs whose f calls a recursive helper (kept calls; with --jit their in-place reverse parts)")
    ap.add_argument("--out", type=Path, help="directory for the failing programs")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--reduce-per-family", type=int, default=2,
                    help="reduce this many failing programs per failure family (0: none, -1: all)")
    ap.add_argument("--budget", type=int, default=300, help="candidate programs tried per reduction")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    _jit, _small, _containers, _recursion = args.jit, args.small, args.containers, args.recursion
    if args.parallel:
        fuzzgen.JIT = "parallel"  # the pool's workers are forked after this
    indices = [args.only] if args.only is not None else list(range(args.start, args.start + args.count))
    start = time.time()
    ctx = get_context("fork")
    pool = ctx.Pool(args.jobs) if args.jobs > 1 else None
    mapper: Any = pool.imap if pool else map
    results: list[Result] = []
    for result in mapper(_check, [(i, args.seed) for i in indices]):
        results.append(result)
        if not args.quiet and result.outcome in (WRONG, RAW):
            print(f"{result.program.seed}: {result.outcome}: {main_finding(result)}"[:200], flush=True)
    checked = time.time() - start

    outcomes = Counter(r.outcome for r in results)
    print()
    print(table([(o, outcomes[o]) for o in [OK, ADC_ERROR, KINK, UNRESOLVED, SLOW, WRONG, RAW]],
                f"outcome ({len(results)} programs, seed {args.seed}{', jit' if args.jit else ''}"
                f"{' parallel' if args.jit and args.parallel else ''})", len(results)))
    fams = Counter(family_of(main_finding(r)) for r in results if r.outcome in (WRONG, RAW))
    if fams:
        print()
        print(table(fams.most_common(), "failure family (each failing program counted once)"))
    errors = Counter(f.check for r in results if r.outcome == ADC_ERROR
                     for f in {f.check: f for f in r.findings if f.category == ADC_ERROR}.values())
    if errors:
        print()
        print(table(errors.most_common(), "adc error message (programs whose outcome is adc error)"))

    failing = [r for r in results if r.outcome in (WRONG, RAW)]
    per_family: dict[str, int] = defaultdict(int)
    jobs, chosen = [], []
    for r in failing:
        fam = family_of(main_finding(r))
        if args.reduce_per_family < 0 or per_family[fam] < args.reduce_per_family or args.only is not None:
            per_family[fam] += 1
            jobs.append((r.program, main_finding(r), args.budget))
            chosen.append(r)
    reduced: dict[str, Program] = {}
    t0 = time.time()
    for r, small in zip(chosen, mapper(_reduce, jobs)):
        reduced[r.program.seed] = small
    if pool:
        pool.close()
    smallest: dict[str, Program] = {}
    for r in chosen:
        fam, small = family_of(main_finding(r)), reduced[r.program.seed]
        if fam not in smallest or len(small.source) < len(smallest[fam].source):
            smallest[fam] = small
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        for r in failing:
            name = r.program.seed.replace(":", "-")
            report(args.out / f"fuzz_{name}.py", r, reduced.get(r.program.seed), main_finding(r))
    if smallest:
        print("\nsmallest reduced program per failure family:")
        for fam, prog in sorted(smallest.items()):
            print(f"\n## {fam}  (program {prog.seed})\n{prog.text()}")
    print(f"\nchecked {len(results)} programs in {checked:.1f} s; reduced {len(chosen)} in {time.time() - t0:.1f} s"
          + (f"; wrote {len(failing)} failing programs to {args.out}" if args.out and failing else ""))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
