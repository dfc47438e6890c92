"""The layers of the code base, checked from the source: who may import whom.

``config`` at the bottom imports nothing of ours; ``indexer`` imports ``config``; ``crawler``
imports ``indexer`` and ``config``; the portal imports ``indexer`` and ``config`` only (never
the crawler, never the command line); ``emplettes`` (the command line and the scheduler,
which orchestrates crawling *and* indexing) sits on top. Imports inside functions count as
much as those at the top of a module: a late import hides a dependency, it does not remove
it. The portal's modules import each other without a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Package -> the packages of ours it may import (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "config": frozenset(),
    "indexer": frozenset({"config"}),
    "crawler": frozenset({"config", "indexer"}),
    "portal": frozenset({"config", "indexer"}),
    "emplettes": frozenset({"config", "indexer", "crawler", "portal", "samples"}),
}
OURS = frozenset(ALLOWED) | {"samples"}
ACYCLIC = ("portal",)  # packages whose modules must not import each other in a circle


def module_files(root: Path, package: str) -> Iterator[tuple[str, Path]]:
    """``(dotted module name, file)`` for every ``.py`` file of ``package`` under ``root``."""
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imported_names(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """``(line, dotted name)`` of every import anywhere in the file (functions, ``if``
    blocks and ``try`` included). ``from a import b`` gives ``a.b``, since ``b`` may be a
    module (the caller keeps the longest prefix that is one); relative imports are made absolute."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module.split(".")
                if not is_package:
                    anchor = anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            for alias in node.names:
                yield node.lineno, base if alias.name == "*" else f"{base}.{alias.name}"


def forbidden_imports(root: Path, allowed: Mapping[str, frozenset[str]] = ALLOWED, ours=OURS) -> list[str]:
    """``"portal/api.py:12: portal imports crawler.run"`` for each import across a layer rule."""
    problems = []
    for package, may_import in allowed.items():
        for module, path in module_files(root, package):
            for line, name in imported_names(module, path):
                top = name.split(".")[0]
                if top in ours and top != package and top not in may_import:
                    problems.append(f"{path.relative_to(root)}:{line}: {package} imports {name}")
    return sorted(set(problems))


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    files = dict(module_files(root, package))
    graph: dict[str, set[str]] = {module: set() for module in files}
    for module, path in files.items():
        for _, name in imported_names(module, path):
            # The longest prefix that is a module of ours: ``from portal import api`` is portal.api.
            parts = name.split(".")
            while parts and ".".join(parts) not in files:
                parts.pop()
            target = ".".join(parts)
            if target and target != module:
                graph[module].add(target)
    return graph


def import_cycles(root: Path, package: str) -> list[list[str]]:
    """Groups of modules of ``package`` that import each other in a circle (Tarjan's
    strongly connected components of more than one module), each sorted."""
    graph = import_graph(root, package)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


# ------------------------------------------------------------------------ the code base


def test_every_import_respects_the_layers():
    assert all((ROOT / package).is_dir() for package in ALLOWED)
    assert forbidden_imports(ROOT) == []


def test_the_portal_modules_import_each_other_without_a_cycle():
    for package in ACYCLIC:
        assert len(import_graph(ROOT, package)) > 10
        assert import_cycles(ROOT, package) == [], package


def test_the_configuration_is_not_in_the_command_line_package():
    assert not (ROOT / "emplettes" / "config.py").exists()
    assert not (ROOT / "crawler" / "scheduler.py").exists()
    assert (ROOT / "emplettes" / "scheduler.py").exists()


# --------------------------------------------------------------------- the checker itself


def _tree(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in ALLOWED:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


def test_the_checker_finds_a_forbidden_import_at_the_top_or_inside_a_function(tmp_path):
    root = _tree(
        tmp_path,
        {
            "config/settings.py": "import os\n",
            "indexer/load.py": "from config import settings\nfrom indexer import records\n",
            "indexer/records.py": "def late():\n    from portal.api import bp\n    return bp\n",
            "crawler/run.py": "import indexer.load\nfrom config.settings import X\n",
            "portal/api.py": "from . import search\nfrom indexer.load import load\n",
            "portal/search.py": "import json\n\ndef run():\n    from ..crawler import run\n",
            "portal/go.py": "if True:\n    import emplettes.cli\n",
            "emplettes/cli.py": "import crawler.run, portal.api, indexer.load, config, samples\n",
        },
    )
    assert forbidden_imports(root) == [
        "indexer/records.py:2: indexer imports portal.api.bp",
        "portal/go.py:2: portal imports emplettes.cli",
        "portal/search.py:4: portal imports crawler.run",
    ]


def test_the_checker_finds_a_cycle_even_one_closed_by_a_late_import(tmp_path):
    root = _tree(
        tmp_path,
        {
            "portal/__init__.py": "from portal import api, shops\n",
            "portal/api.py": "from portal.shops import shop_json\nfrom portal.query import LIMIT\n",
            "portal/shops.py": "from portal import discovery\n",
            "portal/discovery.py": "def openapi():\n    from .api import LIMIT\n",
            "portal/query.py": "LIMIT = 50\n",
            "portal/wsgi.py": "from portal import create_app\n",
        },
    )
    assert import_cycles(root, "portal") == [["portal.api", "portal.discovery", "portal.shops"]]
    assert import_graph(root, "portal")["portal.wsgi"] == {"portal"}  # create_app is in portal/__init__.py
    assert import_graph(root, "portal")["portal"] == {"portal.api", "portal.shops"}

    (root / "portal/discovery.py").write_text("from portal.query import LIMIT\n", encoding="utf-8")
    assert import_cycles(root, "portal") == []
