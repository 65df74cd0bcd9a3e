import streamlit as st

from ui import feedback, filters
from ui import labels as lb
from ui import rules as rl

start, end, chosen = filters.setup(
    "Procurement rules",
    "Purchase thresholds and the method each purchase needs, split purchases, geographic-preference bid scoring, "
    "and whether a product counts as unprocessed (7 CFR 210.21(g)).",
)

thresholds_tab, split_tab, bids_tab, classify_tab = st.tabs(
    ["Thresholds and methods", "Split purchases", "Bid scorer", "Unprocessed? (classifier)"]
)
years = rl.school_years(start, end)

with thresholds_tab:
    st.markdown("**Thresholds in force** (most restrictive of federal, state and district applies)")
    st.dataframe(
        feedback.call(rl.threshold_rules),
        hide_index=True,
        width="stretch",
        column_config={
            "effective_date": st.column_config.DateColumn("In force from", format="YYYY-MM-DD"),
            "value": st.column_config.NumberColumn("Threshold ($)", format="dollar"),
            "local_unprocessed_value": st.column_config.NumberColumn(
                "For local unprocessed products ($)", format="dollar"
            ),
            "source": st.column_config.TextColumn("Source", width="large"),
        },
    )
    st.caption(
        "US dollars. A purchase is judged by the values in force on its date; micro-purchase up to the micro "
        "threshold, small purchase up to the small (simplified acquisition) threshold, formal above."
    )
    c1, c2 = st.columns(2)
    year = c1.selectbox(
        "School year", years, index=len(years) - 1, format_func=lambda y: f"{y}-{(y + 1) % 100:02d}", key="rules_year"
    )
    flagged_only = c2.toggle("Only flagged district-vendor years", value=True, key="rules_flagged")
    checked = feedback.call(rl.threshold_check, year, chosen, flagged_only)
    st.metric("Flagged district-vendor years", f"{rl.flagged(checked):,}")
    st.dataframe(
        checked,
        hide_index=True,
        width="stretch",
        column_config={
            "spend": st.column_config.NumberColumn("Spend ($)", format="dollar"),
            "first_date": st.column_config.DateColumn("First purchase", format="YYYY-MM-DD"),
            "last_date": st.column_config.DateColumn("Last purchase", format="YYYY-MM-DD"),
            "decided_on": st.column_config.DateColumn("Decided on", format="YYYY-MM-DD"),
            "micro_threshold": st.column_config.NumberColumn("Micro threshold ($)", format="dollar"),
            "small_threshold": st.column_config.NumberColumn("Small threshold ($)", format="dollar"),
            lb.REASON: st.column_config.TextColumn("Reason", width="large"),
        },
    )
    st.caption(
        f"School year {year}-{(year + 1) % 100:02d} (1 July to 30 June), chosen districts: aggregate spend per "
        "district and "
        "vendor (US dollars), the method that spend requires, the method on record (contracts table; none = "
        "micro-purchase) and a flag when spend exceeds what the recorded method allows."
    )

with split_tab:
    year = st.selectbox(
        "School year", years, index=len(years) - 1, format_func=lambda y: f"{y}-{(y + 1) % 100:02d}", key="split_year"
    )
    splits = feedback.call(rl.split_purchases, year, chosen)
    groups = rl.split_groups(splits)
    st.metric("Possible split purchases", f"{groups:,}")
    st.dataframe(
        splits,
        hide_index=True,
        width="stretch",
        column_config={
            lb.EXTENDED_PRICE: st.column_config.NumberColumn("Line ($)", format="dollar"),
            lb.INVOICE_DATE: st.column_config.DateColumn("Invoice date", format="YYYY-MM-DD"),
            "invoice_total": st.column_config.NumberColumn("Invoice total ($)", format="dollar"),
            "split_total": st.column_config.NumberColumn("Together ($)", format="dollar"),
            "micro_threshold": st.column_config.NumberColumn("Micro threshold ($)", format="dollar"),
            lb.REASON: st.column_config.TextColumn("Reason", width="large"),
        },
    )
    st.caption(
        "USDA, Geographic Preference Q&A, Q8: two or more invoices from one vendor to one district within 30 days, "
        "each under the "
        "micro-purchase threshold, together above it. Vendors under a contract covering the date (formal, small "
        "purchase, entitlement) are not flagged. One row per line; US dollars."
    )

with bids_tab:
    upload = st.file_uploader("Bids (CSV: bidder, price, meets_preference)", type=["csv"], key="bids_upload")
    start_bids = feedback.call(rl.read_bids_upload, upload.name, upload.getvalue()) if upload else rl.example_bids()
    bids = st.data_editor(
        start_bids,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={"price": st.column_config.NumberColumn("price ($ per unit)", min_value=0.0, format="$%.2f")},
        key=f"bids-editor-{upload.name if upload else 'example'}",
    )
    b1, b2, b3 = st.columns(3)
    kind = b1.radio("Preference as", ["points", "percent", "none"], horizontal=True, key="bids_kind")
    amount = b2.number_input(
        "Points (1 point = 1 cent off)" if kind == "points" else "Percent off the price",
        min_value=0.0,
        value=10.0,
        step=1.0,
        disabled=kind == "none",
        key="bids_amount",
    )
    among = b3.number_input("Only among the K lowest bids (0 = all)", min_value=0, value=3, step=1, key="bids_among")
    item = st.text_input("Item (preference applies only to unprocessed products)", value="", key="bids_item")
    with feedback.shown():
        result = rl.score_bids(
            bids,
            points=amount if kind == "points" else None,
            percent=amount if kind == "percent" else None,
            among=int(among) or None,
            item=item,
        )
        st.metric("Winner (pays its own bid)", result.winner or "tie: see warnings")
        st.dataframe(
            result.ranking,
            hide_index=True,
            width="stretch",
            column_config={
                "price": st.column_config.NumberColumn("Bid ($)", format="$%.2f"),
                "evaluated_price": st.column_config.NumberColumn("Evaluated ($)", format="$%.2f"),
            },
        )
        st.caption(
            f"Method: {result.method}. Evaluated price only ranks the bids; the winner is paid its bid "
            "(USDA, Geographic Preference Q&A, Q5)."
        )
        for warning in result.warnings:
            st.warning(warning)

with classify_tab:
    text = st.text_input("Item description", value="Apples, Gala, 88ct", key="classify_text")
    if text.strip():
        found = rl.classify_text(text)
        c1, c2, c3 = st.columns(3)
        c1.metric("Product", found.product)
        c2.metric("Category", found.category)
        c3.metric("Unprocessed?", "yes" if found.unprocessed else "no", help=f"confidence {found.confidence:.0%}")
        st.markdown(f"**Why**: {found.reason}")
        st.caption(f"Rule: {found.rule}. Source: {found.source}.")
        st.caption(
            "Unprocessed locally grown or raised agricultural products may receive a geographic preference "
            "(7 CFR 210.21(g)): they keep their inherent character after washing, cutting, chopping, freezing or "
            "drying; cooking, heating, canning or adding sauces makes them processed."
        )
