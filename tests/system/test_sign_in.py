"""Signing in through a real OpenID Connect provider: Chromium, `streamlit run app.py` with `[auth]`, and
`oidc-provider-mock` (an OIDC provider built on Authlib, started by the test on the loopback interface).

A Big Stone district user and the coordinator sign in through the provider's authorisation page; the district
user's pages show Big Stone's own figures and no other member's id or name, and its packet download likewise;
the coordinator sees the co-op's figures, which differ.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    no_exception,
    page_text,
    require_chromium,
    settle_drawn,
    wait_for_server,
)

from coop.store import db

pytestmark = pytest.mark.xdist_group("chromium")  # one Chromium test at a time on a 2-core machine
TIMEOUT_MS = 120_000


def download_path(page: object, label: str) -> str:
    """Click a download button and return the file's path; a click that lands while the page redraws is retried."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        try:
            with page.expect_download(timeout=20_000) as download:  # type: ignore[attr-defined]
                page.get_by_role("button", name=label).click()  # type: ignore[attr-defined]
            return str(download.value.path())
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            settle_drawn(page, TIMEOUT_MS)
    raise AssertionError("unreachable")


BIG_STONE, COORDINATOR = "director@bigstone.example.org", "coordinator@coop.example.org"
with open(ROOT / "data/sample/districts.csv", encoding="utf-8") as fh:
    import csv

    DISTRICTS = {row["district_id"]: row["name"] for row in csv.DictReader(fh)}


def _wait_for_provider(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Block until the provider's discovery document answers (or its process dies, or the time is up)."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the OIDC provider exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the OIDC provider did not answer on {url} within {seconds:.0f} s")


def _others(text: str, mine: set[str]) -> list[str]:
    return [w for d, n in DISTRICTS.items() if d not in mine for w in (d, n) if w in text]


@pytest.fixture(scope="module")
def signed_app(sample_db_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """The OIDC provider and the app configured to sign in through it; yields (app URL, provider URL)."""
    require_chromium()
    work = tmp_path_factory.mktemp("sign_in")
    path = work / "coop.duckdb"
    shutil.copy(sample_db_file, path)
    idp_port, app_port = free_port(), free_port()
    idp = f"http://127.0.0.1:{idp_port}"
    app = f"http://127.0.0.1:{app_port}"
    claims = [
        {"sub": "director", "email": BIG_STONE, "name": "Big Stone director"},
        {"sub": "coordinator", "email": COORDINATOR, "name": "Co-op coordinator"},
    ]
    idp_cmd = [sys.executable, "-m", "oidc_provider_mock", "--port", str(idp_port), "--host", "127.0.0.1"]
    for c in claims:
        idp_cmd += ["--user-claims", json.dumps(c)]
    secrets = work / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{app}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-enough-length-0123456789"\n'
        'client_id = "coop-test"\n'
        'client_secret = "coop-test-secret"\n'
        f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n'
    )
    env = {**__import__("os").environ, db.ENV_VAR: str(path), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    app_cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    app_cmd += ["--server.port", str(app_port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    app_cmd += ["--secrets.files", str(secrets)]
    with (work / "idp.log").open("wb") as idp_log, (work / "app.log").open("wb") as app_log:
        idp_proc = subprocess.Popen(idp_cmd, stdout=idp_log, stderr=subprocess.STDOUT)
        app_proc = subprocess.Popen(app_cmd, cwd=ROOT, env=env, stdout=app_log, stderr=subprocess.STDOUT)
        try:
            _wait_for_provider(f"{idp}/.well-known/openid-configuration", idp_proc, 60)
            wait_for_server(app, app_proc, 120)
            yield app, idp, work
        finally:
            for proc in (app_proc, idp_proc):
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)


def _sign_in(browser, app: str, sub: str):
    """A fresh browser context signed in as the provider's predefined user `sub`; returns its page."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(app)
    settle_drawn(page, TIMEOUT_MS)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*|.*authorize.*"), timeout=TIMEOUT_MS)
    page.locator(f'button[name="sub"][value="{sub}"]').click()
    page.wait_for_url(re.compile(re.escape(app) + r"/?(\?.*)?$"), timeout=TIMEOUT_MS)
    settle_drawn(page, TIMEOUT_MS)
    return page


def test_a_district_user_signs_in_and_sees_only_its_own_district(signed_app) -> None:
    from playwright.sync_api import sync_playwright

    app, _idp, work = signed_app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = _sign_in(browser, app, "director")
            no_exception(page, "overview as Big Stone")
            text = page_text(page)
            assert "Big Stone Lakes School" in text and "withheld: one district is over 25% of it" in text
            sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
            assert f"Signed in as {BIG_STONE} (district)" in sidebar
            big_stone_spend = page.locator('[data-testid="stMetric"]').first.inner_text()
            seen = {"overview": text}
            for path in ("local_spend", "premiums", "packet"):
                page.goto(f"{app}/{path}")
                settle_drawn(page, TIMEOUT_MS)
                no_exception(page, f"{path} as Big Stone")
                seen[path] = page_text(page) + page.locator('[data-testid="stSidebar"]').inner_text()
            page.frame_locator("iframe").first.locator("h1").first.wait_for(timeout=TIMEOUT_MS)  # the packet is built
            packet = Path(download_path(page, "Download HTML")).read_text(encoding="utf-8")
            seen["packet download"] = re.sub(r'src="data:[^"]*"', "", packet)
            import openpyxl

            book = openpyxl.load_workbook(io.BytesIO(Path(download_path(page, "Download Excel (XLSX)")).read_bytes()))
            cells = [str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
            seen["packet workbook"] = "\n".join(cells)
            assert "Big Stone Lakes School" in seen["packet workbook"]
            for where, words in seen.items():
                assert _others(words, {"big_stone"}) == [], where
            page.goto(f"{app}/optimizer")  # a coordinator's page by URL: not routed, no figure of it
            settle_drawn(page, TIMEOUT_MS)
            assert "Route optimizer" not in page_text(page)
            assert _others(page_text(page), {"big_stone"}) == []

            coordinator = _sign_in(browser, app, "coordinator")
            assert "Riverbend Public Schools" in page_text(coordinator)
            coop_spend = coordinator.locator('[data-testid="stMetric"]').first.inner_text()
            assert coop_spend != big_stone_spend
        finally:
            browser.close()
    assert (work / "app.log").exists()
