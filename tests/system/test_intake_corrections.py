"""A correction made on the Intake page's review list re-classifies the stored lines; undo restores them."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coop import names
from coop.ingest import ingest_file
from coop.store import db

ROOT = Path(__file__).resolve().parents[2]
LINES = (
    "district_id,invoice_date,vendor_name,vendor_type,product,quantity,unit,pack_size,unit_price,extended_price\n"
    "D1,2024-09-03,Acme,broadline_distributor,XQZ FROBNITZ BLEND,2,CS,4/5LB,20.00,40.00\n"
    "D1,2024-09-05,Acme,broadline_distributor,APPLES GALA 138CT,3,CS,40LB,41.10,123.30\n"
)


def _category_of(path: Path, text: str) -> tuple[str, bool, str]:
    con = db.connect(path)  # the app holds the file open in this process: same configuration
    try:
        ((category, unprocessed, rule),) = con.execute(
            f"SELECT DISTINCT {names.CATEGORY}, {names.UNPROCESSED}, {names.UNPROCESSED_RULE} FROM {names.PURCHASES} "
            f"WHERE {names.DESCRIPTION} = ?",
            [text],
        ).fetchall()
    finally:
        con.close()
    return category, unprocessed, rule


def test_review_list_correction_and_undo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "coop.duckdb"
    con = db.connect(path)
    con.execute(
        f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}) "
        "VALUES ('D1', 'One', 'MA', '01060')"
    )
    csv = tmp_path / "lines.csv"
    csv.write_text(LINES)
    ingest_file(con, csv)
    con.close()
    assert _category_of(path, "XQZ FROBNITZ BLEND")[:2] == ("other", False)  # no rule matched: low confidence

    monkeypatch.setenv(db.ENV_VAR, str(path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    at.switch_page("pages/intake.py").run()
    assert not at.exception, [e.value for e in at.exception]
    listed = [d for d in at.dataframe if "confidence" in d.value.columns]
    assert listed and "XQZ FROBNITZ BLEND" in set(listed[0].value["description"])
    at.selectbox(key="correct_pick").set_value("XQZ FROBNITZ BLEND")
    at.selectbox(key="correct_category").set_value("vegetable")
    at.radio(key="correct_unp").set_value("yes")
    next(b for b in at.button if b.label == "Save the correction").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("1 stored line(s) re-classified" in s.value for s in at.success), [s.value for s in at.success]
    category, unprocessed, rule = _category_of(path, "XQZ FROBNITZ BLEND")
    assert (category, unprocessed) == ("vegetable", True) and rule.startswith("correction #1 by ")

    at.button(key="correct_undo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _category_of(path, "XQZ FROBNITZ BLEND")[:2] == ("other", False)
