"""The sidebar's global filters (period, districts), page setup, and the labels the filters give figures."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import streamlit as st

from coop import names
from coop.metrics import compute
from coop.registry import districts
from coop.store import db
from ui import access, session
from ui import labels as lb

PERIOD_KEY = "filter_period"
DISTRICTS_KEY = "filter_districts"


@st.cache_data(show_spinner=False)
def _districts(_con: duckdb.DuckDBPyConnection, version: str) -> pl.DataFrame:
    """All registered districts."""
    return districts.load(_con.cursor())


def district_table() -> pl.DataFrame:
    """The registered districts the signed-in user may see (all for a coordinator; cached until the data changes)."""
    table = _districts(session.connection(), session.data_version())
    ids = access.visible_ids(access.current_user(), table[names.DISTRICT_ID].to_list())
    return table if len(ids) == table.height else table.filter(pl.col(names.DISTRICT_ID).is_in(ids))


def district_ids() -> list[str]:
    """Every registered district id."""
    return district_table()[names.DISTRICT_ID].to_list()


def district_names() -> dict[str, str]:
    """District id -> name."""
    table = district_table()
    return dict(zip(table[names.DISTRICT_ID].to_list(), table[names.NAME].to_list(), strict=True))


@st.cache_data(show_spinner=False)
def _date_range(_con: duckdb.DuckDBPyConnection, version: str) -> tuple[date, date] | None:
    """First and last invoice date of the purchase lines, or None when there are none."""
    return compute.date_range(_con.cursor())


def date_range() -> tuple[date, date] | None:
    """First and last invoice date loaded (cached until the data changes)."""
    return _date_range(session.connection(), session.data_version())


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
    all_ids = district_ids()
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
        labels = district_names()
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
        st.caption(f"Database: {lb.md(db.resolve_path())}")
    period = ss[PERIOD_KEY]
    start = period[0]
    end = period[1] if len(period) > 1 else period[0]
    chosen = ss[DISTRICTS_KEY] or list(all_ids)
    return start, end, chosen


def period_label(start: date, end: date) -> str:
    """A period as people say it, e.g. '1 Jul 2024 – 30 Jun 2025'."""
    return f"{start:%-d %b %Y} – {end:%-d %b %Y}"


def coop_label(ids: list[str]) -> str:
    """What the 'coop' scope means for this selection: the whole co-op or the chosen districts."""
    user = access.current_user()
    if not user.sees_everything:
        if user.role == access.VIEWER:
            return "Co-op"
        labels = district_names()
        return labels.get(ids[0], ids[0]) if len(ids) == 1 else f"Your districts ({len(ids)})"
    total = district_table().height
    return "Co-op" if len(ids) >= total else f"Selected districts ({len(ids)} of {total})"


def setup(title: str, intro: str) -> tuple[date, date, list[str]]:
    """Start a page: first-start data, title and intro, global filters; return (start, end, districts)."""
    session.ensure_data()
    st.title(title)
    st.caption(intro)
    st.sidebar.caption(access.who_line(access.current_user()))
    access.sign_out_button()
    session.first_start_notice()
    return filters()
