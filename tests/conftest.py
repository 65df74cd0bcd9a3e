"""Shared fixtures: a fresh DuckDB file per test, paths to the shared real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from coop import db

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REAL = ROOT.parent / "shared" / "data" / "real"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a new, migrated database file in tmp_path."""
    path = tmp_path / "coop.duckdb"
    db.connect(path).close()
    return path


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to a fresh database."""
    connection = db.connect(db_path)
    yield connection
    connection.close()
