"""coop.cli's error paths (issue 18): one line naming the file and what failed, never a traceback.

A CoopError exits 1; anything unforeseen exits 2 and is logged with its traceback (`coop.errors.log_path`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from fixtures_ingest import CLEAN, seed

from coop import cli, errors
from coop.store import db


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one CLI run."""
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def seeded(db_path: Path) -> Path:
    con = duckdb.connect(str(db_path))
    seed(con)
    con.close()
    return db_path


def test_an_unforeseen_error_is_one_line_exit_2_and_logged_with_its_traceback(
    seeded, capsys, monkeypatch, tmp_path
):  # fmt: skip
    from coop.metrics import compute

    log = tmp_path / "coop.log"
    monkeypatch.setenv(errors.LOG_ENV_VAR, str(log))

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(compute, "compute", broken)
    code, out, err = run(capsys, "metrics", "--db", str(seeded), "--json")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: metrics {seeded}: could not finish: ZeroDivisionError: division by zero (details logged to {log})"
    ]
    assert "Traceback" not in err
    logged = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged and "ZeroDivisionError: division by zero" in logged


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "district_id,name,state,zip,annual_meals,local_radius_miles\nD9,X,MN,55101,1e30,5\n",
            "d.csv row 2 column annual_meals: out of range (at most 1,000,000,000,000)",
        ),
        (
            "district_id,name,state,zip,local_radius_miles\nD9,X,MN,55101,inf\n",
            "d.csv row 2 column local_radius_miles: not a finite number (NaN or infinite)",
        ),
    ],
)
def test_huge_numbers_in_a_districts_file_are_named(seeded, capsys, tmp_path, content, message):
    path = tmp_path / "d.csv"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "districts", str(path), "--db", str(seeded))
    assert code == 1 and err.splitlines()[0] == message


@pytest.mark.parametrize("meals", ["1e30", "inf", "nan", "-5"])
def test_huge_numbers_in_a_meals_file_are_named(seeded, capsys, tmp_path, meals):
    path = tmp_path / "m.csv"
    path.write_text(f"district_id,month,meals\nD1,2024-09,{meals}\n", encoding="utf-8")
    code, _, err = run(capsys, "meals", str(path), "--db", str(seeded))
    assert code == 1 and err.startswith("m.csv row 2 column meals: ")
    assert "Traceback" not in err


def test_report_month_out_of_range_is_named(seeded, capsys, tmp_path):
    code, _, err = run(capsys, "report", "--month", "9999-12", "--out", str(tmp_path / "o"), "--db", str(seeded))
    assert (code, err.strip()) == (1, "error: month '9999-12': the year must be between 1900 and 2999")


@pytest.mark.parametrize("command", [["report", "--month", "2024-09", "--no-savings"], ["export"]])
def test_out_naming_a_file_is_named(seeded, capsys, tmp_path, command):
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    code, _, err = run(capsys, *command, "--out", str(target), "--db", str(seeded))
    assert code == 1
    assert err.strip() == f"error: {target}: --out names a file, not a folder; give a folder to write into"


def damaged_copy(sample_db_file: Path, tmp_path: Path, how: str) -> Path:
    data = bytearray(sample_db_file.read_bytes())
    path = tmp_path / f"{how}.duckdb"
    if how == "truncated":
        path.write_bytes(bytes(data[: len(data) // 3]))
    else:
        data[8192:16384] = b"\x41" * 8192  # a block's checksum no longer matches
        path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("how", ["truncated", "corrupt"])
@pytest.mark.parametrize("command", [["metrics"], ["summary"], ["ingest", "{lines}", "--district", "D1"]])
def test_a_damaged_database_is_named_as_such_not_as_locked(sample_db_file, tmp_path, capsys, how, command):
    path = damaged_copy(sample_db_file, tmp_path, how)
    lines = tmp_path / "lines.csv"
    lines.write_text(CLEAN, encoding="utf-8")
    command = [c.format(lines=lines) for c in command]
    started = time.monotonic()
    code, _, err = run(capsys, *command, "--db", str(path))
    assert time.monotonic() - started < 10  # no 60-second wait for a lock nobody holds
    assert code == 1, err
    assert "in use by another process" not in err and "Traceback" not in err
    assert err.startswith(f"error: {path}: the database file is damaged (truncated or corrupt) and cannot be read: ")


HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only={ro}); "
    "print('ready', flush=True); time.sleep(30)"
)


def holding(path: Path, read_only: bool) -> subprocess.Popen[str]:
    """Another process holding the database file (read-only or for writing) until killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD.format(ro=read_only), str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_commands_that_only_read_open_the_file_read_only(sample_copy, capsys):
    # a read-only holder shares the file with readers only: `metrics` works beside it, so it opened read-only
    proc = holding(sample_copy, read_only=True)
    try:
        code, out, err = run(capsys, "metrics", "--db", str(sample_copy), "--json")
        assert code == 0, err
        assert '"coop"' in out
        with pytest.raises(errors.DatabaseError, match="in use by another process"):
            db.connect(sample_copy, wait_seconds=0.5)  # a write would have to wait
    finally:
        proc.kill()
        proc.wait()


def test_a_file_held_by_another_process_is_named_with_the_holder(sample_copy):
    proc = holding(sample_copy, read_only=False)
    try:
        with pytest.raises(errors.DatabaseError) as caught:
            db.connect(sample_copy, wait_seconds=0.5)
        text = str(caught.value)
        assert "in use by another process" in text and f"(PID {proc.pid})" in text and "See also" not in text
    finally:
        proc.kill()
        proc.wait()


def test_a_read_only_file_still_gives_metrics(sample_copy, capsys):
    # root ignores file modes, so the read-only open is what is checked: DuckDB refuses writes on it
    con = db.connect_for_reading(sample_copy)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE x (a INTEGER)")
    finally:
        con.close()
    code, _, err = run(capsys, "metrics", "--db", str(sample_copy), "--json")
    assert code == 0, err
