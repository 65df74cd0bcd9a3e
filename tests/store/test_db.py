import ast
from pathlib import Path

import pytest

from coop import names
from coop.errors import DatabaseError
from coop.store import db


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
    assert con.execute(f"SELECT count(*) FROM {names.SCHEMA_VERSION}").fetchall() == [(len(db.MIGRATIONS),)]
    con.close()


V1_PURCHASES = """CREATE TABLE purchases (
    batch_id INTEGER NOT NULL, source_row INTEGER NOT NULL, district_id TEXT NOT NULL, invoice_date DATE NOT NULL,
    period_start DATE, period_end DATE, vendor_name TEXT NOT NULL, vendor_type TEXT NOT NULL,
    description TEXT NOT NULL, product TEXT NOT NULL, product_confidence DOUBLE NOT NULL, category TEXT NOT NULL,
    unprocessed BOOLEAN NOT NULL, unprocessed_rule TEXT NOT NULL, quantity DOUBLE NOT NULL, unit TEXT NOT NULL,
    pack_size TEXT, base_quantity DOUBLE, base_unit TEXT, unit_price DECIMAL(18, 4) NOT NULL,
    extended_price DECIMAL(18, 2) NOT NULL, price_flag BOOLEAN NOT NULL DEFAULT false, origin_state TEXT,
    origin_zip TEXT, invoice_no TEXT, line_key UBIGINT NOT NULL)"""
V1_LINES = [  # two lines share an item, a third has no pack size or base unit
    (1, 2, "D1", "2024-09-03", None, None, "Sysco", "broadline_distributor", "Carrots 50#", "carrots", 0.9,
     "vegetable", True, "rule a", 2.0, "CS", "50LB", 100.0, "lb", 20.5, 41.0, False, "CO", None, "7", 11),
    (1, 3, "D1", "2024-09-04", None, None, "Sysco", "broadline_distributor", "Carrots 50#", "carrots", 0.9,
     "vegetable", True, "rule a", 1.0, "CS", "50LB", 50.0, "lb", 20.5, 20.5, False, "CO", None, "8", 12),
    (2, 2, "D2", "2024-10-01", "2024-10-01", "2024-10-31", "Farm", "producer", "Widgets", "widgets", 0.0,
     "other", False, "unknown", 3.0, "box", None, None, None, 1.0, 3.0, False, None, None, None, 13),
]  # fmt: skip


def test_a_version_1_database_is_migrated_to_lines_items_and_packs(tmp_path):
    path = tmp_path / "v1.duckdb"
    con = db.connect(path)  # then turned back into version 1: purchases a table of whole lines
    con.execute(f"DROP VIEW {names.PURCHASES}")
    con.execute(f"DELETE FROM {names.SCHEMA_VERSION} WHERE version > 1")
    con.execute(V1_PURCHASES)
    con.executemany(f"INSERT INTO purchases VALUES ({', '.join('?' * 26)})", V1_LINES)
    before = con.execute("SELECT * FROM purchases ORDER BY batch_id, source_row").fetchall()
    con.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.CURRENT_VERSION
    kinds = dict(con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall())
    assert kinds[names.PURCHASES] == "VIEW"
    assert "purchases_v1" not in kinds
    added = f"{names.ORIGIN_COUNTRY}, {names.VENDOR_TYPE_RULE}"
    kept = f"SELECT * EXCLUDE ({added}) FROM purchases ORDER BY batch_id, source_row"
    assert con.execute(kept).fetchall() == before  # the view's version-1 columns, as they were
    assert con.execute(
        f"SELECT count({names.ORIGIN_COUNTRY}), count({names.VENDOR_TYPE_RULE}) FROM purchases"
    ).fetchall() == [(0, 0)]  # added empty
    counts = [con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in (
        names.PURCHASE_LINES, names.PURCHASE_ITEMS, names.PURCHASE_PACKS)]  # fmt: skip
    assert counts == [3, 2, 2]
    con.close()


def test_a_version_2_database_gains_origin_country_and_the_exceptions_table(tmp_path):
    path = tmp_path / "v2.duckdb"
    con = db.connect(path)  # then turned back into version 2: no origin_country, no exceptions table
    old_view = db._sql(db.SCHEMA_FILE).split("CREATE VIEW IF NOT EXISTS purchases AS")[1].split(";")[0]
    old_view = old_view.replace("l.origin_country, ", "")
    con.execute(f"DROP VIEW {names.PURCHASES}")
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} DROP COLUMN {names.ORIGIN_COUNTRY}")
    con.execute(f"DROP TABLE {names.BUY_AMERICAN_EXCEPTIONS}")
    con.execute(f"CREATE VIEW {names.PURCHASES} AS {old_view}")
    con.execute(f"DELETE FROM {names.SCHEMA_VERSION} WHERE version > 2")
    con.execute("INSERT INTO purchase_items VALUES (1, 'Carrots 50#', 'carrots', 0.9, 'vegetable', true, 'rule a')")
    con.execute("INSERT INTO purchase_packs VALUES (1, 'CS', '50LB', 'lb')")
    con.execute(
        "INSERT INTO purchase_lines (batch_id, source_row, district_id, invoice_date, vendor_name, vendor_type, "
        "item_id, quantity, pack_id, unit_price, extended_price, origin_state, line_key) "
        "VALUES (1, 2, 'D1', DATE '2024-09-03', 'Sysco', 'broadline_distributor', 1, 2, 1, 20.5, 41, 'CO', 11)"
    )
    con.close()
    con = db.connect(path)
    assert db.schema_version(con) == db.CURRENT_VERSION
    rows = con.execute(f"SELECT origin_state, {names.ORIGIN_COUNTRY}, extended_price FROM purchases").fetchall()
    assert [(state, country, float(price)) for state, country, price in rows] == [("CO", None, 41.0)]
    assert con.execute(f"SELECT count(*) FROM {names.BUY_AMERICAN_EXCEPTIONS}").fetchall() == [(0,)]
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
    for path in (Path(__file__).parents[2] / "coop").rglob("*.py"):
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


V2_VIEW = """CREATE VIEW purchases AS
SELECT l.batch_id, l.source_row, l.district_id, l.invoice_date, l.period_start, l.period_end, l.vendor_name,
       l.vendor_type, i.description, i.product, i.product_confidence, i.category, i.unprocessed, i.unprocessed_rule,
       l.quantity, p.unit, p.pack_size, l.base_quantity, p.base_unit, l.unit_price, l.extended_price, l.price_flag,
       l.origin_state, l.origin_zip, l.invoice_no, l.line_key
FROM purchase_lines l JOIN purchase_items i ON i.item_id = l.item_id JOIN purchase_packs p ON p.pack_id = l.pack_id"""


def test_a_version_2_database_gets_vendor_type_rule_and_batch_registrations(tmp_path):
    from fixtures_ingest import CLEAN, seed

    from coop.ingest import ingest_file

    path = tmp_path / "v2.duckdb"
    con = db.connect(path)
    seed(con)
    (tmp_path / "clean.csv").write_text(CLEAN, encoding="utf-8")
    ingest_file(con, tmp_path / "clean.csv", district_id="D1")
    # turned back into version 2: no vendor_type_rule, no batch_registrations
    con.execute(f"DROP VIEW {names.PURCHASES}")
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} DROP COLUMN {names.VENDOR_TYPE_RULE}")
    con.execute(f"ALTER TABLE {names.PURCHASE_LINES} DROP COLUMN {names.ORIGIN_COUNTRY}")
    con.execute(f"DROP TABLE {names.BATCH_REGISTRATIONS}")
    con.execute(V2_VIEW)
    con.execute(f"DELETE FROM {names.SCHEMA_VERSION} WHERE version > 2")
    before = con.execute("SELECT * FROM purchases ORDER BY source_row").fetchall()
    con.close()
    con = db.connect(path)
    try:
        assert db.schema_version(con) == db.CURRENT_VERSION == 5
        added = f"{names.ORIGIN_COUNTRY}, {names.VENDOR_TYPE_RULE}"
        after = con.execute(f"SELECT * EXCLUDE ({added}) FROM purchases ORDER BY source_row").fetchall()
        assert after == before
        assert con.execute(f"SELECT DISTINCT {added} FROM purchases").fetchall() == [(None, None)]
        assert con.execute(f"SELECT count(*) FROM {names.BATCH_REGISTRATIONS}").fetchall() == [(0,)]
    finally:
        con.close()
