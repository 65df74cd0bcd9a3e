"""The settings table: one key at a time, several at once, and the co-op's local-share goal."""

from __future__ import annotations

from datetime import date

import pytest

from coop import names
from coop.errors import SpecError
from coop.store import settings


def test_a_key_not_set_reads_none_and_a_put_replaces(con) -> None:
    assert settings.get(con, "colour") is None
    settings.put(con, "colour", "green")
    settings.put(con, "colour", "blue")
    assert settings.get(con, "colour") == "blue"
    assert con.execute(f"SELECT count(*) FROM {names.SETTINGS}").fetchall() == [(1,)]


def test_get_many_returns_only_the_keys_set(con) -> None:
    settings.put(con, "a", "1")
    settings.put(con, "b", "2")
    assert settings.get_many(con, ["a", "c"]) == {"a": "1"}
    assert settings.get_many(con, []) == {}


def test_goal_defaults_without_settings(con) -> None:
    assert settings.goal(con) == (settings.DEFAULT_GOAL_SHARE, settings.DEFAULT_GOAL_DATE) == (0.25, date(2027, 6, 30))


@pytest.mark.parametrize(("text", "share"), [("0.3", 0.3), ("30%", 0.3), ("30", 0.3), (" 1% ", 0.01), ("1", 1.0)])
def test_goal_share_text(con, text: str, share: float) -> None:
    settings.put(con, names.GOAL_LOCAL_SHARE, text)
    assert settings.goal(con)[0] == pytest.approx(share)
    assert settings.parse_goal_share(text) == pytest.approx(share)


def test_save_goal_round_trips_and_is_what_metrics_read(con) -> None:
    from coop.metrics import compute

    settings.save_goal(con, 0.3, date(2028, 6, 30))
    assert settings.get(con, names.GOAL_LOCAL_SHARE) == "0.3000"
    assert settings.get(con, names.GOAL_DATE) == "2028-06-30"
    assert settings.goal(con) == (pytest.approx(0.3), date(2028, 6, 30))
    m = compute.compute(con)
    assert (m.goal_local_share, m.goal_date) == (pytest.approx(0.3), date(2028, 6, 30))


@pytest.mark.parametrize("share", [0.0, -0.1, 1.01])
def test_save_goal_refuses_a_share_outside_0_to_100_percent(con, share: float) -> None:
    with pytest.raises(SpecError, match="goal local share"):
        settings.save_goal(con, share, date(2028, 6, 30))
    assert settings.get(con, names.GOAL_LOCAL_SHARE) is None
