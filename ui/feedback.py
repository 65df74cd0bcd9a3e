"""The one way the app shows an error: a `CoopError` as `st.error` in plain words, row problems as a table.

Pages never show a traceback: `call` stops the page after showing the error, `shown` lets the rest of the page
run, and `attempt` hands the error back so a page can show it later (the intake page keeps a load's outcome).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

import polars as pl
import streamlit as st

from coop.errors import CoopError, Problem, ValidationError, group_problems, row_ranges

P = ParamSpec("P")
T = TypeVar("T")
Problems = Sequence[Problem]
PROBLEM_COLUMNS = ("severity", "file", "row", "column", "reason")


def problems_frame(problems: Problems) -> pl.DataFrame:
    """Row problems as a table: severity (when given), file, row, column, reason."""
    if not problems:
        return pl.DataFrame(schema={"file": pl.String, "row": pl.Int64, "column": pl.String, "reason": pl.String})
    frame = pl.DataFrame([p.to_dict() for p in problems])
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
    """Row problems as CSV bytes (the columns of `problems_frame`) for download."""
    return problems_frame(problems).write_csv().encode("utf-8")


def problems_of(exc: CoopError) -> list[Problem]:
    """The row problems an error carries (none unless it is a ValidationError)."""
    return list(exc.problems) if isinstance(exc, ValidationError) else []


def show_problems(problems: Problems, source: str) -> None:
    """The problems of `source` (a file name) once each (rows as ranges), every row's in a table and a CSV download."""
    table = problems_frame(problems)
    grouped = grouped_frame(problems)
    st.markdown(f"**{grouped.height:,} problem(s) in {source}, {table.height:,} row problem(s) in all**")
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
    st.error(str(exc), icon=":material/error:")
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
