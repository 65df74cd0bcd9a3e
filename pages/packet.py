import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Meeting packet", "One month's packet for the partner meeting: preview, then download HTML and Excel."
)
sh.require("report", "The meeting packet")
st.info("This page is being wired to `coop.report`.")
