"""Pages import only `ui` and Streamlit and hold no SQL, Polars or solver code; `ui/` holds no SQL.

The checks read the source with `ast`, so they see what the code does, not what its comments say; the last
tests plant each kind of violation in a snippet to show the checker catches it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))
UI = sorted((ROOT / "ui").glob("*.py"))
PAGE_IMPORTS = {"ui", "streamlit"}
SQL = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT\s+(OR\s+\w+\s+)?INTO\b|\bUPDATE\b.*\bSET\b|\bDELETE\s+FROM\b", re.DOTALL
)
SQL_CALLS = {"sql", "execute"}
DATAFRAME_NAMES = {"pl", "polars"}
SOLVER_NAMES = {"cp", "cvxpy"}


def _texts(tree: ast.AST) -> list[tuple[int, str]]:
    """Every string literal with its line; an f-string's literal parts joined with '{}' where values go."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in node.values]
            found.append((node.lineno, "".join(parts)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
    return found


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every imported module's full name with its line (relative imports as '.')."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, "." if node.level else node.module or ""))
    return found


def sql_problems(source: str) -> list[str]:
    """SQL text in string literals, and `.sql(` / `.execute(` calls."""
    tree = ast.parse(source)
    out = [f"line {line}: SQL text {text[:60]!r}" for line, text in _texts(tree) if SQL.search(text)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            out.append(f"line {node.lineno}: .{node.func.attr}( call")
    return out


def page_problems(source: str) -> list[str]:
    """A page's imports other than `ui`/`streamlit`, Polars or cvxpy use, and any SQL (`sql_problems`)."""
    tree = ast.parse(source)
    out = [f"line {line}: imports {name!r}" for line, name in _imports(tree) if name.split(".")[0] not in PAGE_IMPORTS]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id in DATAFRAME_NAMES:
                out.append(f"line {node.lineno}: Polars expression {node.value.id}.{node.attr}")
            elif node.value.id in SOLVER_NAMES:
                out.append(f"line {node.lineno}: solver call {node.value.id}.{node.attr}")
    return out + sql_problems(source)


def test_there_are_pages_and_ui_modules() -> None:
    assert len(PAGES) == 9, [p.name for p in PAGES]  # the eight views and the audit log (issue 20)
    assert {"session.py", "filters.py", "feedback.py"} <= {p.name for p in UI}
    assert not (ROOT / "pages" / "_shared.py").exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_imports_only_ui_and_holds_no_sql_polars_or_solver(page: Path) -> None:
    assert page_problems(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("module", UI, ids=lambda p: p.name)
def test_ui_holds_no_sql(module: Path) -> None:
    assert sql_problems(module.read_text(encoding="utf-8")) == []


CLEAN_PAGE = """
import streamlit as st

from ui import filters
from ui import overview as ov

start, end, chosen = filters.setup("Title", "Select the districts in the sidebar; figures come from the library.")
st.caption(f"Updated {start} from {end}")
"""


def test_the_checker_passes_a_clean_page() -> None:
    assert page_problems(CLEAN_PAGE) == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        ("from coop import names\n", "imports 'coop'"),
        ("import polars as pl\n", "imports 'polars'"),
        ("from pages import _shared\n", "imports 'pages'"),
        ("from . import other\n", "imports '.'"),
        ("x = pl.col('spend').sum()\n", "Polars expression pl.col"),
        ("x = cp.Variable(4)\n", "solver call cp.Variable"),
        ("Q = 'SELECT district_id FROM purchases'\n", "SQL text"),
        ("Q = f'SELECT {a} FROM {b} WHERE x = ?'\n", "SQL text"),
        ("Q = f'INSERT OR REPLACE INTO {t} VALUES (?, ?)'\n", "SQL text"),
        ("Q = 'UPDATE settings SET value = ?'\n", "SQL text"),
        ("Q = 'DELETE FROM batches'\n", "SQL text"),
        ("rows = con.sql(q).pl()\n", ".sql( call"),
        ("con.execute(q, [1])\n", ".execute( call"),
    ],
)
def test_the_checker_catches_a_planted_violation(planted: str, expected: str) -> None:
    found = page_problems(CLEAN_PAGE + planted)
    assert any(expected in problem for problem in found), found


def test_ui_may_use_polars_but_not_sql() -> None:
    assert sql_problems("import polars as pl\nframe = pl.DataFrame({'a': [1]})\n") == []
    assert sql_problems("q = f'SELECT * FROM {table}'\n")
