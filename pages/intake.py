import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Data intake", "Load a district's purchasing file: map columns, check every row, load it as one batch (undoable)."
)
sh.require("ingest", "File intake")
st.info("This page is being wired to `coop.ingest`.")
