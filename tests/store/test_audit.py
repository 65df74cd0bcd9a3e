"""The audit log: every changing command is recorded with the OS user, what it was given and what it did."""

from __future__ import annotations

from coop import cli
from coop.store import audit, db


def test_cli_changes_are_logged_with_the_os_user(db_path, tmp_path, capsys):
    districts = tmp_path / "districts.csv"
    districts.write_text("district_id,name,state,zip\nnorth,North Valley,MN,55901\n")
    assert cli.main(["districts", str(districts), "--db", str(db_path)]) == 0
    assert cli.main(["metrics", "--db", str(db_path), "--json"]) == 0  # reading changes nothing: not logged
    capsys.readouterr()
    con = db.connect(db_path, read_only=True)
    try:
        log = audit.entries(con)
    finally:
        con.close()
    assert log.height == 1
    entry = log.row(0, named=True)
    assert (entry["actor"], entry["action"]) == (audit.os_user(), "districts")
    assert "districts.csv" in entry["detail"] and "districts_upserted 1" in entry["detail"]
    assert cli.main(["audit", "--db", str(db_path), "--json"]) == 0
    assert '"action": "districts"' in capsys.readouterr().out
