"""A broadline distributor's "District Usage by Item" report: one file, many districts, one period.

The report is read by its structure, never by fixed row numbers:

* the header row is the first row holding the labels Description, Pack Size, UOM, Quantity and
  Total Amt Invoiced (Item No, Brand, Avg Price and Country of Origin / COO are read when present; column order
  is free);
* the period comes from the rows above the header: ``Start Date ... MM/DD/YYYY`` and ``End Date ... MM/DD/YYYY``
  (one cell or several; an optional ``Bill-To ...`` list of ids), else a row naming a period with two dates;
* a row whose first non-empty cell reads ``NAME (bill-to id)`` and that has no quantity, pack size or UOM
  starts a district block;
* every row below a block header with an item number or description and a quantity is an item line;
* blank rows, rows whose first text says "total" and that have no pack size or UOM (subtotals,
  grand totals), and rows with amounts but no item are skipped, and :attr:`UsageReport.skipped` says which and why.

Reading for a load (:func:`read`; `coop.ingest.ingest_file` loads the lines): each line keeps the report's
period (``period_start``/``period_end``), its ``invoice_date`` is the period's end date, and its US origin is left
empty (the report does not say where in the US the food was grown); a Country of Origin column, where the report
has one, gives ``origin_country`` (checked by the ingest like a template's). Its vendor type is the report's
(``--vendor-type``) unless the line carries one of the report's own markers (`report_markers.csv`: e.g. brand
'DOD FRESH PRODUCE' -> dod_fresh, brand 'USDA' -> usda_foods); ``vendor_type_rule`` keeps which decided. Avg Price
is rounded to the cent, so quantity x Avg Price can miss the invoiced total by up to quantity x $0.005; see
:func:`unit_prices` for how the stored unit price is chosen so that rounding alone never raises a price flag.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from coop import names
from coop.errors import ERROR, WARNING, InputFileError, Problem, ValidationError
from coop.ingest import readers
from coop.ingest.enrich import PRICE_TOLERANCE
from coop.registry import districts

SOURCE_KIND: Final = "usage_report"
# A report has no district addresses. Districts registered from it get these placeholders unless a state and
# ZIP are given: "XX" is no USPS state code and "00000" no ZIP, so locality rules treat them as unknown. Fix
# them with `python -m coop districts FILE` (the districts CSV upserts by district_id).
UNKNOWN_STATE: Final = "XX"
UNKNOWN_ZIP: Final = "00000"
HEAD_ROWS: Final = 40  # rows is_usage_report reads
AVG_PRICE_ROUNDING: Final = 0.005  # dollars: Avg Price is rounded to the cent

ITEM_NO: Final = "item_no"
BRAND: Final = "brand"
DISTRICT_NAME: Final = "district_name"
REPORTED_AVG_PRICE: Final = "reported_avg_price"

# header label (normalised: lower case, letters and digits only) -> column in the parsed frame
_LABELS: Final = {
    **dict.fromkeys(("itemno", "itemnumber", "item", "itemcode", "itemid"), ITEM_NO),
    **dict.fromkeys(("description", "itemdescription", "productdescription", "desc"), names.DESCRIPTION),
    **dict.fromkeys(("brand", "brandname"), BRAND),
    **dict.fromkeys(("packsize", "pack", "packsz", "pksize", "size"), names.PACK_SIZE),
    **dict.fromkeys(("uom", "unitofmeasure", "um", "unit"), names.UNIT),
    **dict.fromkeys(("quantity", "qty", "qtyshipped", "quantityshipped", "qtyinvoiced"), names.QUANTITY),
    **dict.fromkeys(
        (
            "totalamtinvoiced",
            "totalamountinvoiced",
            "amtinvoiced",
            "amountinvoiced",
            "totalamount",
            "extprice",
            "extendedprice",
            "extendedamount",
            "totalinvoiced",
        ),
        names.EXTENDED_PRICE,
    ),
    **dict.fromkeys(("avgprice", "averageprice", "avgunitprice", "averageunitprice"), names.UNIT_PRICE),
    **dict.fromkeys(("countryoforigin", "coo", "origincountry", "country"), names.ORIGIN_COUNTRY),
}
_REQUIRED: Final = (names.DESCRIPTION, names.PACK_SIZE, names.UNIT, names.QUANTITY, names.EXTENDED_PRICE)
_BLOCK: Final = re.compile(r"^\s*(?P<name>\S.*?)\s*\(\s*(?P<id>[A-Za-z0-9][A-Za-z0-9\-]*)\s*\)\s*$")
_DATE: Final = r"(\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})"
_START: Final = re.compile(rf"start\s*date[\s.:]*{_DATE}", re.IGNORECASE)
_END: Final = re.compile(rf"end\s*date[\s.:]*{_DATE}", re.IGNORECASE)
_BILL_TO: Final = re.compile(r"bill[\s-]*to[\s.:]*([A-Za-z0-9][A-Za-z0-9,\s\-]*)", re.IGNORECASE)
_TOTAL: Final = re.compile(r"\btotals?\b|\bsubtotal", re.IGNORECASE)
_SPREADSHEET_SUFFIXES: Final = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_TEXT_SUFFIXES: Final = (".csv", ".txt", ".tsv")
MARKERS_FILE: Final = "report_markers.csv"
GIVEN_RULE: Final = "report"  # vendor_type_rule of a line with the report's own vendor type (--vendor-type)


@dataclass(frozen=True)
class SkippedRow:
    """A spreadsheet row the parser did not read as an item line, and why."""

    row: int
    reason: str


@dataclass(frozen=True)
class UsageReport:
    """A parsed usage report: its period, bill-to ids, item lines (one row each) and the rows skipped."""

    file_name: str
    period_start: date
    period_end: date
    bill_to_ids: tuple[str, ...]
    lines: pl.DataFrame
    skipped: tuple[SkippedRow, ...] = ()

    def blocks(self) -> pl.DataFrame:
        """One row per district block: district_name, bill_to_id, header row, lines and invoiced total."""
        return (
            self.lines.group_by(DISTRICT_NAME, names.BILL_TO_ID, "block_row", maintain_order=True)
            .agg(pl.len().alias("lines"), pl.col(names.EXTENDED_PRICE).sum().alias(names.EXTENDED_PRICE))
            .sort("block_row")
        )


# --- reading -----------------------------------------------------------------------------
def _rows(path: Path, nrows: int | None = None) -> list[list[Any]]:
    """The first sheet's rows from row 1 (blank leading rows kept), or a CSV's rows, as Python values."""
    suffix = path.suffix.lower()
    if suffix in _SPREADSHEET_SUFFIXES:
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        if suffix in (".xlsx", ".xlsm"):
            readers.check_archive(path)  # a zip bomb is refused before calamine reads it
        try:
            book = CalamineWorkbook.from_path(str(path))
            visible = [
                (m.name, "visible" if m.visible == SheetVisibleEnum.Visible else "hidden") for m in book.sheets_metadata
            ]
            sheet = book.get_sheet_by_name(readers.first_visible_sheet(path.name, visible))
            return sheet.to_python(skip_empty_area=False, nrows=nrows)
        except InputFileError:
            raise
        except Exception as exc:  # calamine raises its own error types for damaged files
            raise InputFileError(f"{path}: cannot read spreadsheet: {exc}") from exc
    if suffix in _TEXT_SUFFIXES:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            sample = fh.read(65536)
            fh.seek(0)
            try:
                dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            out: list[list[Any]] = []
            for record in csv.reader(fh, dialect):
                out.append(record)
                if nrows is not None and len(out) >= nrows:
                    break
            return out
    raise InputFileError(f"{path}: not a spreadsheet or CSV file")


def _text(value: Any) -> str:
    """A cell as stripped text ('' for empty; 401374.0 -> '401374')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _label(value: Any) -> str:
    """A header cell normalised for matching: lower case letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", _text(value).lower())


def _header(rows: list[list[Any]]) -> tuple[int, dict[str, int]] | None:
    """(0-based index of the header row, column -> cell index), or None if no row has the labels."""
    for i, row in enumerate(rows):
        found: dict[str, int] = {}
        for j, cell in enumerate(row):
            column = _LABELS.get(_label(cell))
            if column is not None and column not in found:
                found[column] = j
        if all(c in found for c in _REQUIRED):
            return i, found
    return None


class BadPeriodDateError(ValueError):
    """A period date above a usage report's header that is no real date (e.g. 2/30/2025), and its row."""

    def __init__(self, text: str, row: int) -> None:
        super().__init__(text)
        self.text, self.row = text, row


def _parse_date(text: str) -> date:
    """A date from M/D/YYYY, M/D/YY or YYYY-MM-DD text."""
    for fmt in ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _period(rows: list[list[Any]], header_index: int) -> tuple[date, date, tuple[str, ...]] | None:
    """(start, end, bill-to ids) from the rows above the header, or None if they name no period.

    'Start Date ... End Date ...' in one cell or several, else a row naming a period with two dates.
    """
    texts = [" ".join(_text(c) for c in row if _text(c)) for row in rows[:header_index]]
    start = next(((m.group(1), i) for i, t in enumerate(texts) if (m := _START.search(t))), None)
    end = next(((m.group(1), i) for i, t in enumerate(texts) if (m := _END.search(t))), None)
    if start is None or end is None:
        for i, t in enumerate(texts):
            dates = re.findall(_DATE, t)
            if len(dates) == 2 and re.search(r"period|from|dates?\b", t, re.IGNORECASE):
                start, end = (dates[0], i), (dates[1], i)
                break
    if start is None or end is None:
        return None
    bill_to = next((m for t in texts if (m := _BILL_TO.search(t))), None)
    ids = tuple(x for x in re.split(r"[,\s]+", bill_to.group(1)) if x) if bill_to else ()

    def parsed(found: tuple[str, int]) -> date:
        try:
            return _parse_date(found[0])
        except ValueError as exc:
            raise BadPeriodDateError(found[0], found[1] + 1) from exc

    return parsed(start), parsed(end), ids


def is_usage_report(path: str | Path) -> bool:
    """True when the file's first rows hold a usage-report header and a start/end-date cell above it."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in _SPREADSHEET_SUFFIXES + _TEXT_SUFFIXES:
        return False
    try:
        rows = _rows(path, HEAD_ROWS)
        found = _header(rows)
        return found is not None and _period(rows, found[0]) is not None
    except BadPeriodDateError:
        return True  # a usage report's structure: `parse` names the date at fault
    except (InputFileError, ValueError, OSError, csv.Error):
        return False


def _is_number(value: Any) -> bool:
    """Whether a cell holds a number (empty and text cells do not)."""
    try:
        return _number(value) is not None
    except ValueError:
        return False


def _number(value: Any) -> float | None:
    """A numeric cell as float ('1,234.50' and '$5' read as numbers); None when empty; ValueError if text."""
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        return float(value)
    text = _text(value).replace(",", "").replace("$", "")
    if not text:
        return None
    if re.fullmatch(r"\(.*\)", text):
        text = "-" + text[1:-1]
    return float(text)


def parse(path: str | Path) -> UsageReport:
    """Read a usage report into its period, bill-to ids and item lines; raise naming the row at fault."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    rows = _rows(path)
    found = _header(rows)
    if found is None:
        raise InputFileError(
            f"{path.name}: no header row with the labels Description, Pack Size, UOM, Quantity, Total Amt Invoiced"
        )
    header_index, columns = found
    try:
        period = _period(rows, header_index)
    except BadPeriodDateError as exc:
        raise InputFileError(
            f"{path.name} row {exc.row}: period date '{exc.text}' is not a real date (M/D/YYYY or YYYY-MM-DD)"
        ) from exc
    if period is None:
        raise InputFileError(
            f"{path.name}: no cell above the header (row {header_index + 1}) holds 'Start Date ... End Date ...'"
        )
    period_start, period_end, listed_ids = period
    if period_end < period_start:
        raise InputFileError(f"{path.name}: period ends ({period_end}) before it starts ({period_start})")

    skipped = [
        SkippedRow(i + 1, "above the header row (title and period)" if any(_text(c) for c in rows[i]) else "blank row")
        for i in range(header_index)
    ]
    problems: list[Problem] = []
    records: dict[str, list[Any]] = {
        k: []
        for k in (
            DISTRICT_NAME,
            names.BILL_TO_ID,
            "block_row",
            names.SOURCE_ROW,
            ITEM_NO,
            names.DESCRIPTION,
            BRAND,
            names.PACK_SIZE,
            names.UNIT,
            names.QUANTITY,
            names.EXTENDED_PRICE,
            names.UNIT_PRICE,
            names.ORIGIN_COUNTRY,
        )
    }
    block: tuple[str, str, int] | None = None
    numeric = (names.QUANTITY, names.EXTENDED_PRICE, names.UNIT_PRICE)
    header_text = {column: _text(rows[header_index][j]) for column, j in columns.items()}

    def cell(row: list[Any], column: str) -> Any:
        j = columns.get(column)
        return row[j] if j is not None and j < len(row) else None

    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        spreadsheet_row = index + 1
        texts = [_text(c) for c in row]
        if not any(texts):
            skipped.append(SkippedRow(spreadsheet_row, "blank row"))
            continue
        first_index = next(j for j, t in enumerate(texts) if t)
        first = texts[first_index]

        def other(column: str, first_index: int = first_index, row: list[Any] = row) -> Any:
            """The cell of `column` unless it is the row's first cell (a label may sit in any column)."""
            return None if columns.get(column) == first_index else cell(row, column)

        quantity_text = _text(cell(row, names.QUANTITY))
        item_text = _text(cell(row, ITEM_NO)) + _text(cell(row, names.DESCRIPTION))
        packed = any(_text(other(c)) for c in (names.PACK_SIZE, names.UNIT))  # item lines have these
        match = _BLOCK.match(first)
        if match and not packed and not _is_number(other(names.QUANTITY)) and not _TOTAL.search(first):
            block = (match.group("name"), match.group("id"), spreadsheet_row)
            continue
        if _TOTAL.search(first) and not packed:  # "TOTAL CEREAL" with a pack size and UOM is an item
            skipped.append(SkippedRow(spreadsheet_row, f"total row ({first!r}): a sum of the lines above"))
            continue
        if not item_text:
            reason = "amounts with no item number or description: a subtotal" if quantity_text else "no item"
            skipped.append(SkippedRow(spreadsheet_row, reason))
            continue
        if block is None:
            reason = "item line before any district block header 'NAME (bill-to id)'"
            problems.append(Problem(path.name, spreadsheet_row, "(line)", reason))
            continue
        values: dict[str, float | None] = {}
        for column in numeric:
            raw = cell(row, column)
            try:
                values[column] = _number(raw)
            except ValueError:
                problems.append(
                    Problem(
                        path.name, spreadsheet_row, header_text.get(column, column), f"not a number: {_text(raw)!r}"
                    )
                )
                values[column] = None
        records[DISTRICT_NAME].append(block[0])
        records[names.BILL_TO_ID].append(block[1])
        records["block_row"].append(block[2])
        records[names.SOURCE_ROW].append(spreadsheet_row)
        for column in (ITEM_NO, names.DESCRIPTION, BRAND, names.PACK_SIZE, names.UNIT, names.ORIGIN_COUNTRY):
            records[column].append(_text(cell(row, column)) or None)
        for column in numeric:
            records[column].append(values[column])
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} unreadable cell(s) or row(s); nothing loaded", problems)
    lines = pl.DataFrame(
        records,
        schema={
            DISTRICT_NAME: pl.String,
            names.BILL_TO_ID: pl.String,
            "block_row": pl.Int64,
            names.SOURCE_ROW: pl.Int64,
            ITEM_NO: pl.String,
            names.DESCRIPTION: pl.String,
            BRAND: pl.String,
            names.PACK_SIZE: pl.String,
            names.UNIT: pl.String,
            names.QUANTITY: pl.Float64,
            names.EXTENDED_PRICE: pl.Float64,
            names.UNIT_PRICE: pl.Float64,
            names.ORIGIN_COUNTRY: pl.String,
        },
    )
    block_ids = tuple(dict.fromkeys(lines[names.BILL_TO_ID].to_list()))
    return UsageReport(
        file_name=path.name,
        period_start=period_start,
        period_end=period_end,
        bill_to_ids=listed_ids or block_ids,
        lines=lines,
        skipped=tuple(sorted(skipped, key=lambda s: s.row)),
    )


# --- loading -----------------------------------------------------------------------------
def unit_prices() -> pl.Expr:
    """The unit price to store: the reported Avg Price, or extended/quantity where the avg is only rounded off.

    * quantity x Avg Price within 1 cent of Total Amt Invoiced: keep the reported Avg Price;
    * within quantity x $0.005 (+1 cent), i.e. explained by rounding the average to the cent: store
      Total / Quantity (the ingest keeps 4 decimals), so no false price flag is raised;
    * further off: keep the reported Avg Price, and the ingest flags the line as a real inconsistency.
    """
    qty, avg, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    gap = (ext - qty * avg).abs()
    rounding_only = (gap > PRICE_TOLERANCE) & (gap <= qty.abs() * AVG_PRICE_ROUNDING + PRICE_TOLERANCE)
    return pl.when(avg.is_null() | (rounding_only & (qty != 0))).then(ext / qty).otherwise(avg).alias(names.UNIT_PRICE)


@dataclass(frozen=True)
class Marker:
    """A report's own sign that a line is of another vendor type: `pattern` (a regex, any case) on `field`."""

    marker: str
    field: str  # brand, description or item_no
    pattern: str
    vendor_type: str
    source: str


@functools.cache
def markers() -> tuple[Marker, ...]:
    """The vendor-type markers of `report_markers.csv`, in order (the first that matches a line decides)."""
    text = resources.files("coop.ingest").joinpath(MARKERS_FILE).read_text(encoding="utf-8")
    found = tuple(Marker(**row) for row in csv.DictReader(text.splitlines()))
    for m in found:
        if m.field not in (BRAND, names.DESCRIPTION, ITEM_NO) or m.vendor_type not in names.VENDOR_TYPES:
            raise ValueError(f"{MARKERS_FILE}: marker {m.marker!r}: unknown field or vendor type")
    return found


def line_vendor_types(vendor_type: str) -> tuple[pl.Expr, pl.Expr]:
    """(vendor_type, vendor_type_rule) of each line: the first marker that matches, else the report's own type.

    The rule names the marker and the text it matched, e.g. "report marker dod_brand: brand 'DOD FRESH PRODUCE'".
    """
    kind: pl.Expr = pl.lit(vendor_type)
    rule: pl.Expr = pl.lit(GIVEN_RULE)
    for m in reversed(markers()):  # built inside out, so the first marker is tested first
        hit = pl.col(m.field).str.contains(f"(?i){m.pattern}").fill_null(False)
        kind = pl.when(hit).then(pl.lit(m.vendor_type)).otherwise(kind)
        text = pl.format(
            "report marker {}: {} '{}'", pl.lit(m.marker), pl.lit(m.field.replace("_", " ")), pl.col(m.field)
        )
        rule = pl.when(hit).then(text).otherwise(rule)
    return kind.alias(names.VENDOR_TYPE), rule.alias(names.VENDOR_TYPE_RULE)


def _normal_name(expr: pl.Expr) -> pl.Expr:
    """A district name for matching: lower case, single spaces, trimmed."""
    return expr.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def _slug(name: str) -> str:
    """A district id made from a name: 'ALHAMBRA SCHOOL DISTRICT' -> 'alhambra-school-district'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def match_districts(con: duckdb.DuckDBPyConnection, report: UsageReport) -> pl.DataFrame:
    """One row per block: district_name, bill_to_id, block_row and the matched district_id (null if none)."""
    known = districts.load(con).select(names.DISTRICT_ID, names.NAME, names.BILL_TO_ID)
    by_id = (
        known.filter(pl.col(names.BILL_TO_ID).is_not_null())
        .select(pl.col(names.BILL_TO_ID).str.split(";"), pl.col(names.DISTRICT_ID).alias("_by_id"))
        .explode(names.BILL_TO_ID)  # a district may have several accounts (stored ';'-joined)
        .with_columns(pl.col(names.BILL_TO_ID).str.strip_chars())
        .filter(pl.col(names.BILL_TO_ID) != "")
        .unique(names.BILL_TO_ID, keep="first")
    )
    by_name = known.select(
        _normal_name(pl.col(names.NAME)).alias("_key"), pl.col(names.DISTRICT_ID).alias("_by_name")
    ).unique("_key", keep="first")
    blocks = report.lines.select(DISTRICT_NAME, names.BILL_TO_ID, "block_row").unique(maintain_order=True)
    return (
        blocks.with_columns(_normal_name(pl.col(DISTRICT_NAME)).alias("_key"))
        .join(by_id, on=names.BILL_TO_ID, how="left")
        .join(by_name, on="_key", how="left")
        .select(
            DISTRICT_NAME,
            names.BILL_TO_ID,
            "block_row",
            pl.coalesce("_by_id", "_by_name").alias(names.DISTRICT_ID),
        )
        .sort("block_row")
    )


def _plan(
    con: duckdb.DuckDBPyConnection, unknown: pl.DataFrame, state: str | None, zip_code: str | None
) -> list[dict[str, Any]]:
    """The districts to register for the unknown blocks (placeholder state/ZIP unless given), ids not yet taken."""
    taken = set(districts.load(con)[names.DISTRICT_ID].to_list())
    added: list[dict[str, Any]] = []
    for name, bill_to, block_row in unknown.select(DISTRICT_NAME, names.BILL_TO_ID, "block_row").iter_rows():
        district_id = _slug(name) or bill_to
        if district_id in taken:
            district_id = f"{district_id}-{bill_to}"
        taken.add(district_id)
        added.append(
            {
                names.DISTRICT_ID: district_id,
                names.NAME: name,
                names.STATE: (state or UNKNOWN_STATE).upper(),
                names.ZIP: zip_code or UNKNOWN_ZIP,
                names.BILL_TO_ID: bill_to,
                "block_row": block_row,
            }
        )
    return added


@dataclass(frozen=True)
class ReportLines:
    """A usage report read for loading: its canonical lines, the districts its load registers, and their notes."""

    file_name: str
    lines: pl.DataFrame  # canonical columns plus source_row, each line under its block's district
    new_districts: tuple[dict[str, Any], ...] = ()  # district_id, name, state, zip, bill_to_id, block_row
    notes: tuple[Problem, ...] = ()  # a warning per district registered


def _one_block_as(
    con: duckdb.DuckDBPyConnection, file_name: str, matched: pl.DataFrame, district_id: str, add_districts: bool
) -> pl.DataFrame:
    """The report's one block under `district_id` (a registered district); a clear error otherwise."""
    if add_districts:
        raise InputFileError(f"{file_name}: --district and --add-districts do not go together")
    if matched.height != 1:
        blocks = ", ".join(f"{n!r} (row {r})" for n, r in matched.select(DISTRICT_NAME, "block_row").iter_rows())
        raise InputFileError(
            f"{file_name}: --district {district_id} loads a report of one district block; this one has "
            f"{matched.height}: {blocks} (register the districts, with bill_to_id, and load it without --district)"
        )
    if district_id not in set(districts.load(con)[names.DISTRICT_ID].to_list()):
        raise InputFileError(
            f"{file_name}: unknown district {district_id!r}: register it first with `python -m coop districts FILE`"
        )
    return matched.with_columns(pl.lit(district_id).alias(names.DISTRICT_ID))


def read(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    vendor_name: str,
    vendor_type: str,
    district_id: str | None = None,
    add_districts: bool = False,
    state: str | None = None,
    zip_code: str | None = None,
) -> ReportLines:
    """Read a usage report into canonical lines, each block under its district (new ones planned if allowed).

    With `district_id` the report must hold one district block, and its lines go to that registered district
    whatever the block's name or bill-to id says.
    """
    path = Path(path)
    report = parse(path)
    if report.lines.is_empty():
        raise ValidationError(
            f"{path.name}: no item lines under any district block; nothing loaded",
            [Problem(path.name, 1, "(all)", "no item lines", ERROR)],
        )
    matched = match_districts(con, report)
    if district_id is not None:
        matched = _one_block_as(con, path.name, matched, district_id, add_districts)
    unknown = matched.filter(pl.col(names.DISTRICT_ID).is_null())
    if unknown.height and not add_districts:
        problems = [
            Problem(
                path.name,
                row,
                "(district block)",
                f"unknown district {name!r} (bill-to {bill_to}): no district has this bill_to_id or name "
                "(register it with `python -m coop districts FILE` or load with --add-districts)",
                ERROR,
            )
            for name, bill_to, row in unknown.select(DISTRICT_NAME, names.BILL_TO_ID, "block_row").iter_rows()
        ]
        raise ValidationError(f"{path.name}: {unknown.height} unknown district block(s); nothing loaded", problems)
    added = _plan(con, unknown, state, zip_code) if unknown.height else []
    if added:
        new_ids = pl.DataFrame(
            {"block_row": [d["block_row"] for d in added], "_new": [d[names.DISTRICT_ID] for d in added]},
            schema={"block_row": pl.Int64, "_new": pl.String},
        )
        matched = (
            matched.join(new_ids, on="block_row", how="left")
            .with_columns(pl.coalesce(names.DISTRICT_ID, "_new").alias(names.DISTRICT_ID))
            .drop("_new")
        )
    frame = (
        report.lines.join(matched.select("block_row", names.DISTRICT_ID), on="block_row", how="left")
        .with_columns(
            unit_prices(),
            pl.lit(report.period_end).alias(names.INVOICE_DATE),
            pl.lit(report.period_start).alias(names.PERIOD_START),
            pl.lit(report.period_end).alias(names.PERIOD_END),
            pl.lit(vendor_name).alias(names.VENDOR_NAME),
            *line_vendor_types(vendor_type),
            pl.lit(None, dtype=pl.String).alias(names.ORIGIN_STATE),
            pl.lit(None, dtype=pl.String).alias(names.ORIGIN_ZIP),
        )
        .select(
            names.SOURCE_ROW,
            names.DISTRICT_ID,
            names.INVOICE_DATE,
            names.PERIOD_START,
            names.PERIOD_END,
            names.VENDOR_NAME,
            names.VENDOR_TYPE,
            names.VENDOR_TYPE_RULE,
            names.DESCRIPTION,
            names.QUANTITY,
            names.UNIT,
            names.PACK_SIZE,
            names.UNIT_PRICE,
            names.EXTENDED_PRICE,
            names.ORIGIN_STATE,
            names.ORIGIN_ZIP,
            names.ORIGIN_COUNTRY,
        )
    )
    notes = [
        Problem(
            path.name,
            d["block_row"],
            "(district block)",
            f"registered new district {d[names.DISTRICT_ID]!r} ({d[names.NAME]}, bill-to "
            f"{d[names.BILL_TO_ID]}) with state {d[names.STATE]} and ZIP {d[names.ZIP]}"
            + ("; placeholders: set them with `python -m coop districts FILE`" if not (state and zip_code) else ""),
            WARNING,
        )
        for d in added
    ]
    return ReportLines(path.name, frame, tuple(added), tuple(notes))
