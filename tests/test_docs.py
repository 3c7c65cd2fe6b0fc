"""Docs that cannot rot (issue 18): every Python block in README.md and docs/*.md runs, links resolve.

A block runs in order with the blocks before it on its page (one namespace), in a temporary
directory holding a copy of ``exported/``, so a block that exports writes nothing here. An
HTML comment on the line before a block changes that:

- ``<!-- docs-test: NAME = value; OTHER = value -->`` runs it with those assignments replaced
  (each must be a ``NAME = ...`` line of the block): the page shows the real recipe, the test
  runs it at a small size;
- ``<!-- not run: reason -->`` skips it (the reason is required).
"""

import glob
import os
import re
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
_MARK = re.compile(r"^<!--\s*(docs-test|not run):(.*)-->\s*$")


def _read(page):
    with open(os.path.join(ROOT, page), encoding="utf-8") as fh:
        return fh.read()


def python_blocks(page):
    """``(line, code, directive, argument)`` of each python block of ``page`` (1-based line of
    its fence; the directive of the comment on the line before, or None)."""
    lines, out, i = _read(page).split("\n"), [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang, start = lines[i][3:].strip(), i
            i += 1
            while not lines[i].startswith("```"):
                i += 1
            if lang == "python":
                mark = _MARK.match(lines[start - 1]) if start else None
                out.append((start + 1, "\n".join(lines[start + 1:i]),
                            mark.group(1) if mark else None, mark.group(2).strip() if mark else None))
        i += 1
    return out


def _with_sizes(code, assignments, where):
    for assignment in filter(None, (a.strip() for a in assignments.split(";"))):
        name, value = (part.strip() for part in assignment.split("=", 1))
        pattern = re.compile(rf"^{re.escape(name)}\s*=.*$", re.M)
        assert pattern.search(code), f"{where}: docs-test sets {name}, which the block does not assign"
        code = pattern.sub(lambda _: f"{name} = {value}", code, count=1)
    return code


def _slug(heading):
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)])
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    blocks = python_blocks(page)
    if any("exported/" in code for _, code, _, _ in blocks):
        shutil.copytree(os.path.join(ROOT, "exported"), tmp_path / "exported")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    ran = 0
    for line, code, directive, argument in blocks:
        where = f"{page}:{line}"
        if directive == "not run":
            assert argument, f"{where}: 'not run' needs a reason"
            continue
        if directive == "docs-test":
            code = _with_sizes(code, argument, where)
        exec(compile(code, where, "exec"), namespace)
        ran += 1
    assert ran, f"{page}: every block is marked not run"


@pytest.mark.parametrize("page", PAGES + ["CHANGELOG.md"])
def test_links_and_images_resolve(page):
    text = _read(page)
    base = os.path.dirname(os.path.join(ROOT, page))
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(base, path)) if path else os.path.join(ROOT, page)
        assert os.path.exists(full), f"{page}: link to missing {target}"
        if anchor and full.endswith(".md"):
            headings = re.findall(r"^#+ (.*)$", _read(os.path.relpath(full, ROOT)), re.M)
            assert anchor in {_slug(h) for h in headings}, f"{page}: no heading for #{anchor} in {path or page}"


def test_front_page_is_short_and_starts_with_the_two_commands():
    lines = _read("README.md").split("\n")
    assert len(lines) <= 200
    assert lines[2] == "```bash" and lines[3] == "# run the main job" and lines[5] == "# run the tests"
    assert lines[6].endswith('pip install -e ".[test]" && python -m pytest')
    for page in PAGES[1:]:  # every page is reachable from the front page
        assert f"({page})" in "\n".join(lines), f"README.md does not link {page}"


def test_docs_markers_are_well_formed():
    for page in PAGES:
        for number, line in enumerate(_read(page).split("\n"), 1):
            if line.startswith("<!--") and ("docs-test" in line or "not run" in line):
                assert _MARK.match(line), f"{page}:{number}: malformed marker {line!r}"
