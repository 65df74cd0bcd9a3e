"""The page's chart frame: a chart is as tall as its content, so a long subtitle never squashes the plot."""

from __future__ import annotations

import json
import re

import polars as pl
import vl_convert as vlc

from coop.report import charts as library
from ui import charts


def _svg_height(chart: object, autosize: object) -> float:
    """The rendered chart's total height in px at a 600 px container width."""
    spec = chart.properties(autosize=autosize, width=600).to_dict()  # type: ignore[attr-defined]
    svg = vlc.vegalite_to_svg(json.dumps(spec))
    return float(re.search(r'<svg[^>]* height="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]


def test_a_long_subtitle_adds_height_instead_of_squashing_the_plot() -> None:
    curve = pl.DataFrame({"incentive": [0.0, 0.05, 0.06, 0.2], "local_share": [0.0, 0.0, 1.0, 1.0]})
    long = "Share of meals the least-cost plan buys on those routes when each of their meals earns this payment. " * 3
    chart = library.incentive_curve(curve, target="direct local", scenario="BAU", definition=long)
    squashed = _svg_height(chart, {"type": "fit", "contains": "padding"})  # Streamlit's default for a chart
    shown = _svg_height(chart, charts.AUTOSIZE)
    assert squashed <= library.HEIGHT + 1  # title, subtitle and axes taken out of the 280 px
    assert shown >= library.HEIGHT + 100  # the plot keeps its 280 px; six subtitle lines and axes on top
