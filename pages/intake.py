import streamlit as st

from ui import access, feedback, filters, tables
from ui import intake as ix
from ui import labels as lb

user = access.require("intake")

start, end, chosen = filters.setup(
    "Data intake",
    "Load a district's purchasing file: map its columns, check every row, load it as one batch you can undo. "
    "Also: the vendor registry, each district's settings and monthly meal counts.",
)

st.download_button(
    "Download a blank template (CSV)",
    data=ix.template_csv(),
    file_name="coop-purchases-template.csv",
    mime="text/csv",
    help="One purchase line per row, canonical headers. Rules per column are in the README's 'Data template'.",
)

# a partner loads and undoes for its own districts; reviewing, the registries and settings are the coordinator's
load_tab, review_tab, batch_tab, vendor_tab, district_tab = access.intake_tabs(
    user, ["Load a file", "Review classification", "Batches (undo)", "Vendor registry", "Districts and meal counts"]
)


def _show_outcome() -> None:
    """The last load's outcome: batch, counts, and every problem with a CSV download."""
    outcome = ix.last_outcome()
    if outcome is None:
        return
    if outcome.error is not None:
        feedback.show(outcome.error, outcome.file)
        unregistered = ix.unregistered_vendors_csv(outcome.error)
        if unregistered is not None:
            st.download_button(
                "Download the unregistered vendors as a vendors file",
                data=unregistered,
                file_name=f"{outcome.file}.new-vendors.csv",
                mime="text/csv",
                help="Fill in vendor_type (and origin if known), then load it with `python -m coop vendors FILE` "
                "or enter the vendors under 'Vendor registry', and load the file again.",
            )
        return
    result = outcome.result
    if result is None:
        return
    if result.already_loaded_as is not None:
        st.info(f"{lb.md(outcome.file)} was already loaded as batch {result.already_loaded_as}; nothing changed.")
    else:
        st.success(
            f"{lb.md(outcome.file)}: loaded {result.rows_loaded:,} line(s) as batch {result.batch_id}; "
            f"{result.rows_rejected:,} row(s) rejected."
        )
    if result.problems:
        feedback.show_problems(result.problems, outcome.file)


with load_tab:
    ids = ix.district_ids()
    labels = ix.district_names()
    if not ids:
        st.warning("No districts are registered yet: add them under 'Districts and meal counts' first.")
    upload = st.file_uploader(
        "Purchasing file (CSV, XLSX or Parquet)",
        type=list(ix.UPLOAD_TYPES),
        help="A distributor export, a farm or food-hub invoice list, or a spreadsheet in the template's layout.",
    )
    if upload is None:
        _show_outcome()
    else:
        path = ix.save_upload(upload.name, upload.getvalue())
        if ix.is_usage_report(path):
            st.markdown(
                f"**{lb.md(upload.name)}** is a distributor *District Usage by Item* report (one block per district)."
            )
            vendor_name = st.text_input("Distributor (vendor name)", value="Broadline distributor", key="usage_vendor")
            vendor_type = st.selectbox(
                "Vendor type",
                lb.VENDOR_TYPES,
                index=lb.VENDOR_TYPES.index("broadline_distributor"),
                key="usage_vendor_type",
            )
            add = st.toggle("Register districts the co-op does not know yet", value=False, key="usage_add")
            u1, u2 = st.columns(2)
            state = u1.text_input(
                "State of the new districts (2 letters)",
                value="",
                disabled=not add,
                key="usage_state",
                help="The report has no addresses. Left empty, new districts get placeholders (XX, 00000) that "
                "count every line as unknown origin until you fix them under 'Districts and meal counts'.",
            )
            zip_code = u2.text_input("ZIP of the new districts", value="", disabled=not add, key="usage_zip")
            skip_usage = st.toggle("Load the valid rows and set the invalid ones aside", value=False, key="usage_skip")
            if st.button("Check and load the report", type="primary", key="usage_load"):
                ix.load(
                    upload.name,
                    lambda progress: ix.ingest_usage(
                        path,
                        vendor_name=vendor_name,
                        vendor_type=vendor_type,
                        add_districts=add,
                        state=state.strip(),
                        zip_code=zip_code.strip(),
                        skip_invalid=skip_usage,
                        progress=progress,
                    ),
                )
            _show_outcome()
        else:
            with feedback.shown():
                head = ix.read_upload(str(path), path.parent.name)
                st.markdown(
                    f"**{lb.md(upload.name)}**: {ix.columns_in(head)} column(s); the first {head.height:,} data "
                    "row(s) are previewed below, every row is checked when you load."
                )
                saved = ix.saved_mappings()
                reuse = st.selectbox(
                    "Start from a saved mapping",
                    [None, *saved],
                    format_func=lambda m: "automatic (match headers by name)" if m is None else m,
                )
                st.subheader("Proposed column mapping")
                st.caption(
                    "Each of the file's columns and the canonical column it maps to (empty = not loaded). "
                    "Fix any wrong guess in the 'maps to' column."
                )
                table = st.data_editor(
                    ix.mapping_table(head, reuse),
                    column_config={
                        "maps to": st.column_config.SelectboxColumn(
                            "maps to", options=list(ix.MAPPING_TARGETS), required=False
                        )
                    },
                    disabled=["source column", "example value"],
                    hide_index=True,
                    placeholder="",
                    width="stretch",
                    key=f"mapping-{path.parent.name}-{reuse}",
                )
                st.subheader("Preview")
                preview = ix.mapped_preview(head, table)
                st.dataframe(preview, hide_index=True, width="stretch", height=260, placeholder="")
                st.caption(
                    f"First {preview.height} row(s) under this mapping, canonical column names, values as in the "
                    "file; `source_row` is the spreadsheet row (header = row 1). The inferred commodity, category "
                    "and unprocessed status (7 CFR 210.21(g)) are what the load fills in where the file has none; "
                    "types and units are checked when you load."
                )
                from_file = ix.has_district_column(table)
                choice = st.selectbox(
                    "District these purchases belong to",
                    ix.district_choices(ids, from_file),
                    index=0 if from_file else None,
                    format_func=lambda d: (
                        "from the file (its own district column)" if d == ix.FROM_FILE else f"{labels.get(d, d)} ({d})"
                    ),
                    placeholder="Choose the district",
                    help="The file's own district column is used when it has one; otherwise every line gets the "
                    "district chosen here.",
                    key="intake_district",
                )
                district = ix.chosen_district(choice)
                mapping_name = st.text_input(
                    "Save this mapping as", value=f"{district}:{path.stem}" if district else path.stem
                )
                skip = st.toggle(
                    "Load the valid rows and set the invalid ones aside",
                    value=False,
                    help="Off (strict): any invalid cell and nothing is loaded. On: invalid rows are stored as "
                    "rejects with their reasons.",
                    key="intake_skip",
                )
                if choice is None:
                    st.caption("Choose the district these purchases belong to, then load.")
                if st.button("Check and load", type="primary", disabled=choice is None, key="intake_load"):
                    ix.load(
                        upload.name,
                        lambda progress: ix.ingest_upload(
                            path,
                            district_id=district,
                            table=table,
                            mapping_name=mapping_name or path.stem,
                            skip_invalid=skip,
                            progress=progress,
                        ),
                    )
                _show_outcome()

with batch_tab:
    undone = ix.last_undo()
    if isinstance(undone, str):
        st.success(undone, icon=":material/undo:")
    elif undone is not None:
        feedback.show(undone)
    batches = ix.batch_table()
    if batches.height == 0:
        st.info("No batches loaded yet.")
    else:
        tables.show(
            batches, {"sha256": st.column_config.TextColumn("Fingerprint", width="small", help="The file's SHA-256")}
        )
        st.caption(
            "One batch = one loaded file (or the sample co-op). Rows loaded and rejected are purchase lines; "
            "loaded_at is the server's time."
        )
        target = st.selectbox("Batch to undo", ix.batch_ids(batches), key="undo_batch")
        confirm = st.checkbox(f"Yes, remove batch {target} and every line it loaded", key="undo_confirm")
        st.button("Undo batch", disabled=not confirm, key="undo_run", on_click=ix.undo_batch, args=(int(target),))

access.stop_unless_coordinator(user)  # a partner's intake ends with its batches

with review_tab:
    review = ix.review_lines()
    st.subheader("Lines to review")
    if review.height == 0:
        st.info(f"No stored line was classified with confidence under {ix.REVIEW_BELOW:.2f}.")
    else:
        st.dataframe(review, hide_index=True, width="stretch", height=260, placeholder="")
    st.caption(
        f"Stored lines whose product was recognised with confidence under {ix.REVIEW_BELOW:.2f} (a misspelling "
        "guessed at, or no rule matched), per description and pack size, largest spend (dollars, all dates) "
        "first. Confidence: 1.0 an exact term or a correction, 0.7-0.9 an abbreviation or near spelling, 0.6 a "
        "whole-grain marking only, 0.2 no rule matched."
    )
    st.subheader("Correct a classification")
    with st.form("intake_correct"):
        picked = st.selectbox("Item text from the review list", ["", *ix.review_texts(review)], key="correct_pick")
        typed = st.text_input("...or any item text exactly as files write it", key="correct_text")
        category = st.selectbox("Category", ix.CATEGORIES, key="correct_category")
        unprocessed = st.radio("Unprocessed (7 CFR 210.21(g))", ["no", "yes"], horizontal=True, key="correct_unp")
        product = st.text_input("Commodity (optional)", key="correct_product")
        if st.form_submit_button("Save the correction", type="primary"):
            text = typed.strip() or picked
            if not text:
                st.warning("Pick an item from the list or type its text.")
            else:
                try:
                    done = ix.correct(text, category, unprocessed == "yes", product or None)
                except ix.CoopError as exc:
                    feedback.show(exc)
                else:
                    st.success(
                        f"Correction {done['correction_id']} saved for {done['text_key']!r}: "
                        f"{done['lines_reclassified']:,} stored line(s) re-classified; every later load applies it."
                    )
    history = ix.correction_history()
    if history.height:
        st.subheader("Corrections")
        tables.show(history)
        open_ids = ix.open_corrections(history)
        if open_ids:
            chosen_id = st.selectbox("Undo correction", open_ids, key="correct_undo_id")
            if st.button("Undo it", key="correct_undo"):
                try:
                    undone = ix.undo_correction(int(chosen_id))
                except ix.CoopError as exc:
                    feedback.show(exc)
                else:
                    st.success(f"Correction {chosen_id} undone: {undone['lines_reclassified']:,} line(s) restored.")

with vendor_tab:
    st.caption(
        "The vendor registry fills vendor_type (and a default origin) on lines whose file lacks them. "
        "vendor_type is one of: " + ", ".join(lb.VENDOR_TYPES) + "."
    )
    vendors = st.data_editor(
        ix.vendor_table(),
        num_rows="dynamic",
        column_config={lb.VENDOR_TYPE: st.column_config.SelectboxColumn(lb.VENDOR_TYPE, options=list(lb.VENDOR_TYPES))},
        hide_index=True,
        placeholder="",
        width="stretch",
        key="vendor-editor",
    )
    if st.button("Save the vendor registry"):
        with feedback.shown():
            count = ix.save_vendors(vendors)
            st.success(f"Saved {count:,} vendor(s).")

with district_tab:
    st.caption(
        "Each district's own definition of local: a radius in miles around its ZIP, a list of states, or a list "
        "of counties (separate list items with ';'); with none, local = the district's own state. Thresholds in "
        "US dollars override the federal ones when lower. Annual meals = meals served per year."
    )
    edited = st.data_editor(
        ix.districts_for_editing(),
        num_rows="dynamic",
        hide_index=True,
        placeholder="",
        width="stretch",
        key="district-editor",
    )
    if st.button("Save districts"):
        with feedback.shown():
            count = ix.save_districts(edited)
            st.success(f"Saved {count:,} district(s).")
    st.markdown("**Co-op goal**")
    share_now, date_now = ix.goal()
    g1, g2 = st.columns(2)
    goal_share = g1.number_input(
        "Local share goal (% of food spend)", 1.0, 100.0, value=share_now * 100, step=1.0, key="goal_share"
    )
    goal_date = g2.date_input("To be met by", value=date_now, key="goal_date")
    if st.button("Save the goal", key="goal_save"):
        with feedback.shown():
            ix.save_goal(goal_share / 100.0, goal_date)
            st.success(f"Goal saved: {goal_share:.0f}% local by {goal_date:%d %b %Y}.")
    st.markdown("**Monthly meal counts**")
    st.caption("Meals served per district and month (month = first day of the month).")
    meal_counts = st.data_editor(
        ix.meal_table(), num_rows="dynamic", hide_index=True, placeholder="", width="stretch", key="meals-editor"
    )
    if st.button("Save meal counts"):
        with feedback.shown():
            count = ix.save_meals(meal_counts)
            st.success(f"Saved {count:,} meal count(s).")
    st.markdown("**Users and roles**")
    st.caption(
        "Who may see what when sign-in is on: email, role (coordinator, partner, district, viewer) and, for a partner "
        "or district user, its district ids separated by ';'. Emails match ignoring case."
    )
    edited_users = st.data_editor(
        ix.user_table(), num_rows="dynamic", hide_index=True, width="stretch", key="users-editor", placeholder=""
    )
    if st.button("Save users", key="users_save"):
        with feedback.shown():
            count = ix.save_users(edited_users)
            st.success(f"Saved {count:,} user(s).")
