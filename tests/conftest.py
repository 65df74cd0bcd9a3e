"""Shared fixtures: a fresh DuckDB file per test, paths to the shared real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from coop.store import db

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


@pytest.fixture(scope="session")
def sample_db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the bundled sample co-op, built once per test session; tests must not write to it."""
    from coop import sample

    path = tmp_path_factory.mktemp("sample") / "coop.duckdb"
    connection = db.connect(path)
    try:
        sample.load(connection)
    finally:
        connection.close()
    return path


@pytest.fixture
def sample_copy(sample_db_file: Path, tmp_path: Path) -> Path:
    """A private copy of the sample co-op database that a test may change."""
    import shutil

    path = tmp_path / "sample.duckdb"
    shutil.copy(sample_db_file, path)
    return path
