"""The coop dashboard: routes to the pages the signed-in user may use (run with `streamlit run app.py`)."""

import streamlit as st

from ui import access, feedback

st.set_page_config(page_title="coop: school-food purchasing co-op", page_icon="🥕", layout="wide")

page = st.navigation(access.navigation())
feedback.run_page(page.run)
