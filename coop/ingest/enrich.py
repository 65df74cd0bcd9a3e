"""Enriching validated lines: vendor registry defaults, items (classification), packs and base units, prices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import polars as pl

from coop import names
from coop.errors import WARNING, Problem
from coop.ingest import validate
from coop.registry import geo, vendors
from coop.store import lines

PRICE_TOLERANCE = 0.01  # dollars: extended_price may differ from quantity x unit_price by at most 1 cent
_EPS = 1e-9
CREDIT_NOTE = "credit (return or allowance): netted in totals"  # the warning on each credit line
UNIT_NOTE = "_unit_note"  # why a line's quantity has no base unit (`coop.products.units`)
_FILE_GIVEN = ("_given", "_file_category", "_file_unprocessed")  # the file's product, category and unprocessed
_PACK = "_pack"  # the pack size a line's classification also weighs (`coop.products.classify`: #10 is canned)
_NO_CLASSES = pl.DataFrame(
    schema={
        names.DESCRIPTION: pl.String,
        _PACK: pl.String,
        "_c_product": pl.String,
        "_c_category": pl.String,
        "_c_unprocessed": pl.Boolean,
        "_c_confidence": pl.Float64,
        "_c_rule": pl.String,
    }
)
_UNIT_KEYS = [names.UNIT, names.PACK_SIZE, names.CATEGORY, names.PRODUCT]  # product decides OZ and eggs (coop.units)
_NO_UNITS = pl.DataFrame(  # conversions found so far in a load (`_seen` marks a combination as looked up)
    schema={
        **dict.fromkeys(_UNIT_KEYS, pl.String),
        "_per_unit": pl.Float64,
        names.BASE_UNIT: pl.String,
        UNIT_NOTE: pl.String,
        names.PACK_ID: pl.Int32,
        "_seen": pl.Boolean,
    }
)


@dataclass
class Enrichment:
    """What enrichment needs across a file's chunks: the vendor registry, caches, and the items and packs it made."""

    registry: pl.DataFrame  # _reg_name, _vkey (`vendors.vendor_key`), _reg_type, _reg_type_norm, _reg_state, _reg_zip
    classified: pl.DataFrame | None = None  # per (description, pack size), corrections applied
    corrections: dict = field(default_factory=dict)  # text key -> coop.products.corrections.Correction in force
    converted: pl.DataFrame = field(default_factory=lambda: _NO_UNITS)
    known_rows: dict[str, pl.DataFrame] = field(default_factory=dict)  # purchase_items and purchase_packs with ids
    next_ids: Callable[[str, int], list[int]] = lambda sequence, n: []  # n new ids from a sequence
    new_rows: list[tuple[str, pl.DataFrame]] = field(default_factory=list)  # items and packs to store with the lines


def enrichment(con: duckdb.DuckDBPyConnection) -> Enrichment:
    """The enrichment of one load, reference data read once: the vendor registry, the known items and packs."""
    registry = (
        con.sql(
            f"SELECT {names.VENDOR_NAME} AS _reg_name, {names.VENDOR_TYPE} AS _reg_type, "
            f"{names.ORIGIN_STATE} AS _reg_state, {names.ORIGIN_ZIP} AS _reg_zip FROM {names.VENDORS} "
            f"ORDER BY {names.VENDOR_NAME}"
        )
        .pl()
        .cast(pl.String)
        .with_columns(vendors.vendor_key(pl.col("_reg_name")).alias("_vkey"))
        .unique("_vkey", keep="first", maintain_order=True)
    )
    registry = registry.with_columns(validate.enum_text(registry["_reg_type"]).alias("_reg_type_norm"))
    from coop.products import corrections

    enr = Enrichment(registry, corrections=corrections.in_force(con))
    for table in lines.DIMENSIONS:
        enr.known_rows[table] = con.sql(lines.known_rows_sql(table)).pl()

    def next_ids(sequence: str, n: int) -> list[int]:
        with con.cursor() as cur:  # sequences are not transactional: ids are never handed out twice
            return [int(i) for (i,) in cur.execute(f"SELECT nextval('{sequence}') FROM range(?)", [n]).fetchall()]

    enr.next_ids = next_ids
    return enr


def with_registry(typed: pl.DataFrame, enr: Enrichment) -> pl.DataFrame:
    """Typed lines with the vendor registry's vendor_type, and origin where a line has none, filled in.

    A name is matched ignoring case, spacing and invisible characters (`coop.registry.vendors.vendor_key`) and
    stored as the registry spells it, so one vendor spelled five ways is one vendor; an unregistered name is
    stored as the file gives it. One join on the distinct vendor names.
    """
    given = typed[names.VENDOR_NAME].drop_nulls().unique()
    spelled = pl.DataFrame({names.VENDOR_NAME: given}).with_columns(
        vendors.clean_name(pl.col(names.VENDOR_NAME)).alias("_clean")
    )
    keyed = spelled.with_columns(vendors.vendor_key(pl.col("_clean")).alias("_vkey")).join(
        enr.registry, on="_vkey", how="inner"
    )
    renamed = keyed.select(names.VENDOR_NAME, pl.col("_reg_name").alias("_stored")).filter(
        pl.col("_stored") != pl.col(names.VENDOR_NAME)
    )
    if renamed.height:
        typed = typed.with_columns(pl.col(names.VENDOR_NAME).replace(renamed[names.VENDOR_NAME], renamed["_stored"]))
        keyed = keyed.with_columns(pl.col("_reg_name").alias(names.VENDOR_NAME))
    keyed = keyed.drop("_vkey", "_clean", "_reg_name").unique(names.VENDOR_NAME)
    if not keyed.height:
        return typed
    filled = {
        names.VENDOR_TYPE: "_reg_type_norm",
        f"_raw_{names.VENDOR_TYPE}": "_reg_type",
        names.ORIGIN_STATE: "_reg_state",
        names.ORIGIN_ZIP: "_reg_zip",
    }
    from_registry = pl.col(names.VENDOR_TYPE).is_null() & pl.col("_reg_type_norm").is_not_null()
    # a line the file says was imported keeps no US origin: the registry's origin is the vendor's own, not the food's
    country = pl.col(names.ORIGIN_COUNTRY)
    imported = (
        (country.is_not_null() & ~country.is_in(list(geo.DOMESTIC_COUNTRIES)))
        if names.ORIGIN_COUNTRY in typed.columns
        else pl.lit(False)
    )
    origin = (names.ORIGIN_STATE, names.ORIGIN_ZIP)
    return (
        typed.join(keyed, on=names.VENDOR_NAME, how="left", maintain_order="left")
        .with_columns(
            *[
                (
                    pl.when(imported).then(pl.col(target)).otherwise(pl.col(target).fill_null(pl.col(source)))
                    if target in origin
                    else pl.col(target).fill_null(pl.col(source))
                ).alias(target)
                for target, source in filled.items()
            ],
            pl.when(from_registry)
            .then(pl.lit(validate.REGISTRY_RULE))
            .otherwise(pl.col(names.VENDOR_TYPE_RULE) if names.VENDOR_TYPE_RULE in typed.columns else None)
            .alias(names.VENDOR_TYPE_RULE),
        )
        .drop(keyed.columns[1:])
    )


def register_unknown(typed: pl.DataFrame, enr: Enrichment, vendor_type: str) -> pl.DataFrame | None:
    """The vendors of `typed` that neither the file nor the registry types, added to `enr.registry` as `vendor_type`.

    One row per vendor (the first spelling of a name in any case): vendor_name, vendor_type; None when there are none.
    """
    unknown = (
        typed.filter(pl.col(names.VENDOR_TYPE).is_null() & pl.col(names.VENDOR_NAME).is_not_null())
        .select(names.VENDOR_NAME)
        .with_columns(vendors.vendor_key(pl.col(names.VENDOR_NAME)).alias("_vkey"))
        .unique("_vkey", keep="first", maintain_order=True)
        .filter(~pl.col("_vkey").is_in(enr.registry["_vkey"].implode()))
    )
    if not unknown.height:
        return None
    added = unknown.select(
        pl.col(names.VENDOR_NAME).alias("_reg_name"),
        "_vkey",
        pl.lit(vendor_type).alias("_reg_type"),
        pl.lit(None, pl.String).alias("_reg_state"),
        pl.lit(None, pl.String).alias("_reg_zip"),
        pl.lit(vendor_type).alias("_reg_type_norm"),
    )
    enr.registry = pl.concat([enr.registry, added.select(enr.registry.columns)], how="vertical_relaxed")
    return unknown.select(names.VENDOR_NAME, pl.lit(vendor_type).alias(names.VENDOR_TYPE))


def with_items(good: pl.DataFrame, enr: Enrichment) -> pl.DataFrame:
    """Each line's item (description, product, category, unprocessed, provenance) as an id, with product and category.

    Inference runs once per distinct description, the item once per distinct description and file-given values.
    """
    if good[names.DESCRIPTION].is_not_null().any():
        # the file's item text is the description; a product column alongside it is the commodity
        frame = good.with_columns(
            pl.col(names.DESCRIPTION).fill_null(pl.col(names.PRODUCT)), pl.col(names.PRODUCT).alias("_given")
        )
    else:
        frame = good.with_columns(
            pl.col(names.PRODUCT).alias(names.DESCRIPTION), pl.lit(None, pl.String).alias("_given")
        )
    frame = frame.drop(names.PRODUCT).rename({names.CATEGORY: "_file_category", names.UNPROCESSED: "_file_unprocessed"})
    frame = frame.with_columns(
        (pl.col(names.PACK_SIZE) if names.PACK_SIZE in frame.columns else pl.lit(None)).cast(pl.String).alias(_PACK)
    )
    given = [c for c in _FILE_GIVEN if frame[c].null_count() < frame.height]
    keys = [names.DESCRIPTION, _PACK, *given]
    distinct = (
        frame.select(keys)
        .unique()
        .with_columns(pl.lit(None, frame.schema[c]).alias(c) for c in _FILE_GIVEN if c not in given)
    )
    needs = pl.col("_given").is_null() | pl.col("_file_category").is_null() | pl.col("_file_unprocessed").is_null()
    wanted = distinct.filter(needs).select(names.DESCRIPTION, _PACK).unique()
    if wanted.height:
        from coop.products import classify, corrections

        if enr.classified is not None:
            wanted = wanted.join(enr.classified, on=[names.DESCRIPTION, _PACK], how="anti", nulls_equal=True)
        if wanted.height:
            found = classify.classify_many(wanted[names.DESCRIPTION], wanted[_PACK])
            if enr.corrections:  # the correction in force for a text decides (coop.products.corrections)
                fixed = [
                    corrections.apply(
                        classify.Classification(p, c, u, f, r, "", ""), enr.corrections.get(corrections.text_key(d))
                    )
                    for d, p, c, u, f, r in found.select(
                        names.DESCRIPTION,
                        names.PRODUCT,
                        names.CATEGORY,
                        names.UNPROCESSED,
                        "confidence",
                        names.UNPROCESSED_RULE,
                    ).iter_rows()
                ]
                found = found.with_columns(
                    pl.Series(names.PRODUCT, [x.product for x in fixed], dtype=pl.String),
                    pl.Series(names.CATEGORY, [x.category for x in fixed], dtype=pl.String),
                    pl.Series(names.UNPROCESSED, [x.unprocessed for x in fixed], dtype=pl.Boolean),
                    pl.Series("confidence", [x.confidence for x in fixed], dtype=pl.Float64),
                    pl.Series(names.UNPROCESSED_RULE, [x.rule for x in fixed], dtype=pl.String),
                )
            found = found.select(
                pl.col(names.DESCRIPTION).cast(pl.String),
                pl.col(names.PACK_SIZE).cast(pl.String).alias(_PACK),
                pl.col(names.PRODUCT).cast(pl.String).alias("_c_product"),
                pl.col(names.CATEGORY).cast(pl.String).alias("_c_category"),
                pl.col(names.UNPROCESSED).cast(pl.Boolean).alias("_c_unprocessed"),
                pl.col("confidence").cast(pl.Float64).alias("_c_confidence"),
                pl.col(names.UNPROCESSED_RULE).cast(pl.String).alias("_c_rule"),
            )
            enr.classified = found if enr.classified is None else pl.concat([enr.classified, found])
    inferred = enr.classified if enr.classified is not None else _NO_CLASSES
    given_product = pl.col("_given").is_not_null()
    items = distinct.join(inferred, on=[names.DESCRIPTION, _PACK], how="left", nulls_equal=True).select(
        *keys,
        pl.coalesce("_given", "_c_product").alias(names.PRODUCT),
        pl.when(given_product)
        .then(1.0)
        .otherwise(pl.col("_c_confidence"))
        .fill_null(0.0)
        .alias(names.PRODUCT_CONFIDENCE),
        pl.coalesce("_file_category", "_c_category", pl.lit("other")).alias(names.CATEGORY),
        pl.coalesce("_file_unprocessed", "_c_unprocessed", pl.lit(False)).alias(names.UNPROCESSED),
        pl.when(pl.col("_file_unprocessed").is_not_null())
        .then(pl.lit("file"))
        .otherwise(pl.coalesce("_c_rule", pl.lit("unknown")))
        .alias(names.UNPROCESSED_RULE),
    )
    items = _with_ids(items, names.PURCHASE_ITEMS, enr)
    per_line = items.select(*keys, names.ITEM_ID, names.PRODUCT, names.CATEGORY)
    return frame.join(per_line, on=keys, how="left", nulls_equal=True).drop(*_FILE_GIVEN, _PACK)


def _with_ids(rows: pl.DataFrame, table: str, enr: Enrichment) -> pl.DataFrame:
    """`rows` (distinct purchase_items or purchase_packs values) with their ids; new ones numbered and queued."""
    id_column, sequence, columns = lines.DIMENSIONS[table]
    known = enr.known_rows[table]
    found = rows.join(known, on=list(columns), how="left", nulls_equal=True)
    new = found.filter(pl.col(id_column).is_null()).select(columns).unique()
    if not new.height:
        return found
    new = new.select(pl.Series(id_column, enr.next_ids(sequence, new.height), dtype=known.schema[id_column]), *columns)
    enr.known_rows[table] = pl.concat([known, new.cast(known.schema)])
    enr.new_rows.append((table, new))
    return rows.join(enr.known_rows[table], on=list(columns), how="left", nulls_equal=True)


def with_base_units(frame: pl.DataFrame, enr: Enrichment) -> pl.DataFrame:
    """Add base_quantity, base_unit and pack_id, converting each distinct (unit, pack_size, category, product) once."""
    joined = frame.join(enr.converted, on=_UNIT_KEYS, how="left", nulls_equal=True)
    new = joined.filter(pl.col("_seen").is_null()).select(_UNIT_KEYS).unique()
    if new.height:  # combinations not converted yet in this load: convert them once, then join again
        from coop.products import units

        normalised = units.normalise(new.with_columns(pl.lit(1.0).alias(names.QUANTITY)))
        note = pl.col(units.UNIT_NOTE) if units.UNIT_NOTE in normalised.columns else pl.lit(None, pl.String)
        found = normalised.select(
            *_UNIT_KEYS,
            pl.col(names.BASE_QUANTITY).cast(pl.Float64).alias("_per_unit"),
            pl.col(names.BASE_UNIT).cast(pl.String),
            note.cast(pl.String).alias(UNIT_NOTE),
        )
        packs = _with_ids(found.select(lines.PACK_COLUMNS).unique(), names.PURCHASE_PACKS, enr)
        found = found.join(packs, on=list(lines.PACK_COLUMNS), how="left", nulls_equal=True).with_columns(
            pl.lit(True).alias("_seen")
        )
        enr.converted = pl.concat([enr.converted, found.select(enr.converted.columns).cast(enr.converted.schema)])
        joined = frame.join(enr.converted, on=_UNIT_KEYS, how="left", nulls_equal=True)
    return joined.with_columns((pl.col(names.QUANTITY) * pl.col("_per_unit")).alias(names.BASE_QUANTITY)).drop(
        "_per_unit", "_seen"
    )


def with_prices(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill a missing unit or extended price from the other and set price_flag (> 1 cent apart)."""
    qty, price, ext = pl.col(names.QUANTITY), pl.col(names.UNIT_PRICE), pl.col(names.EXTENDED_PRICE)
    frame = frame.with_columns(
        price.fill_null((ext / qty).round(4)).alias(names.UNIT_PRICE),
        ext.fill_null((qty * price).round(2)).alias(names.EXTENDED_PRICE),
    )
    gap = (pl.col(names.EXTENDED_PRICE) - qty * pl.col(names.UNIT_PRICE)).abs()
    return frame.with_columns((gap > PRICE_TOLERANCE + _EPS).alias(names.PRICE_FLAG))


def warnings(good: pl.DataFrame, checks: validate.Checks) -> list[Problem]:
    """Warnings for enriched lines: credits, price mismatches and quantities not converted to a base unit."""
    out = [
        Problem(checks.file_name, row, checks.label(names.EXTENDED_PRICE), CREDIT_NOTE, WARNING)
        for row in good.filter(pl.col(names.QUANTITY) < 0)[names.SOURCE_ROW]
    ]
    out += [
        Problem(
            checks.file_name,
            row,
            checks.label(names.EXTENDED_PRICE),
            f"extended_price {ext:.2f} differs from quantity x unit_price = {q * p:.2f} by more than 1 cent",
            WARNING,
        )
        for row, q, p, ext in good.filter(pl.col(names.PRICE_FLAG))
        .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT_PRICE, names.EXTENDED_PRICE)
        .iter_rows()
    ]
    out += [
        Problem(
            checks.file_name,
            row,
            checks.label(names.UNIT),
            f"quantity {q:g} {unit} (pack {pack or '-'}) not converted to a base unit: {note or 'unknown unit'}",
            WARNING,
        )
        for row, q, unit, pack, note in good.filter(pl.col(names.BASE_QUANTITY).is_null())
        .select(names.SOURCE_ROW, names.QUANTITY, names.UNIT, names.PACK_SIZE, UNIT_NOTE)
        .iter_rows()
    ]
    return out
