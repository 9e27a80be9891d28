"""The documentation site (mkdocs.yml, docs/): it builds with warnings as errors (broken links and
anchors, missing references), its API reference has every public name of ``adc`` with its
signature and an example, the examples in docstrings and the tutorial run and print what they
show, and the tutorial's command listings are what the commands print now.

One ``mkdocs build --strict`` into a temporary directory is shared by the tests (a few seconds);
a second build checks that a broken link does fail it."""
from __future__ import annotations

import doctest
import html
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import adc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import docs_listings  # noqa: E402


def build(config_dir: Path, site: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
                          cwd=config_dir, env=env, capture_output=True, text=True, timeout=300)
    return proc, time.perf_counter() - start


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    proc, seconds = build(ROOT, site)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert "WARNING" not in proc.stderr, proc.stderr
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return site


def test_the_site_builds_with_every_page(site):
    for page in ["index", "tutorial/index", "api/index", "language/index", "arrays/index", "control-flow/index",
                 "rules/index", "performance/index", "fuzzing/index", "design/index", "benchmarks/index"]:
        assert (site / f"{page}.html").is_file(), page
    # repository files the pages link to are served, at their repository path
    assert (site / "examples" / "lecture.py").read_text() == (ROOT / "examples" / "lecture.py").read_text()
    tutorial = (site / "tutorial" / "index.html").read_text()
    assert 'href="../examples/train_mlp.py"' in tutorial
    assert "gv1   gv1 + gv3 * v0  1.71634" in html.unescape(re.sub(r"<[^>]+>", "", tutorial))


def api_headings(site: Path) -> dict[str, str]:
    """The API page's object headings: anchor → heading text."""
    text = (site / "api" / "index.html").read_text()
    found = {}
    for m in re.finditer(r'<h3 id="([\w.]+)" class="doc doc-heading">(.*?)</h3>', text, re.S):
        found[m.group(1)] = " ".join(html.unescape(re.sub(r"<[^>]+>", "", m.group(2))).split())
    return found


def test_every_public_name_is_in_the_api_reference_with_its_signature(site):
    headings = api_headings(site)
    by_name = {anchor.rsplit(".", 1)[-1]: text for anchor, text in headings.items()}
    assert set(by_name) == set(adc.__all__), "docs/api.md must document exactly adc.__all__"
    for name in adc.__all__:
        obj = getattr(adc, name)
        if isinstance(obj, type):
            assert by_name[name].startswith(name), by_name[name]
        else:
            params = [p for p in __import__("inspect").signature(obj).parameters]
            assert by_name[name].startswith(f"{name}("), by_name[name]
            assert all(p in by_name[name] for p in params), (name, params, by_name[name])


def test_every_public_name_has_an_example_in_its_docstring():
    for name in adc.__all__:
        doc = getattr(adc, name).__doc__ or ""
        assert "Example:" in doc and (">>> " in doc or "```python" in doc), f"adc.{name} has no example"


@pytest.mark.parametrize("module", ["adc.api", "adc.errors", "adc.sparse"])
def test_docstring_examples_print_what_they_show(module):
    result = doctest.testmod(sys.modules[module] if module in sys.modules else __import__(module, fromlist=["_"]))
    assert result.attempted > (10 if module != "adc.sparse" else 3) and result.failed == 0


@pytest.mark.parametrize("page", ["docs/tutorial.md", "docs/index.md"])
def test_page_examples_print_what_they_show(page):
    result = doctest.testfile(str(ROOT / page), module_relative=False)
    assert result.attempted >= 2 and result.failed == 0


def test_tutorial_listings_are_real_output(adc_cache_dir):
    page = ROOT / "docs" / "tutorial.md"
    assert len(docs_listings.listings(page.read_text())) >= 10
    stale = docs_listings.refresh(page, write=False, env={"ADC_CACHE_DIR": str(adc_cache_dir)})
    assert stale == [], f"run `python tests/docs_listings.py --write docs/tutorial.md`; stale: {stale}"


def test_the_readme_says_how_to_open_the_site():
    readme = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[docs]" && mkdocs serve' in readme and "mkdocs build --strict" in readme


def test_a_broken_link_or_anchor_fails_the_build(tmp_path):
    """The same configuration on a copy of the pages with one broken link and one broken anchor."""
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("mkdocs.yml", "site_hooks.py"):
        shutil.copy(ROOT / name, copy / name)
    for name in ("adc", "examples", "benchmarks"):
        (copy / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "docs", copy / "docs")
    page = copy / "docs" / "index.md"
    page.write_text(page.read_text() + "\n[gone](../examples/no_such_file.py) and [nowhere](rules.md#no-such-heading)\n")
    proc, _ = build(copy, tmp_path / "site")
    assert proc.returncode != 0
    assert "no_such_file.py" in proc.stderr and "no-such-heading" in proc.stderr
