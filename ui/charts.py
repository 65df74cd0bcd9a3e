"""The charts pages draw: the library's chart builders (`coop.report.charts`) and `show`, which draws one."""

from __future__ import annotations

import altair as alt
import streamlit as st

from coop.report.charts import (
    allocation_methods,
    completeness_grid,
    incentive_curve,
    local_share_by_month,
    meals_per_route,
    premiums,
    share_bars,
    spend_by_route,
    standalone_vs_pooled,
    unit_price_over_time,
)

__all__ = [
    "CHART_HEIGHT",
    "allocation_methods",
    "completeness_grid",
    "incentive_curve",
    "local_share_by_month",
    "meals_per_route",
    "premiums",
    "share_bars",
    "show",
    "spend_by_route",
    "standalone_vs_pooled",
    "unit_price_over_time",
]

CHART_HEIGHT = 400


def show(figure: alt.TopLevelMixin, rows: int = 0) -> None:
    """Show an Altair chart at the page's width and a fixed height (taller for `rows` bars), never squeezed."""
    st.altair_chart(figure, width="stretch", height=max(CHART_HEIGHT, 180 + 20 * rows))
