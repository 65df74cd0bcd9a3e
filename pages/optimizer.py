import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Route optimizer", "The route-choice model of Love, Jablonski, Thilmany McFadden & Bellows (2025)."
)
sh.require("lp", "The route optimizer")
st.info("This page is being wired to `coop.lp`.")
