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


# --- packets by role (DESIGN "Users and roles"): the sample's users.csv has one user per role ---------------------
BIG_STONE, VIEWER, PARTNER = "director@bigstone.example.org", "board@coop.example.org", "partner@foodhub.example.org"


def _districts() -> dict[str, str]:
    import csv

    with open(Path(__file__).parents[2] / "data/sample/districts.csv", encoding="utf-8") as fh:
        return {row["district_id"]: row["name"] for row in csv.DictReader(fh)}


def _packet_text(paths: dict[str, str]) -> tuple[str, str]:
    """The HTML without its embedded images, and every cell of the workbook, as text."""
    html = re.sub(r'src="data:[^"]*"', "", Path(paths["html"]).read_text())
    book = openpyxl.load_workbook(paths["xlsx"])
    cells = "\n".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None)
    return html, cells


def _report_as(db_path, out, *args):
    from coop import cli

    code = cli.main(["report", "--db", str(db_path), "--month", MONTH, "--out", str(out), "--json", *args])
    return code


def _leaks(texts: tuple[str, ...], mine: set[str]) -> list[str]:
    """Every other member's id or name found in the texts."""
    return [w for d, n in _districts().items() if d not in mine for w in (d, n) for t in texts if w in t]


def test_a_big_stone_packet_shows_big_stone_only_and_withholds_the_coop(sample_db_file, tmp_path, capsys):
    assert _report_as(sample_db_file, tmp_path, "--as", BIG_STONE) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["districts"] == ["big_stone"] and doc["coop_local_share"] is None
    assert doc["coop_local_share_text"] == "withheld: one district is over 25% of it"  # Riverbend, ~60% of its peers
    texts = _packet_text(doc)
    assert _leaks(texts, {"big_stone"}) == []
    html, cells = texts
    assert "Big Stone Lakes School" in html and "Big Stone Lakes School" in cells
    # its own figure is exactly what `metrics --as` shows it; the peers' and co-op's figures are withheld and why
    from coop import cli

    assert cli.main(["metrics", "--db", str(sample_db_file), "--json", "--as", BIG_STONE,
                     "--from", "2025-02-01", "--to", "2025-02-28"]) == 0  # fmt: skip
    mine = json.loads(capsys.readouterr().out)["districts"][0]
    assert f'local share</div><div class="v">{build.format_share(mine["local_share"])}</div>' in html
    assert build.format_money(mine["total_spend"]) in html
    assert 'Co-op local share</div><div class="v">withheld</div>' in html
    aggregates = openpyxl.load_workbook(doc["xlsx"])["aggregates"]
    notes = [r[-1] for r in aggregates.iter_rows(min_row=2, max_row=5, values_only=True)]
    assert notes == ["withheld: one district is over 25% of it"] * 4
    # the savings split: its own share and the co-op total, no other member's row
    savings = [r[0] for r in openpyxl.load_workbook(doc["xlsx"])["savings"].iter_rows(min_row=2, values_only=True)]
    assert savings[:2] == ["Big Stone Lakes School", "Co-op"]


def test_a_viewer_packet_has_coop_totals_and_no_district_or_price(sample_db_file, tmp_path, capsys):
    assert _report_as(sample_db_file, tmp_path, "--as", VIEWER, "--no-savings") == 0
    doc = json.loads(capsys.readouterr().out)
    texts = _packet_text(doc)
    assert _leaks(texts, set()) == []
    con = db.connect(sample_db_file, read_only=True)
    try:
        full = build.build(con, MONTH, include_savings=False)
    finally:
        con.close()
    assert doc["coop_local_share"] == pytest.approx(full.coop_local_share, abs=1e-12)
    assert f'Co-op local share</div><div class="v">{build.format_share(full.coop_local_share)}</div>' in texts[0]
    sheets = openpyxl.load_workbook(doc["xlsx"]).sheetnames
    assert sheets == ["KPIs", "route_mix", "Notes"]  # no district table, vendors, commodity prices or rule flags
    assert "Local price premium" not in texts[0] and "price per base unit" not in texts[0]


def test_a_partner_packet_shows_its_districts_and_no_other(sample_db_file, tmp_path, capsys):
    assert _report_as(sample_db_file, tmp_path, "--as", PARTNER, "--no-savings") == 0
    doc = json.loads(capsys.readouterr().out)
    texts = _packet_text(doc)
    assert _leaks(texts, {"driftless", "loess_hills"}) == []
    rows = openpyxl.load_workbook(doc["xlsx"])["districts"].iter_rows(min_row=2, values_only=True)
    assert [r[0] for r in rows if r[0]][:2] == ["Driftless Valley School District", "Loess Hills Community Schools"]


def test_report_as_refuses_an_unknown_email_and_another_members_district(sample_db_file, tmp_path, capsys):
    assert _report_as(sample_db_file, tmp_path / "a", "--as", "stranger@example.org") == 1
    assert "stranger@example.org: not a user" in capsys.readouterr().err
    assert _report_as(sample_db_file, tmp_path / "b", "--as", BIG_STONE, "--district", "riverbend") == 1
    assert "may not see district riverbend" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_a_coordinators_district_packet_is_that_districts_own(sample_db_file, tmp_path, capsys):
    assert _report_as(sample_db_file, tmp_path / "c", "--district", "big_stone", "--no-savings") == 0
    by_coordinator = _packet_text(json.loads(capsys.readouterr().out))
    assert _report_as(sample_db_file, tmp_path / "d", "--as", BIG_STONE, "--no-savings") == 0
    by_district = _packet_text(json.loads(capsys.readouterr().out))
    assert by_coordinator[1] == by_district[1]


def test_a_safe_peer_aggregate_is_shown_in_the_packet(sample_copy, tmp_path, capsys):
    from coop import calendar, names
    from coop.metrics import compute
    from coop.store import settings

    con = db.connect(sample_copy)
    try:
        settings.put(con, names.PEER_MAX_SHARE, "0.7")  # Riverbend is about 60% of Big Stone's peers
        first = calendar.parse_month(MONTH)
        m = compute.compute(con, first, calendar.month_end(first))
    finally:
        con.close()
    assert _report_as(sample_copy, tmp_path, "--as", BIG_STONE, "--no-savings") == 0
    doc = json.loads(capsys.readouterr().out)
    assert _leaks(_packet_text(doc), {"big_stone"}) == []
    peers = m.districts.filter(m.districts["district_id"] != "big_stone")["total_spend"].sum()
    sheet = openpyxl.load_workbook(doc["xlsx"])["aggregates"]
    first = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[0] == "Other members (together)" and first[2] == pytest.approx(peers, abs=0.01)
    assert doc["coop_local_share"] == pytest.approx(m.coop["local_share"][0], abs=1e-12)
