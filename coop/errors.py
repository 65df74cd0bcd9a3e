"""Errors coop raises; each carries a one-line reason a person can act on."""

from __future__ import annotations


class CoopError(Exception):
    """Base class for every error coop reports to a user."""


class DatabaseError(CoopError):
    """The database file cannot be opened, migrated or is locked."""


class InputFileError(CoopError):
    """An input file cannot be read at all (missing, empty, unknown format)."""


class ValidationError(CoopError):
    """One or more input rows are invalid; `problems` lists each as file/row/column/reason."""

    def __init__(self, message: str, problems: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class UnknownDistrictError(CoopError):
    """A district id that is not registered."""


class UnknownBatchError(CoopError):
    """A batch id that does not exist."""


class ModelError(CoopError):
    """An optimisation model is mis-specified or cannot be solved."""


class SpecError(CoopError):
    """A JSON/CSV specification (pool spec, bids, scenario) is malformed."""


def format_problem(problem: dict[str, object]) -> str:
    """One line naming file, row, column and reason: `FILE row N column C: reason`."""
    return f"{problem['file']} row {problem['row']} column {problem['column']}: {problem['reason']}"
