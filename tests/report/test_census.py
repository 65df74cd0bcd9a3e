"""coop.report.census: the Farm to School Census export equals `metrics` for the school year, in the Census's terms."""

from __future__ import annotations

import csv
import json

import openpyxl
import pytest

from coop import cli, names
from coop.report import census


@pytest.fixture(scope="module")
def exported(sample_db_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("census")
    return out


def run(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("year", [2024, 2025])
def test_totals_equal_metrics_for_the_school_year_on_the_sample_coop(sample_db_file, exported, capsys, year):
    db = str(sample_db_file)
    doc = run(capsys, "census", "--school-year", str(year), "--out", str(exported), "--db", db, "--json")
    metrics = run(capsys, "metrics", "--from", f"{year}-07-01", "--to", f"{year + 1}-06-30", "--db", db, "--json")
    assert (doc["from"], doc["to"], doc["edition"]) == (f"{year}-07-01", f"{year + 1}-06-30", census.EDITION)
    ours = {d[names.DISTRICT_ID]: d for d in doc["districts"]}
    theirs = {d[names.DISTRICT_ID]: d for d in metrics["districts"]}
    assert set(ours) == set(theirs) and len(ours) == 7
    for district_id, m in theirs.items():
        c = ours[district_id]
        cents = (round(c["total_food_cost"] * 100), round(c["local_food_cost"] * 100))
        assert cents == (round(m["total_spend"] * 100), round(m["local_spend"] * 100)), district_id
        assert c["unknown_origin_cost"] == pytest.approx(m["unknown_origin_spend"], abs=0.005)
        # each breakdown adds up to the local food cost, to the cent
        for breakdown in ("local_by_category", "local_by_source"):
            assert round(sum(c[breakdown].values()) * 100) == cents[1], (district_id, breakdown)
    assert sum(d["total_food_cost"] for d in ours.values()) > 0
    # the Census's terms, and our terms mapped to them shown with the export
    some = next(iter(ours.values()))
    assert "Fruits" in some["local_by_category"] and "Food hubs" in some["local_by_source"]
    assert {"kind": "source", "ours": "food_hub", "census": "Food hubs", "note": ""} in doc["mapping"]


def test_the_files_open_with_the_same_figures_and_the_mapping(sample_db_file, exported, capsys):
    doc = run(capsys, "census", "--school-year", "2025", "--out", str(exported), "--db", str(sample_db_file), "--json")
    with open(doc["files"]["csv"], newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {r[names.DISTRICT_ID]: r for r in rows}
    for d in doc["districts"]:
        assert float(by_id[d[names.DISTRICT_ID]][census.TOTAL]) == pytest.approx(d["total_food_cost"])
        assert by_id[d[names.DISTRICT_ID]]["edition"] == census.EDITION
    book = openpyxl.load_workbook(doc["files"]["xlsx"])
    sheet = book["Census figures"]
    assert census.EDITION in sheet["A2"].value
    header = [c.value for c in sheet[5]]
    assert header[:3] == [names.DISTRICT_ID, names.NAME, census.TOTAL]
    values = {r[0]: r for r in sheet.iter_rows(min_row=6, values_only=True)}
    for d in doc["districts"]:
        assert values[d[names.DISTRICT_ID]][2] == pytest.approx(d["total_food_cost"])
    mapped = [tuple(r) for r in book["Mapping"].iter_rows(min_row=2, max_col=3, values_only=True)]
    assert ("category", "protein", "Meat, poultry, seafood, eggs and plant-based protein (combined)") in mapped
