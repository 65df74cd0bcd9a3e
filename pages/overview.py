import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Co-op overview", "The co-op's purchasing at a glance for the chosen period and districts."
)
sh.require("metrics", "Co-op metrics")
st.info("This page is being wired to `coop.metrics`.")
