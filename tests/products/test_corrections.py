"""Corrections that stick: stored, applied by later loads, re-applied to stored lines with the summary kept right."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from coop import cli, names
from coop.ingest import ingest_file
from coop.products import corrections
from coop.store import summary

HEADER = "district_id,invoice_date,vendor_name,vendor_type,product,quantity,unit,pack_size,unit_price,extended_price\n"
LINES = (
    "D1,2024-09-03,Acme,broadline_distributor,ASSORTED JELLY PACKETS IW,2,CS,200/.5OZ,20.00,40.00\n"
    "D1,2024-09-04,Acme,broadline_distributor,ASSORTED JELLY PACKETS IW,1,CS,200/.5OZ,20.00,20.00\n"
    "D1,2024-09-05,Acme,broadline_distributor,APPLES GALA 138CT,3,CS,40LB,41.10,123.30\n"
)


def _file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def _district(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"INSERT INTO {names.DISTRICTS} ({names.DISTRICT_ID}, {names.NAME}, {names.STATE}, {names.ZIP}) "
        "VALUES ('D1', 'One', 'MA', '01060')"
    )


def spend_by_category(con: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    """Spend per category from the lines themselves."""
    rows = con.execute(
        f"SELECT {names.CATEGORY}, sum({names.EXTENDED_PRICE}) FROM {names.PURCHASES} GROUP BY 1"
    ).fetchall()
    return {c: Decimal(v) for c, v in rows}


def summary_by_category(con: duckdb.DuckDBPyConnection) -> dict[str, Decimal]:
    """Spend per category as the metrics read it: the summary's shares grain, in cents."""
    rows = con.execute(
        f"""SELECT k.{names.CATEGORY}, sum(s.{names.SPEND_CENTS}) FROM {names.PURCHASE_SUMMARY} s
            JOIN {names.SUMMARY_KEYS} k USING ({names.KEY_ID})
            WHERE s.{names.GRAIN} = '{summary.GRAIN_SHARES}' GROUP BY 1"""
    ).fetchall()
    return {c: Decimal(v) / 100 for c, v in rows if v}


def test_a_correction_reclassifies_stored_lines_applies_to_the_next_load_and_undoes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    _district(con)
    ingest_file(con, _file(tmp_path, "a.csv", LINES))
    before = spend_by_category(con)
    assert summary_by_category(con) == before
    jelly_category = con.execute(
        f"SELECT DISTINCT {names.CATEGORY} FROM {names.PURCHASES} WHERE {names.DESCRIPTION} LIKE '%JELLY%'"
    ).fetchall()
    assert jelly_category == [("fruit",)]  # jelly packets are a condiment (other), not fruit: the case for a correction

    done = corrections.set_correction(con, "assorted jelly  packets iw", "other", False, "jelly packets", made_by="ana")
    assert done["lines_reclassified"] == 2 and done["batches"] == [1]
    after = spend_by_category(con)
    assert after["other"] == Decimal("60.00")
    assert after["fruit"] == before["fruit"] - Decimal("60.00") == Decimal("123.30")
    assert summary_by_category(con) == after  # the summary moved with the lines, to the cent
    assert summary.is_current(con)
    ((rule, product, confidence, unprocessed),) = con.execute(
        f"SELECT DISTINCT {names.UNPROCESSED_RULE}, {names.PRODUCT}, {names.PRODUCT_CONFIDENCE}, {names.UNPROCESSED} "
        f"FROM {names.PURCHASES} WHERE {names.DESCRIPTION} LIKE '%JELLY%'"
    ).fetchall()
    assert rule.startswith(f"correction #{done['correction_id']} by ana at ")
    assert (product, confidence, unprocessed) == ("jelly packets", 1.0, False)

    # the next load applies it
    ingest_file(con, _file(tmp_path, "b.csv", LINES.splitlines(keepends=True)[1].replace("09-04", "09-20")))
    assert spend_by_category(con)["other"] == Decimal("80.00")
    assert summary_by_category(con) == spend_by_category(con)

    # undo restores the classifier's answer on every stored line, both batches
    undone = corrections.undo(con, done["correction_id"], undone_by="ben")
    assert undone["lines_reclassified"] == 3 and undone["batches"] == [1, 2]
    final = spend_by_category(con)
    assert "other" not in final and final["fruit"] == before["fruit"] + Decimal("20.00")
    assert summary_by_category(con) == final
    (row,) = corrections.history(con).to_dicts()
    assert (row["made_by"], row["undone_by"]) == ("ana", "ben")
    with pytest.raises(corrections.CorrectionError, match="no correction"):
        corrections.undo(con, done["correction_id"])


def test_classify_cli_sets_and_answers_as_a_load_would(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["classify", "APRICOTS DICED", "--pack-size", "6/#10", "--db", str(db_path), "--json"]) == 0
    canned = json.loads(capsys.readouterr().out)
    assert set(canned) >= {"category", "product", "unprocessed", "reason", "source", "confidence"}
    assert (canned["category"], canned["unprocessed"]) == ("fruit", False)
    argv = ["classify", "--set", "APRICOTS DICED", "--category", "fruit", "--unprocessed", "yes", "--db", str(db_path)]
    assert cli.main([*argv, "--json"]) == 0
    capsys.readouterr()
    assert cli.main(["classify", "apricots diced", "--db", str(db_path), "--json"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert (fixed["unprocessed"], fixed["source"], fixed["confidence"]) == (True, "correction", 1.0)
    assert cli.main(["classify", "--set", "X", "--category", "meat", "--unprocessed", "no", "--db", str(db_path)]) == 1
    assert "category 'meat' is not one of" in capsys.readouterr().err
