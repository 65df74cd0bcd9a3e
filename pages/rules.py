import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Procurement rules",
    "Purchase thresholds and methods, split purchases, geographic-preference bid scoring, unprocessed products.",
)
sh.require("rules", "Procurement rules")
st.info("This page is being wired to `coop.rules`.")
