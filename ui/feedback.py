"""The one way the app shows an error: a `CoopError` as `st.error` in plain words, row problems as a table.

Pages never show a traceback: `call` stops the page after showing the error, `shown` lets the rest of the page
run, and `attempt` hands the error back so a page can show it later (the intake page keeps a load's outcome).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import polars as pl
import streamlit as st

from coop.errors import CoopError, Problem, ValidationError

P = ParamSpec("P")
T = TypeVar("T")
Problems = Sequence[Problem]
PROBLEM_COLUMNS = ("severity", "file", "row", "column", "reason")
# the library's reasons speak to the command line; a web user reads where the same step is in the app
_WEB_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"with `python -m coop districts[^`]*`", "on the 'Districts and meal counts' tab of Data intake"),
        (r"`python -m coop districts[^`]*`", "the 'Districts and meal counts' tab of Data intake"),
        (r"`python -m coop batches[^`]*`", "the 'Batches (undo)' tab of Data intake"),
        (r"`python -m coop vendors[^`]*`", "the 'Vendor registry' tab of Data intake"),
        (r"\(?run `python -m coop init`\)?", "(check the database path shown in the sidebar)"),
        (r"`python -m coop [^`]*`", "Data intake"),
        (r"--add-districts", "'Register districts the co-op does not know yet'"),
        (r"--skip-invalid", "'Load the valid rows and set the invalid ones aside'"),
        (r"--vendor-type", "the vendor type chosen"),
        (r"--vendor\b", "the distributor named"),
        (r"--district\b", "the district chosen"),
        (r"--map\b", "the column mapping"),
        (r"--header-row\b", "the header row"),
    )
)


def for_web(text: str) -> str:
    """A library message as a web user reads it: each command-line step named as the app's own place for it."""
    for pattern, words in _WEB_WORDS:
        text = pattern.sub(words, text)
    return text


def problems_frame(problems: Problems) -> pl.DataFrame:
    """Row problems as a table: severity (when given), file, row, column, reason."""
    if not problems:
        return pl.DataFrame(schema={"file": pl.String, "row": pl.Int64, "column": pl.String, "reason": pl.String})
    frame = pl.DataFrame([p.to_dict() for p in problems])
    if "reason" in frame.columns:
        frame = frame.with_columns(pl.col("reason").map_elements(for_web, return_dtype=pl.String))
    order = [c for c in PROBLEM_COLUMNS if c in frame.columns]
    return frame.select(order + [c for c in frame.columns if c not in order])


def problems_csv(problems: Problems) -> bytes:
    """Row problems as CSV bytes (the columns of `problems_frame`) for download."""
    return problems_frame(problems).write_csv().encode("utf-8")


def problems_of(exc: CoopError) -> list[Problem]:
    """The row problems an error carries (none unless it is a ValidationError)."""
    return list(exc.problems) if isinstance(exc, ValidationError) else []


def show_problems(problems: Problems, source: str) -> None:
    """Every row problem of `source` (a file name) as a table, with a CSV download."""
    table = problems_frame(problems)
    st.markdown(f"**{table.height:,} problem(s) in {source}**")
    st.dataframe(table, hide_index=True, width="stretch", height=min(400, 38 + 35 * table.height))
    st.caption(
        "Row = the row number a spreadsheet shows (header = row 1); column = the file's own header. "
        "Errors stop a strict load (nothing is loaded); warnings are loaded and flagged."
    )
    st.download_button(
        "Download the problems (CSV)",
        data=problems_csv(problems),
        file_name=f"{source}-problems.csv",
        mime="text/csv",
    )


def show(exc: CoopError, source: str | None = None) -> None:
    """Show a coop error as `st.error` with its reason, and each row problem it carries, never a traceback."""
    st.error(for_web(str(exc)), icon=":material/error:")
    problems = problems_of(exc)
    if problems:
        show_problems(problems, source or str(problems[0].get("file") or "the input"))


@contextmanager
def shown() -> Iterator[None]:
    """Run a block, showing any CoopError it raises (see `show`) instead of a traceback."""
    try:
        yield
    except CoopError as exc:
        show(exc)


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn`; on a CoopError show it (see `show`) and stop the page."""
    try:
        return fn(*args, **kwargs)
    except CoopError as exc:
        show(exc)
        st.stop()


def attempt(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | CoopError:
    """Call `fn` and return its result, or the CoopError it raised (to `show` once the page is ready)."""
    try:
        return fn(*args, **kwargs)
    except CoopError as exc:
        return exc
