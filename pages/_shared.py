"""What every page shares: one cached DuckDB connection, cached calls into coop/, global filters, errors.

Pages call the functions here and render; they hold no SQL, Polars expressions or solver code. Cached
reads take the connection as `_con` (unhashed) and the database's data version (batch ids plus an edit
counter), so a new load, an undo or a settings edit refreshes every cached figure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import pickle
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

# Imported eagerly, before any session builds a chart: Altair and narwhals test `sys.modules` for numpy, pandas
# and pyarrow, so while one session's thread is still importing one lazily (Streamlit's dataframe code does),
# another session's chart saw a half-initialised module ("partially initialized module 'pandas' has no attribute
# 'Timestamp'", tests/test_concurrency.py). Importing them here, once, under the import lock, closes that race.
import numpy  # noqa: F401
import pandas  # noqa: F401
import polars as pl
import pyarrow  # noqa: F401
import streamlit as st

from coop import calendar, names
from coop.errors import CoopError, ValidationError
from coop.registry import districts
from coop.store import db

PERIOD_KEY = "filter_period"
DISTRICTS_KEY = "filter_districts"
_WRITE_LOCK = threading.Lock()
_MISSING = object()


# --- the connection ------------------------------------------------------------------
@st.cache_resource(show_spinner="Opening the co-op database…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """The app's one read-write connection to the database file at `path`."""
    return db.connect(path)


@st.cache_resource
def _edits() -> dict[str, int]:
    """A process-wide counter of edits made through the app (settings, vendors, districts)."""
    return {"n": 0}


@st.cache_resource
def _memo_store() -> dict[str, dict[Any, Any]]:
    """Results of long computations that report progress, shared across sessions (see `memo`)."""
    return {}


@st.cache_resource
def _memo_locks() -> tuple[threading.Lock, dict[tuple[str, Any], threading.Lock]]:
    """A guard for the memo store and one lock per (name, key) being computed (see `memo`)."""
    return threading.Lock(), {}


MEMO_ENTRIES = 16


def memo(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per (name, key), kept for the server's life (at most MEMO_ENTRIES per name).

    Used instead of `st.cache_data` for work that draws a progress bar: a cached function may not touch
    page elements created outside it. Keys include the data version, so new data recomputes. Sessions
    asking for the same value at once wait for the first one's result instead of computing it again.
    """
    store = _memo_store().setdefault(name, {})
    found = store.get(key, _MISSING)
    if found is not _MISSING:
        return found
    guard, locks = _memo_locks()
    with guard:
        lock = locks.setdefault((name, key), threading.Lock())
    with lock:
        found = store.get(key, _MISSING)
        if found is _MISSING:
            found = compute()
            with guard:
                while len(store) >= MEMO_ENTRIES:
                    store.pop(next(iter(store)))
                store[key] = found
                locks.pop((name, key), None)
    return found


def connection() -> duckdb.DuckDBPyConnection:
    """The app's shared connection (one per database path, for the life of the server)."""
    return _connection(str(db.resolve_path().resolve()))


def cursor() -> duckdb.DuckDBPyConnection:
    """A fresh cursor on the shared connection, safe to use from this session's thread."""
    return connection().cursor()


def lib(module: str) -> ModuleType:
    """The coop module `coop.<module>`, imported when first needed (the solver modules load cvxpy)."""
    return importlib.import_module(f"coop.{module}")


def data_version() -> str:
    """A key that changes whenever data changes: the database path, its batch ids and the app's edit counter."""
    frame = lib("store.batches").list_batches(cursor())
    ids = sorted(int(i) for i in frame[names.BATCH_ID].to_list()) if frame.height else []
    return f"{db.resolve_path().resolve()}|{len(ids)}:{max(ids, default=0)}:{sum(ids)}:{_edits()['n']}"


def mark_edited() -> None:
    """Record that data changed through the app, so cached figures are recomputed."""
    _edits()["n"] += 1


@contextmanager
def writing() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor for a write, serialised across sessions; marks the data as changed afterwards."""
    with _WRITE_LOCK:
        try:
            yield cursor()
        finally:
            mark_edited()


# --- errors --------------------------------------------------------------------------
def show_error(exc: CoopError) -> None:
    """Show a coop error as `st.error` with its reason (and each row problem), never a traceback."""
    st.error(str(exc), icon=":material/error:")
    if isinstance(exc, ValidationError) and exc.problems:
        problems = problems_frame(exc.problems)
        st.dataframe(problems, hide_index=True, width="stretch")
        st.caption("Each problem names the file, the row as a spreadsheet shows it (header = row 1) and the column.")


def problems_frame(problems: list[dict[str, object]] | tuple[dict[str, object], ...]) -> pl.DataFrame:
    """Row problems as a table with file, row, column, reason (and severity when given)."""
    if not problems:
        return pl.DataFrame(schema={"file": pl.String, "row": pl.Int64, "column": pl.String, "reason": pl.String})
    frame = pl.DataFrame([{k: (str(v) if k != "row" else v) for k, v in p.items()} for p in problems])
    order = [c for c in ("severity", "file", "row", "column", "reason") if c in frame.columns]
    return frame.select(order + [c for c in frame.columns if c not in order])


@contextmanager
def errors_shown() -> Iterator[None]:
    """Run a block, showing any CoopError it raises as `st.error` instead of a traceback."""
    try:
        yield
    except CoopError as exc:
        show_error(exc)


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call `fn`; on a CoopError show it with `st.error` and stop the page."""
    try:
        return fn(*args, **kwargs)
    except CoopError as exc:
        show_error(exc)
        st.stop()


# --- first start -------------------------------------------------------------------------
@st.cache_resource
def _first_start_lock() -> threading.Lock:
    """One lock so only one session loads the sample co-op into an empty database."""
    return threading.Lock()


def _district_count() -> int:
    """How many districts are registered."""
    return districts.load(cursor()).height


def ensure_data() -> None:
    """On an empty database (first start) load the bundled sample co-op and say so."""
    if _district_count():
        return
    with _first_start_lock():
        if _district_count():
            return
        sample = lib("sample")
        with st.status("First start: loading the bundled sample co-op…", expanded=False) as status:
            with writing() as cur:
                summary = call(sample.load, cur)
            status.update(label="Sample co-op loaded", state="complete")
        st.session_state["sample_loaded"] = summary
    st.toast("The database was empty, so the bundled sample co-op was loaded.", icon=":material/eco:")


def first_start_notice() -> None:
    """Tell the user, once per session, that the data shown is the bundled sample co-op."""
    if st.session_state.pop("sample_loaded", None) is not None:
        st.info(
            "This database was empty, so the bundled **sample co-op** (fictional districts) was loaded. "
            "Replace it with your districts' files on **Data intake**."
        )


# --- cached reads ------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def _districts(_con: duckdb.DuckDBPyConnection, version: str) -> pl.DataFrame:
    """All registered districts."""
    return districts.load(_con.cursor())


def district_table() -> pl.DataFrame:
    """All registered districts (cached until the data changes)."""
    return _districts(connection(), data_version())


@st.cache_data(show_spinner=False)
def _date_range(_con: duckdb.DuckDBPyConnection, version: str) -> tuple[date, date] | None:
    """First and last invoice date of the purchase lines, or None when there are none."""
    return lib("metrics.compute").date_range(_con.cursor())


def date_range() -> tuple[date, date] | None:
    """First and last invoice date loaded (cached until the data changes)."""
    return _date_range(connection(), data_version())


# --- global filters ----------------------------------------------------------------------
def _copy_widget(widget_key: str, store_key: str) -> None:
    """Copy a filter widget's value to the store that survives page switches."""
    st.session_state[store_key] = st.session_state[widget_key]


def filters() -> tuple[date, date, list[str]]:
    """Draw the sidebar's global filters (period, districts) and return their values.

    The values live in session state under keys no widget owns, so they persist across pages.
    """
    ss = st.session_state
    span = date_range()
    today = date.today()
    lo, hi = span if span is not None else (today - timedelta(days=365), today)
    if PERIOD_KEY not in ss:
        ss[PERIOD_KEY] = (lo, hi)
    all_ids = district_table()[names.DISTRICT_ID].to_list()
    if DISTRICTS_KEY not in ss:
        ss[DISTRICTS_KEY] = []
    ss[DISTRICTS_KEY] = [d for d in ss[DISTRICTS_KEY] if d in all_ids]

    with st.sidebar:
        st.subheader("Filters")
        ss["_w_period"] = ss[PERIOD_KEY]
        st.date_input(
            "Period (invoice dates, inclusive)",
            key="_w_period",
            min_value=min(lo, ss[PERIOD_KEY][0]),
            max_value=max(hi, ss[PERIOD_KEY][-1]),
            on_change=_copy_widget,
            args=("_w_period", PERIOD_KEY),
            help="Applies on every page. Pick the first and the last day.",
        )
        ss["_w_districts"] = ss[DISTRICTS_KEY]
        labels = dict(zip(all_ids, district_table()[names.NAME].to_list(), strict=True))
        st.multiselect(
            "Districts",
            options=all_ids,
            format_func=lambda d: labels.get(d, d),
            placeholder="All districts",
            key="_w_districts",
            on_change=_copy_widget,
            args=("_w_districts", DISTRICTS_KEY),
            help="Applies on every page except the meeting packet. Empty = all districts.",
        )
        if span is not None:
            st.caption(f"Data loaded: {span[0]:%d %b %Y} to {span[1]:%d %b %Y}.")
        st.caption(f"Database: `{db.resolve_path()}`")
    period = ss[PERIOD_KEY]
    start = period[0]
    end = period[1] if len(period) > 1 else period[0]
    chosen = ss[DISTRICTS_KEY] or list(all_ids)
    return start, end, chosen


def period_label(start: date, end: date) -> str:
    """A period as people say it, e.g. '1 Jul 2024 – 30 Jun 2025'."""
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def setup(title: str, intro: str) -> tuple[date, date, list[str]]:
    """Start a page: first-start data, title and intro, global filters; return (start, end, districts)."""
    ensure_data()
    st.title(title)
    st.caption(intro)
    first_start_notice()
    return filters()


# --- data intake ---------------------------------------------------------------------------
UPLOAD_TYPES = ("csv", "txt", "tsv", "xlsx", "xlsm", "parquet")
MAPPING_TARGETS: tuple[str, ...] = (
    *names.CANONICAL_COLUMNS,
    names.PACK_SIZE,
    names.PERIOD_START,
    names.PERIOD_END,
)
TEMPLATE_COLUMNS: tuple[str, ...] = (*names.CANONICAL_COLUMNS[:10], names.PACK_SIZE, *names.CANONICAL_COLUMNS[10:])


def _upload_dir() -> Path:
    """The private directory for this session's uploaded files (kept so errors can name the file)."""
    if "upload_dir" not in st.session_state:
        st.session_state["upload_dir"] = tempfile.mkdtemp(prefix="coop-upload-")
    return Path(st.session_state["upload_dir"])


def save_upload(name: str, content: bytes) -> Path:
    """Write an uploaded file under its own name in this session's upload directory; return the path."""
    folder = _upload_dir() / hashlib.sha256(content).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(name).name
    if not path.exists():
        path.write_bytes(content)
    return path


PREVIEW_ROWS = 50


@st.cache_data(show_spinner="Reading the file…", max_entries=8)
def read_upload(path: str, sha: str) -> pl.DataFrame:
    """The file's first rows as text with their spreadsheet row numbers (`source_row`); large files stay unread."""
    from coop.ingest import readers

    _mapping, head = readers.preview(Path(path), rows=PREVIEW_ROWS)
    return head


def saved_mappings() -> list[str]:
    """Names of the column mappings saved in the database."""
    from coop.ingest import readers

    return readers.list_mappings(cursor())


def mapping_table(head: pl.DataFrame, saved: str | None) -> pl.DataFrame:
    """Source header, an example value and the proposed canonical column (a saved mapping wins)."""
    from coop.ingest import readers

    headers = [c for c in head.columns if c != names.SOURCE_ROW]
    mapping = readers.resolve_mapping(headers, readers.load_mapping(cursor(), saved) if saved else None)
    first = head.head(1).to_dicts()
    example = first[0] if first else {}
    return pl.DataFrame(
        {
            "source column": headers,
            "example value": [None if example.get(h) is None else str(example[h]) for h in headers],
            "maps to": [mapping.get(h) for h in headers],
        },
        schema={"source column": pl.String, "example value": pl.String, "maps to": pl.String},
    )


def mapped_preview(head: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The first rows under the (edited) mapping, with the commodity, category and unprocessed status inferred.

    The inferred columns come from `coop.classify.classify_many` on the item text, as the load will do for
    columns the file lacks.
    """
    from coop.ingest import readers
    from coop.products import classify

    frame = readers.apply_mapping(head, mapping_from_table(table))
    if names.PRODUCT not in frame.columns or frame.height == 0:
        return frame
    found = classify.classify_many(frame[names.PRODUCT]).select(
        pl.col(names.DESCRIPTION).alias(names.PRODUCT),
        pl.col(names.PRODUCT).alias("commodity (inferred)"),
        pl.col(names.CATEGORY).alias("category (inferred)"),
        pl.col(names.UNPROCESSED).alias("unprocessed (inferred)"),
    )
    return frame.join(found, on=names.PRODUCT, how="left", maintain_order="left")


def mapping_from_table(table: pl.DataFrame) -> dict[str, str | None]:
    """The mapping dict (source header -> canonical or None) from the edited mapping table."""
    return {h: (c or None) for h, c in zip(table["source column"].to_list(), table["maps to"].to_list(), strict=True)}


def is_usage_report(path: Path) -> bool:
    """True when the file is a distributor's 'District Usage by Item' report."""
    return bool(lib("ingest.usage_report").is_usage_report(path))


def ingest_upload(
    path: Path,
    *,
    district_id: str,
    table: pl.DataFrame,
    mapping_name: str,
    skip_invalid: bool,
    progress: Callable[[float, str], None],
) -> Any:
    """Save the edited mapping, then validate and load the file as one batch (`coop.ingest.IngestResult`)."""
    from coop.ingest import pipeline, readers

    with writing() as cur:
        readers.save_mapping(cur, mapping_name, mapping_from_table(table))
        return pipeline.ingest_file(
            cur, path, district_id=district_id, mapping=mapping_name, skip_invalid=skip_invalid, progress=progress
        )


def ingest_usage(
    path: Path,
    *,
    vendor_name: str,
    vendor_type: str,
    add_districts: bool,
    state: str | None,
    zip_code: str | None,
    skip_invalid: bool,
    progress: Callable[[float, str], None],
) -> Any:
    """Load a distributor usage report (one block per district) as one batch (`coop.ingest.IngestResult`)."""
    usage = lib("ingest.usage_report")
    with writing() as cur:
        return usage.ingest_usage_report(
            cur,
            path,
            vendor_name=vendor_name,
            vendor_type=vendor_type,
            add_districts=add_districts,
            skip_invalid=skip_invalid,
            progress=progress,
            state=state or None,
            zip_code=zip_code or None,
        )


def problems_csv(problems: list[dict[str, object]] | tuple[dict[str, object], ...]) -> bytes:
    """Row problems as CSV bytes (file, row, column, reason, severity) for download."""
    return problems_frame(problems).write_csv().encode("utf-8")


def template_csv() -> bytes:
    """A blank purchase-line template: the canonical header row only."""
    return (",".join(TEMPLATE_COLUMNS) + "\n").encode("utf-8")


def batch_table() -> pl.DataFrame:
    """Every loaded batch, newest first."""
    frame = lib("store.batches").list_batches(cursor())
    return frame.sort(names.BATCH_ID, descending=True) if frame.height else frame


def undo_batch(batch_id: int) -> int:
    """Remove one batch (its lines and rejects); return how many purchase lines were removed."""
    batches = lib("store.batches")
    with writing() as cur:
        return int(batches.undo(cur, batch_id))


# --- registries and settings ---------------------------------------------------------------
def districts_for_editing() -> pl.DataFrame:
    """The districts table as text for editing (lists of states/counties joined with '; ')."""
    frame = district_table()
    return frame.select(
        *[
            pl.col(c).list.join("; ").alias(c)
            if c in (names.LOCAL_STATES, names.LOCAL_COUNTIES)
            else pl.col(c).cast(pl.String)
            for c in names.DISTRICT_COLUMNS
        ]
    )


def save_districts(edited: pl.DataFrame) -> int:
    """Validate the edited districts (as a districts CSV would be) and upsert them; return how many."""
    folder = _upload_dir()
    path = folder / "districts (edited in the app).csv"
    edited.select(names.DISTRICT_COLUMNS).write_csv(path)
    with writing() as cur:
        return districts.upsert_from_csv(cur, path)


def vendor_table() -> pl.DataFrame:
    """The vendor registry (vendor name, type, default origin)."""
    from coop.registry import vendors

    return vendors.load(cursor())


def save_vendors(edited: pl.DataFrame) -> int:
    """Validate and upsert the edited vendor registry; return how many vendors."""
    from coop.registry import vendors

    with writing() as cur:
        return vendors.upsert(cur, edited, file_name="vendor registry (edited in the app)")


def meal_table() -> pl.DataFrame:
    """Monthly meal counts per district."""
    from coop.registry import meals

    return meals.load(cursor())


def save_meals(edited: pl.DataFrame) -> int:
    """Validate and upsert the edited monthly meal counts; return how many rows."""
    from coop.registry import meals

    with writing() as cur:
        return meals.upsert(cur, edited, file_name="meal counts (edited in the app)")


# --- metrics ------------------------------------------------------------------------------------
LOCAL_DEFINITION = "Local = grown or raised within the buying district's own definition (radius, states or counties)."
SPEND_DEFINITION = "Spend = sum of invoiced extended price, US dollars."
SELECTION = "selection"
_DRILL_SQL = f"""
SELECT {names.INVOICE_DATE}, {names.VENDOR_NAME}, {names.VENDOR_TYPE}, {names.DESCRIPTION}, {names.PRODUCT},
       {names.CATEGORY}, {names.QUANTITY}, {names.UNIT}, {names.UNIT_PRICE},
       CAST({names.EXTENDED_PRICE} AS DOUBLE) AS {names.EXTENDED_PRICE}, {names.ORIGIN_STATE}, {names.ORIGIN_ZIP},
       {names.INVOICE_NO}, {names.BATCH_ID}, {names.SOURCE_ROW}, {names.DISTRICT_ID}
FROM {names.PURCHASES}
WHERE {names.DISTRICT_ID} = ? AND {names.INVOICE_DATE} BETWEEN ? AND ?
ORDER BY {names.INVOICE_DATE}, {names.VENDOR_NAME}
"""
_PRICE_SQL = f"""
SELECT {names.DISTRICT_ID}, CAST(date_trunc('month', {names.INVOICE_DATE}) AS DATE) AS {names.MONTH},
       {names.BASE_UNIT}, {names.ORIGIN_ZIP}, {names.ORIGIN_STATE},
       CAST(sum({names.EXTENDED_PRICE}) AS DOUBLE) AS spend, sum({names.BASE_QUANTITY}) AS {names.BASE_QUANTITY}
FROM {names.PURCHASES}
WHERE {names.PRODUCT} = ? AND {names.INVOICE_DATE} BETWEEN ? AND ? AND {names.BASE_QUANTITY} > 0
GROUP BY ALL
"""
_FRESHNESS_SQL = f"""
SELECT {names.DISTRICT_ID}, max({names.INVOICE_DATE}) AS last_invoice_date, count(*) AS lines
FROM {names.PURCHASE_LINES}
GROUP BY {names.DISTRICT_ID}
"""


def _selection_rows(frame: pl.DataFrame, ids: tuple[str, ...], by: list[str]) -> pl.DataFrame:
    """A spend table's district rows for `ids` plus a 'coop' row per `by` group that sums just those districts."""
    picked = frame.filter(pl.col("scope").is_in(ids))
    sums = (
        picked.group_by(by).agg(pl.col("total_spend", "local_spend", "unknown_origin_spend", "lines").sum())
        if by
        else picked.select(pl.col("total_spend", "local_spend", "unknown_origin_spend", "lines").sum())
    )
    sums = sums.with_columns(
        pl.lit("coop").alias("scope"),
        pl.when(pl.col("total_spend") != 0).then(pl.col("local_spend") / pl.col("total_spend")).alias("local_share"),
    )
    return pl.concat([picked, sums.select(picked.columns)]).sort("scope", *by)


def _selection(m: Any, ids: tuple[str, ...]) -> Any:
    """The metrics with every spend figure's 'coop' scope re-summed over the chosen districts only.

    Spend, local spend and unknown-origin spend add up across districts, so the selection's figures are exact
    sums of the library's district rows. Price premiums are ratios that do not add up: their 'coop' rows stay
    co-op-wide (the pages say so), and district rows are filtered.
    """
    dists = m.districts.filter(pl.col(names.DISTRICT_ID).is_in(ids))
    total = dists.select(pl.col("total_spend", "local_spend", "unknown_origin_spend", "lines").sum())
    coop = total.with_columns(
        pl.when(pl.col("total_spend") != 0).then(pl.col("local_spend") / pl.col("total_spend")).alias("local_share")
    ).select(m.coop.columns)
    routes = m.by_route.filter(pl.col("scope").is_in(ids))
    route_sums = (
        routes.group_by(names.ROUTE)
        .agg(pl.col("spend").sum())
        .with_columns(pl.lit("coop").alias("scope"), (pl.col("spend") / pl.col("spend").sum()).alias("share"))
    )
    keep = pl.col("scope").is_in([*ids, "coop"])
    return dataclasses.replace(
        m,
        districts=dists,
        coop=coop,
        by_month=_selection_rows(m.by_month, ids, [names.MONTH]),
        by_category=_selection_rows(m.by_category, ids, [names.CATEGORY]),
        by_route=pl.concat([routes, route_sums.select(routes.columns)]),
        premiums=m.premiums.filter(keep),
        category_premiums=m.category_premiums.filter(keep),
        route_premiums=m.route_premiums.filter(keep),
        unpriced=m.unpriced.filter(pl.col("scope").is_in(ids)),
        trajectory=m.trajectory.filter(pl.col("scope").is_in(ids)),
        **({"goal": m.goal.filter(pl.col("scope").is_in(ids))} if hasattr(m, "goal") else {}),
    )


@st.cache_data(show_spinner="Computing the co-op's figures…", max_entries=32)
def _metrics(_con: duckdb.DuckDBPyConnection, version: str, start: date, end: date, ids: tuple[str, ...]) -> Any:
    """Every metric for the period (`coop.metrics.Metrics`), narrowed to the chosen districts."""
    from coop.metrics import compute

    computed = compute.compute(_con.cursor(), start, end)
    everyone = set(computed.districts[names.DISTRICT_ID].to_list())
    return computed if set(ids) >= everyone else _selection(computed, ids)


def metrics_for(start: date, end: date, ids: list[str]) -> Any:
    """Every metric for the period and districts chosen (cached until the data changes)."""
    return _metrics(connection(), data_version(), start, end, tuple(sorted(ids)))


def coop_label(ids: list[str]) -> str:
    """What the 'coop' scope means for this selection: the whole co-op or the chosen districts."""
    total = district_table().height
    return "Co-op" if len(ids) >= total else f"Selected districts ({len(ids)} of {total})"


def weighted_premium(m: Any) -> float | None:
    """The selection's local premium: its commodity premiums weighted by local spend (None when none exist)."""
    coop = m.premiums.filter(pl.col("scope") == "coop")
    weight = coop["local_spend"].sum() if coop.height else 0.0
    if not weight:
        return None
    return float((coop["premium"] * coop["local_spend"]).sum() / weight)


@st.cache_data(show_spinner=False)
def _freshness(_con: duckdb.DuckDBPyConnection, version: str) -> pl.DataFrame:
    """Per district: last invoice date, lines on file and when its data was last loaded."""
    lines = _con.cursor().sql(_FRESHNESS_SQL).pl()
    frame = (
        districts.load(_con.cursor())
        .select(names.DISTRICT_ID, names.NAME)
        .join(lines, on=names.DISTRICT_ID, how="left")
    )
    listed = lib("store.batches").list_batches(_con.cursor())
    loaded = (
        listed.filter(pl.col(names.DISTRICT_ID).is_not_null())
        .group_by(names.DISTRICT_ID)
        .agg(pl.col(names.LOADED_AT).max().alias("last_loaded_at"))
    )
    frame = frame.join(loaded, on=names.DISTRICT_ID, how="left")
    return frame.sort(names.DISTRICT_ID)


def freshness() -> pl.DataFrame:
    """Per district: last invoice date, lines on file and when its data was last loaded (cached)."""
    return _freshness(connection(), data_version())


def district_overview(m: Any) -> pl.DataFrame:
    """The district table: name, spend, local share, unknown-origin spend and freshness, largest spend first."""
    fresh = freshness()
    today = date.today()
    table = m.districts
    goal = getattr(m, "goal", None)
    if goal is not None and "cumulative_local_share" in goal.columns:
        status = goal.select(pl.col("scope").alias(names.DISTRICT_ID), pl.col("met").alias("goal_met"))
        table = table.join(status, on=names.DISTRICT_ID, how="left")
    return (
        table.join(fresh.drop("lines", strict=False), on=names.DISTRICT_ID, how="left")
        .with_columns(
            (pl.lit(today) - pl.col("last_invoice_date")).dt.total_days().alias("days_since_last_invoice"),
        )
        .select(
            names.DISTRICT_ID,
            names.NAME,
            "total_spend",
            "local_spend",
            "local_share",
            *(["goal_met"] if "goal_met" in table.columns else []),
            "unknown_origin_spend",
            "lines",
            "last_invoice_date",
            "days_since_last_invoice",
            *(["last_loaded_at"] if "last_loaded_at" in fresh.columns else []),
        )
        .sort("total_spend", descending=True)
    )


def monthly_share(m: Any, ids: list[str], per_district: bool) -> pl.DataFrame:
    """Local share by month (`month`, `local_share`, `series`) for the selection or for each district."""
    frame = m.by_month if per_district else m.by_month.filter(pl.col("scope") == "coop")
    label = coop_label(ids)
    return frame.filter(pl.col("total_spend") > 0).select(
        names.MONTH,
        "local_share",
        pl.when(pl.col("scope") == "coop").then(pl.lit(label)).otherwise(pl.col("scope")).alias("series"),
    )


def route_spend(m: Any, scope: str = "coop") -> pl.DataFrame:
    """Spend and share per route for one scope (a district id or 'coop')."""
    return m.by_route.filter(pl.col("scope") == scope).select(names.ROUTE, "spend", "share")


def by_scope(frame: pl.DataFrame, scope: str = "coop") -> pl.DataFrame:
    """The rows of a metrics table for one scope (a district id or 'coop'), without the scope column."""
    return frame.filter(pl.col("scope") == scope).drop("scope")


@st.cache_data(show_spinner="Reading the purchase lines…", max_entries=16)
def _drill(_con: duckdb.DuckDBPyConnection, version: str, district_id: str, start: date, end: date) -> pl.DataFrame:
    """One district's purchase lines in the period with locality by its own definition and the route."""
    from coop.metrics import compute, local

    lines = _con.cursor().sql(_DRILL_SQL, params=[district_id, start, end]).pl().lazy()
    dists = compute.load_districts(_con.cursor())
    return local.with_route(local.with_locality(lines, dists)).collect()


def drill_lines(district_id: str, start: date, end: date, category: str | None, local_only: str) -> pl.DataFrame:
    """A district's purchase lines (filtered by category and by 'all'/'local'/'not local'/'unknown origin')."""
    from coop.metrics import local

    frame = _drill(connection(), data_version(), district_id, start, end)
    if category:
        frame = frame.filter(pl.col(names.CATEGORY) == category)
    if local_only == "local":
        frame = frame.filter(pl.col(local.LOCAL))
    elif local_only == "not local":
        frame = frame.filter(~pl.col(local.LOCAL) & ~pl.col(local.UNKNOWN_ORIGIN))
    elif local_only == "unknown origin":
        frame = frame.filter(pl.col(local.UNKNOWN_ORIGIN))
    return frame


@st.cache_data(show_spinner="Computing unit prices…", max_entries=16)
def _unit_prices(
    _con: duckdb.DuckDBPyConnection, version: str, start: date, end: date, ids: tuple[str, ...], product: str
) -> pl.DataFrame:
    """Average price per base unit per month for local and non-local lines of one product."""
    from coop.metrics import compute, local

    lines = (
        _con.cursor()
        .sql(_PRICE_SQL, params=[product, start, end])
        .pl()
        .lazy()
        .filter(pl.col(names.DISTRICT_ID).is_in(ids))
    )
    return (
        local.with_locality(lines, compute.load_districts(_con.cursor()))
        .group_by(names.MONTH, local.LOCAL, names.BASE_UNIT)
        .agg(
            (pl.col("spend").sum() / pl.col(names.BASE_QUANTITY).sum()).alias("unit_price"),
            pl.col(names.BASE_QUANTITY).sum().alias("base_quantity"),
        )
        .with_columns(pl.when(pl.col(local.LOCAL)).then(pl.lit("Local")).otherwise(pl.lit("Non-local")).alias("origin"))
        .sort(names.MONTH, "origin")
        .collect()
    )


def unit_prices(start: date, end: date, ids: list[str], product: str) -> pl.DataFrame:
    """Average price per base unit per month, local vs non-local, for one product (cached)."""
    return _unit_prices(connection(), data_version(), start, end, tuple(sorted(ids)), product)


# --- route optimizer ------------------------------------------------------------------------------
PAPER = "paper"


def scenario_choices() -> dict[str, str]:
    """Shipped scenario name -> its label (the paper's six scenarios)."""
    from coop.optimize import scenarios

    return {name: s.label or name for name, s in scenarios.SCENARIOS.items()}


def scenario(name: str) -> Any:
    """The shipped scenario called `name` (`coop.scenarios.Scenario`)."""
    from coop.optimize import scenarios

    return scenarios.get_scenario(name)


@st.cache_data(show_spinner="Calibrating the district's route costs…", max_entries=64)
def _district_model(_con: duckdb.DuckDBPyConnection, version: str, district_id: str) -> tuple[Any, tuple[str, ...]]:
    """The paper's model with one district's calibrated route costs and annual meals, and the calibration notes."""
    from coop.optimize import lp

    return lp.district_model(_con.cursor(), district_id)


def base_model(source: str) -> tuple[Any, tuple[str, ...]]:
    """The model to start from: the paper's (source 'paper') or a district's calibrated one, with notes."""
    from coop.optimize import paper

    if source == PAPER:
        return paper.paper_model(), ()
    return _district_model(connection(), data_version(), source)


def edited_model(base: Any, costs: dict[str, float], meals: float) -> Any:
    """The model with edited route costs ($ per meal) and annual meals (cost-linked rows recomputed)."""
    return base.with_costs(costs, meals=meals, source=base.source)


def edited_scenario(name: str, policy: list[str], targets: dict[str, float], incentive: float) -> Any:
    """The shipped scenario `name` with its policy constraints, targets and incentive replaced where edited."""
    from coop.optimize import scenarios

    start = scenarios.get_scenario(name)
    if tuple(policy) == start.policy and incentive == start.incentive and targets == start.target_map:
        return start
    return scenarios.define_scenario(
        f"{name} (edited)",
        base=start,
        policy=policy,
        targets=targets,
        incentive=incentive,
        label=f"{start.label} (edited)",
        description=start.description,
    )


@st.cache_data(show_spinner="Solving the route LP…", max_entries=256)
def solve(model: Any, scenario: Any) -> Any:
    """One solve of the route LP (`coop.lp.LPResult`)."""
    from coop.optimize import lp

    return lp.solve(scenario, model)


def compare_scenarios(model: Any) -> pl.DataFrame:
    """Meals per route under every shipped scenario on this model (`route`, `meals`, `series`, status, cost)."""
    rows: list[dict[str, Any]] = []
    for name, label in scenario_choices().items():
        res = solve(model, scenario(name))
        for route in model.route_names:
            rows.append(
                {
                    names.ROUTE: route,
                    "meals": (res.meals or {}).get(route),
                    "series": label,
                    "status": res.status,
                    "total_cost": res.total_cost,
                }
            )
    return pl.DataFrame(rows, schema_overrides={"meals": pl.Float64, "total_cost": pl.Float64})


def shadow_price_words(result: Any, model: Any) -> pl.DataFrame:
    """Each switched-on constraint's shadow price with what it means, in words."""
    table = result.duals_table()
    words = []
    for name, value, binding in table.iter_rows():
        row = model.row(name)
        if name == names.QUANTITY_CONSTRAINT:
            text = f"Each extra meal a year adds ${value:,.3f} to total cost: the marginal cost of a meal."
        elif not binding:
            text = "Not binding: the plan meets it with room to spare, so a small change costs nothing."
        elif abs(value) < 1e-9:
            text = "At its limit, but a small change would not alter the cost (another plan is as cheap)."
        else:
            direction = "tightening it costs money" if value > 0 else "loosening it saves money"
            text = (
                f"Binding: each one-unit increase of its right-hand side ({row.unit} summed over meals) changes total "
                f"cost by ${value:+,.3f}; {direction}."
            )
        words.append(text)
    return table.with_columns(
        pl.Series("requirement", [model.row(n).label for n in table["constraint"]], dtype=pl.String),
        pl.Series("meaning", words, dtype=pl.String),
    ).select("constraint", "requirement", "shadow_price", "binding", "meaning")


def reduced_cost_words(result: Any) -> pl.DataFrame:
    """Meals per route with each route's reduced cost explained in words."""
    table = result.meals_table()
    words = []
    for _route, meals, _share, reduced in table.iter_rows():
        if meals > 0.5:
            words.append("In the plan: its reduced cost is zero.")
        elif reduced > 1e-9:
            words.append(
                f"Not used: its cost would have to fall by ${reduced:,.3f} per meal (or an incentive that size be "
                "paid) before buying through it lowers total cost."
            )
        else:
            words.append("Not used, but it could enter the plan at no extra cost (a tie).")
    return table.with_columns(pl.Series("meaning", words, dtype=pl.String))


def run_sensitivity(model: Any, scenario: Any, progress: Callable[[float, str], None]) -> Any:
    """The paper's +/-50% cost sensitivity runs for one scenario (`coop.sensitivity.SensitivityResult`)."""
    sensitivity = lib("optimize.sensitivity")
    return sensitivity.sensitivity(scenario, model, progress=progress)


def ranges_table(result: Any) -> pl.DataFrame:
    """Min and max over the optimal sensitivity runs of meals, shadow prices and reduced costs."""
    rows = []
    for kind, values in result.ranges.items():
        for key, span in values.items():
            rows.append(
                {
                    "quantity": kind.replace("_", " "),
                    "of": key,
                    "min": None if span is None else span["min"],
                    "max": None if span is None else span["max"],
                }
            )
    return pl.DataFrame(rows, schema={"quantity": pl.String, "of": pl.String, "min": pl.Float64, "max": pl.Float64})


@st.cache_data(show_spinner="Tracing the incentive curve…", max_entries=64)
def incentive_curve(model: Any, scenario: Any, routes: tuple[str, ...]) -> pl.DataFrame:
    """Share of meals on `routes` against an extra incentive in $ per meal (`incentive`, `local_share`, ...)."""
    incentive = lib("optimize.incentive")
    curve = incentive.incentive_curve(scenario, routes, model)
    return curve.rename({"share": "local_share"})


@st.cache_data(show_spinner="Searching for the smallest incentive…", max_entries=64)
def find_incentive(model: Any, scenario: Any, routes: tuple[str, ...], target: float) -> Any:
    """The smallest extra per-meal incentive on `routes` reaching `target` share (`IncentiveResult`)."""
    incentive = lib("optimize.incentive")
    return incentive.find_incentive(scenario, target, routes, model)


# --- co-op buying power ---------------------------------------------------------------------------
DB_SPEC = "database"


def quotes_table() -> pl.DataFrame:
    """The pooled model's price terms (volume tiers, capacities, fixed costs); defaults are labelled assumptions."""
    from coop.optimize import quotes

    return quotes.load_quotes(cursor())


def save_quotes(edited: pl.DataFrame) -> int:
    """Validate and store the edited price terms; return how many rows."""
    from coop.optimize import quotes

    with writing() as cur:
        return int(quotes.save_quotes(cur, edited))


@st.cache_data(show_spinner="Building the pool from the database…", max_entries=16)
def _db_spec(
    _con: duckdb.DuckDBPyConnection,
    version: str,
    start: date,
    end: date,
    ids: tuple[str, ...],
    quotes_rows: tuple[tuple[Any, ...], ...],
    local_min: float | None,
) -> Any:
    """A pool spec from the database for the period, restricted to the districts chosen (`coop.pool.PoolSpec`)."""
    from coop.optimize import pool, quotes

    terms = pl.DataFrame(list(quotes_rows), schema=quotes.QUOTE_SCHEMA, orient="row")
    spec = quotes.spec_from_db(_con.cursor(), quotes=terms, local_share_min=local_min, date_from=start, date_to=end)
    for district_id in spec.ids:
        if district_id not in ids and len(spec.ids) > 1:
            spec = pool.without_district(spec, district_id)
    return spec


def db_spec(start: date, end: date, ids: list[str], terms: pl.DataFrame, local_min: float | None) -> Any:
    """A pool spec from the database (cached until the data or the inputs change)."""
    rows = tuple(tuple(r) for r in terms.iter_rows())
    return _db_spec(connection(), data_version(), start, end, tuple(sorted(ids)), rows, local_min)


def spec_from_upload(name: str, content: bytes) -> Any:
    """A pool spec from an uploaded JSON file (`coop.pool.PoolSpec`); SpecError names the bad field."""
    from coop.errors import SpecError
    from coop.optimize import pool_spec

    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(f"{name}: not a JSON document: {exc}") from exc
    return pool_spec.parse_spec(data, source=name)


@st.cache_data(show_spinner="Solving each district alone and the pool…", max_entries=16)
def solve_pool(spec: Any) -> Any:
    """Each district's standalone optimum and the pooled optimum, with savings (`coop.pool.PoolResult`)."""
    from coop.optimize import pool

    return pool.solve_pool(spec)


def exact_shapley_limit() -> int:
    """The most members for which allocation solves every coalition (exact Shapley value, core check)."""
    from coop.optimize import allocate as alloc

    return alloc.DEFAULT_EXACT


def allocate(spec: Any, progress: Callable[[float, str], None] | None = None) -> Any:
    """Standalone and pooled optima, every coalition, and each allocation method (`AllocationReport`)."""
    from coop.optimize import allocate as alloc

    key = hashlib.sha256(pickle.dumps(spec)).hexdigest()
    return memo("allocate", key, lambda: alloc.allocate(spec, progress=progress))


def pool_costs(result: Any) -> pl.DataFrame:
    """Per district: standalone cost, pooled purchase cost, savings (US dollars per year) for the chart."""
    return result.standalone.rename({"district": names.DISTRICT_ID, "coop_cost": "pooled_cost"})


def allocation_long(report: Any) -> pl.DataFrame:
    """Each district's allocated cost under each method (`district_id`, `method`, `cost`)."""
    frames = [
        a.costs.select(pl.col("district").alias(names.DISTRICT_ID), pl.lit(a.method).alias("method"), pl.col("cost"))
        for a in report.allocations
    ]
    return pl.concat(frames)


def allocation_checks(report: Any) -> pl.DataFrame:
    """Per allocation method: in the core, individually rational, largest excess, blocking group, weakness."""
    return pl.DataFrame(
        [
            {
                "method": a.method,
                "in_core": a.in_core,
                "individually_rational": a.individually_rational,
                "max_excess": a.max_excess,
                "blocking_group": ", ".join(a.blocking) if a.blocking else "",
                "known_weakness": a.weakness,
            }
            for a in report.allocations
        ],
        schema={
            "method": pl.String,
            "in_core": pl.Boolean,
            "individually_rational": pl.Boolean,
            "max_excess": pl.Float64,
            "blocking_group": pl.String,
            "known_weakness": pl.String,
        },
    )


def savings_by_route(result: Any) -> pl.DataFrame:
    """Where the savings come from: units and cost per route, buying alone vs in the pool, and the difference."""
    purchases = result.purchases
    wide = (
        purchases.group_by("scope", names.ROUTE)
        .agg(pl.col("units").sum(), pl.col("cost").sum())
        .pivot(on="scope", index=names.ROUTE, values=["units", "cost"])
        .fill_null(0.0)
    )
    for column in ("units_standalone", "units_coop", "cost_standalone", "cost_coop"):
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(column))
    return wide.select(
        names.ROUTE,
        "units_standalone",
        "units_coop",
        "cost_standalone",
        "cost_coop",
        (pl.col("cost_standalone") - pl.col("cost_coop")).alias("saving"),
    ).sort(names.ROUTE)


@st.cache_data(show_spinner="Solving the what-if…", max_entries=32)
def what_if(spec: Any, change: str, district_id: str | None, factor: float) -> tuple[Any, Any]:
    """Baseline and changed pool results for a what-if: a district leaves, or local capacity is scaled."""
    from coop.optimize import pool

    if change == "leave":
        changed = pool.without_district(spec, str(district_id))
    else:
        changed = pool.with_local_capacity(spec, factor)
    return solve_pool(spec), pool.solve_pool(changed)


# --- procurement rules ----------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=256)
def classify_text(text: str) -> dict[str, Any]:
    """Product, category and unprocessed status of an item description, with the rule and its source."""
    from coop.products import classify

    found = classify.classify(text)
    return {
        "product": found.product,
        "category": found.category,
        "unprocessed": found.unprocessed,
        "confidence": found.confidence,
        "rule": found.rule,
        "reason": found.reason,
        "source": found.source,
    }


def school_years(start: date, end: date) -> list[int]:
    """School years (July-June, named by their first calendar year) that overlap the period."""
    return calendar.school_years(start, end)


def threshold_rules() -> pl.DataFrame:
    """The dated purchase thresholds (federal, state, district) with their sources."""
    from coop.rules import thresholds

    return thresholds.load_thresholds(cursor())


@st.cache_data(show_spinner="Checking every district-vendor year against the thresholds…", max_entries=16)
def _thresholds(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Per district x vendor x school year: spend, thresholds in force, required vs recorded method, flag."""
    from coop.rules import thresholds

    return thresholds.thresholds_from_db(_con.cursor(), school_year)


def thresholds(school_year: int, ids: list[str], flagged_only: bool) -> pl.DataFrame:
    """The threshold check for one school year and the chosen districts (flagged rows only when asked)."""
    frame = _thresholds(connection(), data_version(), school_year).filter(pl.col(names.DISTRICT_ID).is_in(ids))
    if flagged_only:
        frame = frame.filter(pl.col("flag"))
    return frame.sort("flag", "spend", descending=[True, True])


@st.cache_data(show_spinner="Looking for split purchases…", max_entries=16)
def _splits(_con: duckdb.DuckDBPyConnection, version: str, school_year: int) -> pl.DataFrame:
    """Lines of possible split purchases in one school year, one row per line with its split id."""
    from coop.rules import thresholds

    return thresholds.split_purchases_from_db(_con.cursor(), school_year)


def split_purchases(school_year: int, ids: list[str]) -> pl.DataFrame:
    """Possible split purchases of the chosen districts in one school year."""
    return _splits(connection(), data_version(), school_year).filter(pl.col(names.DISTRICT_ID).is_in(ids))


def example_bids() -> pl.DataFrame:
    """Seed 004's worked example: three bids, the second from a bidder meeting the geographic preference."""
    from coop.rules import bids

    return pl.DataFrame(
        {bids.BIDDER: ["Bidder 1", "Bidder 2", "Bidder 3"], bids.PRICE: [1.97, 2.10, 2.03],
         bids.MEETS_PREFERENCE: [False, True, False]},
        schema=bids.BID_SCHEMA,
    )  # fmt: skip


def read_bids_upload(name: str, content: bytes) -> pl.DataFrame:
    """Bids from an uploaded CSV (bidder, price, meets_preference); bad cells named by row and column."""
    from coop.rules import bids

    return bids.read_bids(save_upload(name, content))


def score_bids(
    frame: pl.DataFrame, *, points: float | None, percent: float | None, among: int | None, item: str | None
) -> Any:
    """The bids ranked by evaluated price after the geographic preference (`coop.bids.BidResult`)."""
    from coop.rules import bids

    clean = frame.drop_nulls(bids.BIDDER)
    return bids.score_bids(clean, points=points, percent=percent, among=among, item=item or None)


# --- meeting packet -------------------------------------------------------------------------------
def packet_months(start: date, end: date) -> list[date]:
    """First days of the months from `start` to `end`, newest first."""
    return calendar.months(start, end)[::-1]


def packet(month: date, include_savings: bool, progress: Callable[[float, str], None]) -> Any:
    """The meeting packet for one month (`coop.report.Packet`, kept until the data changes)."""
    from coop.report import build

    key = (str(db.resolve_path()), data_version(), month, include_savings)
    return memo(
        "packet", key, lambda: build.build(cursor(), month, include_savings=include_savings, progress=progress)
    )


def packet_html(built: Any) -> bytes:
    """The packet as one self-contained HTML file (charts embedded as images)."""
    from coop.report import build

    return build.to_html(built).encode("utf-8")


def packet_xlsx(built: Any) -> bytes:
    """The packet as an Excel workbook."""
    from coop.report import build

    return build.to_xlsx(built)


CHART_HEIGHT = 400


def chart(figure: Any, rows: int = 0) -> None:
    """Show an Altair chart at the page's width and a fixed height (taller for `rows` bars), never squeezed."""
    st.altair_chart(figure, width="stretch", height=max(CHART_HEIGHT, 180 + 20 * rows))


# --- co-op goal -----------------------------------------------------------------------------------
_SETTING_SQL = f"INSERT OR REPLACE INTO {names.SETTINGS} ({names.SETTING_KEY}, {names.SETTING_VALUE}) VALUES (?, ?)"


def goal() -> tuple[float, date]:
    """The co-op's local-share goal and its date (settings, with the library's defaults)."""
    from coop.metrics import compute

    return compute.load_goal(cursor())


def save_goal(share: float, when: date) -> None:
    """Store the co-op's local-share goal (a fraction in (0, 1]) and the date it should be met by."""
    from coop.errors import SpecError

    if not 0.0 < share <= 1.0:
        raise SpecError(f"goal local share must be above 0% and at most 100%, got {share:.1%}")
    with writing() as cur:
        cur.execute(_SETTING_SQL, [names.GOAL_LOCAL_SHARE, f"{share:.4f}"])
        cur.execute(_SETTING_SQL, [names.GOAL_DATE, when.isoformat()])
