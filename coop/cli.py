"""The `python -m coop` command line: one subcommand per operation, text or --json output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from coop import db, districts
from coop.errors import CoopError, ValidationError, format_problem

Handler = Callable[[argparse.Namespace, duckdb.DuckDBPyConnection], Any]


def _default(value: object) -> object:
    """JSON encoder for values DuckDB and Polars hand back."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit(result: Any, as_json: bool) -> None:
    """Print a command's result: JSON alone on stdout, or a readable text form."""
    if as_json:
        sys.stdout.write(json.dumps(result, default=_default) + "\n")
    elif isinstance(result, str):
        print(result)
    else:
        print(json.dumps(result, default=_default, indent=2))


# --- handlers --------------------------------------------------------------------
def _init(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Create or migrate the database."""
    return {"db": str(db.resolve_path(args.db)), "schema_version": db.schema_version(con)}


def _districts(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert districts from a CSV file."""
    return {"districts_upserted": districts.upsert_from_csv(con, args.file)}


# --- parser ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand; each subcommand's handler is `func`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None, help="database file (default $COOP_DB or data/coop.duckdb)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    parser = argparse.ArgumentParser(prog="python -m coop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=handler)
        return p

    add("init", _init, "create or migrate the database")
    p = add("districts", _districts, "upsert districts from a CSV file")
    p.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors go to stderr as one line with a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        con = db.connect(args.db, on_wait=lambda msg: print(msg, file=sys.stderr))
        try:
            result = args.func(args, con)
        finally:
            con.close()
    except ValidationError as exc:
        for problem in exc.problems:
            print(format_problem(problem), file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except CoopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    emit(result, args.json)
    return 0
