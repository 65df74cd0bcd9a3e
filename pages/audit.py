import streamlit as st

from ui import access, feedback, filters, tables
from ui import audit as au

user = access.require("audit")

filters.setup(
    "Audit log",
    "Who loaded, undid, corrected or edited what and when: the command line records the operating-system user, "
    "the app the signed-in email (or the local coordinator).",
)
limit = st.number_input("Entries to show (newest first)", 10, 10_000, value=500, step=100, key="audit_limit")
log = feedback.call(au.entries, int(limit))
if log.height == 0:
    st.info("Nothing recorded yet: loads, undos and edits are listed here as they happen.")
tables.show(
    log,
    {
        "logged_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
        "actor": st.column_config.TextColumn("Who"),
        "action": st.column_config.TextColumn("What"),
        "detail": st.column_config.TextColumn("Detail", width="large"),
    },
    wrap=True,
)
st.caption(f"{log.height:,} most recent entries; the time is the database server's.")
