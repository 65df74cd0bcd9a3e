"""The coop dashboard: routes to one page per capability (run with `streamlit run app.py`)."""

import streamlit as st

from ui import feedback

st.set_page_config(page_title="coop: school-food purchasing co-op", page_icon="🥕", layout="wide")

page = st.navigation(
    {
        "Co-op": [
            st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
            st.Page("pages/local_spend.py", title="Local spend", icon=":material/eco:"),
            st.Page("pages/premiums.py", title="Price premiums", icon=":material/sell:"),
        ],
        "Decide": [
            st.Page("pages/optimizer.py", title="Route optimizer", icon=":material/route:"),
            st.Page("pages/buying_power.py", title="Co-op buying power", icon=":material/handshake:"),
            st.Page("pages/rules.py", title="Procurement rules", icon=":material/gavel:"),
        ],
        "Work": [
            st.Page("pages/intake.py", title="Data intake", icon=":material/upload_file:"),
            st.Page("pages/packet.py", title="Meeting packet", icon=":material/description:"),
        ],
    }
)
feedback.run_page(page.run)
