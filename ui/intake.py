"""Cached wrappers for the Data intake page: uploads, the column mapping, loads and undo, registries, the goal.

A load runs in a status box and keeps its outcome (or its error) in the session, so the page shows it after
the rerun the load causes; the error is shown through `ui.feedback` like every other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from coop import names
from coop.errors import AccessDeniedError, CoopError, ValidationError
from coop.ingest import ingest_file, readers, usage_report
from coop.ingest import mapping as header_map
from coop.ingest.mapping import list_mappings, load_mapping, resolve_mapping
from coop.ingest.pipeline import IngestResult
from coop.products import corrections
from coop.registry import districts, meals, users, vendors
from coop.store import audit, batches, settings
from ui import access, feedback, filters, session

Progress = Callable[[float, str], None]
UPLOAD_TYPES = ("csv", "txt", "tsv", "xlsx", "xlsm", "parquet")
MAPPING_TARGETS: tuple[str, ...] = (
    *names.CANONICAL_COLUMNS,
    names.PACK_SIZE,
    names.PERIOD_START,
    names.PERIOD_END,
)
TEMPLATE_COLUMNS: tuple[str, ...] = (*names.CANONICAL_COLUMNS[:10], names.PACK_SIZE, *names.CANONICAL_COLUMNS[10:])
PREVIEW_ROWS = 50
FROM_FILE = "(from the file)"  # the district picker's choice for a file with its own district_id column
UNDO_KEYS = ("undo_batch", "undo_confirm")  # the batch picker and its confirmation box (pages/intake.py)
_OUTCOME = "last_ingest"
_UNDONE = "last_undo"


# --- one load and its outcome ------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """The last load of this session: the file, and either its result or the error that stopped it."""

    file: str
    result: IngestResult | None
    error: CoopError | None


def load(file_name: str, run: Callable[[Progress], IngestResult]) -> None:
    """Run one load with a status box and progress bar; keep its outcome (or its error) for `last_outcome`."""
    with st.status(f"Loading {file_name}…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        done = feedback.attempt(run, lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
        if isinstance(done, CoopError):
            st.session_state[_OUTCOME] = Outcome(file_name, None, done)
            invalid = isinstance(done, ValidationError)
            status.update(label="Not loaded: the file has invalid rows" if invalid else "Not loaded", state="error")
            return
        st.session_state[_OUTCOME] = Outcome(file_name, done, None)
        _reset_undo()  # the batch picker then starts at the batch just loaded, disarmed
        status.update(label="Done", state="complete")


def last_outcome() -> Outcome | None:
    """The last load this session ran, if any."""
    return st.session_state.get(_OUTCOME)


# --- the file and its mapping ----------------------------------------------------------------
def save_upload(name: str, content: bytes) -> Path:
    """Write an uploaded file under its own name in this session's upload directory; return the path."""
    return session.save_upload(name, content)


@st.cache_data(show_spinner="Reading the file…", max_entries=8)
def read_upload(path: str, sha: str) -> pl.DataFrame:
    """The file's first rows as text with their spreadsheet row numbers (`source_row`); large files stay unread."""
    _mapping, head = readers.preview(Path(path), rows=PREVIEW_ROWS)
    return head


def columns_in(head: pl.DataFrame) -> int:
    """How many of the file's own columns the preview holds."""
    return len([c for c in head.columns if c != names.SOURCE_ROW])


def saved_mappings() -> list[str]:
    """Names of the column mappings saved in the database."""
    return list_mappings(session.cursor())


def mapping_table(head: pl.DataFrame, saved: str | None) -> pl.DataFrame:
    """Source header, an example value and the proposed canonical column (a saved mapping wins)."""
    headers = [c for c in head.columns if c != names.SOURCE_ROW]
    proposed = resolve_mapping(headers, load_mapping(session.cursor(), saved) if saved else None)
    return header_map.mapping_table(head, proposed)


def mapping_from_table(table: pl.DataFrame) -> dict[str, str | None]:
    """The mapping dict (source header -> canonical or None) from the edited mapping table."""
    return header_map.mapping_from_table(table)


def mapped_preview(head: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The first rows under the (edited) mapping, with the commodity, category and unprocessed status inferred."""
    return header_map.mapped_preview(head, mapping_from_table(table), session.cursor())


def has_district_column(table: pl.DataFrame) -> bool:
    """True when the (edited) mapping loads one of the file's columns as `district_id`."""
    return names.DISTRICT_ID in mapping_from_table(table).values()


def district_choices(ids: list[str], from_file: bool) -> list[str]:
    """What the district picker offers: 'from the file' first when the file has its own district column."""
    return [FROM_FILE, *ids] if from_file else list(ids)


def chosen_district(choice: str | None) -> str | None:
    """The district a load is given (None: each row's own district_id, or none chosen yet)."""
    return None if choice in (None, FROM_FILE) else choice


def is_usage_report(path: Path) -> bool:
    """True when the file is a distributor's 'District Usage by Item' report."""
    return bool(usage_report.is_usage_report(path))


def ingest_upload(
    path: Path, *, district_id: str, table: pl.DataFrame, mapping_name: str, skip_invalid: bool, progress: Progress
) -> IngestResult:
    """Validate and load the file as one batch under the edited mapping, saved only when the load succeeds."""
    with session.writing() as cur:
        return _kept(
            cur,
            ingest_file(
                cur,
                path,
                district_id=district_id,
                mapping_overrides=mapping_from_table(table),
                save_mapping=mapping_name or None,
                skip_invalid=skip_invalid,
                progress=progress,
            ),
            path.name,
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
    progress: Progress,
) -> IngestResult:
    """Load a distributor usage report (one block per district) as one batch (a partner may add no district)."""
    with session.writing() as cur:
        return _kept(
            cur,
            ingest_file(
                cur,
                path,
                vendor_name=vendor_name,
                vendor_type=vendor_type,
                add_districts=add_districts and access.current_user().sees_everything,
                skip_invalid=skip_invalid,
                progress=progress,
                state=state or None,
                zip_code=zip_code or None,
            ),
            path.name,
        )


def _kept(cur: duckdb.DuckDBPyConnection, result: IngestResult, file_name: str) -> IngestResult:
    """A load kept only when the signed-in user may load for every district it touched (else undone), and audited."""
    user = access.current_user()
    if result.batch_id is None:
        return result
    touched = batches.districts_of(cur, result.batch_id)
    others = [d for d in touched if not user.may_see(d)]
    if others:
        batches.undo(cur, result.batch_id)
        raise AccessDeniedError(
            f"{file_name}: not loaded: it has lines for {', '.join(others)}, and {user.email} loads only for "
            f"{', '.join(user.districts)}"
        )
    done = f"{file_name}; batch_id {result.batch_id}, rows_loaded {result.rows_loaded}"
    audit.record(cur, user.email, "ingest", done)
    return result


def unregistered_vendors_csv(error: CoopError) -> bytes | None:
    """For a load refused for vendors the registry lacks: a vendors file listing them to fill in; else None."""
    from coop.ingest import pipeline

    unknown = pipeline.unknown_vendors(error.problems) if isinstance(error, ValidationError) else []
    return vendors.template_csv(unknown).encode("utf-8") if unknown else None


def template_csv() -> bytes:
    """A blank purchase-line template: the canonical header row only."""
    return (",".join(TEMPLATE_COLUMNS) + "\n").encode("utf-8")


# --- batches --------------------------------------------------------------------------------------
def batch_table() -> pl.DataFrame:
    """Every loaded batch the signed-in user may undo (a partner: its districts' batches), newest first."""
    frame = batches.list_batches(session.cursor())
    user = access.current_user()
    if not user.sees_everything:
        frame = frame.filter(pl.col(names.DISTRICT_ID).is_in(list(user.districts)))
    return frame.sort(names.BATCH_ID, descending=True) if frame.height else frame


def batch_ids(table: pl.DataFrame) -> list[int]:
    """The batch ids of a batch table, in its order."""
    return [int(i) for i in table[names.BATCH_ID].to_list()]


def _reset_undo() -> None:
    """Forget the batch picker's choice and untick its confirmation (before those widgets are drawn again)."""
    for key in UNDO_KEYS:
        st.session_state.pop(key, None)


def undo_batch(batch_id: int) -> None:
    """Remove one batch (its lines and rejects), remember what was removed, and disarm the undo (a callback).

    Run as the button's `on_click`, before the page is drawn again, so the confirmation box can be unticked and
    the picker moved to the newest batch left: one more click never removes another batch.
    """
    user = access.current_user()
    try:
        with session.writing() as cur:
            others = [d for d in batches.districts_of(cur, batch_id) if not user.may_see(d)]
            if others:
                held = ", ".join(others)
                raise AccessDeniedError(f"batch {batch_id} holds lines of {held}: {user.email} may not undo it")
            removed = int(batches.undo(cur, batch_id))
            audit.record(cur, user.email, "undo", f"batch_id {batch_id}; rows_removed {removed}")
    except CoopError as exc:
        st.session_state[_UNDONE] = exc
    else:
        st.session_state[_UNDONE] = f"Batch {batch_id} removed ({removed:,} purchase line(s))."
    _reset_undo()


def last_undo() -> str | CoopError | None:
    """What the last undo of this session did (a sentence, or the error that stopped it), once."""
    return st.session_state.pop(_UNDONE, None)


# --- classification review and corrections ------------------------------------------------------
CATEGORIES: tuple[str, ...] = names.CATEGORIES
REVIEW_BELOW = corrections.REVIEW_BELOW


def review_lines() -> pl.DataFrame:
    """Stored lines classified with low confidence (a guess or a fallback), largest spend first."""
    return corrections.for_review(session.cursor())


def review_texts(review: pl.DataFrame) -> list[str]:
    """The distinct item texts of a review list, in its order."""
    return review[names.DESCRIPTION].unique(maintain_order=True).to_list() if review.height else []


def open_corrections(history: pl.DataFrame) -> list[int]:
    """The ids of the corrections in a history that are not undone."""
    return [int(i) for i in history.filter(pl.col("undone_at").is_null())[names.CORRECTION_ID]]


def correction_history() -> pl.DataFrame:
    """Every classification correction, newest first (undone ones too)."""
    frame = corrections.history(session.cursor())
    return frame.sort(names.CORRECTION_ID, descending=True) if frame.height else frame


def correct(text: str, category: str, unprocessed: bool, product: str | None) -> dict[str, object]:
    """Store a correction made on this page and re-classify the stored lines with that text."""
    with session.writing() as cur:
        return corrections.set_correction(cur, text, category, unprocessed, product, made_by=_who())


def undo_correction(correction_id: int) -> dict[str, object]:
    """Undo a correction; its lines get the answer they had before it."""
    with session.writing() as cur:
        return corrections.undo(cur, correction_id, undone_by=_who())


def _who() -> str:
    """Who is making the correction: the signed-in user's email, else the local coordinator (the OS user)."""
    user = access.current_user()
    return f"{corrections.who()} (app)" if access.is_local() else user.email


# --- registries and settings ------------------------------------------------------------------
def district_ids() -> list[str]:
    """Every registered district id."""
    return filters.district_ids()


def district_names() -> dict[str, str]:
    """District id -> name."""
    return filters.district_names()


def districts_for_editing() -> pl.DataFrame:
    """The districts table as text for editing (lists of states/counties joined with '; ')."""
    return districts.as_text(filters.district_table())


def save_districts(edited: pl.DataFrame) -> int:
    """Validate the edited districts (as a districts CSV would be) and upsert them; return how many."""
    path = session.upload_dir() / "districts (edited in the app).csv"
    edited.select(names.DISTRICT_COLUMNS).write_csv(path)
    with session.writing() as cur:
        return districts.upsert_from_csv(cur, path)


def vendor_table() -> pl.DataFrame:
    """The vendor registry (vendor name, type, default origin)."""
    return vendors.load(session.cursor())


def save_vendors(edited: pl.DataFrame) -> int:
    """Validate and upsert the edited vendor registry; return how many vendors."""
    with session.writing() as cur:
        return vendors.upsert(cur, edited, file_name="vendor registry (edited in the app)")


def meal_table() -> pl.DataFrame:
    """Monthly meal counts per district."""
    return meals.load(session.cursor())


def save_meals(edited: pl.DataFrame) -> int:
    """Validate and upsert the edited monthly meal counts; return how many rows."""
    with session.writing() as cur:
        return meals.upsert(cur, edited, file_name="meal counts (edited in the app)")


def goal() -> tuple[float, date]:
    """The co-op's local-share goal and its date (settings, with the library's defaults)."""
    return settings.goal(session.cursor())


def save_goal(share: float, when: date) -> None:
    """Store the co-op's local-share goal (a fraction in (0, 1]) and the date it should be met by."""
    with session.writing() as cur:
        settings.save_goal(cur, share, when)


def user_table() -> pl.DataFrame:
    """The users table for editing: email, role, district ids joined with ';'."""
    return users.load(session.cursor()).with_columns(pl.col(names.USER_DISTRICTS).list.join(";"))


def save_users(edited: pl.DataFrame) -> int:
    """Validate the edited users (as a users CSV would be), upsert them and record it in the audit log."""
    path = session.upload_dir() / "users (edited in the app).csv"
    edited.select(users.COLUMNS).write_csv(path)
    with session.writing() as cur:
        count = users.upsert_from_csv(cur, path)
        audit.record(cur, access.current_user().email, "users", f"{path.name}; users_upserted {count}")
    return count
