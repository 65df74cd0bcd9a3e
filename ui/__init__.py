"""The Streamlit glue between `pages/` and `coop/`: the session's connection and cache, filters, errors, wrappers.

`session` holds the one connection, the data version, the memo and the write lock; `filters` the sidebar;
`feedback` the one way errors are shown; `labels` and `charts` what pages name and draw; one module of cached
wrappers per page. Nothing here holds SQL: every figure comes from a `coop` function.
"""
