"""coop.cli: the command-line contract (DESIGN, "Command-line contract") and how subcommands are registered."""

from __future__ import annotations

import argparse
import json

import pytest

from coop import cli
from coop.optimize import allocate

# the subcommands DESIGN's contract names that exist today (users, classify --set, buy-american, worksheet,
# census come with their own issues)
CONTRACT = (
    "init", "districts", "vendors", "meals", "sample", "ingest", "batches", "undo", "metrics", "optimize",
    "sensitivity", "pool", "thresholds", "bids", "report", "summary", "export", "bench", "classify",
)  # fmt: skip


def test_every_contract_subcommand_is_registered_once_with_db_and_json():
    parser = cli.build_parser()
    for name in CONTRACT:
        assert name in cli.COMMANDS, name
        args = parser.parse_args([name, *_required(name), "--db", "x.duckdb", "--json"])
        assert args.func is cli.COMMANDS[name].handler and args.db == "x.duckdb" and args.json


def _required(name: str) -> list[str]:
    """The least a subcommand needs to parse."""
    return {
        "districts": ["f.csv"], "vendors": ["f.csv"], "meals": ["f.csv"], "ingest": ["f.csv"], "undo": ["1"],
        "bids": ["b.csv", "--points", "10"], "report": ["--month", "2025-10", "--out", "o"], "export": ["--out", "o"],
        "classify": ["apples"],
    }.get(name, [])  # fmt: skip


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        cli.command("init", "again")(lambda args, con: None)


def test_one_of_groups_are_mutually_exclusive_and_can_be_required(capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit) as both:
        parser.parse_args(["optimize", "--district", "d1", "--paper"])
    assert both.value.code == 2 and "not allowed with" in capsys.readouterr().err
    with pytest.raises(SystemExit) as neither:
        parser.parse_args(["bids", "b.csv"])
    assert neither.value.code == 2 and "one of the arguments --points --percent is required" in capsys.readouterr().err


def test_options_left_unset_take_the_librarys_defaults():
    args = cli.build_parser().parse_args(["pool", "--permutations", "7"])
    assert cli._given(args, "exact_limit", "permutations", "seed") == {"permutations": 7}
    bench_args = cli.build_parser().parse_args(["bench"])
    from coop import bench

    assert (bench_args.rows, bench_args.metrics_rows, bench_args.districts) == (
        bench.DEFAULT_ROWS, bench.DEFAULT_METRICS_ROWS, bench.DEFAULT_DISTRICTS
    )  # fmt: skip


def test_pool_exact_limit_default_is_allocates(monkeypatch, tmp_path, capsys):
    seen = {}
    real = allocate.allocate

    def spy(spec, settings=None, **kwargs):
        seen.update(kwargs)
        return real(spec, settings, **kwargs)

    monkeypatch.setattr(allocate, "allocate", spy)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(_two_district_spec()))
    assert cli.main(["pool", "--spec", str(spec), "--db", str(tmp_path / "c.duckdb"), "--json"]) == 0
    assert seen == {}  # nothing set: allocate's own DEFAULT_EXACT, permutations, seed and time budget apply
    out = json.loads(capsys.readouterr().out)
    assert out["exact"] is True and out["in_core"]["shapley"] in (True, False)
    assert allocate.DEFAULT_EXACT >= 2


def _two_district_spec() -> dict:
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parent / "data" / "pool" / "two_tier.json").read_text())


def test_an_error_is_one_line_on_stderr_with_exit_1_and_no_traceback(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert cli.main(["districts", str(missing), "--db", str(tmp_path / "c.duckdb"), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(missing) in lines[0]
    assert "Traceback" not in captured.err


def test_json_output_is_json_alone(tmp_path, capsys):
    assert cli.main(["init", "--db", str(tmp_path / "c.duckdb"), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["schema_version"] >= 2 and out.count("\n") == 1


def test_iso_date_type_names_the_bad_text():
    with pytest.raises(argparse.ArgumentTypeError, match="'2025-13-01'"):
        cli._iso_date("2025-13-01")


# --- ingest: header row and --map ------------------------------------------------------------------------
def _seeded(tmp_path):
    import duckdb
    from fixtures_ingest import seed

    from coop.store import db

    path = tmp_path / "c.duckdb"
    db.connect(path).close()
    con = duckdb.connect(str(path))
    seed(con)
    con.close()
    return path


def test_map_pair_type_splits_on_the_last_equals_sign():
    assert cli._map_pair("Total $ = extended_price") == ("Total $", "extended_price")
    assert cli._map_pair("Notes=") == ("Notes", None)
    with pytest.raises(argparse.ArgumentTypeError, match="'Cost'"):
        cli._map_pair("Cost")


def test_ingest_a_titled_file_with_map_and_save_mapping(tmp_path, capsys):
    from coop.ingest.mapping import load_mapping
    from coop.store import db

    db_path = _seeded(tmp_path)
    path = tmp_path / "october.csv"
    path.write_text(
        "Purchases for October 2025, Valley District\n\n"
        "Date,Distributor,Articulo,Total Quantity,UOM,Selling Price,Total Spend,Grown In\n"
        "2025-10-01,Sysco,Carrots,10,lb,0.80,8.00,MN\n"
        "2025-10-02,Sysco,Apples,4,lb,1.25,5.00,\n",
        encoding="utf-8",
    )
    argv = ["ingest", str(path), "--district", "D1", "--map", "Articulo=product", "--save-mapping", "oct"]
    assert cli.main([*argv, "--db", str(db_path), "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert (out["rows_loaded"], out["rows_rejected"], out["warnings"]) == (2, 0, 1)
    assert "header row found on row 3" in captured.err
    con = db.connect(db_path)
    try:
        saved = load_mapping(con, "oct")
        rows = con.execute("SELECT source_row FROM purchases ORDER BY source_row").fetchall()
    finally:
        con.close()
    assert saved["Articulo"] == "product" and saved["Distributor"] == "vendor_name"
    assert saved["Total Spend"] == "extended_price" and saved["Grown In"] == "origin_state"
    assert rows == [(4,), (5,)]


def test_ingest_header_row_and_map_errors_are_one_line_naming_the_fault(tmp_path, capsys):
    db_path = _seeded(tmp_path)
    path = tmp_path / "f.csv"
    path.write_text("Date,Vendor,Item,Qty,UOM,Price\n2025-10-01,Sysco,Carrots,10,lb,0.80\n", encoding="utf-8")
    base = ["ingest", str(path), "--district", "D1", "--db", str(db_path)]
    assert cli.main([*base, "--map", "Item=produce"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown column 'produce'" in err[0]
    assert cli.main([*base, "--map", "Article=product"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no header 'Article'" in err[0] and "f.csv" in err[0]
    assert cli.main([*base, "--header-row", "9"]) == 1
    assert "no row 9" in capsys.readouterr().err
