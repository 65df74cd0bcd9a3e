import streamlit as st

from ui import access, feedback, filters, tables
from ui import labels as lb
from ui import rules as rl

user = access.require("rules")

start, end, chosen = filters.setup(
    "Procurement rules",
    "Purchase thresholds and the method each purchase needs, split purchases, geographic-preference bid scoring, "
    "Buy American against the cap, procurement records (quotes and the Alabama handbook's worksheets), and whether "
    "a product counts as unprocessed (7 CFR 210.21(g)).",
)

thresholds_tab, split_tab, bids_tab, buy_tab, records_tab, classify_tab = st.tabs(
    ["Thresholds and methods", "Split purchases", "Bid scorer", "Buy American", "Procurement records",
     "Unprocessed? (classifier)"]
)  # fmt: skip
years = rl.school_years(start, end)

with thresholds_tab:
    st.markdown("**Thresholds in force** (most restrictive of federal, state and district applies)")
    tables.show(
        feedback.call(rl.threshold_rules),
        {
            "effective_date": st.column_config.DateColumn("In force from", format="YYYY-MM-DD"),
            "value": st.column_config.NumberColumn("Threshold ($)", format="dollar"),
            "local_unprocessed_value": st.column_config.NumberColumn(
                "Local unprocessed ($)", format="dollar", help="For local unprocessed agricultural products"
            ),
            "kind": st.column_config.TextColumn("Threshold"),
            "scope": st.column_config.TextColumn("State or district"),
            "source": st.column_config.TextColumn("Source", width="large"),
        },
        wrap=True,
    )
    st.caption(
        "Federal thresholds and those of the co-op's own states and districts only. US dollars. A purchase is "
        "judged by the values in force on its date; micro-purchase up to the micro "
        "threshold, small purchase up to the small (simplified acquisition) threshold, formal above."
    )
    c1, c2 = st.columns(2)
    year = c1.selectbox("School year", years, index=len(years) - 1, format_func=tables.school_year, key="rules_year")
    flagged_only = c2.toggle("Only flagged district-vendor years", value=True, key="rules_flagged")
    checked = feedback.call(rl.threshold_check, year, chosen, flagged_only)
    st.metric("Flagged district-vendor years", f"{rl.flagged(checked):,}")
    tables.show(
        checked,
        {
            "spend": st.column_config.NumberColumn("Spend ($)", format="dollar"),
            "first_date": st.column_config.DateColumn("First purchase", format="YYYY-MM-DD"),
            "last_date": st.column_config.DateColumn("Last purchase", format="YYYY-MM-DD"),
            "decided_on": st.column_config.DateColumn("Decided on", format="YYYY-MM-DD"),
            "micro_threshold": st.column_config.NumberColumn("Micro threshold ($)", format="dollar"),
            "small_threshold": st.column_config.NumberColumn("Small threshold ($)", format="dollar"),
            lb.REASON: st.column_config.TextColumn("Reason", width="large"),
            "source": st.column_config.TextColumn("Source", width="large"),
            "required_method": st.column_config.TextColumn("Method needed"),
            "recorded_method": st.column_config.TextColumn("On record"),
        },
        wrap=True,
        column_order=rl.CHECK_COLUMNS,
    )
    st.caption(
        f"School year {tables.school_year(year)} (1 July to 30 June), chosen districts: aggregate spend per "
        "district and vendor (US dollars), the method that spend requires, the method on record (contracts table; "
        "none = micro-purchase) and a flag when spend exceeds what the recorded method allows. Why each flagged "
        "row is flagged, and the source of the threshold:"
    )
    for why in rl.flag_reasons(checked):
        st.markdown(f"- {lb.md(why)}")

with split_tab:
    year = st.selectbox("School year", years, index=len(years) - 1, format_func=tables.school_year, key="split_year")
    splits = feedback.call(rl.split_purchases, year, chosen)
    groups = rl.split_groups(splits)
    st.metric("Possible split purchases", f"{groups:,}")
    tables.show(
        splits,
        {
            lb.EXTENDED_PRICE: st.column_config.NumberColumn("Line ($)", format="dollar"),
            lb.INVOICE_DATE: st.column_config.DateColumn("Invoice date", format="YYYY-MM-DD"),
            "invoice_total": st.column_config.NumberColumn("Invoice total ($)", format="dollar"),
            "split_total": st.column_config.NumberColumn("Together ($)", format="dollar"),
            "micro_threshold": st.column_config.NumberColumn("Micro threshold ($)", format="dollar"),
            lb.REASON: st.column_config.TextColumn("Reason", width="large"),
        },
        wrap=True,
        column_order=rl.SPLIT_COLUMNS,
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
        placeholder="",
        width="stretch",
        column_config={
            "bidder": st.column_config.TextColumn("Bidder"),
            "price": st.column_config.NumberColumn("Price ($ per unit)", min_value=0.0, format="$%.2f"),
            "meets_preference": st.column_config.CheckboxColumn("Meets the geographic preference"),
        },
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
        tables.show(
            result.ranking,
            {
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
        with st.expander("Rules applied, with their sources and dates"):
            for rule in rl.cited(result.rules):
                st.markdown(f"- {lb.md(rule)}")

with buy_tab:
    year = st.selectbox("School year", years, index=len(years) - 1, format_func=rl.school_year_label, key="ba_year")
    with feedback.shown():
        figures = rl.buy_american_figures(year, chosen)
        flagged_ba = figures.flagged()
        m1, m2, m3 = st.columns(3)
        m1.metric("Cap in force", rl.cap_text(figures), help=figures.source)
        m2.metric("Districts over the cap", f"{int(figures.districts['over_cap'].sum()):,}")
        m3.metric("Could be over (unknown origin)", f"{int(figures.districts['could_be_over'].sum()):,}")
        for row in flagged_ba.iter_rows(named=True):
            share = row["non_domestic_share"] or 0.0
            if row["over_cap"]:
                st.warning(
                    f"**Over the cap.** {row['district_id']}: non-domestic food is {share:.1%} of commercial food "
                    f"cost, over the {rl.cap_text(figures)} cap of {rl.school_year_label(year)}."
                )
            else:
                st.warning(f"{row['district_id']}: {share:.1%} non-domestic, but {row['worst_case_share']:.1%} if "
                           "every unknown-origin dollar were imported: record where that food was grown.")  # fmt: skip
        tables.show(
            figures.districts,
            {
                c: st.column_config.NumberColumn(c.replace("_", " ").capitalize() + " ($)", format="dollar")
                for c in ("commercial_food_cost", "domestic_cost", "non_domestic_cost", "unknown_origin_cost")
            }
            | {
                c: st.column_config.NumberColumn(c.replace("_", " ").capitalize(), format="percent")
                for c in ("domestic_share", "non_domestic_share", "unknown_origin_share", "worst_case_share")
            },
        )
        st.caption(
            f"{rl.school_year_label(year)} (1 July to 30 June), US dollars. Commercial food cost leaves out USDA "
            "Foods and DoD Fresh (entitlement foods). Domestic: origin_country US, or a US state or ZIP; "
            "non-domestic: another origin_country; unknown: neither. Cap source: " + figures.source
        )
        st.markdown("**Non-domestic products** (exception on record: a documented exception names the product)")
        tables.show(
            figures.products,
            {
                "origin_country": st.column_config.TextColumn("Origin (country code)"),
                "cost": st.column_config.NumberColumn("Cost ($)", format="dollar"),
            },
        )
        st.markdown("**Documented exceptions** (7 CFR 210.21(d)(2): not produced in the US in sufficient quantity "
                    "and quality, or the US product costs significantly more)")  # fmt: skip
        tables.show(figures.exceptions, {"reason": st.column_config.TextColumn("Reason", width="large")}, wrap=True)
    with st.form("ba_exception", clear_on_submit=True):
        st.markdown("**Record an exception**")
        e1, e2 = st.columns(2)
        district = e1.selectbox("District", chosen, key="ba_district")
        product = e2.text_input("Product", key="ba_product")
        reason = st.text_input("Reason", key="ba_reason")
        e3, e4 = st.columns(2)
        approved_by = e3.text_input("Approved by", key="ba_approved_by")
        approved_on = e4.date_input("Date", key="ba_approved_on")
        if st.form_submit_button("Record exception"):
            with feedback.shown():
                rl.add_exception(district, product, reason, approved_by, approved_on)
                st.toast(f"Exception recorded for {district}: {product}")
                st.rerun()

with records_tab:
    st.caption(
        "Quotes of micro and small purchases (the Alabama handbook, Procuring Local Fruits and Vegetables: "
        "Micro-Purchase and Small Purchase Procedures Worksheets). "
        "One row a vendor contacted; rows with one procurement id are one procurement. Load a file, or edit here."
    )
    upload_q = st.file_uploader("Quotes (CSV or XLSX, the columns below)", type=["csv", "xlsx"], key="quotes_upload")
    stored = feedback.call(rl.stored_quotes, chosen)
    if upload_q:
        start_quotes = feedback.call(rl.read_quotes_upload, upload_q.name, upload_q.getvalue())
    elif stored.height:
        start_quotes = stored
    else:
        start_quotes = rl.example_quotes(chosen[0] if chosen else "")
    edited = st.data_editor(
        start_quotes,
        num_rows="dynamic",
        hide_index=True,
        placeholder="",
        width="stretch",
        column_config={
            c: st.column_config.Column(tables.header(c), help=f"Column {c} of a quotes file")
            for c in start_quotes.columns
        }
        | {
            "date": st.column_config.DateColumn("Date", format="YYYY-MM-DD", help="Column date of a quotes file"),
            "estimated_value": st.column_config.NumberColumn(
                "Estimated value ($)", format="dollar", help="Column estimated_value of a quotes file"
            ),
            "quote": st.column_config.NumberColumn("Quote ($)", format="dollar", help="Column quote of a quotes file"),
        },
        key=f"quotes-editor-{upload_q.name if upload_q else 'stored'}",
    )
    with feedback.shown():
        records = rl.check_quotes(edited)
        table = rl.records_table(records)
        r1, r2 = st.columns(2)
        r1.metric("Procurements", f"{table.height:,}")
        r2.metric("Incomplete records", f"{table.height - int(table['complete'].sum()):,}")
        tables.show(
            table,
            {
                "estimated_value": st.column_config.NumberColumn("Estimated value ($)", format="dollar"),
                "linked_spend": st.column_config.NumberColumn("Purchases that followed ($)", format="dollar"),
                "problems": st.column_config.TextColumn("Problems", width="large"),
            },
            wrap=True,
        )
        st.caption(
            "Method from the estimated value and the thresholds in force on the date (the district's own first). "
            "Purchases that followed: same district, vendor and item, from the date to the end of its school year."
        )
        if records and st.button("Save these quotes", key="quotes_save"):
            st.toast(f"Saved {rl.save_quotes(edited):,} quote rows")
        if records:
            pick = st.selectbox("Worksheet for", [p.procurement_id for p in records], key="quotes_pick")
            record = next(p for p in records if p.procurement_id == pick)
            w1, w2 = st.columns(2)
            w1.download_button("Worksheet (HTML, printable)", data=rl.worksheet_html(record),
                               file_name=f"worksheet-{pick}.html", mime="text/html", key="ws_html")  # fmt: skip
            w2.download_button("Worksheet (XLSX)", data=rl.worksheet_xlsx(record), file_name=f"worksheet-{pick}.xlsx",
                               mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               key="ws_xlsx")  # fmt: skip
    year_r = st.selectbox("School year", years, index=len(years) - 1, format_func=rl.school_year_label, key="rec_year")
    st.markdown("**Spend with no procurement record behind it** (no saved procurement and no contract on record)")
    tables.show(
        feedback.call(rl.unrecorded_spend, year_r, chosen),
        {"spend": st.column_config.NumberColumn("Spend ($)", format="dollar")},
    )
    st.caption(f"{rl.school_year_label(year_r)}, US dollars; USDA Foods and DoD Fresh are not procurements.")

with classify_tab:
    text = st.text_input("Item description", value="Apples, Gala, 88ct", key="classify_text")
    if text.strip():
        found = rl.classify_text(text)
        c1, c2, c3 = st.columns(3)
        c1.metric("Product", found.product)
        c2.metric("Category", found.category)
        c3.metric("Unprocessed?", "yes" if found.unprocessed else "no", help=f"confidence {found.confidence:.0%}")
        why, rule, source = rl.classification_words(found)
        st.markdown(f"**Why**: {lb.md(why)}")
        st.caption(f"Rule: {lb.md(rule)}. Source: {lb.md(source)}.")
        st.caption(
            "Unprocessed locally grown or raised agricultural products may receive a geographic preference "
            "(7 CFR 210.21(g)): they keep their inherent character after washing, cutting, chopping, freezing or "
            "drying; cooking, heating, canning or adding sauces makes them processed."
        )
