"""Random scalar control-flow programs, checked against the function and finite differences.

The family of issue 9's "leaving SSA" bugs: loops (``for`` over ``range``, ``while`` with a counter
and a data-dependent condition) with ``break``, ``continue`` and ``return``; branches and ``elif``
inside loops; early returns; tuple assignments and rotations of two to four carried values;
augmented assignments; conditional expressions; ``and``/``or``/``not`` in conditions.  Every
program is checked: the value of ``value_and_grad`` equals the function's own value, reverse ==
forward (== jit, for every ``jit_every``-th program) == both printed layouts, and the gradient
matches central finite differences where it is smooth (two step sizes agree; otherwise a kink,
and only the agreement of the modes is checked; a disagreement is re-checked at a perturbed point).
An adc error is a refusal and is counted, anything else raised is a bug.

    python tests/cflow_fuzz.py --seeds 0 100        # 100 modules of 20 programs each
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
if __name__ == "__main__":  # check the adc of this checkout, not whichever one is installed
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fd import fd_grad  # noqa: E402  (after the path set-up above)

CONSTS = ["0.5", "0.25", "1.5", "2.0", "0.1", "0.75", "-0.3"]


class Generator:
    """One random function over the parameters ``a``, ``b``, ... (deterministic from ``rng``)."""

    def __init__(self, rng: random.Random, nparams: int) -> None:
        self.rng = rng
        self.params = ["a", "b", "c", "d"][:nparams]
        self.loops = 0
        self.index: list[str] = []

    def read(self, live: list[str]) -> str:
        if self.index and self.rng.random() < 0.1:
            return f"({self.rng.choice(self.index)} * 0.1)"
        return self.rng.choice(live)

    def expr(self, live: list[str], depth: int = 0) -> str:
        if depth > 1 or self.rng.random() < 0.3:
            return self.read(live) if self.rng.random() < 0.8 else self.rng.choice(CONSTS)
        x, y = (self.wrap(self.expr(live, depth + 1)) for _ in range(2))
        k = self.rng.randrange(9)
        return [f"{x} + {y}", f"{x} - {y}", f"{x} * {y}", f"{self.rng.choice(CONSTS)} * {x}", f"math.sin({x})",
                f"math.cos({x}) * {y}", f"{x} / (1.0 + {y} * {y})", f"math.tanh({x} + {y})",
                f"{x} if {self.test(live)} else {y}"][k]

    @staticmethod
    def wrap(e: str) -> str:
        return e if e.isidentifier() or e.startswith("(") and e.endswith(")") else f"({e})"

    def test(self, live: list[str]) -> str:
        x = self.read(live)
        if self.rng.random() < 0.5:
            return f"{x} {self.rng.choice(['<', '>', '<=', '>='])} {self.rng.choice(['0.0', '0.5', '1.0', '-0.5', '2.0'])}"
        return f"{x} {self.rng.choice(['<', '>'])} {self.read(live)}"

    def cond(self, live: list[str]) -> str:
        r = self.rng.random()
        if r < 0.15:
            return f"{self.test(live)} {self.rng.choice(['and', 'or'])} {self.test(live)}"
        return f"not {self.test(live)}" if r < 0.2 else self.test(live)

    def block(self, ind: str, live: list[str], depth: int, in_loop: bool, size: int) -> list[str]:
        out: list[str] = []
        live = list(live)
        for _ in range(size):
            r = self.rng.random()
            if r < 0.3:
                t = self.rng.choice(live + (["t", "u"] if self.rng.random() < 0.3 else []))
                out.append(f"{ind}{t} = {self.expr(live)}")
                if t not in live:
                    live.append(t)
            elif r < 0.36:
                t = self.rng.choice(live)
                op = self.rng.choice(["+=", "-=", "*="])
                value = self.expr(live) if op != "*=" else self.rng.choice(["0.5", "1.1", "-0.9", f"math.cos({self.read(live)})"])
                out.append(f"{ind}{t} {op} {value}")
            elif r < 0.5 and len(live) >= 2:
                k = self.rng.randint(2, min(4, len(live)))
                targets = self.rng.sample(live, k)
                if self.rng.random() < 0.5:  # a rotation or permutation, some values changed
                    vals = targets[1:] + targets[:1] if self.rng.random() < 0.5 else self.rng.sample(targets, k)
                    vals = [v if self.rng.random() < 0.6 else self.expr(live) for v in vals]
                else:
                    vals = [self.expr(live) for _ in targets]
                out.append(f"{ind}{', '.join(targets)} = {', '.join(vals)}")
            elif r < 0.65 and depth < 3:
                out.append(f"{ind}if {self.cond(live)}:")
                out += self.block(ind + "    ", live, depth + 1, in_loop, self.rng.randint(1, 3))
                while self.rng.random() < 0.3:
                    out.append(f"{ind}elif {self.cond(live)}:")
                    out += self.block(ind + "    ", live, depth + 1, in_loop, self.rng.randint(1, 3))
                if self.rng.random() < 0.5:
                    out.append(f"{ind}else:")
                    out += self.block(ind + "    ", live, depth + 1, in_loop, self.rng.randint(1, 3))
            elif r < 0.75 and in_loop:
                kind = self.rng.choice(["break", "continue", "return"])
                out.append(f"{ind}if {self.cond(live)}:")
                if self.rng.random() < 0.5:
                    out.append(f"{ind}    {self.rng.choice(live)} = {self.expr(live)}")
                out.append(f"{ind}    {'return ' + self.expr(live) if kind == 'return' else kind}")
            elif r < 0.8 and not in_loop:
                out.append(f"{ind}if {self.cond(live)}:")
                out.append(f"{ind}    return {self.expr(live)}")
            elif depth < 3 and self.loops < 3:
                self.loops += 1
                n = self.rng.randint(1, 4)
                if self.rng.random() < 0.65:
                    iv = f"i{self.loops}"
                    out.append(f"{ind}for {iv} in range({self.rng.choice([str(n), str(n), '0', f'1, {n + 1}'])}):")
                    self.index.append(iv)
                    out += self.block(ind + "    ", live, depth + 1, True, self.rng.randint(1, 4))
                    self.index.pop()
                else:
                    jv = f"j{self.loops}"
                    extra = f" and {self.test(live)}" if self.rng.random() < 0.4 else ""
                    out += [f"{ind}{jv} = 0", f"{ind}while {jv} < {n}{extra}:", f"{ind}    {jv} += 1"]
                    out += self.block(ind + "    ", live, depth + 1, True, self.rng.randint(1, 4))
            else:
                out.append(f"{ind}{self.rng.choice(live)} = {self.expr(live)}")
        return out

    def function(self, name: str) -> str:
        body = self.block("    ", self.params, 0, False, self.rng.randint(2, 5))
        body.append(f"    return {self.expr(self.params)}")
        return f"def {name}({', '.join(self.params)}):\n" + "\n".join(body) + "\n"


def module(seed: int, count: int) -> tuple[str, list[tuple[str, str, list[float]]]]:
    """The source of a module of ``count`` functions, and (name, source, arguments) of each."""
    rng = random.Random(seed)
    funcs = []
    for k in range(count):
        gen = Generator(rng, rng.randint(2, 4))
        text = gen.function(f"f{k}")
        funcs.append((f"f{k}", text, [round(rng.uniform(-1.5, 1.5), 3) for _ in gen.params]))
    return "import math\n\n\n" + "\n\n".join(text for _, text, _ in funcs), funcs


def _close(got, want, rtol, atol) -> bool:
    return len(got) == len(want) and all(math.isfinite(g) and abs(g - w) <= atol + rtol * abs(w) for g, w in zip(got, want))


def _flat(v) -> list[float]:
    return [float(z) for z in v] if isinstance(v, (tuple, list)) else [float(v)]


def check(fn, args: list[float], jit: bool) -> tuple[str, list[str]]:
    """``("ok" | "skip" | "refused" | "bug", messages)`` for one program at ``args``."""
    import adc
    from layouts import run_source

    try:
        want = fn(*args)
    except Exception:
        return "skip", []
    if not isinstance(want, float) or not math.isfinite(want) or abs(want) > 1e6:
        return "skip", []
    fd1, fd2 = fd_grad(fn, args, 1e-6), fd_grad(fn, args, 1e-5)
    smooth = _close(fd1, fd2, 1e-4, 1e-5) and all(abs(g) < 1e6 for g in fd1)
    nums = tuple(range(len(args)))
    results = {}
    try:
        for mode in ("reverse", "forward"):
            for j in (False, True) if jit else (False,):
                value, grads = adc.value_and_grad(fn, argnums=nums, mode=mode, jit=j)(*args)
                results[(mode, j)] = (value, _flat(grads))
        for compact in (True, False):
            results[("source reverse", compact)] = (None, _flat(run_source(fn, args, nums, "reverse", compact)))
            value, tangent = run_source(fn, args, nums, "forward", compact)
            results[("source forward", compact)] = (value, [tangent])
    except adc.AdcError as e:
        first = str(e).splitlines()[0]
        return ("bug" if "internal" in first else "refused"), [first]
    except Exception as e:  # a raw exception from adc or its generated code
        return "bug", [f"raw {type(e).__name__}: {e}"]
    problems = []
    ref = results[("reverse", False)][1]
    for key, (value, grads) in results.items():
        if value is not None and not _close([value], [want], 1e-9, 1e-12):
            problems.append(f"value {key}: {value}, the function gives {want}")
        expect = [0.5 * sum(ref)] if key[0] == "source forward" else ref  # tangents of 0.5 everywhere
        if not _close(grads, expect, 1e-7, 1e-9):
            problems.append(f"{key}: {grads}, reverse mode gives {ref}")
    if smooth and not _close(ref, fd1, 1e-4, 1e-5):
        moved = [a + random.Random(1).uniform(-1e-3, 1e-3) for a in args]
        fd3, fd4 = fd_grad(fn, moved, 1e-6), fd_grad(fn, moved, 1e-5)
        again = _flat(adc.value_and_grad(fn, argnums=nums)(*moved)[1])
        if _close(fd3, fd4, 1e-4, 1e-5) and not _close(again, fd3, 1e-4, 1e-5):
            problems.append(f"gradient {ref}, finite differences give {fd1}")
    return ("bug" if problems else "ok"), problems


def run_module(seed: int, count: int, directory: Path, jit_every: int = 0) -> list[tuple[str, str, list, str, list]]:
    """Generate, load and check one module: (name, source, args, status, messages) per program."""
    text, funcs = module(seed, count)
    path = directory / f"cflow_fuzz_{seed}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = []
    for k, (name, source, args) in enumerate(funcs):
        status, messages = check(getattr(mod, name), args, jit=bool(jit_every) and k % jit_every == 0)
        out.append((name, source, args, status, messages))
    return out


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=(0, 10), metavar=("FIRST", "COUNT"))
    parser.add_argument("--per-module", type=int, default=20)
    parser.add_argument("--jit-every", type=int, default=0, help="also check jit=True for every N-th program")
    opts = parser.parse_args()
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(opts.seeds[0], opts.seeds[0] + opts.seeds[1]):
            for name, source, args, status, messages in run_module(seed, opts.per_module, Path(tmp), opts.jit_every):
                counts[status] = counts.get(status, 0) + 1
                if status == "bug":
                    print(f"=== seed {seed} {name} at {args}")
                    print("\n".join("    " + m for m in messages[:4]))
                    print(source)
                elif status == "refused":
                    counts["refused: " + messages[0][:100]] = counts.get("refused: " + messages[0][:100], 0) + 1
    for key, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        print(f"{n:7d} {key}")


if __name__ == "__main__":
    main()
