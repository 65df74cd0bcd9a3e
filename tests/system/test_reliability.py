"""Crash safety and concurrency of loads: a killed load changes nothing, two loaders at once both land."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coop import names, sample
from coop.store import db

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def fingerprint(path: Path) -> tuple:
    con = db.connect(path, read_only=True)
    try:
        return con.execute(
            f"""SELECT (SELECT count(*) FROM {names.PURCHASES}),
                       (SELECT coalesce(sum({names.EXTENDED_PRICE}), 0) FROM {names.PURCHASES}),
                       (SELECT count(*) FROM {names.BATCHES}),
                       (SELECT coalesce(max({names.BATCH_ID}), 0) FROM {names.BATCHES}),
                       (SELECT count(*) FROM {names.REJECTS})"""
        ).fetchall()[0]
    finally:
        con.close()


def ingest_cmd(db_path: Path, file: Path, district: str) -> list[str]:
    return [sys.executable, "-m", "coop", "ingest", str(file), "--district", district, "--db", str(db_path), "--json"]


@pytest.fixture(scope="module")
def lines_file(tmp_path_factory) -> Path:
    return sample.write_lines(15_000, tmp_path_factory.mktemp("lines") / "lines.csv", district_id="riverbend")


@pytest.mark.slow
def test_sigkill_mid_load_leaves_database_as_before(sample_db_file, lines_file, tmp_path):
    pristine = tmp_path / "pristine.duckdb"
    shutil.copy(sample_db_file, pristine)
    before = fingerprint(pristine)
    # one complete load gives the only other acceptable state and the load's duration
    done = tmp_path / "done.duckdb"
    shutil.copy(pristine, done)
    start = time.monotonic()
    subprocess.run(ingest_cmd(done, lines_file, "riverbend"), check=True, capture_output=True, timeout=300, cwd=ROOT)
    duration = time.monotonic() - start
    after = fingerprint(done)
    assert after[0] == before[0] + 15_000
    rng = random.Random(20251123)
    killed_mid_load = 0
    for i in range(KILLS):
        work = tmp_path / f"kill{i}.duckdb"
        shutil.copy(pristine, work)
        proc = subprocess.Popen(
            ingest_cmd(work, lines_file, "riverbend"), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.1, duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_mid_load += 1
        proc.wait(timeout=60)
        state = fingerprint(work)
        assert state in (before, after), f"kill {i}: partial state {state}"
        work.unlink()
    assert killed_mid_load >= KILLS // 2, "too few kills landed while the load was running"


@pytest.mark.slow
def test_two_processes_loading_at_once_both_land(sample_db_file, lines_file, tmp_path):
    target = tmp_path / "shared.duckdb"
    shutil.copy(sample_db_file, target)
    before = fingerprint(target)
    other = sample.write_lines(20_000, tmp_path / "other.csv", district_id="driftless", seed=7)
    procs = [
        subprocess.Popen(ingest_cmd(target, f, d), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f, d in ((lines_file, "riverbend"), (other, "driftless"))
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    after = fingerprint(target)
    assert after[0] == before[0] + 35_000
    assert after[2] == before[2] + 2
    waited = [err for _, err in outs if "in use by another process; waiting" in err]
    print(f"processes that waited for the lock: {len(waited)}")


def registry_fingerprint(path: Path) -> tuple:
    """(lines, spend, batches, rejects, districts, vendors, batch registrations) of a database file."""
    con = db.connect(path, read_only=True)
    try:
        return con.execute(
            f"""SELECT (SELECT count(*) FROM {names.PURCHASES}),
                       (SELECT coalesce(sum({names.EXTENDED_PRICE}), 0) FROM {names.PURCHASES}),
                       (SELECT count(*) FROM {names.BATCHES}),
                       (SELECT count(*) FROM {names.REJECTS}),
                       (SELECT count(*) FROM {names.DISTRICTS}),
                       (SELECT count(*) FROM {names.VENDORS}),
                       (SELECT count(*) FROM {names.BATCH_REGISTRATIONS})"""
        ).fetchall()[0]
    finally:
        con.close()


@pytest.mark.slow
def test_sigkill_during_an_add_districts_load_leaves_no_district_batch_or_line(tmp_path):
    from fixtures_ingest import write_usage_csv

    report = write_usage_csv(tmp_path / "usage.csv", blocks=40, lines_per_block=1500, dod_every=50)
    pristine = tmp_path / "pristine.duckdb"
    db.connect(pristine).close()
    before = registry_fingerprint(pristine)
    assert before == (0, 0, 0, 0, 0, 0, 0)
    argv = ["ingest", str(report), "--vendor", "Gold Star", "--vendor-type", "broadline_distributor", "--add-districts"]

    def cmd(path: Path) -> list[str]:
        return [sys.executable, "-m", "coop", *argv, "--db", str(path), "--json"]

    # how long the process takes to start (imports, open) and to load: kills land between the two
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "coop", "batches", "--db", str(pristine)], check=True, capture_output=True)
    started = time.monotonic() - start
    done = tmp_path / "done.duckdb"
    shutil.copy(pristine, done)
    start = time.monotonic()
    subprocess.run(cmd(done), check=True, capture_output=True, timeout=300, cwd=ROOT)
    duration = time.monotonic() - start
    after = registry_fingerprint(done)
    assert after[0] == 60_000 and after[4] == 40 and after[6] == 40
    rng = random.Random(20260216)
    killed, window = 0, duration
    for i in range(20):  # until 4 kills landed mid-load; a load that finished first narrows the window
        if killed >= 4 and i >= 8:
            break
        work = tmp_path / f"kill{i}.duckdb"
        shutil.copy(pristine, work)
        proc = subprocess.Popen(cmd(work), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(started * 0.8, max(started, window)))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        else:
            window *= 0.7
        proc.wait(timeout=60)
        state = registry_fingerprint(work)
        assert state in (before, after), f"kill {i}: partial state {state}"
        work.unlink()
    assert killed >= 4, "too few kills landed while the load was running"
