import streamlit as st

from ui import access, charts, feedback, filters, metrics, tables
from ui import labels as lb
from ui import overview as ov

user = access.require("overview")

start, end, chosen = filters.setup(
    "Co-op overview",
    "The co-op's purchasing at a glance for the period and districts chosen in the sidebar.",
)
st.caption(
    "New here? The sample co-op (fictional districts) is loaded so every page has figures; load your own "
    "districts' files on **Data intake**, then read them here, month by month, on **Meeting packet**.",
)
if access.is_local():
    st.info(access.who_line(user), icon=":material/person:")
m = feedback.call(metrics.metrics_for, start, end, chosen)
period = filters.period_label(start, end)
who = filters.coop_label(chosen)
coop = metrics.coop_row(m)
premium = metrics.weighted_premium(m)
reporting = ov.reporting(m)

k1, k2, k3, k4 = st.columns(4)
k1.metric("Total food spend", f"${coop['total_spend']:,.0f}", help=f"{who}, {period}. {lb.SPEND_DEFINITION}")
share = coop["local_share"]
k2.metric(
    "Local share",
    "not known" if share is None else f"{share:.1%}",
    delta=None if share is None else f"{(share - m.goal_local_share) * 100:+.1f} pts vs {m.goal_local_share:.0%} goal",
    help=f"Local spend / total spend. {lb.LOCAL_DEFINITION} Not known when no spend in the period has a known "
    f"origin. Goal: {m.goal_local_share:.0%} by {m.goal_date:%d %b %Y}.",
)
k3.metric(
    "Local price premium",
    "–" if premium is None else f"{premium:+.1%}",
    delta_color="inverse",
    help="How much more local food cost per base unit (lb, gal, each, dozen) than the same commodity bought "
    "non-local, averaged over commodities bought both ways, weighted by local spend. Always co-op-wide (all "
    "member districts): a premium is a ratio, so it is not re-summed for a subset of districts.",
)
k4.metric(
    "Districts reporting",
    f"{reporting} of {m.districts.height}",
    help="Districts with at least one purchase line in the period, or spend allocated to it from a period total.",
)
if note := metrics.allocated_note(m):
    st.info(note, icon=":material/date_range:")
st.caption(
    f"{who}, {period}. {lb.SPEND_DEFINITION} {lb.LOCAL_DEFINITION} "
    f"Unknown-origin spend (no origin ZIP or state): ${coop['unknown_origin_spend']:,.0f}, counted as not local."
)

left, right = st.columns(2)
with left:
    per_district = st.toggle("One line per district", value=False, key="overview_per_district")
    monthly = metrics.monthly_share(m, chosen, per_district)
    charts.show(
        charts.local_share_by_month(
            monthly,
            goal=m.goal_local_share,
            period=period,
            definition=f"Local spend / total spend per calendar month; dashed line = the co-op goal "
            f"({m.goal_local_share:.0%} by {m.goal_date:%b %Y}).",
        )
    )
with right:
    charts.show(
        charts.spend_by_route(
            metrics.route_spend(m),
            period=period,
            definition="Route from the vendor type and whether the food is local for the buying district; US dollars "
            "of invoiced spend.",
        )
    )

st.subheader("Goal pace")
pace = ov.goal_pace(m)
if pace["last_month"] is None:
    st.info("No spend in this period and selection, so there is no pace to the goal to show.")
else:
    p1, p2, p3 = st.columns(3)
    needed = pace["needed_share"]
    p1.metric(
        "Monthly local share needed",
        "goal date passed" if needed is None else ("out of reach" if needed > 1 else f"{max(needed, 0.0):.1%}"),
        help=f"The local share each month from {pace['last_month']:%B %Y} to {m.goal_date:%B %Y} "
        f"({pace['months_left']} month(s)) needs so the cumulative local share reaches the {m.goal_local_share:.0%} "
        "goal, if each month spends the average month so far.",
    )
    so_far = pace["local_share_so_far"]
    p2.metric("Local share so far", "not known" if so_far is None else f"{so_far:.1%}", help=f"{who}, {period}.")
    this_month = pace["last_month"]
    compared = ov.month_vs_last_year(this_month, chosen)
    now_share, then_share = compared["month_share"], compared["last_year_share"]
    p3.metric(
        f"{this_month:%B %Y} vs a year before",
        "not known" if now_share is None else f"{now_share:.1%}",
        delta=None if now_share is None or then_share is None else f"{(now_share - then_share) * 100:+.1f} pts",
        help=f"Local share in {this_month:%B %Y} against {compared['last_year_month']:%B %Y} "
        f"({'no spend on file' if then_share is None else f'{then_share:.1%}'}).",
    )
    st.caption(
        f"Goal: {m.goal_local_share:.0%} of food spend local by {m.goal_date:%-d %B %Y} (set it on Data intake). "
        f"Pace = the share the {pace['months_left']} month(s) left need, counting from the period's spend so far."
    )

if not user.sees_everything and access.sees_districts(user):
    st.subheader("Your peers and the co-op")
    for label, part in access.peer_lines(feedback.call(metrics.peers_for, start, end)):
        st.markdown(label + ": " + part)
if not access.sees_districts(user):  # a viewer: co-op totals only, no district's rows
    st.stop()
st.subheader("Districts")
table = ov.district_table(m)
tables.show(
    table,
    {
        lb.DISTRICT_ID: st.column_config.TextColumn("Id", help="The district's id in the registry and its files."),
        lb.NAME: st.column_config.TextColumn("District", pinned=True),
        "total_spend": st.column_config.NumberColumn("Total spend ($)", format="dollar"),
        "local_spend": st.column_config.NumberColumn("Local spend ($)", format="dollar"),
        "allocated_spend": st.column_config.NumberColumn(
            "Allocated ($)", format="dollar", help="Spend allocated from period totals (usage reports)"
        ),
        "local_share": st.column_config.ProgressColumn("Local share", format="percent", min_value=0.0, max_value=1.0),
        "goal_met": st.column_config.CheckboxColumn("At goal"),
        "unknown_origin_spend": st.column_config.NumberColumn("Unknown origin ($)", format="dollar"),
        "lines": st.column_config.NumberColumn("Lines", format="localized"),
    },
    column_order=ov.district_columns(table),
)
st.caption(
    f"One row per district, {period}. Spend and share as defined above, by each district's own definition of "
    "local; 'at goal' = the cumulative local share over the period is at or above the co-op goal; lines = purchase "
    "lines in the period. How fresh each district's data is: under Data on file."
)

st.subheader("Data on file")
grid = ov.completeness(start, end, chosen)
charts.show(
    charts.completeness_grid(
        grid,
        statuses=ov.STATUSES,
        period=period,
        definition="Green: dated purchase lines on file for the month; amber: only spend allocated from a period "
        "total (a usage report covering the month); grey: nothing on file.",
    ),
    grid["district_id"].n_unique(),
)
tables.show(
    ov.file_age(chosen),
    {
        "name": st.column_config.TextColumn("District", pinned=True),
        "district_id": st.column_config.TextColumn("Id", help="The district's id in the registry and its files."),
        "last_invoice_date": st.column_config.DateColumn("Latest invoice", format="D MMM YYYY"),
        "days_since_last_invoice": st.column_config.NumberColumn("Invoice age (days)", format="%d"),
        "last_loaded_at": st.column_config.DatetimeColumn("Last file loaded", format="D MMM YYYY, HH:mm"),
        "days_since_last_file": st.column_config.NumberColumn("File age (days)", format="%d"),
    },
)
st.caption(
    "Freshness of all data loaded, not just the period: each district's latest invoice date and when its last "
    "file was loaded, counted in days to today (the sample counts as one file); blank = nothing on file."
)

with st.expander("Co-op spend by vendor (the volume the co-op can negotiate with)"):
    tables.show(
        m.vendors,
        {
            "spend": st.column_config.NumberColumn("Spend ($)", format="dollar"),
            "local_spend": st.column_config.NumberColumn("Local spend ($)", format="dollar"),
            "districts": st.column_config.NumberColumn("Districts buying", format="localized"),
            "lines": st.column_config.NumberColumn("Lines", format="localized"),
        },
    )
    st.caption(f"All member districts, {period}. Spend summed across districts per vendor, US dollars; largest first.")
