"""The coop dashboard: routes to one page per capability (run with `streamlit run app.py`)."""

import streamlit as st

st.set_page_config(page_title="coop: school-food purchasing co-op", page_icon="🥕", layout="wide")

st.navigation(
    {
        "Co-op": [
            st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
            st.Page("pages/local_spend.py", title="Local spend", icon="🌽"),
            st.Page("pages/premiums.py", title="Price premiums", icon="💲"),
        ],
        "Decide": [
            st.Page("pages/optimizer.py", title="Route optimizer", icon="🧮"),
            st.Page("pages/buying_power.py", title="Co-op buying power", icon="🤝"),
            st.Page("pages/rules.py", title="Procurement rules", icon="📜"),
        ],
        "Work": [
            st.Page("pages/intake.py", title="Data intake", icon="📥"),
            st.Page("pages/packet.py", title="Meeting packet", icon="🗂️"),
        ],
    }
).run()
