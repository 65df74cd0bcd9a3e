"""The co-op's figures for the sidebar's period and districts, shared by Overview, Local spend and Price premiums."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from coop.metrics import compute, privacy, selection
from coop.metrics.compute import Metrics
from coop.registry.users import User
from ui import access, filters, session

COOP = compute.COOP


@st.cache_data(show_spinner="Computing the co-op's figures…", max_entries=32)
def _metrics(
    _con: duckdb.DuckDBPyConnection, version: str, start: date, end: date, ids: tuple[str, ...], user: User
) -> Metrics:
    """Every metric for the period that the user may see (`privacy.visible`), narrowed to the chosen districts."""
    seen = privacy.visible(_con.cursor(), start, end, user)
    return seen if user.role == access.VIEWER else selection.narrow(seen, ids)


def metrics_for(start: date, end: date, ids: list[str]) -> Metrics:
    """Every metric for the period and districts chosen, as the signed-in user may see it (cached per data version)."""
    user = access.current_user()
    return _metrics(session.connection(), session.data_version(), start, end, tuple(sorted(ids)), user)


@st.cache_data(show_spinner=False, max_entries=32)
def _peers(_con: duckdb.DuckDBPyConnection, version: str, start: date, end: date, user: User) -> dict[str, Any]:
    """The user's peers and the co-op as safe aggregates (`privacy.view`), each the figures or why withheld."""
    cur = _con.cursor()
    doc = privacy.view(compute.compute(cur, start, end), user, privacy.peer_rule(cur))
    return {"peers": doc.get("peers"), "coop": doc["coop"], "rule": privacy.peer_rule(cur)}


def peers_for(start: date, end: date) -> dict[str, Any]:
    """What the signed-in partner or district user may see of its peers and the co-op for the period."""
    return _peers(session.connection(), session.data_version(), start, end, access.current_user())


def coop_row(m: Metrics) -> dict[str, Any]:
    """The 'coop' scope's spend summary (total, local, unknown-origin spend, local share, lines)."""
    return m.coop.row(0, named=True)


def weighted_premium(m: Metrics) -> float | None:
    """The co-op's local premium: its commodity premiums weighted by local spend (None when none exist)."""
    return compute.weighted_premium(m)


def monthly_share(m: Metrics, ids: list[str], per_district: bool) -> pl.DataFrame:
    """Local share by month (`month`, `local_share`, `series`) for the selection or for each district."""
    return selection.monthly_share(m, per_district, filters.coop_label(ids))


def by_scope(frame: pl.DataFrame, scope: str = COOP) -> pl.DataFrame:
    """The rows of a metrics table for one scope (a district id or 'coop'), without the scope column."""
    return selection.by_scope(frame, scope)


def route_spend(m: Metrics, scope: str = COOP) -> pl.DataFrame:
    """Spend and share per route for one scope (a district id or 'coop')."""
    return selection.route_spend(m, scope)


def allocated_note(m: Metrics) -> str | None:
    """Plain words for the part of the figures allocated from period totals, or None when there is none."""
    allocated = coop_row(m)["allocated_spend"]
    if not allocated:
        return None
    return (
        f"${allocated:,.0f} of this spend is allocated from period totals: a distributor usage report gives one "
        "total per item for its whole period (often a school year), so the figures here spread it over the "
        "period's calendar days. Month by month those districts' figures are estimates; the period's total is exact."
    )
