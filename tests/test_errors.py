"""coop.errors: the typed row Problem, its one-line format and JSON shape, and ValidationError carrying them."""

from __future__ import annotations

import dataclasses
import json

import pytest

from coop.errors import ERROR, WARNING, CoopError, Problem, ValidationError, format_problem


def test_a_problem_formats_as_one_line_naming_file_row_column_and_reason():
    problem = Problem("lines.csv", 3, "Qty", "not a number: 'two'", ERROR)
    assert format_problem(problem) == "lines.csv row 3 column Qty: not a number: 'two'"
    assert format_problem(Problem("districts.csv", 1, "zip", "required column missing")) == (
        "districts.csv row 1 column zip: required column missing"
    )


def test_to_dict_keeps_the_json_shape_with_severity_only_when_given():
    warned = Problem("lines.csv", 4, "(line)", "duplicates row 2 of this file", WARNING)
    assert warned.to_dict() == {
        "file": "lines.csv",
        "row": 4,
        "column": "(line)",
        "reason": "duplicates row 2 of this file",
        "severity": "warning",
    }
    plain = Problem("bids.csv", 2, "bidder", "no bid rows")
    assert plain.to_dict() == {"file": "bids.csv", "row": 2, "column": "bidder", "reason": "no bid rows"}
    assert list(warned.to_dict()) == ["file", "row", "column", "reason", "severity"]
    assert json.loads(json.dumps(plain.to_dict())) == plain.to_dict()


def test_a_problem_is_a_frozen_value():
    problem = Problem("a.csv", 2, "Date", "required value is empty", ERROR)
    assert problem == Problem("a.csv", 2, "Date", "required value is empty", ERROR)
    assert len({problem, Problem("a.csv", 2, "Date", "required value is empty", ERROR)}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.row = 3  # type: ignore[misc]


def test_validation_error_holds_its_problems_as_a_list():
    problems = (Problem("a.csv", 2, "Qty", "quantity must be > 0, got -1", ERROR),)
    error = ValidationError("a.csv: 1 invalid cell(s)", problems)
    assert isinstance(error, CoopError) and str(error) == "a.csv: 1 invalid cell(s)"
    assert error.problems == list(problems)
    assert ValidationError("no rows").problems == []
