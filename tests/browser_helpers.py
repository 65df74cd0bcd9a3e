"""Helpers shared by the browser tests: Debian's Chromium, a `streamlit run app.py` server, page checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from coop.store import db

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
SERVER_START_SECONDS = 60
# True once Streamlit has finished running the page script and the page's title (h1) is on the page.
SETTLED_JS = """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
                 && document.querySelector('[data-testid="stMainBlockContainer"] h1')"""
EXCEPTION_SELECTOR = '[data-testid="stException"]'


def require_chromium() -> None:
    """Skip the test when Chromium is missing, or fail when COOP_REQUIRE_BROWSER=1 (as `.ci/run` sets)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("COOP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing and COOP_REQUIRE_BROWSER=1 (install it: apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); set COOP_REQUIRE_BROWSER=1 to fail instead")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_server(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
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


@contextmanager
def streamlit_server(db_path: Path, log_path: Path) -> Iterator[str]:
    """Run `streamlit run app.py` on a free loopback port over the database at `db_path`; yield its URL.

    The server is stopped (and waited for) on exit, so the database file is closed afterwards.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, db.ENV_VAR: str(db_path), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_server(url, proc, SERVER_START_SECONDS)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def settle(page: object, timeout_ms: int) -> None:
    """Wait until Streamlit has finished running the page script and its title is on the page."""
    page.wait_for_function(SETTLED_JS, timeout=timeout_ms, polling=100)  # type: ignore[attr-defined]


def no_exception(page: object, where: str) -> None:
    """Fail when the page shows a Streamlit exception box."""
    boxes = page.locator(EXCEPTION_SELECTOR)  # type: ignore[attr-defined]
    if boxes.count():
        pytest.fail(f"{where}: exception shown in the app:\n{boxes.first.inner_text()[:2000]}")


# True once the page is drawn, not just run: no element placeholder (skeleton) or spinner is left.
DRAWN_JS = """() => !document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')"""


def settle_drawn(page: object, timeout_ms: int) -> None:
    """`settle`, then wait until every element is drawn (no skeleton placeholders or spinners left)."""
    settle(page, timeout_ms)
    page.wait_for_function(DRAWN_JS, timeout=timeout_ms, polling=100)  # type: ignore[attr-defined]


def page_text(page: object) -> str:
    """What the main area shows as text, tables (their accessible cells) and chart text included."""
    return page.locator('[data-testid="stMain"]').inner_text()  # type: ignore[attr-defined]


def screenshot_whole(page: object, path: Path, width: int) -> None:
    """A screenshot of the whole page at `width` px: the viewport is stretched to the main area's height."""
    height = page.evaluate(  # type: ignore[attr-defined]
        """() => { const m = document.querySelector('[data-testid="stMain"]');
                   return Math.max(900, m ? m.scrollHeight : 0); }"""
    )
    page.set_viewport_size({"width": width, "height": min(int(height), 16_000)})  # type: ignore[attr-defined]
    page.wait_for_timeout(300)  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    page.set_viewport_size({"width": width, "height": 900})  # type: ignore[attr-defined]
