import streamlit as st

from pages import _shared as sh

start, end, chosen = sh.setup(
    "Procurement rules",
    "Purchase thresholds and the method each purchase needs, split purchases, geographic-preference bid scoring, "
    "and whether a product counts as unprocessed (7 CFR 210.21(g)).",
)

thresholds_tab, split_tab, bids_tab, classify_tab = st.tabs(
    ["Thresholds and methods", "Split purchases", "Bid scorer", "Unprocessed? (classifier)"]
)

with thresholds_tab:
    if sh.lib("rules") is None:
        st.info("Thresholds and methods are not available yet: `coop.rules` is not installed.")

with split_tab:
    if sh.lib("rules") is None:
        st.info("Split-purchase detection is not available yet: `coop.rules` is not installed.")

with bids_tab:
    if sh.lib("rules") is None:
        st.info("The bid scorer is not available yet: `coop.rules` is not installed.")

with classify_tab:
    sh.require("classify", "The product classifier")
    text = st.text_input("Item description", value="Apples, Gala, 88ct", key="classify_text")
    if text.strip():
        found = sh.classify_text(text)
        c1, c2, c3 = st.columns(3)
        c1.metric("Product", found["product"])
        c2.metric("Category", found["category"])
        c3.metric("Unprocessed?", "yes" if found["unprocessed"] else "no", help=f"confidence {found['confidence']:.0%}")
        st.markdown(f"**Why**: {found['reason']}")
        st.caption(f"Rule: {found['rule']}. Source: {found['source']}.")
        st.caption(
            "Unprocessed locally grown or raised agricultural products may receive a geographic preference "
            "(7 CFR 210.21(g)): they keep their inherent character after washing, cutting, chopping, freezing or "
            "drying; cooking, heating, canning or adding sauces makes them processed."
        )
