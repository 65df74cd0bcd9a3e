import ast
from pathlib import Path

import pytest

from coop import db, names
from coop.errors import DatabaseError


def test_new_database_is_migrated(tmp_path):
    path = tmp_path / "x.duckdb"
    con = db.connect(path)
    assert db.schema_version(con) == db.CURRENT_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    for t in (names.DISTRICTS, names.VENDORS, names.PURCHASES, names.MEAL_COUNTS, names.BATCHES, names.REJECTS):
        assert t in tables
    con.close()
    # opening again does not re-apply the migration
    con = db.connect(path)
    assert con.execute(f"SELECT count(*) FROM {names.SCHEMA_VERSION}").fetchall() == [(1,)]
    con.close()


def test_resolve_path_prefers_argument_then_env(monkeypatch, tmp_path):
    monkeypatch.setenv(db.ENV_VAR, str(tmp_path / "env.duckdb"))
    assert db.resolve_path() == tmp_path / "env.duckdb"
    assert db.resolve_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    monkeypatch.delenv(db.ENV_VAR)
    assert db.resolve_path() == db.DEFAULT_DB


def test_read_only_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatabaseError, match="does not exist"):
        db.connect(tmp_path / "missing.duckdb", read_only=True)


def test_coop_package_never_imports_streamlit():
    for path in (Path(__file__).parents[1] / "coop").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            assert not any(m.split(".")[0] == "streamlit" for m in mods), f"{path} imports streamlit"


def test_transaction_commits_or_rolls_back_and_reraises(con):
    insert = f"INSERT INTO {names.SETTINGS} VALUES (?, ?)"
    with db.transaction(con):
        con.execute(insert, ["kept", "1"])
    with pytest.raises(KeyboardInterrupt), db.transaction(con):
        con.execute(insert, ["dropped", "2"])
        raise KeyboardInterrupt
    assert con.execute(f"SELECT {names.SETTING_KEY} FROM {names.SETTINGS}").fetchall() == [("kept",)]
    # the connection is usable again: no transaction was left open
    with db.transaction(con):
        con.execute(insert, ["again", "3"])


def test_upsert_frame_unregisters_its_view_even_when_the_sql_fails(con):
    import duckdb
    import polars as pl

    frame = pl.DataFrame({"k": ["a"], "v": ["1"]})
    with pytest.raises(duckdb.Error):
        db.upsert_frame(con, frame, "incoming_x", "INSERT INTO no_such_table SELECT * FROM incoming_x")
    with pytest.raises(duckdb.Error, match="incoming_x"):
        con.execute("SELECT * FROM incoming_x")
    sql = f"INSERT INTO {names.SETTINGS} SELECT k, v FROM incoming_x"
    assert db.upsert_frame(con, frame, "incoming_x", sql) == 1
