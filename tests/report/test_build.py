import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS, require_chromium
from PIL import Image

from coop.report import build, render
from coop.store import db

MONTH = "2025-02"  # the sample plants a split purchase in February 2025 (data/sample/README.md)


@pytest.fixture(scope="module")
def packet_files(sample_db_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("packet")
    con = db.connect(sample_db_file, read_only=True)
    try:
        packet = build.build(con, MONTH)
    finally:
        con.close()
    return packet, render.write(packet, out)


def run_cli(*args):
    proc = subprocess.run(
        [sys.executable, "-m", "coop", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parents[2],
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_html_local_share_is_exactly_the_metrics_figure(packet_files, sample_db_file):
    packet, paths = packet_files
    got = run_cli("metrics", "--from", "2025-02-01", "--to", "2025-02-28", "--json", "--db", str(sample_db_file))
    share = got["coop"]["local_share"]
    assert share is not None and 0 < share < 1
    text = build.format_share(share)
    assert re.fullmatch(r"\d{1,2}\.\d%", text)
    html = paths["html"].read_text()
    kpis = html.split('id="kpis"', 1)[1].split("</div></div></div>", 1)[0]
    assert f'Co-op local share</div><div class="v">{text}</div>' in kpis
    assert packet.coop_local_share == pytest.approx(share, abs=1e-12)


def test_html_is_self_contained(packet_files):
    html = packet_files[1]["html"].read_text()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:)""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "url(" not in html


def test_html_embeds_non_empty_charts(packet_files):
    packet, paths = packet_files
    html = paths["html"].read_text()
    images = re.findall(r'data-chart="([^"]+)" src="data:image/png;base64,([^"]+)"', html)
    assert {key for key, _ in images} == set(packet.charts) >= {"local_share_by_month", "spend_by_route"}
    for key, data in images:
        img = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        assert img.width >= 600 and img.height >= 200, key
        colours = img.getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20, f"{key} looks blank"


def test_workbook_has_a_sheet_per_table_with_units(packet_files):
    packet, paths = packet_files
    book = openpyxl.load_workbook(paths["xlsx"])
    assert book.sheetnames == ["KPIs", *[t.key for t in packet.tables], "Notes"]
    sheet = book["districts"]
    headers = [c.value for c in sheet[1]]
    assert "Food spend ($)" in headers and "Local share (%)" in headers  # words, not column names
    assert not [h for h in headers if "_" in h]
    col = headers.index("Local share (%)") + 1
    assert sheet.cell(row=2, column=col).number_format == "0.0%"
    assert sheet.max_row == packet.tables[0].frame.height + 3  # header, rows, blank, caption
    assert sheet.freeze_panes == "A2"  # the header row stays in view
    kpis = book["KPIs"]
    assert kpis.freeze_panes == "A2"
    values = {kpis.cell(row=r, column=1).value: kpis.cell(row=r, column=2) for r in range(2, kpis.max_row + 1)}
    spend = values["Co-op food spend"]
    assert isinstance(spend.value, float) and spend.number_format == "$#,##0.00"  # a number, not text
    shown = next(k for k in packet.kpis if k.label == "Co-op food spend").value
    assert f"${spend.value:,.2f}" == shown
    share = values["Co-op local share"]
    assert 0 < share.value < 1 and share.number_format == "0.0%"


def test_packet_sections_cover_the_meeting(packet_files):
    packet, _ = packet_files
    keys = {t.key for t in packet.tables}
    assert {"districts", "local_vendors", "local_commodities", "premiums", "route_mix", "savings"} <= keys
    assert {"threshold_flags", "split_purchases", "buy_american"} <= keys
    buy = next(t for t in packet.tables if t.key == "buy_american")
    assert "no cap in force" in buy.caption  # February 2025 is in SY 2024-25, before the first cap
    splits = next(t for t in packet.tables if t.key == "split_purchases").frame
    assert splits.height >= 1  # the sample's planted split purchase (data/sample/README.md)
    assert any("no origin" in n for n in packet.notes)
    labels = [k.label for k in packet.kpis]
    assert "Change vs previous month" in labels and "School year to date" in labels


def test_buy_american_section_flags_the_district_over_the_cap(sample_db_file):
    con = db.connect(sample_db_file, read_only=True)
    try:
        packet = build.build(con, "2025-10", include_savings=False)
    finally:
        con.close()
    buy = next(t for t in packet.tables if t.key == "buy_american")
    rows = {r["district_id"]: r for r in buy.frame.iter_rows(named=True)}  # the packet names the districts
    # the sample's planted imports put big_stone over SY 2025-26's 10% cap (data/sample/README.md)
    big_stone = rows["Big Stone Lakes School"]
    assert big_stone["status"] == "over cap" and big_stone["non_domestic_share"] > 0.10
    assert rows[next(n for n in rows if n.startswith("Riverbend"))]["status"] == "could be over (unknown origin)"
    assert "cap 10%" in buy.caption and "1 district(s) over the cap, 6 could be over" in buy.caption
    assert "bananas: not produced in the US" in big_stone["exceptions"]
    page = render.to_html(packet)
    assert "Buy American: non-domestic share of commercial food cost" in page and "over cap" in page


def test_cli_report_writes_both_files(sample_db_file, tmp_path):
    got = run_cli(
        "report", "--month", MONTH, "--out", str(tmp_path), "--no-savings", "--json", "--db", str(sample_db_file)
    )
    assert Path(got["html"]).exists() and Path(got["xlsx"]).exists()
    assert got["coop_local_share_text"] in Path(got["html"]).read_text()


@pytest.mark.browser
def test_rendered_packet_screenshot_has_charts(packet_files, tmp_path):
    require_chromium()
    from playwright.sync_api import sync_playwright

    html_path = packet_files[1]["html"]
    shot = tmp_path / "packet.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html_path.as_uri(), timeout=30_000)
            sizes = page.eval_on_selector_all("img[data-chart]", "els => els.map(e => [e.naturalWidth, e.height])")
            page.screenshot(path=str(shot), full_page=True)
            pdf = page.pdf()
        finally:
            browser.close()
    print(f"packet screenshot: {shot}")
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    assert sizes and all(w > 0 and h > 100 for w, h in sizes)
    img = Image.open(shot).convert("RGB")
    assert img.height > 1500
    assert len(img.getcolors(maxcolors=1_000_000) or []) > 50
    assert pdf[:4] == b"%PDF"


def test_packet_for_a_month_inside_a_period_counts_its_days(con, tmp_path):
    """October 2020 inside a July-June usage report: the report's district reports, with October's 31 days."""
    from datetime import date

    from fixtures_periods import load_period_report, write_period_report

    load_period_report(con, write_period_report(tmp_path / "year.xlsx", date(2020, 7, 1), date(2021, 6, 30)))
    packet = build.build(con, "2020-10", include_savings=False)
    kpis = {k.label: k for k in packet.kpis}
    # $365.00 x 31/365 = $31.00; $1,000.00: F(123 days) - F(92 days) = 336.99 - 252.05 = $84.94
    assert kpis["Co-op food spend"].value == "$115.94"
    assert "allocated from period totals" in kpis["Co-op food spend"].note
    assert kpis["Districts reporting"].value == "1 of 1"
    assert any("allocated from period totals" in note for note in packet.notes)
    assert not any(note.startswith("No purchase lines") for note in packet.notes)
    districts = next(t for t in packet.tables if t.key == "districts").frame
    assert districts["allocated_spend"].to_list() == [115.94]
    # school year to date (July-October: 123 days): $123.00 + $336.99
    assert districts["ytd_total_spend"].to_list() == [pytest.approx(459.99)]


def test_packet_reads_in_words_and_covers_its_month(packet_files, sample_db_file):
    """Names, not ids; flags only for purchases up to the month's end; the savings say their period and basis."""
    from coop import names
    from coop.registry import districts
    from coop.rules import thresholds

    packet, paths = packet_files
    con = db.connect(sample_db_file, read_only=True)
    try:
        registered = districts.load(con)
        whole_year = thresholds.thresholds_from_db(con, 2024).filter("flag")
    finally:
        con.close()
    html = paths["html"].read_text()
    tables = {t.key: t for t in packet.tables}
    shown = set(tables["districts"].frame[names.DISTRICT_ID])
    assert shown == set(registered[names.NAME])  # names, not ids
    assert not re.search(r"\b(None|NaN|nan)\b", html)
    assert not any(r in html for r in names.ROUTES)  # route names in words
    assert "seed 0" not in html and "Geographic Preference Q&amp;A, Q8" in html
    flags = tables["threshold_flags"]
    assert "1 Jul 2024 to 28 Feb 2025" in flags.caption
    # the whole school year flags more district-vendor pairs, or larger spend, than July to February does
    assert whole_year["spend"].sum() > flags.frame["spend"].sum()
    savings = tables["savings"].caption
    assert re.search(r"assumed price terms \(\d+ of \d+ offers quoted\)", savings)
    assert "scaled to a year" in savings and "solver: least cost found and proven" in savings
