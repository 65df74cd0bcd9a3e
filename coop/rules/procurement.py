"""Procurement records: quotes, the method each procurement needs, its checks, and seed 002's filled worksheets.

What is checked (seed 002, "Micro-Purchase Procedures" and "Small Purchase Procedures"; 2 CFR 200.320):

* The method comes from the procurement's estimated value and the thresholds in force on its date, the most
  restrictive of the federal, state and district values (`coop.rules.thresholds`, the district's own first):
  micro when it does not exceed the micro-purchase threshold, small when it does not exceed the small-purchase
  threshold, formal above that.
* Micro-purchase: its price documented (one quote). When more than one vendor quoted, seed 002 says the purchase
  is now under small purchase procedures: the Small Purchase Procedures Worksheet is written.
* Small purchase ("three bids and a buy"): at least two quotes, three recommended; with fewer than three, a
  reason why more vendors could not be found.
* Every quote: the vendor, whether it meets the product specifications and the delivery requirements, the price.
* Award: one quote accepted, the lowest responsive one (meets specifications and delivery), or a reason.
* Formal procurements (sealed bids, competitive proposals) are beyond these worksheets and flagged as such.
* A procurement covers the purchases that followed: same district, vendor and item, from its date to the end of
  its school year. Spend with neither a procurement record nor a contract on record is listed apart.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import duckdb
import polars as pl

from coop import calendar, names, parsing
from coop.errors import InputFileError, Problem, ValidationError
from coop.registry import contracts as registry_contracts
from coop.registry import districts as registry_districts
from coop.rules import thresholds
from coop.store import db

QUOTE_COLUMNS: Final = (
    names.PROCUREMENT_ID,
    names.DISTRICT_ID,
    names.QUOTE_DATE,
    names.ITEM,
    names.SPECIFICATION,
    names.QUANTITY,
    names.UNIT,
    names.ESTIMATED_VALUE,
    names.VENDOR_NAME,
    names.VENDOR_ADDRESS,
    names.MEETS_SPECS,
    names.MEETS_DELIVERY,
    names.QUOTE,
    names.ACCEPTED,
    names.REASON,
)
QUOTE_SCHEMA: Final = {
    names.PROCUREMENT_ID: pl.String,
    names.DISTRICT_ID: pl.String,
    names.QUOTE_DATE: pl.Date,
    names.ITEM: pl.String,
    names.SPECIFICATION: pl.String,
    names.QUANTITY: pl.Float64,
    names.UNIT: pl.String,
    names.ESTIMATED_VALUE: pl.Float64,
    names.VENDOR_NAME: pl.String,
    names.VENDOR_ADDRESS: pl.String,
    names.MEETS_SPECS: pl.Boolean,
    names.MEETS_DELIVERY: pl.Boolean,
    names.QUOTE: pl.Float64,
    names.ACCEPTED: pl.Boolean,
    names.REASON: pl.String,
    names.SOURCE_ROW: pl.Int64,
}
REQUIRED: Final = (names.PROCUREMENT_ID, names.DISTRICT_ID, names.QUOTE_DATE, names.ITEM, names.ESTIMATED_VALUE)
SHARED: Final = (names.DISTRICT_ID, names.QUOTE_DATE, names.ITEM, names.ESTIMATED_VALUE)  # one value a procurement
_BOOLEANS: Final = (names.MEETS_SPECS, names.MEETS_DELIVERY, names.ACCEPTED)
_NUMBERS: Final = (names.QUANTITY, names.ESTIMATED_VALUE, names.QUOTE)
_DATE_FORMATS: Final = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")
MIN_SMALL_QUOTES: Final = 2  # seed 002: "At least two price quotes are required"
RECOMMENDED_QUOTES: Final = 3  # "... and the USDA recommends receiving three quotes"
SEED002: Final = "Alabama, Procuring Local Fruits and Vegetables; 2 CFR 200.320"
_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]+")

MICRO_WORKSHEET: Final = "Micro-Purchase Procedures Worksheet"
SMALL_WORKSHEET: Final = "Small Purchase Procedures Worksheet"
# seed 002, Checklist for Purchasing of Local Produce: (section, question)
FOOD_SAFETY_CHECKLIST: Final = (
    ("Production Practices", "Are wells protected from contamination?"),
    ("Production Practices", "If irrigation is used, what is its source? (well, stream, pond, municipal, other)"),
    ("Production Practices", "Are farm livestock and wild animals restricted from growing areas?"),
    (
        "Product Handling",
        "Are harvesting baskets, totes, or other containers kept covered and cleaned (with potable water) and "
        "sanitized before use?",
    ),
    ("Product Handling", "Is harvesting equipment/machinery that contacts the products kept as clean as possible?"),
    ("Transportation", "Is transport vehicle well maintained and clean?"),
    ("Facilities", "Is potable water/well tested at least once per year and results kept on file?"),
    ("Facilities", "Are food contact surfaces regularly washed and rinsed with potable water and then sanitized?"),
    ("Facilities", "Do workers have access to toilets and hand washing stations with proper supplies?"),
    ("Worker Health and Hygiene", "Is a worker food safety training program in place?"),
    (
        "Worker Health and Hygiene",
        "Are workers instructed not to work if they exhibit signs of infection (e.g., fever, diarrhea, etc.)?",
    ),
)


# --- reading quotes ---------------------------------------------------------------------------------------------
def _rows(path: Path) -> list[list[Any]]:
    """The rows of a CSV or the first sheet of a spreadsheet, header first."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # calamine raises its own error types for damaged files
            raise InputFileError(f"{path}: cannot read spreadsheet: {exc}") from exc
    import csv

    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _text(value: Any) -> str:
    """A cell as stripped text ('' when empty; 12.0 -> '12')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> float | None:
    """'$1,250.00' as 1250.0; None when not a finite number."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _date(value: Any) -> date | None:
    """A date from a date cell, ISO or M/D/YYYY text; None when not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(_text(value), fmt).date()
        except ValueError:
            continue
    return None


def read_quotes(path: str | Path, known_districts: Sequence[str] | None = None) -> pl.DataFrame:
    """Quotes from a CSV or XLSX (QUOTE_COLUMNS, one row a quote); every bad cell named by file, row and column.

    Blank answers (meets_specs, meets_delivery, quote, accepted) are not file errors: the checks report them.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    rows = _rows(path)
    if not rows:
        raise InputFileError(f"{path}: file is empty")
    header = [_text(h).lower().replace(" ", "_") for h in rows[0]]
    missing = [c for c in QUOTE_COLUMNS if c not in header]
    if missing:
        problems = [Problem(path.name, 1, c, "required column missing") for c in missing]
        raise ValidationError(f"{path.name}: missing column(s) {', '.join(missing)}", problems)
    at = {c: header.index(c) for c in QUOTE_COLUMNS}
    known = set(known_districts) if known_districts is not None else None
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    first: dict[str, tuple[int, dict[str, Any]]] = {}
    for number, raw in enumerate(rows[1:], start=2):
        cells = {c: (raw[i] if i < len(raw) else None) for c, i in at.items()}
        if not any(_text(v) for v in cells.values()):
            continue

        def bad(column: str, reason: str, number: int = number) -> None:
            problems.append(Problem(path.name, number, column, reason))

        record: dict[str, Any] = {names.SOURCE_ROW: number}
        for column in QUOTE_COLUMNS:
            text = _text(cells[column])
            if column in REQUIRED and not text:
                bad(column, "required value is empty")
                record[column] = None
            elif column == names.QUOTE_DATE:
                record[column] = _date(cells[column])
                if record[column] is None:
                    bad(column, f"not a date: {text!r} (use YYYY-MM-DD or M/D/YYYY)")
            elif column in _NUMBERS:
                value = _number(text) if text else None
                if text and value is None:
                    bad(column, f"not a number: {text!r}")
                elif value is not None and (value < 0 or (column != names.QUOTE and value == 0)):
                    bad(column, f"{column} must be {'>= 0' if column == names.QUOTE else '> 0'}, got {text}")
                record[column] = value
            elif column in _BOOLEANS:
                record[column] = parsing.parse_bool(text) if text else None
                if text and record[column] is None:
                    bad(column, f"expected yes/no, true/false, y/n or 1/0, got {text!r}")
            else:
                record[column] = text or None
        district = record[names.DISTRICT_ID]
        if known is not None and district and district not in known:
            bad(names.DISTRICT_ID, f"unknown district {district!r} (register it with `python -m coop districts FILE`)")
        pid = record[names.PROCUREMENT_ID]
        if pid:
            if pid not in first:
                first[pid] = (number, record)
            else:
                row0, rec0 = first[pid]
                for column in SHARED:
                    if record[column] is not None and rec0[column] is not None and record[column] != rec0[column]:
                        bad(column, f"differs from row {row0} of procurement {pid!r} ({_text(rec0[column])})")
        records.append(record)
    if problems:
        raise ValidationError(f"{path.name}: {len(problems)} invalid cell(s); nothing loaded", problems)
    if not records:
        raise ValidationError(f"{path.name}: no quotes", [Problem(path.name, 2, names.PROCUREMENT_ID, "no rows")])
    return pl.DataFrame(records, schema=QUOTE_SCHEMA)


# --- checking --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Procurement:
    """One procurement checked: method and thresholds in force, its quotes, problems, award and linked spend."""

    procurement_id: str
    district_id: str
    date: date
    item: str
    specification: str | None
    quantity: float | None
    unit: str | None
    estimated_value: float
    method: str
    micro_threshold: float
    small_threshold: float
    threshold_source: str
    quotes: pl.DataFrame
    problems: tuple[str, ...]
    notes: tuple[str, ...]
    award: dict[str, Any] | None
    linked_spend: float = 0.0
    linked_lines: int = 0
    files: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Whether the record has everything seed 002's worksheet asks for."""
        return not self.problems

    @property
    def worksheet(self) -> str | None:
        """Which of seed 002's worksheets documents it (None for a formal procurement)."""
        if self.method == thresholds.FORMAL:
            return None
        priced = int(self.quotes[names.QUOTE].is_not_null().sum())
        return MICRO_WORKSHEET if self.method == thresholds.MICRO and priced <= 1 else SMALL_WORKSHEET

    def to_json(self) -> dict[str, Any]:
        """The CLI's `worksheet --json` entry (DESIGN.md), plus the thresholds, notes, linked spend and files."""
        return {
            "procurement_id": self.procurement_id,
            "district_id": self.district_id,
            "date": self.date.isoformat(),
            "item": self.item,
            "estimated_value": self.estimated_value,
            "method": self.method,
            "micro_threshold": self.micro_threshold,
            "small_threshold": self.small_threshold,
            "threshold_source": self.threshold_source,
            "quotes": self.quotes.height,
            "complete": self.complete,
            "problems": list(self.problems),
            "notes": list(self.notes),
            "award": self.award,
            "worksheet": self.worksheet,
            "linked_spend": self.linked_spend,
            "linked_lines": self.linked_lines,
            "files": self.files,
        }


def _money(value: float | None) -> str:
    """Dollars and cents ('' for none)."""
    return "" if value is None else f"${value:,.2f}"


def _yes_no(value: bool | None) -> str:
    """Yes / No / '' as the worksheet writes it."""
    return "" if value is None else ("Yes" if value else "No")


def _who(row: dict[str, Any]) -> str:
    """A quote named for a message: 'row N (vendor)'."""
    return f"row {row[names.SOURCE_ROW]} ({row[names.VENDOR_NAME] or 'no vendor'})"


def _quote_problems(rows: list[dict[str, Any]]) -> list[str]:
    """Every quote's missing answers."""
    out: list[str] = []
    for row in rows:
        who = _who(row)
        if not row[names.VENDOR_NAME]:
            out.append(f"{who}: the vendor contacted is not named")
        if row[names.MEETS_SPECS] is None:
            out.append(f"{who}: whether it meets the product specifications is not recorded")
        if row[names.MEETS_DELIVERY] is None:
            out.append(f"{who}: whether it meets the delivery requirements is not recorded")
        if row[names.QUOTE] is None:
            out.append(f"{who}: no quote (price) recorded")
    return out


def _award(rows: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[str]]:
    """The award (one accepted quote) and its problems: not responsive, not the lowest without a reason."""
    responsive = [r for r in rows if r[names.MEETS_SPECS] and r[names.MEETS_DELIVERY] and r[names.QUOTE] is not None]
    lowest = min((r[names.QUOTE] for r in responsive), default=None)
    accepted = [r for r in rows if r[names.ACCEPTED]]
    if not accepted:
        return None, ["no award: no quote is marked accepted"]
    if len(accepted) > 1:
        vendors = ", ".join(_who(r) for r in accepted)
        return None, [f"{len(accepted)} quotes marked accepted ({vendors}): one award per procurement"]
    (won,) = accepted
    is_lowest = won in responsive and lowest is not None and won[names.QUOTE] <= lowest
    award = {
        names.VENDOR_NAME: won[names.VENDOR_NAME],
        names.QUOTE: won[names.QUOTE],
        "lowest_responsive": is_lowest,
        names.REASON: won[names.REASON],
    }
    if won not in responsive:
        return award, [
            f"the award to {_who(won)} does not meet the specifications or delivery requirements (or has no price)"
        ]
    if not is_lowest and not won[names.REASON]:
        cheapest = next(r for r in responsive if r[names.QUOTE] == lowest)
        return award, [
            f"the award to {_who(won)} at {_money(won[names.QUOTE])} is not the lowest responsive quote "
            f"({cheapest[names.VENDOR_NAME]} at {_money(lowest)}) and no reason is recorded"
        ]
    return award, []


def _method_problems(method: str, rows: list[dict[str, Any]], value: float, small: float, on: date) -> list[str]:
    """Problems of the number of quotes for the method (and of a formal procurement)."""
    priced = sum(1 for r in rows if r[names.QUOTE] is not None)
    if method == thresholds.FORMAL:
        return [
            f"estimated value {_money(value)} exceeds the small-purchase threshold {_money(small)} in force on "
            f"{on.isoformat()}: a formal procurement (sealed bids or competitive proposals, 2 CFR 200.320(c)) is "
            "required; these worksheets do not document it"
        ]
    if method == thresholds.MICRO:
        return [] if priced else ["a micro-purchase needs its price documented: no quote recorded"]
    out = []
    if priced < MIN_SMALL_QUOTES:
        out.append(
            f"a small purchase needs at least {MIN_SMALL_QUOTES} quotes ({RECOMMENDED_QUOTES} recommended); "
            f"{priced} recorded"
        )
    if priced < RECOMMENDED_QUOTES and not any(r[names.REASON] for r in rows):
        out.append(f"fewer than {RECOMMENDED_QUOTES} quotes and no reason recorded why more vendors could not be found")
    return out


def check(quotes: pl.DataFrame, districts: pl.DataFrame, *, table: pl.DataFrame | None = None) -> list[Procurement]:
    """Each procurement of the quotes: its method from the thresholds in force on its date, problems and award."""
    table = thresholds.threshold_table() if table is None else table
    heads = quotes.sort(names.SOURCE_ROW).unique(names.PROCUREMENT_ID, keep="first", maintain_order=True)
    dated = heads.select(
        names.PROCUREMENT_ID, names.DISTRICT_ID, pl.col(names.QUOTE_DATE).alias(names.INVOICE_DATE)
    ).lazy()
    limits = {
        r[names.PROCUREMENT_ID]: r
        for r in thresholds.with_thresholds(dated, districts, table, pl.lit(False)).collect().iter_rows(named=True)
    }
    out: list[Procurement] = []
    for head in heads.iter_rows(named=True):
        pid = head[names.PROCUREMENT_ID]
        group = quotes.filter(pl.col(names.PROCUREMENT_ID) == pid).sort(names.SOURCE_ROW)
        rows = group.to_dicts()
        limit = limits[pid]
        micro, small, value = limit["micro_threshold"], limit["small_threshold"], head[names.ESTIMATED_VALUE]
        if value <= micro:
            method, source = thresholds.MICRO, limit["_micro_src"]
        elif value <= small:
            method, source = thresholds.SMALL, limit["_micro_src"]
        else:
            method, source = thresholds.FORMAL, limit["_small_src"]
        problems = _method_problems(method, rows, value, small, head[names.QUOTE_DATE])
        notes = [
            f"estimated value {_money(value)} against the micro-purchase threshold {_money(micro)} and the "
            f"small-purchase threshold {_money(small)} in force on {head[names.QUOTE_DATE].isoformat()}: "
            f"{method} ({source})"
        ]
        priced = sum(1 for r in rows if r[names.QUOTE] is not None)
        if method == thresholds.MICRO and priced > 1:
            notes.append(
                f"{priced} vendors quoted: the purchase is now under small purchase procedures (Alabama handbook), "
                f"documented on the {SMALL_WORKSHEET}"
            )
        award: dict[str, Any] | None = None
        if method != thresholds.FORMAL:
            problems += _quote_problems(rows)
            award, award_problems = _award(rows)
            problems += award_problems
        out.append(
            Procurement(
                pid,
                head[names.DISTRICT_ID],
                head[names.QUOTE_DATE],
                head[names.ITEM],
                head[names.SPECIFICATION],
                head[names.QUANTITY],
                head[names.UNIT],
                value,
                method,
                micro,
                small,
                source,
                group,
                tuple(problems),
                tuple(notes),
                award,
            )
        )
    return out


# --- the purchases that followed ----------------------------------------------------------------------------------
def _covering(lines: pl.LazyFrame, procurements: Sequence[Procurement]) -> pl.LazyFrame:
    """(procurement_id, line index) for every line a procurement's award covers (see module)."""
    awards = [
        {
            names.PROCUREMENT_ID: p.procurement_id,
            names.DISTRICT_ID: p.district_id,
            "_vendor": (p.award[names.VENDOR_NAME] or "").strip().lower(),
            "_item": p.item.strip().lower(),
            "_from": p.date,
            "_to": calendar.school_year_bounds(calendar.school_year(p.date))[1],
        }
        for p in procurements
        if p.award is not None and p.award[names.VENDOR_NAME]
    ]
    schema = {
        names.PROCUREMENT_ID: pl.String,
        names.DISTRICT_ID: pl.String,
        "_vendor": pl.String,
        "_item": pl.String,
        "_from": pl.Date,
        "_to": pl.Date,
    }
    frame = pl.LazyFrame(awards, schema=schema)
    product = pl.col(names.PRODUCT).str.to_lowercase()
    description = pl.col(names.DESCRIPTION).str.to_lowercase()
    return (
        lines.with_columns(pl.col(names.VENDOR_NAME).str.strip_chars().str.to_lowercase().alias("_vendor"))
        .join(frame, on=[names.DISTRICT_ID, "_vendor"])
        .filter(
            pl.col(names.INVOICE_DATE).is_between(pl.col("_from"), pl.col("_to"))
            & ((product == pl.col("_item")) | description.str.contains(pl.col("_item"), literal=True))
        )
        .select(names.PROCUREMENT_ID, "_line")
    )


def link(procurements: Sequence[Procurement], lines: pl.LazyFrame) -> list[Procurement]:
    """The procurements with the spend and number of purchase lines each one covers."""
    indexed = lines.with_row_index("_line")
    covered = _covering(indexed, procurements).join(indexed.select("_line", names.EXTENDED_PRICE), on="_line")
    sums = {
        pid: (round(float(spend), 2), int(n))
        for pid, spend, n in covered.group_by(names.PROCUREMENT_ID)
        .agg(pl.col(names.EXTENDED_PRICE).sum(), pl.len())
        .collect()
        .iter_rows()
    }
    out = []
    for p in procurements:
        spend, n = sums.get(p.procurement_id, (0.0, 0))
        out.append(_replace(p, linked_spend=spend, linked_lines=n))
    return out


def _replace(p: Procurement, **changes: Any) -> Procurement:
    """A copy of a procurement with some fields changed."""
    from dataclasses import replace

    return replace(p, **changes)


def unrecorded_spend(
    lines: pl.LazyFrame, procurements: Sequence[Procurement], contracts: pl.DataFrame | None
) -> pl.DataFrame:
    """Per district, vendor and school year: spend with no procurement record and no contract on record behind it.

    Entitlement foods (USDA Foods, DoD Fresh) are not procurements and are left out.
    """
    indexed = lines.with_row_index("_line").filter(
        ~pl.col(names.VENDOR_TYPE).is_in(list(thresholds.ENTITLEMENT_VENDOR_TYPES))
    )
    covered = _covering(indexed, procurements).select("_line").unique()
    ranked = thresholds.contract_rank(indexed, contracts, ["_line"])
    return (
        ranked.join(covered, on="_line", how="anti")
        .filter(pl.col("_contract") == 0)
        .with_columns(calendar.school_year_expr(names.INVOICE_DATE).alias(names.SCHOOL_YEAR))
        .group_by(names.DISTRICT_ID, names.VENDOR_NAME, names.SCHOOL_YEAR)
        .agg(
            pl.col(names.EXTENDED_PRICE).sum().round(2).alias("spend"),
            pl.len().alias("lines"),
            pl.col(names.INVOICE_DATE).min().alias("first_date"),
            pl.col(names.INVOICE_DATE).max().alias("last_date"),
        )
        .sort("spend", descending=True)
        .collect()
    )


# --- the database ------------------------------------------------------------------------------------------------
_INSERT: Final = (
    f"INSERT INTO {names.PROCUREMENT_QUOTES} ({', '.join((*QUOTE_COLUMNS, names.SOURCE_ROW))}) "
    f"VALUES ({', '.join('?' * (len(QUOTE_COLUMNS) + 1))})"
)
_DELETE: Final = f"DELETE FROM {names.PROCUREMENT_QUOTES} WHERE {names.PROCUREMENT_ID} = ?"
_SELECT: Final = (
    f"SELECT {', '.join((*QUOTE_COLUMNS, names.SOURCE_ROW))} FROM {names.PROCUREMENT_QUOTES} "
    f"ORDER BY {names.PROCUREMENT_ID}, {names.SOURCE_ROW}"
)


def store(con: duckdb.DuckDBPyConnection, quotes: pl.DataFrame) -> int:
    """Keep the quotes (a procurement loaded again replaces its rows), in one transaction; the rows stored."""
    frame = quotes.select(*QUOTE_COLUMNS, names.SOURCE_ROW).cast(QUOTE_SCHEMA)
    with db.transaction(con):
        for pid in frame[names.PROCUREMENT_ID].unique().to_list():
            con.execute(_DELETE, [pid])
        for row in frame.iter_rows():
            con.execute(_INSERT, list(row))
    return frame.height


def load_quotes(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every stored quote."""
    return con.sql(_SELECT).pl().cast(QUOTE_SCHEMA)


def purchase_lines(con: duckdb.DuckDBPyConnection) -> pl.LazyFrame:
    """The purchase lines procurement records are linked to."""
    cols = (
        names.DISTRICT_ID,
        names.VENDOR_NAME,
        names.VENDOR_TYPE,
        names.INVOICE_DATE,
        names.PRODUCT,
        names.DESCRIPTION,
        names.EXTENDED_PRICE,
    )
    frame = con.sql(f"SELECT {', '.join(cols)} FROM {names.PURCHASES}").pl()
    return frame.with_columns(pl.col(names.EXTENDED_PRICE).cast(pl.Float64)).lazy()


def records_from_db(con: duckdb.DuckDBPyConnection, quotes: pl.DataFrame | None = None) -> list[Procurement]:
    """The stored procurements (or `quotes`) checked and linked to the purchases that followed."""
    quotes = load_quotes(con) if quotes is None else quotes
    if quotes.height == 0:
        return []
    checked = check(quotes, registry_districts.load(con), table=thresholds.load_thresholds(con))
    return link(checked, purchase_lines(con))


def unrecorded_from_db(con: duckdb.DuckDBPyConnection, school_year: int | None = None) -> pl.DataFrame:
    """`unrecorded_spend` over the database's lines, stored procurements and contracts (one school year if given)."""
    found = unrecorded_spend(purchase_lines(con), records_from_db(con), registry_contracts.load(con))
    return found if school_year is None else found.filter(pl.col(names.SCHOOL_YEAR) == school_year)


def worksheet_file(con: duckdb.DuckDBPyConnection, path: str | Path, out_dir: str | Path) -> list[Procurement]:
    """Read a quotes file, keep its quotes, check and link each procurement and write its worksheets."""
    known = registry_districts.load(con)[names.DISTRICT_ID].to_list()
    quotes = read_quotes(path, known)
    store(con, quotes)
    return write_worksheets(records_from_db(con, quotes), out_dir)


# --- the worksheets (seed 002's layout) ----------------------------------------------------------------------------
def _file_stem(procurement_id: str) -> str:
    """A file name part from a procurement id (anything but letters, digits, '.', '_' and '-' becomes '_')."""
    return "worksheet-" + (_SAFE_NAME.sub("_", procurement_id).strip("._") or "procurement")


def _sections(p: Procurement) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """The worksheet as (title, note, header, rows) sections, in seed 002's order."""
    small = p.worksheet == SMALL_WORKSHEET
    quantity = " ".join(x for x in (f"{p.quantity:g}" if p.quantity is not None else "", p.unit or "") if x)
    rows = p.quotes.to_dicts()
    won = p.award[names.VENDOR_NAME] if p.award else None
    chosen = next((r for r in rows if r[names.VENDOR_NAME] == won), None)
    sections: list[tuple[str, str, list[str], list[list[str]]]] = [
        (
            "Procurement",
            f"{SEED002}. Method from the estimated value and the thresholds in force on its date.",
            ["Procurement", "District", "Date", "Estimated value", "Method", "Thresholds in force"],
            [
                [
                    p.procurement_id,
                    p.district_id,
                    p.date.isoformat(),
                    _money(p.estimated_value),
                    p.method,
                    f"micro {_money(p.micro_threshold)}, small {_money(p.small_threshold)} ({p.threshold_source})",
                ]
            ],
        ),
    ]
    if small:
        sections.append(
            (
                "Product description",
                "Products, specifications and projected value determined before soliciting vendors.",
                [
                    "Product(s)/Quality",
                    "Variety",
                    "Value Added Process",
                    "Packaging Specifications",
                    "Time Requested",
                    "Quantity Requested",
                ],
                [[p.item, "", "", "", "", quantity]],
            )
        )
    else:
        sections.append(
            (
                "Product specifications",
                "For the purchase of unprocessed agricultural products; one vendor may be solicited.",
                ["Product", "Variety", "Quantity Requested", "Time Requested", "Packaging Specifications"],
                [[p.item, "", quantity, "", ""]],
            )
        )
    sections.append(("Specifications and delivery requirements", "", ["Written specification"],
                     [[p.specification or ""]]))  # fmt: skip
    sections.append(
        (
            "Contact list",
            "Vendors solicited: responsible, responsive and able to provide the product.",
            ["Farmer/Farm Business", "Address", "Phone", "Email"],
            [[r[names.VENDOR_NAME] or "", r[names.VENDOR_ADDRESS] or "", "", ""] for r in rows],
        )
    )
    log_header = ["Contacted Vendor", "Billing Address", "Date", "Meets Product Specifications (Yes/No)",
                  "Meets Delivery Requirements (Yes/No)", "Quote", "Accepted/Declined", "Reason"]  # fmt: skip
    sections.append(
        (
            "Contact log",
            "Every vendor contacted and its response.",
            log_header,
            [
                [
                    r[names.VENDOR_NAME] or "",
                    r[names.VENDOR_ADDRESS] or "",
                    p.date.isoformat(),
                    _yes_no(r[names.MEETS_SPECS]),
                    _yes_no(r[names.MEETS_DELIVERY]),
                    _money(r[names.QUOTE]),
                    "" if r[names.ACCEPTED] is None else ("Accepted" if r[names.ACCEPTED] else "Declined"),
                    r[names.REASON] or "",
                ]
                for r in rows
            ],
        )
    )
    award_text = (
        f"{won} at {_money(p.award[names.QUOTE])}"
        + ("" if p.award["lowest_responsive"] else f" (not the lowest responsive quote: {p.award[names.REASON]})")
        if p.award
        else "no award recorded"
    )
    sections.append(
        (
            "Award contract",
            "Awarded to the vendor who meets all the selected specifications at the lowest price.",
            ["Award", "Total product delivered (purchase lines)", "Total price (purchases that followed)"],
            [[award_text, str(p.linked_lines), _money(p.linked_spend)]],
        )
    )
    sections.append(
        (
            "Checks",
            "What the record lacks (empty: complete).",
            ["Problem"],
            [[x] for x in p.problems] or [["complete"]],
        )
    )
    sections.append(("Notes", "", ["Note"], [[x] for x in p.notes]))
    farm = [
        ["Name of Producer/Farm", (chosen or {}).get(names.VENDOR_NAME) or ""],
        ["Address (city, state, ZIP)", (chosen or {}).get(names.VENDOR_ADDRESS) or ""],
        ["Telephone / Email", ""],
        ["Products to be purchased", p.item],
        ["Is liability insurance required? (Yes: dollar amount / No)", ""],
    ]
    sections.append(("Checklist for purchasing of local produce", "Seed 002's food-safety checklist for the chosen "
                     "vendor; the seller answers and signs.", ["Item", "Answer"], farm))  # fmt: skip
    sections.append(
        (
            "Food safety",
            "",
            ["Section", "Question", "Yes", "No", "N/A"],
            [[section, question, "", "", ""] for section, question in FOOD_SAFETY_CHECKLIST],
        )
    )
    sections.append(("Signature", "I confirm that the information provided above is accurate to the best of my "
                     "knowledge.", ["Signature of Seller", "Date"], [["", ""]]))  # fmt: skip
    return sections


def render_html(p: Procurement) -> str:
    """A printable HTML worksheet; every text from the file escaped."""
    title = p.worksheet or "Formal procurement (not documented by these worksheets)"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}: {html.escape(p.procurement_id)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}"
        "th,td{border:1px solid #555;padding:4px;text-align:left;vertical-align:top}th{background:#eee}"
        "@media print{h2{page-break-after:avoid}}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Procurement {html.escape(p.procurement_id)}: {html.escape(p.item)}. "
        f"{'Complete.' if p.complete else f'{len(p.problems)} problem(s): see Checks.'}</p>",
    ]
    for heading, note, header, rows in _sections(p):
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        if note:
            parts.append(f"<p>{html.escape(note)}</p>")
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
        parts.append("</table>")
    parts.append("<p>Save this for reference and procurement review documentation. Attach copies of invoices.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def xlsx_bytes(p: Procurement) -> bytes:
    """The worksheet as XLSX file content (see `write_xlsx`)."""
    buffer = io.BytesIO()
    write_xlsx(p, buffer)
    return buffer.getvalue()


def write_xlsx(p: Procurement, path: Path | io.BytesIO) -> None:
    """The worksheet as one XLSX sheet (text cells always text, never formulas or links)."""
    import xlsxwriter

    target = path if isinstance(path, io.BytesIO) else str(path)
    book = xlsxwriter.Workbook(target, {"strings_to_formulas": False, "strings_to_urls": False})
    try:
        sheet = book.add_worksheet("Worksheet")
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#EEEEEE", "border": 1, "text_wrap": True})
        cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        sheet.set_column(0, 7, 24)
        sheet.write_string(0, 0, p.worksheet or "Formal procurement (not documented by these worksheets)", bold)
        sheet.write_string(1, 0, f"Procurement {p.procurement_id}: {p.item}")
        r = 3
        for heading, note, header, rows in _sections(p):
            sheet.write_string(r, 0, heading, bold)
            r += 1
            if note:
                sheet.write_string(r, 0, note)
                r += 1
            for j, h in enumerate(header):
                sheet.write_string(r, j, h, head)
            r += 1
            for row in rows:
                for j, value in enumerate(row):
                    sheet.write_string(r, j, str(value), cell)
                r += 1
            r += 1
    finally:
        book.close()


def write_worksheets(procurements: Sequence[Procurement], out_dir: str | Path) -> list[Procurement]:
    """Write each procurement's worksheet (XLSX and HTML) into `out_dir`; the procurements with their files."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    seen: dict[str, int] = {}
    for p in procurements:
        stem = _file_stem(p.procurement_id)
        seen[stem] = seen.get(stem, 0) + 1
        if seen[stem] > 1:  # two ids that differ only in unsafe characters
            stem = f"{stem}-{seen[stem]}"
        html_path, xlsx_path = out / f"{stem}.html", out / f"{stem}.xlsx"
        html_path.write_text(render_html(p), encoding="utf-8")
        write_xlsx(p, xlsx_path)
        written.append(_replace(p, files={"html": str(html_path), "xlsx": str(xlsx_path)}))
    return written
