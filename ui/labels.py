"""The names pages put on screen: column names, the choices widgets offer, the definitions captions state.

Column names (for `column_config`) and choices come from `coop.names`, route labels from `coop.report.charts`,
so pages import only `ui`.
"""

from __future__ import annotations

import re

from coop.metrics.lines import SPEND_IN_PERIOD
from coop.names import (
    BASE_UNIT,
    BATCH_ID,
    CATEGORIES,
    CATEGORY,
    DISTRICT_ID,
    EXTENDED_PRICE,
    INVOICE_DATE,
    LOCAL_ROUTES,
    NAME,
    PERIOD_END,
    PERIOD_START,
    POLICY_CONSTRAINTS,
    PRODUCT,
    QUOTE_KIND,
    REASON,
    ROUTE,
    ROUTES,
    UNIT_PRICE,
    VENDOR_TYPE,
    VENDOR_TYPES,
)
from coop.report.charts import ROUTE_LABELS

__all__ = [
    "BASE_UNIT",
    "BATCH_ID",
    "CATEGORIES",
    "CATEGORY",
    "DISTRICT_ID",
    "EXTENDED_PRICE",
    "INVOICE_DATE",
    "LOCAL_DEFINITION",
    "LOCAL_ROUTES",
    "NAME",
    "PERIOD_END",
    "PERIOD_START",
    "POLICY_CONSTRAINTS",
    "PRODUCT",
    "QUOTE_KIND",
    "REASON",
    "ROUTE",
    "ROUTES",
    "ROUTE_LABELS",
    "SPEND_DEFINITION",
    "SPEND_IN_PERIOD",
    "UNIT_PRICE",
    "VENDOR_TYPE",
    "VENDOR_TYPES",
    "md",
    "quote_kind",
]

LOCAL_DEFINITION = "Local = grown or raised within the buying district's own definition (radius, states or counties)."
SPEND_DEFINITION = "Spend = sum of invoiced extended price, US dollars."


# every character Markdown (and Streamlit's own :icon:, :color[...] and $math$ directives) gives a meaning to
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$=])")


QUOTE_KINDS = {"tier": "volume tier", "capacity": "capacity", "fixed_cost": "fixed cost"}


def quote_kind(kind: str) -> str:
    """A price term's kind in words: 'fixed_cost' -> 'fixed cost'."""
    return QUOTE_KINDS.get(kind, kind)


def md(value: object) -> str:
    """A value from the data (a district id or name, a file name, a vendor) as Markdown that shows it literally.

    Used wherever data goes into text Streamlit renders as Markdown (`st.markdown`, `st.caption`, `st.error`,
    `st.metric` labels ...): a name such as `![x](http://host/pixel.png)` is shown, never fetched or linked.
    Line breaks become spaces, so a value cannot start a heading or a list.
    """
    text = " ".join(str(value).split())
    return _MARKDOWN.sub(r"\\\1", text)
