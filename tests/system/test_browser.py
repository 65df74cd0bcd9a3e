"""The app in a real browser: `streamlit run app.py` driven by Debian's headless Chromium through Playwright.

One server and one browser for every check: each page is opened, screenshot whole at 1280 px and read as a
person reads it (no Deploy button, no request to another host, no maths typesetting, no raw ids or developer
words, no "None"/"NaN"), then timed when reached from the sidebar after its first load.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    no_exception,
    page_text,
    require_chromium,
    screenshot_whole,
    settle_drawn,
    streamlit_server,
)

from coop import names
from coop.store import db

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("chromium")]  # one Chromium test at a time

# (url path, title the page shows, its name in the sidebar); the first is the default page.
PAGES = (
    ("", "Co-op overview", "Overview"),
    ("intake", "Data intake", "Data intake"),
    ("local_spend", "Local spend", "Local spend"),
    ("premiums", "Price premiums", "Price premiums"),
    ("optimizer", "Route optimizer", "Route optimizer"),
    ("buying_power", "Co-op buying power", "Co-op buying power"),
    ("rules", "Procurement rules", "Procurement rules"),
    ("packet", "Meeting packet", "Meeting packet"),
)
FIRST_LOAD_MS = 180_000
PAGE_MS = 120_000
RENDER_LIMIT_S = 3.0
WIDTH = 1280
UPLOAD_CSV = (
    "Invoice Date,Vendor,Vendor Type,Item Description,Qty,UOM,Unit Price,Ext Price,Origin State\n"
    '2025-03-03,Browser Test Farm,producer,"Apples, Gala, 88ct",10,LB,1.50,15.00,MN\n'
    "2025-03-04,Browser Test Farm,producer,Carrots whole,20,LB,0.80,16.00,MN\n"
)
# identifiers a person should never read (the Intake page's template and registry name canonical columns)
RAW_IDS = (*names.ROUTES, *names.POLICY_CONSTRAINTS, "assortment_breadth", "economic_impact", "local_intensity")
DEVELOPER_WORDS = re.compile(r"\bseed 0\d\d\b|DESIGN\.md|\bcoop\.[a-z_]+|linearised|python -m coop", re.IGNORECASE)
MISSING_WORDS = re.compile(r"\bNone\b|\bNaN\b|\bnan\b|\bnull\b")
MATHS = ".katex, .katex-display, mjx-container"
# tables whose columns run past their box (a horizontal scroll bar: a column cut at this width), with their headers
OVERFLOWING_TABLES_JS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')].flatMap(t => {
    const s = t.querySelector('.dvn-scroller');
    return s && s.clientWidth > 0 && s.scrollWidth > s.clientWidth + 2
        ? [`${s.scrollWidth}px of columns in ${s.clientWidth}px: ` + t.innerText.slice(0, 80).replace(/\\s+/g, ' ')]
        : [];
})"""


def read_page(page: object, where: str, *, template_page: bool) -> list[str]:
    """What is wrong with the page as shown: exception, maths, raw ids, developer words, None/NaN, Deploy."""
    wrong: list[str] = []
    no_exception(page, where)
    text = page_text(page)
    if page.get_by_role("button", name="Deploy").count():  # type: ignore[attr-defined]
        wrong.append(f"{where}: a Deploy button is shown")
    if page.locator(MATHS).count():  # type: ignore[attr-defined]
        maths = page.locator(MATHS).first.inner_text()  # type: ignore[attr-defined]
        wrong.append(f"{where}: text typeset as maths: {maths[:80]!r}")
    if not template_page:
        wrong += [f"{where}: raw id {raw!r} on the page" for raw in RAW_IDS if raw in text]
    wrong += [f"{where}: developer words {m.group(0)!r}" for m in DEVELOPER_WORDS.finditer(text)]
    wrong += [f"{where}: table cut at {WIDTH} px: {t}" for t in page.evaluate(OVERFLOWING_TABLES_JS)]  # type: ignore[attr-defined]
    wrong += [
        f"{where}: {m.group(0)!r} shown near {text[max(0, m.start() - 60) : m.end() + 20]!r}"
        for m in MISSING_WORDS.finditer(text)
    ]
    return wrong


def test_every_page_in_chromium(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import sync_playwright

    db_path = tmp_path / "coop.duckdb"
    db.connect(db_path).close()  # an empty database: the app loads the sample co-op on first start
    upload = tmp_path / "browser-upload.csv"
    upload.write_text(UPLOAD_CSV, encoding="utf-8")
    timings: dict[str, float] = {}
    wrong: list[str] = []
    requested: set[str] = set()
    with streamlit_server(db_path, tmp_path / "streamlit.log") as url, sync_playwright() as p:
        app_host = urlsplit(url).netloc
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.on("request", lambda r: requested.add(urlsplit(r.url).netloc or urlsplit(r.url).scheme))
        page.set_default_timeout(PAGE_MS)
        try:
            for path, title, _nav in PAGES:  # first load of each page (the first start loads the sample)
                page.goto(f"{url}/{path}", timeout=PAGE_MS)
                settle_drawn(page, FIRST_LOAD_MS)
                no_exception(page, f"first load of /{path}")
                assert page.locator("h1").first.inner_text().strip().startswith(title)
            for path, title, nav in PAGES:  # each page as a user reaches it: from the sidebar, timed
                page.locator('[data-testid="stSidebarNav"] a').filter(has_text=nav).first.click()
                started = time.perf_counter()
                page.wait_for_function(
                    "t => document.querySelector('[data-testid=\"stMainBlockContainer\"] h1')?.innerText.startsWith(t)",
                    arg=title,
                    timeout=PAGE_MS,
                )
                settle_drawn(page, PAGE_MS)
                timings[title] = time.perf_counter() - started
                found = read_page(page, f"/{path}", template_page=path == "intake")
                print(*found, sep="\n")
                wrong += found
                shot = tmp_path / f"page-{path or 'overview'}.png"
                screenshot_whole(page, shot, WIDTH)
                print(f"screenshot {title}: {shot}")

            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Meeting packet").first.click()
            settle_drawn(page, PAGE_MS)
            preview = page.frame_locator("iframe").first
            preview.locator("h1").first.wait_for(timeout=PAGE_MS)
            shown = preview.locator("body").inner_text()
            assert "Partner meeting packet" in shown
            wrong += [f"packet preview: {m.group(0)!r}" for m in MISSING_WORDS.finditer(shown)]
            wrong += [f"packet preview: raw id {raw!r}" for raw in RAW_IDS if raw in shown]
            with page.expect_download(timeout=PAGE_MS) as download:
                page.get_by_role("button", name="Download HTML").click()
            saved = tmp_path / download.value.suggested_filename
            download.value.save_as(saved)
            html = saved.read_text(encoding="utf-8")
            assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html
            assert "Partner meeting packet" in html and shown.split("\n")[0] in html  # the preview is the file
            print(f"packet downloaded: {saved} ({saved.stat().st_size:,} bytes)")

            page.locator('[data-testid="stSidebarNav"] a').filter(has_text="Data intake").first.click()
            settle_drawn(page, PAGE_MS)
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(upload))
            page.get_by_text("Proposed column mapping").first.wait_for(timeout=PAGE_MS)
            settle_drawn(page, PAGE_MS)
            no_exception(page, "intake after upload")
            assert page.get_by_text("browser-upload.csv").count() > 0
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="District these purchases")
            picker.locator("input").first.click()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
            settle_drawn(page, PAGE_MS)
            page.get_by_role("button", name="Check and load").click()
            page.get_by_text("loaded 2 line(s)").first.wait_for(timeout=PAGE_MS)
            settle_drawn(page, PAGE_MS)
            no_exception(page, "intake after loading the file")
            shot = tmp_path / "page-intake-uploaded.png"
            screenshot_whole(page, shot, WIDTH)
            print(f"screenshot intake after upload: {shot}")
        except Exception:
            shot = tmp_path / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot at failure: {shot}")
            raise
        finally:
            browser.close()
    print(f"hosts requested: {sorted(requested)}")
    print("page render time after first load, reached from the sidebar (s):")
    for title, seconds in timings.items():
        print(f"  {title:<22} {seconds:6.2f}")
    others = requested - {app_host, "data", "blob", "about"}
    assert not others, f"requests to hosts other than the app's ({app_host}): {sorted(others)}"
    assert not wrong, "\n".join(wrong)
    slow = {t: s for t, s in timings.items() if s > RENDER_LIMIT_S}
    assert not slow, f"pages slower than {RENDER_LIMIT_S} s after first load: {slow}"


HOSTILE_HOST = "198.51.100.7"  # TEST-NET-2: never a real host; a request to it means a name became markup
HOSTILE_NAME = f"![x](http://{HOSTILE_HOST}/pixel.png) <img src=http://{HOSTILE_HOST}/tag.png>"


def test_a_markdown_image_district_name_is_drawn_as_text_and_fetches_nothing(tmp_path: Path) -> None:
    """A district whose id and name are a Markdown image and an HTML tag: every page draws them, none fetches."""
    require_chromium()
    from fixtures_metrics import DISTRICTS, LINES, districts_frame, insert, lines_frame
    from playwright.sync_api import sync_playwright

    db_path = tmp_path / "coop.duckdb"
    con = db.connect(db_path)
    try:
        hostile_id = f"![d](http://{HOSTILE_HOST}/id.png)"
        districts = districts_frame([*DISTRICTS, (hostile_id, "80202", "CO", 150.0, None, None)])
        insert(con, names.DISTRICTS, districts.with_columns(districts[names.NAME].scatter(-1, HOSTILE_NAME)))
        hostile_lines = [(100 + r[0], hostile_id, *r[2:]) for r in LINES if r[1] == "wide"]
        insert(con, names.PURCHASES, lines_frame([*LINES, *hostile_lines]))
    finally:
        con.close()
    requested: set[str] = set()
    drawn: list[str] = []
    with streamlit_server(db_path, tmp_path / "streamlit.log") as url, sync_playwright() as p:
        app_host = urlsplit(url).netloc
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.on("request", lambda r: requested.add(urlsplit(r.url).netloc or urlsplit(r.url).scheme))
        page.set_default_timeout(PAGE_MS)
        try:
            for path in ("", "local_spend", "premiums", "packet"):
                page.goto(f"{url}/{path}", timeout=PAGE_MS)
                settle_drawn(page, FIRST_LOAD_MS)
                no_exception(page, f"/{path} with a hostile district name")
                text = page_text(page)
                if path == "packet":
                    text += page.frame_locator("iframe").first.locator("body").inner_text()
                drawn.append(text)
                assert page.locator(f'img[src*="{HOSTILE_HOST}"]').count() == 0, f"/{path}: the name became an image"
        finally:
            browser.close()
    others = requested - {app_host, "data", "blob", "about"}
    assert not others, f"requests to hosts other than the app's ({app_host}): {sorted(others)}"
    assert any(f"{HOSTILE_HOST}/pixel.png" in text for text in drawn)  # the name is shown, as characters
