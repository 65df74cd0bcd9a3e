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


def test_row_ranges_join_runs_and_stop_after_the_limit():
    from coop.errors import row_ranges

    assert row_ranges([2, 3, 4, 9, 11, 12]) == "2-4, 9, 11-12"
    assert row_ranges([*range(2, 9_999), 10_001]) == "2-9,998, 10,001"
    assert row_ranges(list(range(2, 40, 2)), limit=3) == "2, 4, 6, ..."


def test_rows_sharing_a_column_and_reason_are_one_group_with_their_rows_and_count():
    from coop.errors import group_problems

    problems = [Problem("f.csv", r, "Price", "unit_price must be >= 0, got -1", ERROR) for r in range(2, 9_999)]
    problems.append(Problem("f.csv", 10_001, "Price", "unit_price must be >= 0, got -1", ERROR))
    problems.append(Problem("f.csv", 5, "Qty", "not a number: 'x'", ERROR, "not a number: '...'", "'x'"))
    problems.append(Problem("f.csv", 7, "Qty", "not a number: 'y'", ERROR, "not a number: '...'", "'y'"))
    groups = group_problems(problems)
    assert [g.text() for g in groups] == [
        "f.csv rows 2-9,998, 10,001 (9,998 rows) column Price: unit_price must be >= 0, got -1",
        "f.csv rows 5, 7 (2 rows) column Qty: not a number: '...' (2 values: 'x', 'y')",
    ]
    assert groups[0].to_dict()["rows"] == 9_998 and groups[0].to_dict()["first_row"] == 2
    one = group_problems([Problem("f.csv", 3, "Qty", "not a number: 'x'", ERROR)])
    assert [g.text() for g in one] == [format_problem(Problem("f.csv", 3, "Qty", "not a number: 'x'"))]


def test_a_kind_holding_values_lists_every_name_once():
    from coop.errors import group_problems

    kind = "vendors not in the registry: {values}; register them"
    problems = [Problem("f.csv", r, "Vendor", f"vendor {v}", ERROR, kind, f"'{v}'") for r, v in enumerate("ABAB", 2)]
    (group,) = group_problems(problems)
    assert group.text() == "f.csv rows 2-5 (4 rows) column Vendor: vendors not in the registry: 'A', 'B'; register them"
