"""Fixtures of the coop.ingest tests."""

from __future__ import annotations

import duckdb
import pytest
from fixtures_ingest import seed


@pytest.fixture
def store(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A fresh database with the seed districts and vendors."""
    seed(con)
    return con
