"""Errors coop raises; each carries a one-line reason a person can act on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ERROR = "error"  # a problem that refuses its row
WARNING = "warning"  # a problem flagged on a row that is still loaded


@dataclass(frozen=True, slots=True)
class Problem:
    """One row problem: the file, the row as a spreadsheet shows it (header = row 1), the column and the reason."""

    file: str
    row: int
    column: str
    reason: str
    severity: str | None = None  # ERROR or WARNING where the source says which; None where it does not

    def to_dict(self) -> dict[str, object]:
        """The problem as the dict JSON outputs carry: file, row, column, reason (and severity when given)."""
        out: dict[str, object] = {"file": self.file, "row": self.row, "column": self.column, "reason": self.reason}
        if self.severity is not None:
            out["severity"] = self.severity
        return out


class CoopError(Exception):
    """Base class for every error coop reports to a user."""


class DatabaseError(CoopError):
    """The database file cannot be opened, migrated or is locked."""


class InputFileError(CoopError):
    """An input file cannot be read at all (missing, empty, unknown format)."""


class ValidationError(CoopError):
    """One or more input rows are invalid; `problems` lists each as a `Problem`."""

    def __init__(self, message: str, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class UnknownDistrictError(CoopError):
    """A district id that is not registered."""


class UnknownUserError(CoopError):
    """An email that is not in the users table."""


class UnknownBatchError(CoopError):
    """A batch id that does not exist."""


class ModelError(CoopError):
    """An optimisation model is mis-specified or cannot be solved."""


class SpecError(CoopError):
    """A JSON/CSV specification (pool spec, bids, scenario) is malformed."""


def format_problem(problem: Problem) -> str:
    """One line naming file, row, column and reason: `FILE row N column C: reason`."""
    return f"{problem.file} row {problem.row} column {problem.column}: {problem.reason}"
