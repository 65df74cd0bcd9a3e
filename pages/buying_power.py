import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Co-op buying power", "What pooled buying saves against each district buying alone, and how to split the savings."
)
sh.require("pool", "The pooled co-op model")
st.info("This page is being wired to `coop.pool`.")
