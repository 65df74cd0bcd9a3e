"""How purchase lines are stored: items and packs once per distinct combination, the rest per line.

`purchases` (schema.sql) is a view joining `purchase_lines` with `purchase_items` (description, product, category,
unprocessed and their provenance) and `purchase_packs` (unit, pack size, base unit); readers use the view, loads
write the three tables.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from coop import names

ITEM_COLUMNS = (
    names.DESCRIPTION,
    names.PRODUCT,
    names.PRODUCT_CONFIDENCE,
    names.CATEGORY,
    names.UNPROCESSED,
    names.UNPROCESSED_RULE,
)
PACK_COLUMNS = (names.UNIT, names.PACK_SIZE, names.BASE_UNIT)
# purchase_lines' columns, in order
LINE_COLUMNS = (
    names.BATCH_ID,
    names.SOURCE_ROW,
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_NAME,
    names.VENDOR_TYPE,
    names.ITEM_ID,
    names.QUANTITY,
    names.PACK_ID,
    names.BASE_QUANTITY,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.PRICE_FLAG,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
    names.LINE_KEY,
    names.VENDOR_TYPE_RULE,
    names.ORIGIN_COUNTRY,
)
# the columns whose values make two lines "the same line" (origin_country is not one: a file re-sent with the
# country added holds the same purchases, and keys stored before the column existed stay comparable)
KEY_COLUMNS = (
    names.DISTRICT_ID,
    names.INVOICE_DATE,
    names.PERIOD_START,
    names.PERIOD_END,
    names.VENDOR_NAME,
    names.DESCRIPTION,
    names.QUANTITY,
    names.UNIT,
    names.PACK_SIZE,
    names.UNIT_PRICE,
    names.EXTENDED_PRICE,
    names.ORIGIN_STATE,
    names.ORIGIN_ZIP,
    names.INVOICE_NO,
)
MONEY_TYPES = {names.UNIT_PRICE: "DECIMAL(18, 4)", names.EXTENDED_PRICE: "DECIMAL(18, 2)"}  # as purchase_lines has them
# table -> (id column, id sequence, value columns)
DIMENSIONS = {
    names.PURCHASE_ITEMS: (names.ITEM_ID, names.ITEM_ID_SEQ, ITEM_COLUMNS),
    names.PURCHASE_PACKS: (names.PACK_ID, names.PACK_ID_SEQ, PACK_COLUMNS),
}


def stored(column: str, prefix: str = "") -> str:
    """SQL for a column as purchase_lines stores it (prices cast to their DECIMAL types)."""
    return f"CAST({prefix}{column} AS {MONEY_TYPES[column]})" if column in MONEY_TYPES else f"{prefix}{column}"


def key_sql(column_sql: Callable[[str], str] = stored) -> str:
    """SQL for the line key: DuckDB's 64-bit hash of the canonical columns as stored (a UBIGINT).

    DuckDB's `hash` is ~7x faster here than md5 of the concatenated text, and storing it as a number rather than
    text saves about 0.4 CPU-seconds per million lines. It is deterministic for a given DuckDB version; the key is
    used only to flag duplicate lines, so a DuckDB upgrade that changed it would at worst miss a duplicate warning
    across the upgrade. (A database created with a text line_key stores the same hash as its digits.)
    """
    return f"hash({', '.join(column_sql(column) for column in KEY_COLUMNS)})"


def known_rows_sql(table: str) -> str:
    """SELECT of purchase_items' or purchase_packs' rows, one id (the first) per distinct combination of values."""
    id_column, _, columns = DIMENSIONS[table]
    return f"SELECT min({id_column}) AS {id_column}, {', '.join(columns)} FROM {table} GROUP BY ALL"


def insert_dimension_sql(table: str, source: str) -> str:
    """INSERT of new purchase_items or purchase_packs rows, ids included, from relation `source`."""
    id_column, _, columns = DIMENSIONS[table]
    listed = ", ".join((id_column, *columns))
    return f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {source}"


def _store_sql(source: str, key: str | None = None) -> tuple[str, ...]:
    """SQL statements storing the lines of relation `source` (the view's columns): new items and packs, then lines.

    `key` names a line key column `source` already has; without it the key is computed (`key_sql`).
    """
    statements = []
    joins = []
    for table, (id_column, sequence, columns) in DIMENSIONS.items():
        listed = ", ".join(columns)
        statements.append(
            f"INSERT INTO {table} ({id_column}, {listed}) SELECT nextval('{sequence}'), * FROM "
            f"(SELECT DISTINCT {listed} FROM {source} EXCEPT SELECT {listed} FROM {table})"
        )
        alias = f"_{id_column}"
        on = " AND ".join(f"s.{c} IS NOT DISTINCT FROM {alias}.{c}" for c in columns)
        joins.append(f"JOIN ({known_rows_sql(table)}) {alias} ON {on}")
    special = {
        names.ITEM_ID: f"_{names.ITEM_ID}.{names.ITEM_ID}",
        names.PACK_ID: f"_{names.PACK_ID}.{names.PACK_ID}",
        names.LINE_KEY: f"CAST(s.{key} AS UBIGINT)" if key else key_sql(lambda c: stored(c, "s.")),
    }
    select = ", ".join(special.get(c) or stored(c, "s.") for c in LINE_COLUMNS)
    statements.append(
        f"INSERT INTO {names.PURCHASE_LINES} ({', '.join(LINE_COLUMNS)}) SELECT {select} FROM {source} s "
        + " ".join(joins)
    )
    return tuple(statements)


def store(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Store the lines of relation `source`: any of the view's columns (others NULL, price_flag false, key computed).

    Values are cast to the types the view has first, so a computed key is the one a load would compute.
    """
    have = {str(row[0]) for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    view = con.execute(f"DESCRIBE {names.PURCHASES}").fetchall()  # its columns, in order, with their types
    filled = {names.PRICE_FLAG: "false"}
    key = names.LINE_KEY if names.LINE_KEY in have else None
    select = ", ".join(
        f"CAST({column if column in have else filled.get(column, 'NULL')} AS {sql_type}) AS {column}"
        for column, sql_type, *_ in view
        if column != names.LINE_KEY or key
    )
    for statement in _store_sql(f"(SELECT {select} FROM {source})", key=key):
        con.execute(statement)
