"""The app's one DuckDB connection, the data version cached figures are keyed on, the memo and the write lock.

Cached reads elsewhere in `ui` take the connection as `_con` (unhashed, a `cursor()` per call) and the data
version (batch ids plus an edit counter), so a new load, an undo or a settings edit refreshes every cached figure.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

# Imported eagerly, before any session builds a chart: Altair and narwhals test `sys.modules` for numpy, pandas
# and pyarrow, so while one session's thread is still importing one lazily (Streamlit's dataframe code does),
# another session's chart saw a half-initialised module ("partially initialized module 'pandas' has no attribute
# 'Timestamp'", tests/system/test_concurrency.py). Importing them here, once, under the import lock, closes that race.
import numpy  # noqa: F401
import pandas  # noqa: F401
import pyarrow  # noqa: F401
import streamlit as st

from coop import names
from coop.registry import districts
from coop.store import batches, db
from ui import feedback

T = TypeVar("T")
MEMO_ENTRIES = 16
APP_WAIT_SECONDS = 10.0  # how long the app waits for a database file another process holds before saying so
_WRITE_LOCK = threading.Lock()
_MISSING = object()


@st.cache_resource(show_spinner="Opening the co-op database…")
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    """The app's one read-write connection to the database file at `path`."""
    return db.connect(path, wait_seconds=APP_WAIT_SECONDS)


@st.cache_resource
def _edits() -> dict[str, int]:
    """A process-wide counter of edits made through the app (settings, vendors, districts)."""
    return {"n": 0}


@st.cache_resource
def _memo_store() -> dict[str, dict[Hashable, object]]:
    """Results of long computations that report progress, shared across sessions (see `memo`)."""
    return {}


@st.cache_resource
def _memo_locks() -> tuple[threading.Lock, dict[tuple[str, Hashable], threading.Lock]]:
    """A guard for the memo store and one lock per (name, key) being computed (see `memo`)."""
    return threading.Lock(), {}


def memo(name: str, key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()` once per (name, key), kept for the server's life (at most MEMO_ENTRIES per name).

    Used instead of `st.cache_data` for work that draws a progress bar: a cached function may not touch
    page elements created outside it. Keys include the data version, so new data recomputes. Sessions
    asking for the same value at once wait for the first one's result instead of computing it again.
    """
    store = _memo_store().setdefault(name, {})
    found = store.get(key, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[return-value]
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
    return found  # type: ignore[return-value]


def connection() -> duckdb.DuckDBPyConnection:
    """The app's shared connection (one per database path, for the life of the server)."""
    return _connection(str(db.resolve_path().resolve()))


def cursor() -> duckdb.DuckDBPyConnection:
    """A fresh cursor on the shared connection, safe to use from this session's thread."""
    return connection().cursor()


def data_version() -> str:
    """A key that changes whenever data changes: the database path, its batch ids and the app's edit counter."""
    frame = batches.list_batches(cursor())
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


# --- this session's uploads ------------------------------------------------------------------
def upload_dir() -> Path:
    """The private directory for this session's uploaded files (kept so errors can name the file)."""
    if "upload_dir" not in st.session_state:
        st.session_state["upload_dir"] = tempfile.mkdtemp(prefix="coop-upload-")
    return Path(st.session_state["upload_dir"])


def save_upload(name: str, content: bytes) -> Path:
    """Write an uploaded file under its own name in this session's upload directory; return the path."""
    folder = upload_dir() / hashlib.sha256(content).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(name).name
    if not path.exists():
        path.write_bytes(content)
    return path


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
        from coop import sample  # only on a first start: generating the sample imports the whole ingest path

        with st.status("First start: loading the bundled sample co-op…", expanded=False) as status:
            with writing() as cur:
                summary = feedback.call(sample.load, cur)
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
