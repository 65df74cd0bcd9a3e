import streamlit as st

from coop import names
from coop.report import charts
from pages import _shared as sh

start, end, chosen = sh.setup(
    "Price premiums",
    "How much more local food costs than the same commodity bought non-local, per base unit (lb, gal, each, dozen).",
)
m = sh.call(sh.metrics_for, start, end, chosen)
period = sh.period_label(start, end)
who = "Co-op (all member districts)"  # premiums are ratios: the co-op figure is never re-summed for a subset
definition = (
    "Premium = (local $ per base unit) / (non-local $ per base unit) − 1, only where both were bought. "
    + sh.LOCAL_DEFINITION
)

scope = st.selectbox(
    "Scope",
    ["coop", *chosen],
    format_func=lambda s: who if s == "coop" else f"District {s}",
    key="premium_scope",
)
overall = sh.weighted_premium(m) if scope == "coop" else None
if overall is not None:
    st.metric(
        "Local price premium (weighted by local spend)",
        f"{overall:+.1%}",
        help="Commodity premiums averaged with local spend as weights.",
    )

commodity = sh.by_scope(m.premiums, scope)
category = sh.by_scope(m.category_premiums, scope)
route = sh.by_scope(m.route_premiums, scope)
unpriced = sh.by_scope(m.unpriced, scope)

left, right = st.columns(2)
with left:
    by = st.radio("Premium by", ["Commodity", "Category"], horizontal=True, key="premium_by")
    frame = commodity if by == "Commodity" else category
    column = names.PRODUCT if by == "Commodity" else names.CATEGORY
    if frame.height:
        sh.chart(charts.premiums(frame, by=column, by_title=by, period=period, definition=definition), frame.height)
    else:
        st.info("No commodity was bought both local and non-local in this period and scope, so no premium exists.")
with right:
    products = commodity[names.PRODUCT].unique().sort().to_list()
    if products:
        product = st.selectbox("Unit price over time for", products, key="premium_product")
        prices = sh.call(sh.unit_prices, start, end, chosen if scope == "coop" else [scope], product)
        units = prices[names.BASE_UNIT].unique().to_list() if prices.height else ["unit"]
        sh.chart(
            charts.unit_price_over_time(
                prices,
                product=product,
                unit=units[0] if len(units) == 1 else "base unit",
                period=period,
                definition="Monthly spend / base quantity, lines with a convertible unit only. " + sh.LOCAL_DEFINITION,
            )
        )

st.subheader("By commodity")
st.dataframe(
    commodity,
    hide_index=True,
    width="stretch",
    column_config={
        "local_unit_price": st.column_config.NumberColumn("Local $ per base unit", format="$%.3f"),
        "nonlocal_unit_price": st.column_config.NumberColumn("Non-local $ per base unit", format="$%.3f"),
        "premium": st.column_config.NumberColumn("Premium", format="percent"),
        "local_spend": st.column_config.NumberColumn("Local spend ($)", format="dollar"),
        "nonlocal_spend": st.column_config.NumberColumn("Non-local spend ($)", format="dollar"),
        "local_quantity": st.column_config.NumberColumn("Local quantity (base units)", format="localized"),
        "nonlocal_quantity": st.column_config.NumberColumn("Non-local quantity (base units)", format="localized"),
    },
)
st.caption(f"{period}; {'whole selection' if scope == 'coop' else 'district ' + scope}. {definition}")

st.subheader("By route, against traditional non-local")
st.dataframe(
    route,
    hide_index=True,
    width="stretch",
    column_config={
        "premium": st.column_config.NumberColumn("Premium vs traditional non-local", format="percent"),
        "spend": st.column_config.NumberColumn("Spend compared ($)", format="dollar"),
        "products": st.column_config.NumberColumn("Commodities compared"),
    },
)
st.caption(
    f"{period}. For each route: its $ per base unit over the same commodity's traditional non-local $ per base unit, "
    "minus 1, weighted by the route's spend on those commodities."
)
if unpriced.height and unpriced["lines"][0]:
    st.caption(
        f"Left out of premiums: {unpriced['lines'][0]:,} line(s), ${unpriced['spend'][0]:,.0f}, whose unit could not "
        "be converted to a base unit."
    )
