"""The names pages put on screen: column names, the choices widgets offer, the definitions captions state.

Column names (for `column_config`) and choices come from `coop.names`, route labels from `coop.report.charts`,
so pages import only `ui`.
"""

from __future__ import annotations

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
]

LOCAL_DEFINITION = "Local = grown or raised within the buying district's own definition (radius, states or counties)."
SPEND_DEFINITION = "Spend = sum of invoiced extended price, US dollars."
