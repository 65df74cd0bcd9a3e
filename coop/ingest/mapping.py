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
    names.VENDOR_NAME: ("vendor_name", "vendor", "supplier", "vendor name", "supplier name", "seller", "farm"),
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
    names.QUANTITY: ("quantity", "qty", "quantity shipped", "qty shipped", "cases", "quantity ordered"),
    names.UNIT: ("unit", "uom", "unit of measure", "units of measure", "unit measure"),
    names.UNIT_PRICE: ("unit_price", "price", "unit price", "cost", "unit cost", "price each", "avg price"),
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
    ),
    names.ORIGIN_STATE: ("origin_state", "origin state", "state of origin", "origin"),
    names.ORIGIN_ZIP: ("origin_zip", "origin zip", "farm zip", "origin zip code"),
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


def mapped_preview(head: pl.DataFrame, mapping: dict[str, str | None]) -> pl.DataFrame:
    """The first rows under a mapping, with commodity, category and unprocessed inferred from the item text.

    The inferred columns come from `coop.products.classify.classify_many`, as a load does for columns a file lacks.
    """
    frame = apply_mapping(head, mapping)
    if names.PRODUCT not in frame.columns or frame.height == 0:
        return frame
    found = (
        classify.classify_many(frame[names.PRODUCT])
        .rename(INFERRED)
        .rename({names.DESCRIPTION: names.PRODUCT})
        .select(names.PRODUCT, *INFERRED.values())
    )
    return frame.join(found, on=names.PRODUCT, how="left", maintain_order="left")
