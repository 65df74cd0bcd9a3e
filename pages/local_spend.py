import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Local spend", "How much of each district's food spend is local, by each district's own definition of local."
)
sh.require("metrics", "Local-spend metrics")
st.info("This page is being wired to `coop.metrics`.")
