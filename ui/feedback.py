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

from coop import errors
from coop.errors import CoopError, Problem, ValidationError, group_problems, row_ranges
from coop.report import render
from ui import labels

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


def grouped_frame(problems: Problems) -> pl.DataFrame:
    """One row per problem: rows sharing a column and reason once, with their rows as ranges and a count."""
    groups = group_problems(problems)
    return pl.DataFrame(
        {
            "severity": [g.severity for g in groups],
            "rows": [row_ranges(g.rows) for g in groups],
            "count": [len(g.rows) for g in groups],
            "column": [g.column for g in groups],
            "problem": [g.reason for g in groups],
        },
        schema={"severity": pl.String, "rows": pl.String, "count": pl.Int64, "column": pl.String, "problem": pl.String},
    )


def problems_csv(problems: Problems) -> bytes:
    """Row problems as CSV bytes (the columns of `problems_frame`) for download; no cell starts like a formula."""
    return render.csv_bytes(problems_frame(problems))


def problems_of(exc: CoopError) -> list[Problem]:
    """The row problems an error carries (none unless it is a ValidationError)."""
    return list(exc.problems) if isinstance(exc, ValidationError) else []


def show_problems(problems: Problems, source: str) -> None:
    """The problems of `source` (a file name) once each (rows as ranges), every row's in a table and a CSV download."""
    table = problems_frame(problems)
    grouped = grouped_frame(problems)
    st.markdown(f"**{grouped.height:,} problem(s) in {labels.md(source)}, {table.height:,} row problem(s) in all**")
    st.dataframe(grouped, hide_index=True, width="stretch", height=min(400, 38 + 35 * grouped.height))
    st.caption("One line per column and reason: the rows that share it (spreadsheet row numbers) and how many.")
    st.markdown("Every row's problem:")
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
    st.error(labels.md(for_web(str(exc))), icon=":material/error:")
    problems = problems_of(exc)
    if problems:
        show_problems(problems, source or problems[0].file or "the input")


class UnexpectedError(CoopError):
    """An error coop did not foresee, logged with its traceback; its message is one line for the user."""


def unforeseen(exc: Exception, doing: str = "this page could not finish") -> CoopError:
    """Any exception as a CoopError to show: a CoopError as it is, anything else logged and summed up in one line."""
    if isinstance(exc, CoopError):
        return exc
    return UnexpectedError(errors.unexpected(exc, doing))


@contextmanager
def shown() -> Iterator[None]:
    """Run a block, showing any error it raises (see `show`) instead of a traceback."""
    try:
        yield
    except Exception as exc:  # the app's boundary: never a traceback on a page
        show(unforeseen(exc))


def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call `fn`; on an error show it (see `show`) and stop the page."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the app's boundary: never a traceback on a page
        show(unforeseen(exc))
        st.stop()


def attempt(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | CoopError:
    """Call `fn` and return its result, or the error it raised as a CoopError (to `show` once the page is ready)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # the app's boundary: never a traceback on a page
        return unforeseen(exc)


def run_page(page: Callable[[], object]) -> None:
    """Run a page, showing any error it raises as one line (`st.error`) instead of a traceback."""
    with shown():
        page()
