"""What each role may see of the metrics: own districts, and peers only as safe aggregates (>= 5, none > 25%)."""

from __future__ import annotations

import json
import shutil

import pytest

from coop import cli, names
from coop.metrics import compute, privacy
from coop.registry import users
from coop.store import db, settings

USERS = (
    "email,role,districts\nbig@bigstone.k12.mn.us,district,big_stone\nboard@coop.org,viewer,\n"
    "hub@partner.org,partner,driftless;loess_hills\nlead@coop.org,coordinator,\n"
)


def test_peer_rule_needs_five_contributors_none_over_a_quarter():
    rule = privacy.PeerRule()
    assert rule.withheld([10, 10, 10, 10]) == "withheld: fewer than 5 districts contribute (4)"
    assert rule.withheld([10, 10, 10, 10, 10]) is None
    assert rule.withheld([10, 10, 10, 10, 30]) == "withheld: one district is over 25% of it"  # 30 of 70 = 43%
    assert rule.withheld([10, 10, 10, 10, 0, 0]) is not None  # a district with no spend does not contribute
    assert privacy.PeerRule(3, 0.5).withheld([10, 10, 15]) is None


@pytest.fixture(scope="module")
def sample_users(sample_db_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("privacy") / "coop.duckdb"
    shutil.copy(sample_db_file, path)
    users_csv = path.parent / "users.csv"
    users_csv.write_text(USERS)
    con = db.connect(path)
    try:
        users.upsert_from_csv(con, users_csv)
    finally:
        con.close()
    return path


def metrics_as(path, email, capsys):
    assert cli.main(["metrics", "--db", str(path), "--json", "--as", email]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_district_user_sees_its_own_district_and_no_peer_figure_riverbend_dominates(sample_users, capsys):
    doc = metrics_as(sample_users, "big@bigstone.k12.mn.us", capsys)
    assert [d["district_id"] for d in doc["districts"]] == ["big_stone"]
    # Riverbend is about 60% of Big Stone's six peers: the peer aggregate and the co-op total are withheld
    assert doc["peers"] == {"withheld": True, "reason": "withheld: one district is over 25% of it"}
    assert doc["coop"] == doc["peers"]
    assert {p["scope"] for p in doc["premiums"]} == {"big_stone"}  # its own prices only, no co-op prices
    text = json.dumps(doc)
    assert "riverbend" not in text and "cedar_valley" not in text


def test_a_viewer_sees_coop_totals_only_and_a_partner_its_districts(sample_users, capsys):
    viewer = metrics_as(sample_users, "board@coop.org", capsys)
    assert viewer["districts"] == [] and viewer["premiums"] == []
    assert viewer["coop"]["total_spend"] > 0 and "peers" not in viewer
    partner = metrics_as(sample_users, "hub@partner.org", capsys)
    assert [d["district_id"] for d in partner["districts"]] == ["driftless", "loess_hills"]
    assert partner["peers"]["withheld"] is True


def test_a_coordinator_sees_everything_and_an_unknown_email_nothing(sample_users, capsys):
    lead = metrics_as(sample_users, "lead@coop.org", capsys)
    assert cli.main(["metrics", "--db", str(sample_users), "--json"]) == 0
    assert lead == json.loads(capsys.readouterr().out)
    assert len(lead["districts"]) == 7
    assert cli.main(["metrics", "--db", str(sample_users), "--json", "--as", "stranger@example.org"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "stranger@example.org: not a user" in captured.err


def test_a_safe_peer_aggregate_is_shown_with_its_sum(sample_users):
    """With the dominance limit raised to 70%, Big Stone's six peers may be shown: their exact sums."""
    con = db.connect(sample_users, read_only=True)
    try:
        m = compute.compute(con)
        user = users.get(con, "big@bigstone.k12.mn.us")
    finally:
        con.close()
    doc = privacy.view(m, user, privacy.PeerRule(5, 0.70))
    peers = m.districts.filter(m.districts[names.DISTRICT_ID] != "big_stone")
    assert doc["peers"]["total_spend"] == pytest.approx(round(peers["total_spend"].sum(), 2))
    assert sum(doc["peers"]["routes"].values()) == pytest.approx(doc["peers"]["total_spend"], abs=0.05)
    assert doc["coop"]["total_spend"] == m.coop["total_spend"][0]


def test_peer_rule_is_a_coop_setting(con):
    assert privacy.peer_rule(con) == privacy.PeerRule(5, 0.25)
    settings.put(con, names.PEER_MIN_DISTRICTS, "3")
    settings.put(con, names.PEER_MAX_SHARE, "0.4")
    assert privacy.peer_rule(con) == privacy.PeerRule(3, 0.4)
