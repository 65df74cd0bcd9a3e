import streamlit as st

from ui import feedback, filters
from ui import packet as pk

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
st.caption("The packet covers every member district (the sidebar's district filter does not apply to it).")

bar = st.progress(0.0, text=f"Building the packet for {month:%B %Y}…")
built = feedback.call(pk.packet, month, savings, lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
html = pk.packet_html(month, savings, built)
bar.empty()

d1, d2 = st.columns(2)
stem = f"coop-packet-{month:%Y-%m}"
d1.download_button(
    "Download HTML",
    data=html.encode("utf-8"),
    file_name=f"{stem}.html",
    mime="text/html",
    type="primary",
    key="packet_html",
)
d2.download_button(
    "Download Excel (XLSX)",
    data=lambda: pk.packet_xlsx(built),
    file_name=f"{stem}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key="packet_xlsx",
)

st.subheader(f"Preview: the packet for {month:%B %Y}")
st.caption("Exactly the HTML file the download gives: what the meeting sees when it is projected or printed.")
st.iframe(html, height="content")
