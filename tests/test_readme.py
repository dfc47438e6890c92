"""The documentation a user reads stays true: the README is short and keeps its quickstart and
command table, docs/configuration.md documents every setting with its default (and no other),
and the links between the README and docs/ resolve, anchors included."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from config import SETTINGS
from emplettes.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
DOCUMENTS = [README, ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]

README_MAX_LINES = 200
# A settings row: | `NAME` | default | meaning |
SETTING_ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")


def _documented_settings() -> dict[str, str]:
    """Setting name -> its default cell, from the tables of docs/configuration.md."""
    rows = SETTING_ROW.findall(CONFIGURATION.read_text(encoding="utf-8"))
    names = [name for name, _ in rows]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"settings documented twice in docs/configuration.md: {duplicates}"
    return dict(rows)


def _default_cell(default: str) -> str:
    """How a default is written in the table: `value`, or "unset" for the empty string."""
    return f"`{default}`" if default else "unset"


def test_every_setting_is_documented_with_its_default():
    documented = _documented_settings()
    missing = [name for name in SETTINGS if name not in documented]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
    wrong = {
        name: (documented[name], _default_cell(default))
        for name, (default, _) in SETTINGS.items()
        if documented[name] != _default_cell(default)
    }
    assert not wrong, f"defaults in docs/configuration.md that differ from SETTINGS (written, expected): {wrong}"


def test_no_stale_setting_is_documented():
    stale = [name for name in _documented_settings() if name not in SETTINGS]
    assert not stale, f"docs/configuration.md documents settings that do not exist: {stale}"


def test_every_command_is_in_the_command_table():
    text = README.read_text(encoding="utf-8")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in subparsers.choices if f"| `emplettes {name}" not in text]
    assert not missing, f"commands missing from README's command table: {missing}"


def test_readme_is_short_and_keeps_its_quickstart():
    text = README.read_text(encoding="utf-8")
    lines = text.count("\n") + (not text.endswith("\n"))
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; reference belongs in docs/"
    for command in ("make demo", "make test"):
        assert command in text, f"README.md lost its quickstart command {command!r}"


def _outside_code(text: str) -> list[str]:
    """The lines of a Markdown text that are not inside fenced code blocks."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    anchors: set[str] = set()
    for line in _outside_code(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        slug, n = _slug(match.group(2)), 1
        unique = slug
        while unique in anchors:  # GitHub numbers repeated headings: slug, slug-1, slug-2
            unique, n = f"{slug}-{n}", n + 1
        anchors.add(unique)
    return anchors


def _links(path: Path) -> list[str]:
    targets = []
    for line in _outside_code(path.read_text(encoding="utf-8")):
        line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        targets += LINK.findall(line)
    return targets


def test_slug_follows_github():
    assert _slug("What `DATA_DIR` holds") == "what-data_dir-holds"
    assert _slug("Sources: the registry and source kinds") == "sources-the-registry-and-source-kinds"
    assert _slug("Search: analysis, matching and ranking") == "search-analysis-matching-and-ranking"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_anchors_resolve(path):
    assert path.exists(), f"{path.relative_to(ROOT)} is missing"
    broken = []
    for target in _links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.relative_to(ROOT)}")
    assert not broken, f"broken links in {path.relative_to(ROOT)}: {broken}"


def test_readme_links_into_every_docs_page():
    text = README.read_text(encoding="utf-8")
    pages = sorted(p.name for p in (ROOT / "docs").glob("*.md"))
    unlinked = [name for name in pages if f"(docs/{name})" not in text]
    assert not unlinked, f"docs pages the README does not link to: {unlinked}"
