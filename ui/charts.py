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
    scenario_meals,
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
    "scenario_meals",
    "share_bars",
    "show",
    "spend_by_route",
    "standalone_vs_pooled",
    "unit_price_over_time",
]

CHART_HEIGHT = 280  # px of plot: the title, subtitle, axes and legend are added above and below it
ROW_HEIGHT = 26  # px of plot per bar of a chart with `rows` bars
AUTOSIZE = alt.AutoSizeParams(type="fit-x", contains="padding")


def show(figure: alt.TopLevelMixin, rows: int = 0) -> None:
    """Show an Altair chart at the page's width, as tall as its content: the plot never squeezed, nothing clipped.

    The element's height follows the chart (title and subtitle, plot, legend), so a long subtitle adds height
    instead of taking it from the plot; a chart of `rows` bars gets `ROW_HEIGHT` of plot per bar.
    """
    if rows:
        figure = figure.properties(height=max(160, ROW_HEIGHT * rows))
    # fit the width only: Streamlit's default ('fit') squeezes title, subtitle and legend into the plot's height
    figure = figure.properties(autosize=AUTOSIZE)
    st.altair_chart(figure, width="stretch", height="content")
