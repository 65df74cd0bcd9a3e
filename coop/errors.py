"""Errors coop raises; each carries a one-line reason a person can act on."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from collections.abc import Iterable
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
