import streamlit as st

from ui import access, feedback, filters, tables
from ui import packet as pk

user = access.require("packet")

start, end, chosen = filters.setup(
    "Meeting packet",
    "One month's packet for the partner meeting: the co-op's figures for the month, the month before and the "
    "school year to date. Preview it here, then download it as HTML (to project or e-mail) and Excel.",
)

months = pk.packet_months(start, end)
c1, c2 = st.columns(2)
month = c1.selectbox("Month", months, format_func=lambda d: f"{d:%B %Y}", key="packet_month")
savings = c2.toggle(
    "Include pooled-buying savings",
    value=False,
    help="Solves the pooled model for every group of districts: about a minute for seven districts.",
    key="packet_savings",
)
st.caption(
    "The packet covers every member district (the sidebar's district filter does not apply to it)."
    if user.sees_everything
    else f"Your packet: {built_for}. Other members appear only as aggregates that are safe to share."
    if (built_for := access.packet_audience(user, filters.district_names()))
    else "Your packet."
)

bar = st.progress(0.0, text=f"Building the packet for {month:%B %Y}…")
built = feedback.call(pk.packet, month, savings, lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
html = pk.packet_html(month, savings, built)
bar.empty()

d1, d2 = st.columns(2)
stem = f"coop-packet-{month:%Y-%m}" + (f"-{built.tag}" if built.tag else "")
d1.download_button(
    "Download HTML",
    data=html.encode("utf-8"),
    file_name=f"{stem}.html",
    mime="text/html",
    type="primary",
    key="packet_html",
    on_click="ignore",  # a download changes nothing: no rerun (and no rebuilt packet) behind it
)
d2.download_button(
    "Download Excel (XLSX)",
    data=lambda: pk.packet_xlsx(built),
    file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="packet_xlsx",
    on_click="ignore",
)

st.subheader(f"Preview: the packet for {month:%B %Y}")
st.caption("Exactly the HTML file the download gives: what the meeting sees when it is projected or printed.")
st.iframe(html, height="content")

if not user.sees_everything:  # the Census export is every district's own figures: a coordinator's
    st.stop()
st.subheader("Farm to School Census export")
census_year = st.selectbox(
    "School year", pk.census_years(start, end), format_func=tables.school_year, key="census_year"
)
exported = feedback.call(pk.census_export, census_year)
st.caption(
    f"Every member district's food costs for school year {census_year}-{(census_year + 1) % 100:02d} (1 July to 30 "
    f"June) in the Census's own terms, US dollars; totals equal the Overview's figures for the same dates. "
    f"Edition: {pk.census_edition()}."
)
census_columns = exported.districts.columns
census_config = {
    c: st.column_config.NumberColumn(c.replace("category: ", "").replace("source: ", "") + " ($)", format="dollar")
    for c in census_columns
    if c.startswith(("category: ", "source: "))
} | {
    "name": st.column_config.TextColumn("District", pinned=True),
    "district_id": st.column_config.TextColumn("Id"),
    "local_share": st.column_config.NumberColumn("Local share", format="percent"),
    "total_food_cost": st.column_config.NumberColumn("Total ($)", format="dollar", help="Total food cost"),
    "local_food_cost": st.column_config.NumberColumn("Local ($)", format="dollar", help="Local food cost"),
    "unknown_origin_cost": st.column_config.NumberColumn("Unknown origin ($)", format="dollar"),
}
tables.show(exported.districts, census_config, column_order=pk.CENSUS_HEADLINE)
with st.expander("Every Census column (category and source breakdown; scrolls sideways)"):
    tables.show(
        exported.districts,
        census_config,
        column_order=["name", *(c for c in census_columns if c not in ("name", "district_id")), "district_id"],
        fit=None,
    )
files = pk.census_files(exported)
c1, c2, c3 = st.columns(3)
stem_census = f"census-SY{census_year}-{(census_year + 1) % 100:02d}"
c1.download_button("Census figures (CSV)", data=files["csv"], file_name=f"{stem_census}.csv", mime="text/csv",
                   key="census_csv")  # fmt: skip
c2.download_button(
    "Census figures (XLSX)",
    data=files["xlsx"],
    file_name=f"{stem_census}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="census_xlsx",
)
c3.download_button("Mapping (CSV)", data=files["mapping"], file_name=f"{stem_census}-mapping.csv", mime="text/csv",
                   key="census_mapping")  # fmt: skip
with st.expander("How our categories and vendor types map to the Census's"):
    tables.show(
        exported.mapping,
        {
            "ours": st.column_config.TextColumn("Ours"),
            "census": st.column_config.TextColumn("Census"),
            "note": st.column_config.TextColumn("Note", width="large"),
        },
    )
