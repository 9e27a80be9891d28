"""MkDocs hook: pages in docs/ link to repository files outside it (``../examples/lecture.py``) so
that the links work on GitHub too.  The site serves each such file at its repository path and
rewrites the link to it; a link to a file that does not exist is left alone, so ``mkdocs build
--strict`` still reports it.  Outside Markdown files (``benchmarks/README.md``) become pages, and
their own links are followed the same way."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parent
LINK = re.compile(r"(\]\()([^)\s#]+)(#[^)\s]*)?(\))")
_outside: set[str] = set()  # repository paths served by the site


def _repo_path(src_uri: str) -> str:
    """The repository path of a page: docs pages live under docs/, outside files at their own path."""
    return src_uri if src_uri in _outside else f"docs/{src_uri}"


def _site_uri(repo_path: str) -> str:
    return repo_path[len("docs/"):] if repo_path.startswith("docs/") else repo_path


def _target(page_repo_path: str, link: str) -> str | None:
    """The repository path a relative link resolves to, if it is a file in the repository."""
    if "://" in link or link.startswith(("/", "mailto:")):
        return None
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page_repo_path), link))
    return path if not path.startswith("..") and (ROOT / path).is_file() else None


def _links(repo_path: str) -> list[str]:
    text = (ROOT / repo_path).read_text(encoding="utf-8")
    return [t for m in LINK.finditer(text) if (t := _target(repo_path, m.group(2)))]


def on_files(files, config):
    todo = [f"docs/{f.src_uri}" for f in files if f.src_uri.endswith(".md")]
    seen = set(todo)
    while todo:
        for target in _links(todo.pop()):
            if target in seen:
                continue
            seen.add(target)
            if not target.startswith("docs/"):
                _outside.add(target)
                files.append(File.generated(config, target, abs_src_path=str(ROOT / target)))
                if target.endswith(".md"):
                    todo.append(target)
    return files


def on_page_markdown(markdown, page, config, files):
    here = _repo_path(page.file.src_uri)

    def fix(m: re.Match) -> str:
        target = _target(here, m.group(2))
        if target is None:
            return m.group(0)
        link = posixpath.relpath(_site_uri(target), posixpath.dirname(page.file.src_uri) or ".")
        return f"{m.group(1)}{link}{m.group(3) or ''}{m.group(4)}"

    return LINK.sub(fix, markdown)
