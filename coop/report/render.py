"""The meeting packet rendered: self-contained HTML and XLSX files from a built `coop.report.build.Packet`.

Charts are the Altair specs of `coop.report.charts`, rendered to PNG with vl-convert and embedded as data URIs:
the HTML references nothing on the network and prints to PDF from a browser with every chart whole. Text from
files is escaped in HTML and written as text (never a formula) in the workbook.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import altair as alt
import polars as pl
import vl_convert
import xlsxwriter

from coop import names
from coop.errors import CoopError, describe
from coop.metrics.compute import SCOPE
from coop.report.build import Packet, Table, format_money, format_share, header

CHART_WIDTH = 640


def chart_png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    """The chart rendered to PNG by vl-convert at a fixed width (a container width cannot be rendered)."""
    spec = json.dumps(chart.properties(width=CHART_WIDTH).to_dict(), default=float)  # DECIMAL money -> float
    return vl_convert.vegalite_to_png(spec, scale=scale)


_CSS = """
body { font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: #1b2a1b;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; }
h1 { color: #2e7d32; margin-bottom: 0; } h2 { border-bottom: 2px solid #2e7d32; padding-bottom: 4px; }
.sub { color: #5f6b5f; margin-top: 4px; }
.kpis { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.kpi { border: 1px solid #c8d6c8; border-radius: 8px; padding: 10px 14px; break-inside: avoid; }
.kpi .v { font-size: 1.6em; font-weight: 700; } .kpi .l { font-weight: 600; }
.kpi .n { color: #5f6b5f; font-size: .85em; }
table { border-collapse: collapse; width: 100%; font-size: .85em; margin-bottom: .5em; }
th, td { border-bottom: 1px solid #dde5dd; padding: 4px 6px; text-align: right; }
th:first-child, td:first-child, td.t { text-align: left; }
th { background: #eef4ee; }
.caption { color: #5f6b5f; font-size: .85em; margin-bottom: 1.5em; }
figure { margin: 0 0 1.5em 0; break-inside: avoid; page-break-inside: avoid; }
figure img { max-width: 100%; height: auto; }
section { break-inside: auto; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } }
"""


DISTRICT_COLUMNS = (names.DISTRICT_ID, SCOPE, "district")  # columns the packet shows district names in


def _cell(value: object, column: str, table: Table, ids: dict[str, str] | None = None) -> str:
    """One formatted table cell; a district's name carries its id on hover (`ids`: name -> id)."""
    if ids and column in DISTRICT_COLUMNS and isinstance(value, str) and value in ids:
        return f'<td class="t" title="{html.escape(ids[value])}">{html.escape(value)}</td>'
    if value is None:
        return "<td>–</td>"
    if isinstance(value, Decimal):
        value = float(value)
    if column in table.shares and isinstance(value, (int, float)):
        return f"<td>{format_share(float(value))}</td>"
    if column in table.money and isinstance(value, (int, float)):
        return f"<td>{format_money(float(value))}</td>"
    if isinstance(value, float):
        return f"<td>{value:,.2f}</td>"
    if isinstance(value, int):
        return f"<td>{value:,}</td>"
    return f'<td class="t">{html.escape(str(value))}</td>'


def _table_html(table: Table, ids: dict[str, str] | None = None) -> str:
    """A table with its title and caption; district names carry their ids on hover (`ids`: name -> id)."""
    head = "".join(f"<th>{html.escape(column_title(c, table))}</th>" for c in table.frame.columns)
    rows = "".join(
        "<tr>" + "".join(_cell(v, c, table, ids) for c, v in row.items()) + "</tr>"
        for row in table.frame.iter_rows(named=True)
    )
    if not rows:
        rows = f'<tr><td class="t" colspan="{max(1, table.frame.width)}">No rows for this period.</td></tr>'
    return (
        f"<section><h2>{html.escape(table.title)}</h2><table><thead><tr>{head}</tr></thead>"
        f'<tbody>{rows}</tbody></table><div class="caption">{html.escape(table.caption)}</div></section>'
    )


def column_title(column: str, table: Table) -> str:
    """A column header in words, stating its unit."""
    if column in table.money:
        return f"{header(column)} ($)"
    if column in table.shares:
        return f"{header(column)} (%)"
    return header(column)


def to_html(packet: Packet) -> str:
    """The packet as one self-contained HTML document (inline CSS, charts as embedded PNG)."""
    kpis = "".join(
        f'<div class="kpi"><div class="l">{html.escape(k.label)}</div><div class="v">{html.escape(k.value)}</div>'
        f'<div class="n">{html.escape(k.note)}</div></div>'
        for k in packet.kpis
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(key)}" data-chart="{html.escape(key)}" '
        f'src="data:image/png;base64,{base64.b64encode(chart_png(chart)).decode()}"></figure>'
        for key, chart in packet.charts.items()
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in packet.notes)
    tables = "".join(_table_html(t, packet.district_ids) for t in packet.tables)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Co-op partner meeting packet, {packet.label}</title><style>{_CSS}</style></head><body>"
        f"<h1>Partner meeting packet: {packet.label}</h1>"
        f'<p class="sub">Month {packet.month:%d %b %Y} - {packet.month_end:%d %b %Y}; school year to date from '
        f"{packet.year_start:%d %b %Y}. Money in US dollars; shares of food spend.</p>"
        f'<p class="sub" id="audience">Packet for {html.escape(packet.audience)}.</p>'
        f'<h2>Headlines</h2><div class="kpis" id="kpis">{kpis}</div>'
        f"<h2>Charts</h2>{figures}{tables}<h2>Data-quality notes</h2><ul>{notes}</ul>"
        '<p class="sub">Made with coop. Local = each district\'s own definition of local; routes per Love, '
        "Jablonski, Thilmany McFadden &amp; Bellows (2025).</p></body></html>"
    )


def to_xlsx(packet: Packet) -> bytes:
    """The packet's tables as a workbook: a KPI sheet and one sheet per table, units in headers."""
    buffer = io.BytesIO()
    # text stays text: a name starting with '=' is never a formula, an address never a live link
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    with xlsxwriter.Workbook(buffer, options) as book:
        bold = book.add_format({"bold": True})
        wrap = book.add_format({"italic": True, "font_color": "#5f6b5f"})
        sheet = book.add_worksheet("KPIs")
        sheet.write_row(0, 0, ["Figure", "Value", "Definition"], bold)
        sheet.freeze_panes(1, 0)
        sheet.write_string(len(packet.kpis) + 2, 0, f"Packet for {packet.audience}.")
        for i, k in enumerate(packet.kpis, start=1):
            sheet.write_string(i, 0, k.label)
            if k.number is None:  # not known: the words, not a number
                sheet.write_string(i, 1, k.value)
            else:
                sheet.write_number(i, 1, k.number, book.add_format({"num_format": k.number_format or "General"}))
            sheet.write_string(i, 2, k.note)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 1, 18)
        sheet.set_column(2, 2, 80)
        for table in packet.tables:
            formats = {c: "$#,##0.00" for c in table.money} | {c: "0.0%" for c in table.shares}
            frame = table.frame.rename({c: column_title(c, table) for c in table.frame.columns})
            frame.write_excel(
                workbook=book,
                worksheet=table.key[:31],
                position="A1",
                column_formats={column_title(c, table): f for c, f in formats.items()},
                autofit=True,
                table_style="Table Style Light 9",
            )
            table_sheet = book.get_worksheet_by_name(table.key[:31])
            table_sheet.freeze_panes(1, 0)
            table_sheet.write(frame.height + 2, 0, table.caption, wrap)
        notes = book.add_worksheet("Notes")
        notes.write(0, 0, "Data-quality notes", bold)
        for i, note in enumerate(packet.notes, start=1):
            notes.write(i, 0, note)
    return buffer.getvalue()


def output_folder(out_dir: str | Path) -> Path:
    """`out_dir` made a folder to write into; CoopError naming it when it is a file or cannot be created."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CoopError(f"{out}: --out names a file, not a folder; give a folder to write into")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CoopError(f"{out}: cannot create the folder: {describe(exc)}") from exc
    return out


def write(packet: Packet, out_dir: str | Path) -> dict[str, Path]:
    """Write `packet-YYYY-MM.html` and `.xlsx` into `out_dir`; return their paths."""
    out = output_folder(out_dir)
    stem = f"packet-{packet.month:%Y-%m}" + (f"-{packet.tag}" if packet.tag else "")
    paths = {"html": out / f"{stem}.html", "xlsx": out / f"{stem}.xlsx"}
    html_text, xlsx_bytes = to_html(packet), to_xlsx(packet)
    try:
        paths["html"].write_text(html_text, encoding="utf-8")
        paths["xlsx"].write_bytes(xlsx_bytes)
    except OSError as exc:
        raise CoopError(f"{out}: cannot write the packet: {describe(exc)}") from exc
    return paths


# a cell a spreadsheet would run as a formula when it starts with one of these (OWASP's CSV injection rule)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str | None) -> str | None:
    """A text cell a spreadsheet shows as text: prefixed with ' when it starts like a formula."""
    if text is not None and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A table as UTF-8 CSV for download, every text cell (and header) spreadsheet-safe (`spreadsheet_safe`)."""
    text = pl.col(pl.String)
    starts = "^[" + re.escape("".join(FORMULA_STARTS)) + "]"
    safe = frame.with_columns(pl.when(text.str.contains(starts)).then(pl.lit("'") + text).otherwise(text).name.keep())
    safe = safe.rename(lambda c: spreadsheet_safe(c) or c)
    return safe.write_csv().encode("utf-8")
