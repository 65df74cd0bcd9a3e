"""Every page runs under Streamlit's AppTest on the sample co-op, and its main widgets change what it shows."""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coop import db

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = (
    "pages/overview.py",
    "pages/intake.py",
    "pages/local_spend.py",
    "pages/premiums.py",
    "pages/optimizer.py",
    "pages/buying_power.py",
    "pages/rules.py",
    "pages/packet.py",
)
TIMEOUT = 120


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database in a temporary directory holding the sample co-op, shared by every page test."""
    path = tmp_path_factory.mktemp("app") / "coop.duckdb"
    con = db.connect(path)
    try:
        if importlib.util.find_spec("coop.sample") is not None:
            importlib.import_module("coop.sample").load(con)
    finally:
        con.close()
    old = os.environ.get(db.ENV_VAR)
    os.environ[db.ENV_VAR] = str(path)
    yield path
    if old is None:
        os.environ.pop(db.ENV_VAR, None)
    else:
        os.environ[db.ENV_VAR] = old


def open_page(page: str) -> AppTest:
    """An AppTest of the whole app switched to `page` and run once."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(page).run()
    return at


def texts(at: AppTest) -> str:
    """Every markdown, caption, metric and alert text on the page, joined (to compare what a page shows)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [f"{m.label}={m.value}" for m in at.metric]
    parts += [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.warning]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_without_exception(sample_db: Path, page: str) -> None:
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{page} shows no title"
