"""ui.feedback (issue 18): the app's one error path; CSV downloads hold no formula; the unforeseen is logged."""

from __future__ import annotations

import csv
import io

from coop import errors
from coop.errors import ERROR, Problem
from ui import feedback


def test_the_problems_csv_holds_no_formula():
    problems = [
        Problem('=HYPERLINK("http://x")', 2, "=Qty", "not a number: '=1+1'", ERROR),
        Problem("lines.csv", 3, "@Vendor", "+cmd", ERROR),
        Problem("lines.csv", 4, "\tPrice", "-1", ERROR),
    ]
    rows = list(csv.reader(io.StringIO(feedback.problems_csv(problems).decode("utf-8"))))
    assert rows[0] == ["severity", "file", "row", "column", "reason"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows[1][1:4] == ['\'=HYPERLINK("http://x")', "2", "'=Qty"]


def test_an_unforeseen_error_becomes_one_line_and_is_logged(tmp_path, monkeypatch):
    log = tmp_path / "coop.log"
    monkeypatch.setenv(errors.LOG_ENV_VAR, str(log))
    try:
        {}["missing"]
    except KeyError as exc:
        shown = feedback.unforeseen(exc, "loading x.csv")
    assert isinstance(shown, errors.CoopError)
    assert str(shown) == f"loading x.csv: KeyError: 'missing' (details logged to {log})"
    assert "Traceback (most recent call last)" in log.read_text(encoding="utf-8")


def test_attempt_hands_back_any_error_as_a_coop_error(tmp_path, monkeypatch):
    monkeypatch.setenv(errors.LOG_ENV_VAR, str(tmp_path / "coop.log"))

    def broken() -> None:
        raise IsADirectoryError(21, "Is a directory", "x.csv")

    outcome = feedback.attempt(broken)
    assert isinstance(outcome, errors.CoopError)
    assert str(outcome).startswith("this page could not finish: Is a directory (x.csv)")
