"""The listings of the documentation pages that are command output: each is a fenced block right
after a marker ``<!-- output of: COMMAND -->``, where COMMAND is an ``adc ...`` or ``python ...``
command run from the repository root.  ``tests/test_docs_site.py`` checks that every such block is
what the command prints now; this script rewrites them:

    python tests/docs_listings.py docs/tutorial.md          # check
    python tests/docs_listings.py --write docs/tutorial.md  # regenerate

Wall-clock times in the output, ``(0.60 s)``, are written as ``(… s)`` so that a listing does not
change from run to run.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- output of: (?P<command>.+?) -->\n(?P<fence>```[a-z]*\n)(?P<body>.*?)```\n", re.S)
TIME = re.compile(r"\(\d+(\.\d+)? s\)")


@dataclass
class Listing:
    command: str
    shown: str  # the block's text in the page
    start: int  # where the block's text starts and ends in the page
    end: int


def listings(text: str) -> list[Listing]:
    return [Listing(m.group("command"), m.group("body"), m.start("body"), m.end("body")) for m in MARKER.finditer(text)]


def run(command: str, env: dict[str, str] | None = None) -> str:
    """What ``command`` prints (stdout; a failure or anything on stderr is an error)."""
    argv = shlex.split(command)
    if argv[0] == "adc":
        argv = [sys.executable, "-m", "adc", *argv[1:]]
    elif argv[0] == "python":
        argv = [sys.executable, *argv[1:]]
    else:
        raise ValueError(f"a listing's command must start with adc or python: {command!r}")
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or proc.stderr:
        raise RuntimeError(f"{command!r} failed (exit code {proc.returncode}):\n{proc.stderr}")
    return TIME.sub("(… s)", proc.stdout)


def refresh(path: Path, write: bool, env: dict[str, str] | None = None) -> list[str]:
    """The commands whose listing in ``path`` differs from their output (rewritten if ``write``)."""
    text = path.read_text(encoding="utf-8")
    stale, pieces, last = [], [], 0
    for listing in listings(text):
        out = run(listing.command, env)
        if out != listing.shown:
            stale.append(listing.command)
        pieces += [text[last:listing.start], out]
        last = listing.end
    if write and stale:
        path.write_text("".join(pieces) + text[last:], encoding="utf-8")
    return stale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", type=Path)
    parser.add_argument("--write", action="store_true", help="rewrite the listings that differ")
    args = parser.parse_args()
    status = 0
    for page in args.pages:
        for command in refresh(page, args.write):
            print(f"{page}: {'rewrote' if args.write else 'differs'}: {command}")
            status = 0 if args.write else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
