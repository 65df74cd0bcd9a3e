"""The app in a real browser: `streamlit run app.py` driven by Debian's headless Chromium through Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from coop import db

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# (url path, title the page shows); the first is the default page.
PAGES = (
    ("", "Co-op overview"),
    ("intake", "Data intake"),
    ("local_spend", "Local spend"),
    ("premiums", "Price premiums"),
    ("optimizer", "Route optimizer"),
    ("buying_power", "Co-op buying power"),
    ("rules", "Procurement rules"),
    ("packet", "Meeting packet"),
)
SERVER_START_SECONDS = 60
FIRST_LOAD_MS = 180_000
PAGE_MS = 60_000
UPLOAD_CSV = (
    "Invoice Date,Vendor,Vendor Type,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State\n"
    '2025-03-03,Browser Test Farm,producer,"Apples, Gala, 88ct",10,LB,1.50,15.00,MN\n'
    "2025-03-04,Browser Test Farm,producer,Carrots whole,20,LB,0.80,16.00,MN\n"
)


def _free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Block until the Streamlit health endpoint answers, the process dies, or the time is up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit did not answer on {url} within {seconds:.0f} s")


def _settle(page: object, timeout_ms: int) -> None:
    """Wait until Streamlit has finished running the page script and its title is on the page."""
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                 && document.querySelector('[data-testid="stMainBlockContainer"] h1')""",
        timeout=timeout_ms,
        polling=100,
    )


def _no_exception(page: object, where: str) -> None:
    """Fail when the page shows a Streamlit exception box."""
    boxes = page.locator('[data-testid="stException"]')  # type: ignore[attr-defined]
    if boxes.count():
        pytest.fail(f"{where}: exception shown in the app:\n{boxes.first.inner_text()[:2000]}")


def test_every_page_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("COOP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and COOP_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); set COOP_REQUIRE_BROWSER=1 to fail instead")
    from playwright.sync_api import sync_playwright

    db_path = tmp_path / "coop.duckdb"
    db.connect(db_path).close()  # an empty database: the app loads the sample co-op on first start
    upload = tmp_path / "browser-upload.csv"
    upload.write_text(UPLOAD_CSV, encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, db.ENV_VAR: str(db_path), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    timings: dict[str, float] = {}
    try:
        _wait_for_server(url, proc, SERVER_START_SECONDS)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(PAGE_MS)
                for path, title in PAGES:  # first pass: warm caches (the first start loads the sample)
                    page.goto(f"{url}/{path}", timeout=PAGE_MS)
                    _settle(page, FIRST_LOAD_MS)
                    _no_exception(page, f"first load of /{path}")
                    assert page.locator("h1").first.inner_text().strip().startswith(title)
                for path, title in PAGES:  # second pass: render time after the first load
                    started = time.perf_counter()
                    page.goto(f"{url}/{path}", timeout=PAGE_MS)
                    _settle(page, PAGE_MS)
                    timings[title] = time.perf_counter() - started
                    _no_exception(page, f"/{path}")
                    shot = tmp_path / f"page-{path or 'overview'}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot {title}: {shot}")

                page.goto(f"{url}/packet", timeout=PAGE_MS)
                _settle(page, PAGE_MS)
                with page.expect_download(timeout=PAGE_MS) as download:
                    page.get_by_role("button", name="Download HTML").click()
                saved = tmp_path / download.value.suggested_filename
                download.value.save_as(saved)
                html = saved.read_text(encoding="utf-8")
                assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html
                print(f"packet downloaded: {saved} ({saved.stat().st_size:,} bytes)")

                page.goto(f"{url}/intake", timeout=PAGE_MS)
                _settle(page, PAGE_MS)
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(upload))
                page.get_by_text("Proposed column mapping").first.wait_for(timeout=PAGE_MS)
                _settle(page, PAGE_MS)
                _no_exception(page, "intake after upload")
                assert page.get_by_text("browser-upload.csv").count() > 0
                page.get_by_role("button", name="Check and load").click()
                page.get_by_text("loaded 2 line(s)").first.wait_for(timeout=PAGE_MS)
                _settle(page, PAGE_MS)
                _no_exception(page, "intake after loading the file")
                shot = tmp_path / "page-intake-uploaded.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot intake after upload: {shot}")
            except Exception:
                shot = tmp_path / "failure.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot at failure: {shot}")
                raise
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()
    print("page render time after first load (s):")
    for title, seconds in timings.items():
        print(f"  {title:<22} {seconds:6.2f}")
