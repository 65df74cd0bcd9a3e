"""The app in a real browser: `streamlit run app.py` driven by Debian's headless Chromium through Playwright."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, no_exception, require_chromium, settle, streamlit_server

from coop.store import db

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("chromium")]  # one Chromium test at a time

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
FIRST_LOAD_MS = 180_000
PAGE_MS = 120_000
UPLOAD_CSV = (
    "Invoice Date,Vendor,Vendor Type,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State\n"
    '2025-03-03,Browser Test Farm,producer,"Apples, Gala, 88ct",10,LB,1.50,15.00,MN\n'
    "2025-03-04,Browser Test Farm,producer,Carrots whole,20,LB,0.80,16.00,MN\n"
)


def test_every_page_in_chromium(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    db_path = tmp_path / "coop.duckdb"
    db.connect(db_path).close()  # an empty database: the app loads the sample co-op on first start
    upload = tmp_path / "browser-upload.csv"
    upload.write_text(UPLOAD_CSV, encoding="utf-8")
    timings: dict[str, float] = {}
    with streamlit_server(db_path, tmp_path / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(PAGE_MS)
            for path, title in PAGES:  # first pass: warm caches (the first start loads the sample)
                page.goto(f"{url}/{path}", timeout=PAGE_MS)
                settle(page, FIRST_LOAD_MS)
                no_exception(page, f"first load of /{path}")
                assert page.locator("h1").first.inner_text().strip().startswith(title)
            for path, title in PAGES:  # second pass: render time after the first load
                started = time.perf_counter()
                page.goto(f"{url}/{path}", timeout=PAGE_MS)
                settle(page, PAGE_MS)
                timings[title] = time.perf_counter() - started
                no_exception(page, f"/{path}")
                shot = tmp_path / f"page-{path or 'overview'}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot {title}: {shot}")

            page.goto(f"{url}/packet", timeout=PAGE_MS)
            settle(page, PAGE_MS)
            with page.expect_download(timeout=PAGE_MS) as download:
                page.get_by_role("button", name="Download HTML").click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            html = saved.read_text(encoding="utf-8")
            assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html
            print(f"packet downloaded: {saved} ({saved.stat().st_size:,} bytes)")

            page.goto(f"{url}/intake", timeout=PAGE_MS)
            settle(page, PAGE_MS)
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(upload))
            page.get_by_text("Proposed column mapping").first.wait_for(timeout=PAGE_MS)
            settle(page, PAGE_MS)
            no_exception(page, "intake after upload")
            assert page.get_by_text("browser-upload.csv").count() > 0
            page.get_by_role("button", name="Check and load").click()
            page.get_by_text("loaded 2 line(s)").first.wait_for(timeout=PAGE_MS)
            settle(page, PAGE_MS)
            no_exception(page, "intake after loading the file")
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
    print("page render time after first load (s):")
    for title, seconds in timings.items():
        print(f"  {title:<22} {seconds:6.2f}")
