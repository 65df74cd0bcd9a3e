import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Price premiums", "How much more local food costs than the same product bought non-local, per base unit."
)
sh.require("metrics", "Price premiums")
st.info("This page is being wired to `coop.metrics`.")
