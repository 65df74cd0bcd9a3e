"""Header mapping: a file's own column headers matched to the canonical columns, proposed, saved and applied.

Headers are compared case- and punctuation-insensitively against each canonical column's known synonyms
(distributor variants such as "Item Description", "Ext Price", "Qty"); a saved mapping wins for the headers it
names. The intake page edits the mapping as a table (`mapping_table` / `mapping_from_table`).
"""

from __future__ import annotations

import json
import re

import duckdb
import polars as pl

from coop import names
from coop.errors import InputFileError
from coop.products import classify

SOURCE_COLUMN = "source column"
EXAMPLE_VALUE = "example value"
MAPS_TO = "maps to"
MAPPING_TABLE_SCHEMA = {SOURCE_COLUMN: pl.String, EXAMPLE_VALUE: pl.String, MAPS_TO: pl.String}
INFERRED = {
    names.PRODUCT: "commodity (inferred)",
    names.CATEGORY: "category (inferred)",
    names.UNPROCESSED: "unprocessed (inferred)",
    "confidence": "confidence (inferred)",
}

# Header synonyms, keyed by the normalised header (lowercase letters and digits only).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    names.DISTRICT_ID: ("district_id", "district", "district id", "district code", "sfa", "sfa id", "lea"),
    names.INVOICE_DATE: (
        "invoice_date",
        "date",
        "invoice date",
        "inv date",
        "order date",
        "delivery date",
        "ship date",
        "purchase date",
    ),
    names.VENDOR_NAME: (
        "vendor_name",
        "vendor",
        "supplier",
        "vendor name",
        "supplier name",
        "seller",
        "farm",
        "distributor",
        "distributor name",
    ),
    names.VENDOR_TYPE: ("vendor_type", "vendor type", "supplier type", "source type"),
    names.PRODUCT: (
        "product",
        "item",
        "item description",
        "description",
        "item desc",
        "desc",
        "product description",
        "item name",
        "product name",
    ),
    names.DESCRIPTION: ("description", "full description", "long description", "item text"),
    names.CATEGORY: ("category", "food category", "component", "meal component", "product category"),
    names.UNPROCESSED: ("unprocessed", "minimally processed", "unprocessed product"),
    names.QUANTITY: (
        "quantity",
        "qty",
        "quantity shipped",
        "qty shipped",
        "cases",
        "quantity ordered",
        "total quantity",
        "total qty",
        "qty invoiced",
        "quantity invoiced",
    ),
    names.UNIT: ("unit", "uom", "unit of measure", "units of measure", "unit measure"),
    names.UNIT_PRICE: (
        "unit_price",
        "price",
        "unit price",
        "cost",
        "unit cost",
        "price each",
        "avg price",
        "selling price",
        "sell price",
        "average price",
        "avg unit price",
        "average unit price",
    ),
    names.EXTENDED_PRICE: (
        "extended_price",
        "ext price",
        "extended",
        "extended price",
        "total",
        "amount",
        "line total",
        "ext amount",
        "total amt invoiced",
        "total price",
        "total spend",
        "spend",
        "total cost",
        "extended cost",
        "total amount invoiced",
        "amt invoiced",
        "amount invoiced",
        "total amount",
        "extended amount",
        "total invoiced",
    ),
    names.ORIGIN_STATE: ("origin_state", "origin state", "state of origin", "origin", "grown in", "state grown"),
    names.ORIGIN_ZIP: ("origin_zip", "origin zip", "farm zip", "origin zip code"),
    names.ORIGIN_COUNTRY: ("origin_country", "origin country", "country of origin", "country", "coo", "country origin"),
    names.INVOICE_NO: ("invoice_no", "invoice #", "invoice no", "invoice number", "inv #", "inv no", "invoice"),
    names.PACK_SIZE: ("pack_size", "pack", "pack size", "packsize", "pack/size"),
    names.PERIOD_START: ("period_start", "period start"),
    names.PERIOD_END: ("period_end", "period end"),
}


def normalise_header(header: str) -> str:
    """A header reduced to lowercase letters and digits ('Invoice #' -> 'invoice'), '#' kept as 'no'."""
    text = header.strip().lstrip("\ufeff").lower().replace("#", " no ")
    return re.sub(r"[^a-z0-9]", "", text)


_LOOKUP: dict[str, str] = {
    normalise_header(s): canonical
    for canonical, syns in _SYNONYMS.items()
    for s in syns
    if normalise_header(s) != normalise_header(names.DESCRIPTION)
}
# a header spelled exactly as a canonical column goes to that column ('description' is the item text)
_LOOKUP.update({normalise_header(c): c for c in _SYNONYMS})


def propose_mapping(headers: list[str]) -> dict[str, str | None]:
    """Source header -> canonical column (or None when unrecognised); the first header wins a canonical name."""
    taken: set[str] = set()
    mapping: dict[str, str | None] = {}
    for header in headers:
        if header == names.SOURCE_ROW:
            continue
        canonical = _LOOKUP.get(normalise_header(header))
        if canonical is not None and canonical in taken:
            canonical = None
        if canonical is not None:
            taken.add(canonical)
        mapping[header] = canonical
    return mapping


def save_mapping(con: duckdb.DuckDBPyConnection, name: str, mapping: dict[str, str | None]) -> None:
    """Store (or replace) a header mapping under a name in the mappings table."""
    bad = [v for v in mapping.values() if v is not None and v not in _SYNONYMS]
    if bad:
        raise InputFileError(f"mapping {name!r}: unknown canonical column(s) {', '.join(sorted(set(bad)))}")
    con.execute(
        f"INSERT OR REPLACE INTO {names.MAPPINGS} (name, mapping) VALUES (?, ?)",
        [name, json.dumps(mapping)],
    )


def load_mapping(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str | None]:
    """The mapping saved under `name`; InputFileError when there is none."""
    rows = con.execute(f"SELECT mapping FROM {names.MAPPINGS} WHERE name = ?", [name]).fetchall()
    if not rows:
        raise InputFileError(f"no saved mapping named {name!r}")
    return dict(json.loads(rows[0][0]))


def list_mappings(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the saved mappings, sorted."""
    return [r[0] for r in con.execute(f"SELECT name FROM {names.MAPPINGS} ORDER BY name").fetchall()]


def resolve_mapping(headers: list[str], saved: dict[str, str | None] | None = None) -> dict[str, str | None]:
    """The mapping to use: a saved mapping for the headers it names, the automatic proposal for the rest."""
    auto = propose_mapping(headers)
    if not saved:
        return auto
    mapping = {h: saved[h] for h in headers if h in saved}
    taken = {v for v in mapping.values() if v is not None}
    for header, canonical in auto.items():
        if header not in mapping:
            mapping[header] = canonical if canonical not in taken else None
    return mapping


def override_mapping(
    mapping: dict[str, str | None], overrides: dict[str, str | None], file_name: str
) -> dict[str, str | None]:
    """The mapping with `overrides` (source header -> column, None to leave it out) set; a header they take loses.

    A source header matches exactly, else ignoring case and punctuation; an unknown header or column is refused.
    """
    result = dict(mapping)
    for source, canonical in overrides.items():
        if canonical is not None and canonical not in _SYNONYMS:
            known = ", ".join(_SYNONYMS)
            raise InputFileError(f"--map {source}={canonical}: unknown column {canonical!r} (columns: {known})")
        header = _match_header(source, list(mapping))
        if header is None:
            found = ", ".join(repr(h) for h in mapping)
            raise InputFileError(
                f"{file_name}: --map {source}={canonical or ''}: no header {source!r} (found: {found})"
            )
        for other, target in result.items():
            if canonical is not None and target == canonical and other != header:
                result[other] = None
        result[header] = canonical
    return result


def _match_header(source: str, headers: list[str]) -> str | None:
    """The header `source` names: an exact match, else the one equal ignoring case and punctuation."""
    if source in headers:
        return source
    stripped = [h for h in headers if h.strip() == source.strip()]
    if len(stripped) == 1:
        return stripped[0]
    loose = [h for h in headers if normalise_header(h) == normalise_header(source)]
    return loose[0] if len(loose) == 1 else None


# Headers that may be a unit price or a line total; the data decides (`decide_ambiguous`).
AMBIGUOUS = frozenset({normalise_header("Cost")})
MATCH_SHARE = 0.5  # rows that must agree for a reading to be taken


def decide_ambiguous(
    mapping: dict[str, str | None], head: pl.DataFrame, fixed: frozenset[str] = frozenset()
) -> tuple[dict[str, str | None], list[tuple[str, str]]]:
    """The mapping with an ambiguous header ('Cost') read as unit price or line total by the first rows' numbers.

    With quantity and a clear line total: unit price when quantity x value matches it; with a clear unit price:
    line total when quantity x that price matches the value. Headers in `fixed` (chosen by the user) stay.
    Returns the mapping and (header, what was decided) for each header decided.
    """
    quantity = next((h for h, c in mapping.items() if c == names.QUANTITY), None)
    result = dict(mapping)
    notes: list[tuple[str, str]] = []
    for header in mapping:
        if header in fixed or normalise_header(header) not in AMBIGUOUS or quantity is None:
            continue
        clear = _clear_prices(mapping, fixed)
        total, unit = clear.get(names.EXTENDED_PRICE), clear.get(names.UNIT_PRICE)
        if total is not None and unit is not None:
            result = _assign(
                _assign(_assign(result, unit, names.UNIT_PRICE), total, names.EXTENDED_PRICE), header, None
            )
            notes.append((header, f"{header!r} not mapped: {unit} and {total} are the unit price and line total"))
        elif total is not None:
            share = _share_matching(head, quantity, header, total)
            reading = names.UNIT_PRICE if share >= MATCH_SHARE else None
            result = _assign(result, header, reading)
            verdict = f"read as {reading}" if reading else "not mapped"
            notes.append((header, f"{header!r} {verdict}: quantity x {header} matches {total} on {share:.0%} of rows"))
        elif unit is not None:
            share = _share_matching(head, quantity, unit, header)
            reading = names.EXTENDED_PRICE if share >= MATCH_SHARE else None
            result = _assign(_assign(result, unit, names.UNIT_PRICE), header, reading)
            verdict = f"read as {reading}" if reading else "not mapped"
            notes.append((header, f"{header!r} {verdict}: quantity x {unit} matches {header} on {share:.0%} of rows"))
        elif mapping[header] is not None:
            notes.append(
                (header, f"{header!r} read as {mapping[header]}: no line total or unit price to check it against")
            )
    return result, notes


def _clear_prices(mapping: dict[str, str | None], fixed: frozenset[str]) -> dict[str, str]:
    """Unit price / line total -> the first header that clearly is one (by its name, or as the user chose)."""
    clear: dict[str, str] = {}
    for header, canonical in mapping.items():
        if normalise_header(header) in AMBIGUOUS:
            continue
        target = canonical if header in fixed else _LOOKUP.get(normalise_header(header))
        if target in (names.UNIT_PRICE, names.EXTENDED_PRICE) and target not in clear:
            clear[target] = header
    return clear


def _assign(mapping: dict[str, str | None], header: str, canonical: str | None) -> dict[str, str | None]:
    """The mapping with `header` sent to `canonical`, any other header sent there unmapped."""
    out = {h: (None if canonical is not None and c == canonical else c) for h, c in mapping.items()}
    out[header] = canonical
    return out


def _share_matching(head: pl.DataFrame, quantity: str, unit: str, total: str) -> float:
    """Share of the rows with all three numbers where quantity x unit equals total (unit rounded to the cent)."""
    if head.is_empty() or not {quantity, unit, total} <= set(head.columns):
        return 0.0
    q, u, t = (_number(head[c]) for c in (quantity, unit, total))
    frame = pl.DataFrame({"q": q, "u": u, "t": t}).drop_nulls()
    if frame.is_empty():
        return 0.0
    tolerance = 0.01 + 0.005 * pl.col("q").abs()
    matched = ((pl.col("q") * pl.col("u") - pl.col("t")).abs() <= tolerance).mean()
    return float(frame.select(matched).item())


def _number(series: pl.Series) -> pl.Series:
    """A text column as numbers ('$1,234.50' -> 1234.5), null where it is not one."""
    text = series.cast(pl.String).str.replace_all(r"[$,\s]", "")
    return text.cast(pl.Float64, strict=False)


def apply_mapping(frame: pl.DataFrame, mapping: dict[str, str | None]) -> pl.DataFrame:
    """The frame with mapped headers renamed to canonical names, unmapped ones dropped, `source_row` kept."""
    targets = [v for v in mapping.values() if v is not None]
    dupes = sorted({t for t in targets if targets.count(t) > 1})
    if dupes:
        raise InputFileError(f"mapping sends several headers to {', '.join(dupes)}")
    keep = [pl.col(h).alias(c) for h, c in mapping.items() if c is not None and h in frame.columns]
    return frame.select(pl.col(names.SOURCE_ROW), *keep)


def mapping_table(head: pl.DataFrame, mapping: dict[str, str | None]) -> pl.DataFrame:
    """Source header, an example value (the first row's) and the canonical column it maps to, one row a header."""
    headers = [c for c in head.columns if c != names.SOURCE_ROW]
    first = head.head(1).to_dicts()
    example = first[0] if first else {}
    return pl.DataFrame(
        {
            SOURCE_COLUMN: headers,
            EXAMPLE_VALUE: [None if example.get(h) is None else str(example[h]) for h in headers],
            MAPS_TO: [mapping.get(h) for h in headers],
        },
        schema=MAPPING_TABLE_SCHEMA,
    )


def mapping_from_table(table: pl.DataFrame) -> dict[str, str | None]:
    """The mapping (source header -> canonical column or None) from an edited mapping table."""
    return {h: (c or None) for h, c in zip(table[SOURCE_COLUMN].to_list(), table[MAPS_TO].to_list(), strict=True)}


def mapped_preview(
    head: pl.DataFrame, mapping: dict[str, str | None], con: duckdb.DuckDBPyConnection | None = None
) -> pl.DataFrame:
    """The first rows under a mapping, with commodity, category, unprocessed and confidence inferred from the text.

    The inferred columns are what a load fills in (`coop.products.corrections.classify`: the classifier, by
    description and pack size, or the correction in force for the text when `con` is given).
    """
    from coop.products import corrections

    frame = apply_mapping(head, mapping)
    if names.PRODUCT not in frame.columns or frame.height == 0:
        return frame
    packs = frame[names.PACK_SIZE].cast(pl.String) if names.PACK_SIZE in frame.columns else None
    pairs = classify.classify_many(frame[names.PRODUCT], packs)
    answers = [corrections.classify(d, p, con) for d, p in pairs.select(names.DESCRIPTION, names.PACK_SIZE).iter_rows()]
    found = pairs.select(
        pl.col(names.DESCRIPTION).alias(names.PRODUCT),
        pl.col(names.PACK_SIZE).alias("_pack"),
        pl.Series(INFERRED[names.PRODUCT], [a.product for a in answers], dtype=pl.String),
        pl.Series(INFERRED[names.CATEGORY], [a.category for a in answers], dtype=pl.String),
        pl.Series(INFERRED[names.UNPROCESSED], [a.unprocessed for a in answers], dtype=pl.Boolean),
        pl.Series(INFERRED["confidence"], [a.confidence for a in answers], dtype=pl.Float64),
    )
    keyed = frame.with_columns((packs if packs is not None else pl.lit(None, pl.String)).alias("_pack"))
    return keyed.join(found, on=[names.PRODUCT, "_pack"], how="left", maintain_order="left", nulls_equal=True).drop(
        "_pack"
    )
