"""The package's layout: wings import only downward, no import cycles, no Streamlit under coop/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COOP = ROOT / "coop"
# lowest first: a module may import its own wing and any wing below it
WINGS = ("store", "registry", "products", "ingest", "metrics", "optimize", "rules", "report")
FOUNDATION = ("names", "errors", "calendar", "parsing")  # importable by every module, importing only each other
APPLICATIONS = ("cli", "sample", "bench", "__main__")  # on top: may import anything in coop


def module_name(path: Path) -> str:
    """`coop/ingest/pipeline.py` -> `coop.ingest.pipeline`; a package's `__init__.py` -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, known: set[str]) -> set[str]:
    """The coop modules a file imports anywhere in it (module level and inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in known else node.module)
    return found


def graph(root: Path = COOP) -> dict[str, set[str]]:
    """Module -> the coop modules it imports (packages' `__init__` included as the package)."""
    files = {module_name(p): p for p in root.rglob("*.py")}
    known = set(files)
    return {name: {m for m in imports(path, known) if m in known and m != name} for name, path in files.items()}


def rank(module: str) -> int:
    """Where a module stands: foundation 0, the wings 1..8 in order, the applications on top."""
    parts = module.split(".")
    if len(parts) == 1:
        return 0  # the coop package itself
    if parts[1] in FOUNDATION:
        return 0
    if parts[1] in WINGS:
        return 1 + WINGS.index(parts[1])
    if parts[1] in APPLICATIONS:
        return len(WINGS) + 1
    raise AssertionError(f"{module}: not in a wing, the foundation or the applications; say where it belongs")


def upward(edges: dict[str, set[str]]) -> list[str]:
    """Every import of a module standing above the importer."""
    return sorted(f"{a} -> {b}" for a, targets in edges.items() for b in targets if rank(b) > rank(a))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles (strongly connected groups of two or more modules, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_place():
    for module in graph():
        rank(module)


def test_no_wing_imports_a_wing_above_it():
    assert upward(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_no_streamlit_under_coop():
    offenders = [
        str(path.relative_to(ROOT))
        for path in COOP.rglob("*.py")
        if any(m.split(".")[0] == "streamlit" for m in imports(path, set()))
    ]
    assert offenders == []


def test_the_checks_catch_what_they_look_for(tmp_path):
    pkg = tmp_path / "coop"
    for rel, text in {
        "__init__.py": "",
        "names.py": "",
        "store/__init__.py": "",
        "store/db.py": "from coop.store import summary\nfrom coop.report import build\n",
        "store/summary.py": "def f():\n    from coop.store import db\n",
        "report/__init__.py": "",
        "report/build.py": "import streamlit as st\nfrom coop import names\n",
    }.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        edges = graph(pkg)
        assert upward(edges) == ["coop.store.db -> coop.report.build"]
        assert cycles(edges) == [["coop.store.db", "coop.store.summary"]]
        assert "streamlit" in imports(pkg / "report" / "build.py", set())
        with pytest.raises(AssertionError, match="not in a wing"):
            rank("coop.misc")
    finally:
        ROOT = saved
