"""Errors coop raises; each carries a one-line reason a person can act on."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

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
    kind: str | None = None  # the reason without this row's own values; rows of one column and kind are one problem
    value: str | None = None  # this row's own value in the reason (listed once in the grouped message)

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


class AccessDeniedError(CoopError):
    """A user asking for what its role may not see or change (another member's district, a coordinator's page)."""


class UnknownBatchError(CoopError):
    """A batch id that does not exist."""


class ModelError(CoopError):
    """An optimisation model is mis-specified or cannot be solved."""


class SpecError(CoopError):
    """A JSON/CSV specification (pool spec, bids, scenario) is malformed."""


def format_problem(problem: Problem) -> str:
    """One line naming file, row, column and reason: `FILE row N column C: reason`."""
    return f"{problem.file} row {problem.row} column {problem.column}: {problem.reason}"


LOG_ENV_VAR = "COOP_LOG"  # where unexpected errors are logged with their traceback (default: the temp folder)
_LOGGER = "coop.unexpected"


def log_path() -> Path:
    """The file unexpected errors are logged to: $COOP_LOG, else `coop-errors.log` in the temp folder."""
    env = os.environ.get(LOG_ENV_VAR)
    return Path(env) if env else Path(tempfile.gettempdir()) / "coop-errors.log"


def _logger() -> logging.Logger:
    """The logger of unexpected errors, writing to `log_path()` only (never to the user's terminal)."""
    logger = logging.getLogger(_LOGGER)
    logger.propagate = False
    target = str(log_path())
    if not any(isinstance(h, logging.FileHandler) and h.baseFilename == target for h in logger.handlers):
        for old in list(logger.handlers):
            logger.removeHandler(old)
            old.close()
        try:
            handler: logging.Handler = logging.FileHandler(target, encoding="utf-8", delay=True)
        except OSError:
            handler = logging.NullHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    return logger


def describe(exc: BaseException) -> str:
    """An exception in one line: what the operating system or the library said, without the traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        errno_name = {errno.ENOSPC: "disk full", errno.EFBIG: "file too large", errno.EDQUOT: "disk quota exceeded"}
        what = errno_name.get(exc.errno or 0, exc.strerror)
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{what}{where}"
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def unexpected(exc: BaseException, doing: str) -> str:
    """Log an error coop did not foresee (with its traceback) and return one line for the user naming `doing`."""
    with contextlib.suppress(Exception):  # a log that cannot be written must not hide the error itself
        _logger().error("%s", doing, exc_info=(type(exc), exc, exc.__traceback__))
    return f"{doing}: {describe(exc)} (details logged to {log_path()})"


GROUP_RANGES = 8  # row ranges a grouped message lists before "..." (every row is in the per-row list)
GROUP_VALUES = 5  # distinct values a grouped message lists before "and N more"
GROUP_NAMES = 20  # names a kind holding {values} lists (e.g. the vendors the registry lacks)
VALUES = "{values}"  # where a problem kind wants its rows' distinct values listed


@dataclass(frozen=True, slots=True)
class ProblemGroup:
    """Rows of one file sharing a column and a reason: one message with their rows as ranges and a count."""

    file: str
    column: str
    reason: str
    severity: str | None
    rows: tuple[int, ...]  # sorted, distinct

    def text(self) -> str:
        """`FILE rows 2-9,998, 10,001 (10,000 rows) column C: reason` (`FILE row N column C: reason` for one row)."""
        if len(self.rows) == 1:
            where = f"row {self.rows[0]}"
        else:
            where = f"rows {row_ranges(self.rows)} ({len(self.rows):,} rows)"
        return f"{self.file} {where} column {self.column}: {self.reason}"

    def to_dict(self) -> dict[str, object]:
        """The group as JSON: file, column, reason, severity, rows (count), first_row and the message."""
        return {
            "file": self.file,
            "column": self.column,
            "reason": self.reason,
            "severity": self.severity,
            "rows": len(self.rows),
            "first_row": self.rows[0],
            "message": self.text(),
        }


def row_ranges(rows: Sequence[int], limit: int = GROUP_RANGES) -> str:
    """Sorted row numbers as ranges: [2, 3, 4, 9] -> '2-4, 9'; more than `limit` ranges end in ', ...'."""
    ranges: list[tuple[int, int]] = []
    for row in rows:
        if ranges and row <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(row, ranges[-1][1]))
        else:
            ranges.append((row, row))
    parts = [f"{a:,}" if a == b else f"{a:,}-{b:,}" for a, b in ranges[:limit]]
    return ", ".join(parts) + (", ..." if len(ranges) > limit else "")


def _group_reason(kind: str, reasons: list[str], values: list[str]) -> str:
    """One reason for a group: the rows' own when they all read the same, else the kind with the values listed.

    A kind holding `{values}` always lists them there (e.g. the vendors a file names that the registry lacks).
    """
    distinct = list(dict.fromkeys(values))
    if VALUES in kind:
        more = f" and {len(distinct) - GROUP_NAMES:,} more" if len(distinct) > GROUP_NAMES else ""
        return kind.replace(VALUES, ", ".join(distinct[:GROUP_NAMES]) + more)
    shown = ", ".join(distinct[:GROUP_VALUES])
    more = f" and {len(distinct) - GROUP_VALUES:,} more" if len(distinct) > GROUP_VALUES else ""
    if len(set(reasons)) == 1:
        return reasons[0]
    return f"{kind} ({len(distinct):,} values: {shown}{more})" if distinct else kind


def group_problems(problems: Iterable[Problem]) -> list[ProblemGroup]:
    """Problems grouped by file, column, kind (else reason) and severity, in the order each group first appears."""
    groups: dict[tuple[str, str, str, str | None], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.file, p.column, p.kind or p.reason, p.severity), []).append(p)
    out = [
        ProblemGroup(
            file,
            column,
            _group_reason(kind, [p.reason for p in members], [p.value for p in members if p.value is not None]),
            severity,
            tuple(sorted({p.row for p in members})),
        )
        for (file, column, kind, severity), members in groups.items()
    ]
    return out
