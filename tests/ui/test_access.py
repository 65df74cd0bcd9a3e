"""Every page under every role through Streamlit's AppTest, signed in by `st.user` with `[auth]` in the secrets.

The identity is the one `ui.access.signed_in_email` reads (`st.user`), which AppTest seeds from `at.user`; the
`[auth]` section is given through `at.secrets`, which is what `ui.access.auth_configured` checks.
"""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coop import names
from coop.metrics import compute, privacy
from coop.registry import users
from coop.store import db
from ui import access

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 240
BIG_STONE, VIEWER, PARTNER = "director@bigstone.example.org", "board@coop.example.org", "partner@foodhub.example.org"
COORDINATOR = "coordinator@coop.example.org"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-secret-in-tests",
    "client_id": "coop",
    "client_secret": "coop-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
with open(ROOT / "data/sample/districts.csv", encoding="utf-8") as fh:
    DISTRICTS = {row["district_id"]: row["name"] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def app_db(sample_db_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the sample co-op (its users.csv loaded) that the app opens through $COOP_DB."""
    path = tmp_path_factory.mktemp("access") / "coop.duckdb"
    shutil.copy(sample_db_file, path)
    old = os.environ.get(db.ENV_VAR)
    os.environ[db.ENV_VAR] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop(db.ENV_VAR, None)
        else:
            os.environ[db.ENV_VAR] = old


def signed_in(email: str | None, page: str | None = None) -> AppTest:
    """The app with `[auth]` configured and `email` signed in (None: nobody), run once, on `page` if given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": True, "email": email, "name": email}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page is not None:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at: AppTest) -> str:
    """Everything a page shows as text: titles, words, metrics, alerts and every table's cells."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value} {m.help or ''}" for m in at.metric]
    parts += [e.value.to_csv() for e in at.dataframe]
    parts += [str(o) for s in at.selectbox for o in s.options]
    parts += [str(o) for s in at.multiselect for o in s.options]
    return "\n".join(parts)


def others(text: str, mine: set[str]) -> list[str]:
    """Every other member's id or name in the text."""
    return [w for d, n in DISTRICTS.items() if d not in mine for w in (d, n) if w in text]


def test_without_auth_the_app_is_the_local_coordinator_and_says_so(app_db: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert any("as the one local coordinator" in i.value for i in at.info)
    assert any(m.label == "Districts reporting" and m.value == "7 of 7" for m in at.metric)


def test_nobody_signed_in_sees_a_sign_in_button_and_no_figure(app_db: Path) -> None:
    at = signed_in(None)
    assert [b.label for b in at.button] == ["Sign in"] and not at.metric and not at.dataframe


def test_an_unknown_email_gets_a_polite_refusal_and_nothing_else(app_db: Path) -> None:
    at = signed_in("stranger@example.org")
    assert "stranger@example.org is signed in, but it is not on this co-op's list of users" in at.warning[0].value
    assert not at.metric and not at.dataframe and [b.label for b in at.button] == ["Sign out"]


def test_navigation_lists_only_the_pages_a_role_may_use() -> None:
    keys = {role: [p.key for p in access.PAGES if role in p.roles] for role in names.ROLES}
    assert keys[names.VIEWER] == ["overview", "packet"]
    assert keys[names.DISTRICT_ROLE] == ["overview", "local_spend", "premiums", "packet"]
    assert keys[names.PARTNER] == ["overview", "local_spend", "premiums", "intake", "packet"]
    assert len(keys[names.COORDINATOR]) == len(access.PAGES)


@pytest.mark.parametrize("page", ["overview", "local_spend", "premiums"])
def test_a_big_stone_user_sees_big_stone_only_on_every_page(app_db: Path, page: str) -> None:
    at = signed_in(BIG_STONE, f"pages/{page}.py")
    text = page_text(at)
    assert others(text, {"big_stone"}) == [], page
    assert "Big Stone Lakes School" in text


def test_a_big_stone_overview_shows_its_own_figure_and_withholds_the_peers(app_db: Path) -> None:
    at = signed_in(BIG_STONE)
    con = db.connect(app_db)  # a second connection in this process opens the file as the app does
    try:
        user = users.get(con, BIG_STONE)
        span = compute.date_range(con)  # the sidebar's period starts as the whole span of the data
        mine = compute.compute(con, *span, district_ids=("big_stone",))
        doc = privacy.view(compute.compute(con, *span), user, privacy.peer_rule(con))
    finally:
        con.close()
    shown = next(m.value for m in at.metric if m.label == "Total food spend")
    assert shown == f"${mine.coop['total_spend'][0]:,.0f}"
    assert doc["peers"]["withheld"]
    words = [md.value for md in at.markdown if "Other members" in md.value or "Co-op (all members)" in md.value]
    assert words and all("withheld: one district is over 25% of it" in w for w in words)


@pytest.mark.parametrize(
    ("email", "page"),
    [
        (BIG_STONE, "optimizer"),
        (BIG_STONE, "intake"),
        (BIG_STONE, "audit"),
        (VIEWER, "local_spend"),
        (PARTNER, "buying_power"),
        (PARTNER, "rules"),
    ],
)
def test_a_page_a_role_may_not_use_is_not_routed_and_refuses_when_run(app_db: Path, email: str, page: str) -> None:
    at = signed_in(email)
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # its URL is not routed
        at.switch_page(f"pages/{page}.py")
    direct = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)  # the page's own check
    direct.secrets["auth"] = AUTH
    direct.user = {"is_logged_in": True, "email": email}
    direct.run()
    assert not direct.exception, [e.value for e in direct.exception]
    assert any("not open to your role" in e.value for e in direct.error)
    assert not direct.metric and not direct.dataframe and others(page_text(direct), set()) == []


def test_a_viewer_sees_coop_totals_and_no_district(app_db: Path) -> None:
    at = signed_in(VIEWER)
    text = page_text(at)
    assert others(text, set()) == []
    assert "Districts" not in [s.value for s in at.subheader]
    assert next(m.value for m in at.metric if m.label == "Local price premium") == "–"  # no prices


def test_a_partner_sees_and_undoes_only_its_districts(app_db: Path) -> None:
    at = signed_in(PARTNER, "pages/intake.py")
    text = page_text(at)
    assert others(text, {"driftless", "loess_hills"}) == []
    assert [t.label for t in at.tabs] == ["Load a file", "Batches (undo)"]
    batches = at.dataframe[0].value
    assert set(batches["district_id"]) == {"driftless", "loess_hills"}


def test_a_coordinator_signed_in_sees_every_page_and_the_audit_log(app_db: Path) -> None:
    at = signed_in(COORDINATOR, "pages/audit.py")
    assert not at.error
    assert any("Signed in as coordinator@coop.example.org (coordinator)" in c.value for c in at.sidebar.caption)
