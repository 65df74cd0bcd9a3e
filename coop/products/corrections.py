"""Classification corrections that stick: a person's answer for one item text, stored in the database.

A correction (`classification_corrections`, schema.sql) names the text, the category, unprocessed and optionally
the product, who made it and when. Every later load applies the correction in force for a line's text
(`coop.ingest.enrich`), and setting or undoing one re-classifies the lines already stored in one transaction:
their items (and, since the base unit follows the category, their packs and base quantities) are replaced and the
purchase summary of every batch they belong to is rebuilt (`coop.store.summary`). Values a file gave (an
`unprocessed` column: rule `file`) are the file's, and a correction does not override them.
"""

from __future__ import annotations

import datetime
import getpass
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

import duckdb
import polars as pl

from coop import names
from coop.errors import CoopError
from coop.products import classify as classifier
from coop.products import units
from coop.store import db, lines, summary

CONFIDENCE: Final = 1.0
SOURCE: Final = "correction"
FILE_RULE: Final = "file"  # purchase_items.unprocessed_rule of values a file gave
_SPACES: Final = re.compile(r"\s+")
_TEXT_KEY_SQL: Final = f"upper(trim(regexp_replace({names.DESCRIPTION}, '\\s+', ' ', 'g')))"
_EXISTS_SQL: Final = "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary"
_IN_FORCE_SQL: Final = f"""
SELECT {names.CORRECTION_ID}, text_key, description, category, unprocessed, product, made_by, made_at
FROM {names.CORRECTIONS} WHERE undone_at IS NULL
QUALIFY row_number() OVER (PARTITION BY text_key ORDER BY {names.CORRECTION_ID} DESC) = 1"""
_HISTORY_SQL: Final = f"SELECT * FROM {names.CORRECTIONS} ORDER BY {names.CORRECTION_ID}"
_INSERT_SQL: Final = f"""
INSERT INTO {names.CORRECTIONS} ({names.CORRECTION_ID}, text_key, description, category, unprocessed, product,
                                 made_by, made_at)
VALUES (nextval('{names.CORRECTION_ID_SEQ}'), ?, ?, ?, ?, ?, ?, ?) RETURNING {names.CORRECTION_ID}"""
_UNDO_SQL: Final = f"""
UPDATE {names.CORRECTIONS} SET undone_by = ?, undone_at = ?
WHERE {names.CORRECTION_ID} = ? AND undone_at IS NULL RETURNING text_key"""
_AFFECTED_SQL: Final = f"""
SELECT l.rowid AS _rid, l.{names.BATCH_ID}, l.{names.QUANTITY}, i.{names.DESCRIPTION}, p.{names.UNIT},
       p.{names.PACK_SIZE}, {_TEXT_KEY_SQL.replace(names.DESCRIPTION, "i." + names.DESCRIPTION)} AS text_key
FROM {names.PURCHASE_LINES} l
JOIN {names.PURCHASE_ITEMS} i ON i.{names.ITEM_ID} = l.{names.ITEM_ID}
JOIN {names.PURCHASE_PACKS} p ON p.{names.PACK_ID} = l.{names.PACK_ID}
WHERE i.{names.UNPROCESSED_RULE} <> '{FILE_RULE}'
  AND {_TEXT_KEY_SQL.replace(names.DESCRIPTION, "i." + names.DESCRIPTION)} IN (SELECT unnest(?::TEXT[]))"""
REVIEW_BELOW: Final = 0.75  # confidence under which a stored line is listed for review (a fuzzy or fallback match)
_REVIEW_SQL: Final = f"""
SELECT {names.DESCRIPTION}, {names.PACK_SIZE}, {names.PRODUCT}, {names.CATEGORY}, {names.UNPROCESSED},
       min({names.PRODUCT_CONFIDENCE}) AS confidence, count(*) AS lines,
       CAST(sum({names.EXTENDED_PRICE}) AS DOUBLE) AS spend, any_value({names.UNPROCESSED_RULE}) AS rule
FROM {names.PURCHASES}
WHERE {names.PRODUCT_CONFIDENCE} < ? AND {names.UNPROCESSED_RULE} <> '{FILE_RULE}'
GROUP BY ALL ORDER BY spend DESC, {names.DESCRIPTION} LIMIT ?"""
_RELINK_SQL: Final = f"""
UPDATE {names.PURCHASE_LINES} AS l
SET {names.ITEM_ID} = n.{names.ITEM_ID}, {names.PACK_ID} = n.{names.PACK_ID},
    {names.BASE_QUANTITY} = l.{names.QUANTITY} * n._per_unit
FROM _relinked n WHERE l.rowid = n._rid"""


class CorrectionError(CoopError):
    """A correction that cannot be made or undone (unknown category, empty text, unknown id)."""


@dataclass(frozen=True)
class Correction:
    """The correction in force for one text: what it says, who made it and when."""

    correction_id: int
    text: str
    category: str
    unprocessed: bool
    product: str | None
    made_by: str
    made_at: datetime.datetime

    def rule(self) -> str:
        """The rule text stored on the items it decides."""
        return f"{SOURCE} #{self.correction_id} by {self.made_by} at {self.made_at:%Y-%m-%d %H:%M}"


def text_key(text: str) -> str:
    """The key a correction matches on: the text upper-cased, trimmed, inner spaces collapsed."""
    return _SPACES.sub(" ", text).strip().upper()


def who() -> str:
    """The operating-system user, named on corrections made from the command line."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the database has the corrections table (databases created before it do not)."""
    ((n,),) = con.execute(_EXISTS_SQL, [names.CORRECTIONS]).fetchall()
    return bool(n)


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    """Create the corrections table and sequence where missing (schema.sql's statements are all IF NOT EXISTS)."""
    if not exists(con):
        con.execute(resources.files("coop.store").joinpath(db.SCHEMA_FILE).read_text(encoding="utf-8")).fetchall()


def in_force(con: duckdb.DuckDBPyConnection) -> dict[str, Correction]:
    """The correction in force for each text key (the latest not undone)."""
    if not exists(con):
        return {}
    rows = con.execute(_IN_FORCE_SQL).fetchall()  # on `con`: inside a transaction it sees its own writes
    return {key: Correction(int(i), d, c, bool(u), p, by, at) for i, key, d, c, u, p, by, at in rows}


def history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every correction ever made, undone ones included, oldest first."""
    if not exists(con):
        return pl.DataFrame()
    return con.sql(_HISTORY_SQL).pl()


def for_review(con: duckdb.DuckDBPyConnection, below: float = REVIEW_BELOW, limit: int = 500) -> pl.DataFrame:
    """Stored lines classified with low confidence, per description and pack size, largest spend first."""
    return con.sql(_REVIEW_SQL, params=[below, limit]).pl()


def apply(found: classifier.Classification, correction: Correction | None) -> classifier.Classification:
    """The classifier's answer, or the correction's where one is in force for the text."""
    if correction is None:
        return found
    return classifier.Classification(
        product=correction.product or found.product,
        category=correction.category,
        unprocessed=correction.unprocessed,
        confidence=CONFIDENCE,
        rule=correction.rule(),
        reason=f"corrected by {correction.made_by} on {correction.made_at:%Y-%m-%d}",
        source=SOURCE,
    )


def classify(
    text: str, pack_size: str | None = None, con: duckdb.DuckDBPyConnection | None = None
) -> classifier.Classification:
    """The answer a load gives for this text and pack size: the correction in force, else the classifier's."""
    found = classifier.classify(text, pack_size)
    return apply(found, in_force(con).get(text_key(text)) if con is not None else None)


def set_correction(
    con: duckdb.DuckDBPyConnection,
    text: str,
    category: str,
    unprocessed: bool,
    product: str | None = None,
    made_by: str | None = None,
) -> dict[str, object]:
    """Store a correction and re-classify the stored lines with that text, in one transaction."""
    key = text_key(text)
    if not key:
        raise CorrectionError("classify --set: the text is empty")
    if category not in names.CATEGORIES:
        raise CorrectionError(f"classify --set: category {category!r} is not one of {', '.join(names.CATEGORIES)}")
    product = product.strip().lower() if product and product.strip() else None
    ensure(con)
    now = datetime.datetime.now().replace(microsecond=0)
    with db.transaction(con):
        ((correction_id,),) = con.execute(
            _INSERT_SQL, [key, text.strip(), category, bool(unprocessed), product, made_by or who(), now]
        ).fetchall()
        moved = _reapply(con, [key])
    return {"correction_id": int(correction_id), "text_key": key, **moved}


def undo(con: duckdb.DuckDBPyConnection, correction_id: int, undone_by: str | None = None) -> dict[str, object]:
    """Undo a correction and re-classify its lines (by the correction before it, else the classifier)."""
    if not exists(con):
        raise CorrectionError(f"classify --undo: no correction {correction_id}")
    now = datetime.datetime.now().replace(microsecond=0)
    with db.transaction(con):
        found = con.execute(_UNDO_SQL, [undone_by or who(), now, correction_id]).fetchall()
        if not found:
            raise CorrectionError(f"classify --undo: no correction {correction_id} in force")
        moved = _reapply(con, [found[0][0]])
    return {"correction_id": correction_id, "text_key": found[0][0], **moved}


def _reapply(con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, object]:
    """Re-classify the stored lines whose text is one of `keys` (inside the caller's transaction)."""
    affected = con.sql(_AFFECTED_SQL, params=[keys]).pl()
    if not affected.height:
        return {"lines_reclassified": 0, "batches": []}
    corrections = in_force(con)
    pairs = affected.select(names.DESCRIPTION, names.UNIT, names.PACK_SIZE, "text_key").unique()
    answers = [
        apply(classifier.classify(d, p), corrections.get(k))
        for d, p, k in pairs.select(names.DESCRIPTION, names.PACK_SIZE, "text_key").iter_rows()
    ]
    items = pairs.with_columns(
        pl.Series(names.PRODUCT, [a.product for a in answers], dtype=pl.String),
        pl.Series(names.PRODUCT_CONFIDENCE, [a.confidence for a in answers], dtype=pl.Float64),
        pl.Series(names.CATEGORY, [a.category for a in answers], dtype=pl.String),
        pl.Series(names.UNPROCESSED, [a.unprocessed for a in answers], dtype=pl.Boolean),
        pl.Series(names.UNPROCESSED_RULE, [a.rule for a in answers], dtype=pl.String),
    )
    items = _with_ids(con, items, names.PURCHASE_ITEMS)
    converted = units.normalise(items.with_columns(pl.lit(1.0).alias(names.QUANTITY)))
    converted = converted.with_columns(pl.col(names.BASE_QUANTITY).cast(pl.Float64).alias("_per_unit"))
    converted = _with_ids(con, converted, names.PURCHASE_PACKS)
    relinked = affected.join(
        converted.select(names.DESCRIPTION, names.UNIT, names.PACK_SIZE, names.ITEM_ID, names.PACK_ID, "_per_unit"),
        on=[names.DESCRIPTION, names.UNIT, names.PACK_SIZE],
        how="left",
        nulls_equal=True,
    ).select("_rid", names.ITEM_ID, names.PACK_ID, "_per_unit")
    con.register("_relinked", relinked.to_arrow())
    try:
        con.execute(_RELINK_SQL).fetchall()
    finally:
        con.unregister("_relinked")
    batches = sorted(int(b) for b in affected[names.BATCH_ID].unique())
    if summary.exists(con):
        for batch_id in batches:
            summary.remove_batch(con, batch_id)
            summary.add_batch(con, batch_id)
    return {"lines_reclassified": affected.height, "batches": batches}


def _with_ids(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame, table: str) -> pl.DataFrame:
    """`rows` with the id of the purchase_items or purchase_packs row holding their values, new rows inserted."""
    id_column, sequence, columns = lines.DIMENSIONS[table]
    known = con.sql(lines.known_rows_sql(table)).pl()
    values = rows.select(columns).unique().cast({c: known.schema[c] for c in columns})
    found = values.join(known, on=list(columns), how="left", nulls_equal=True)
    new = found.filter(pl.col(id_column).is_null()).drop(id_column)
    if new.height:
        ids = [int(i) for (i,) in con.execute(f"SELECT nextval('{sequence}') FROM range(?)", [new.height]).fetchall()]
        new = new.with_columns(pl.Series(id_column, ids, dtype=known.schema[id_column]))
        con.register("_new_rows", new.select(id_column, *columns).to_arrow())
        try:
            con.execute(lines.insert_dimension_sql(table, "_new_rows")).fetchall()
        finally:
            con.unregister("_new_rows")
        found = pl.concat([found.filter(pl.col(id_column).is_not_null()), new.select(found.columns)])
    return rows.cast({c: known.schema[c] for c in columns}).join(found, on=list(columns), how="left", nulls_equal=True)
