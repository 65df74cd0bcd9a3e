"""The products wing's vocabulary: the CSV term tables under `coop/products/terms/`, read and checked once."""

from __future__ import annotations

import csv
import datetime
import functools
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final, TypeVar

from coop.errors import SpecError

T = TypeVar("T")

SOURCES: Final = "sources.csv"  # one row per terms file: where its terms come from, and as of when
LIST_SEPARATOR: Final = ";"  # a cell holding several values ("@meats; fish; shrimp")


@dataclass(frozen=True)
class Row:
    """One record of a terms file: its values by column, and where it is (file, row as a spreadsheet shows it)."""

    file: str
    line: int
    values: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        """The value in a column."""
        return self.values[column]

    def error(self, column: str, reason: str) -> SpecError:
        """A SpecError naming this row's file, row and column."""
        return SpecError(f"{self.file} row {self.line} column {column}: {reason}")

    def choice(self, column: str, allowed: Mapping[str, T]) -> T:
        """The value of a column looked up in `allowed`; a named SpecError when it is not one of its keys."""
        value = self.values[column]
        if value not in allowed:
            raise self.error(column, f"{value!r} is not one of {', '.join(allowed)}")
        return allowed[value]

    def items(self, column: str) -> tuple[str, ...]:
        """The values of a list cell, split on ';' and stripped; () when the cell is empty."""
        value = self.values[column]
        return tuple(v.strip() for v in value.split(LIST_SEPARATOR)) if value else ()


@dataclass(frozen=True)
class Layout:
    """The shape of one terms file: its header, the columns that identify a row, the columns that may be empty."""

    columns: tuple[str, ...]
    key: tuple[str, ...]
    optional: frozenset[str] = frozenset()


_KEYWORDS: Final = Layout(("keyword", "product"), ("keyword",))
# every terms file and its shape; terms/README.md says what each holds
LAYOUTS: Final[dict[str, Layout]] = {
    SOURCES: Layout(("file", "source", "as_of"), ("file",)),
    "fruits.csv": _KEYWORDS,
    "vegetables.csv": _KEYWORDS,
    "proteins.csv": _KEYWORDS,
    "cuts.csv": _KEYWORDS,
    "grains.csv": _KEYWORDS,
    "products.csv": Layout(
        ("keyword", "product", "category", "nature", "rank", "head_only", "why", "source"), ("keyword",)
    ),
    "nonfood.csv": Layout(("keyword", "product", "names_line"), ("keyword",)),
    "product_groups.csv": Layout(("group", "product"), ("group", "product")),
    "markers.csv": Layout(
        ("word", "effect", "why", "source", "only", "unless"), ("word", "only", "unless"), frozenset({"only", "unless"})
    ),
    "neutral_phrases.csv": Layout(("phrase",), ("phrase",)),
    "abbreviations.csv": Layout(("abbreviation", "expansion"), ("abbreviation",)),
    "skip_words.csv": Layout(("word",), ("word",)),
    "variety_words.csv": Layout(("word",), ("word",)),
    "unit_aliases.csv": Layout(("spelling", "unit", "note"), ("spelling",), frozenset({"note"})),
    "counted_containers.csv": Layout(("word",), ("word",)),
    "container_units.csv": Layout(("word",), ("word",)),
    "evidence.csv": Layout(("token", "where", "evidence", "why", "source"), ("token", "where")),
    "pack_shapes.csv": Layout(
        ("shape", "unit", "count_min", "count_max", "size_min", "size_max", "only", "why", "source"),
        ("shape", "unit"),
        frozenset({"count_min", "count_max", "size_min", "size_max"}),
    ),
    "stated_states.csv": Layout(("word",), ("word",)),
}


def terms_dir() -> Traversable:
    """The directory of terms files, found through the package (whatever the working directory)."""
    return resources.files("coop.products") / "terms"


def read_table(path: Traversable | Path, layout: Layout) -> tuple[Row, ...]:
    """The rows of one terms file, checked: the exact header, a value in every non-optional cell, unique keys."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{name}: terms file not found") from None
    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, None)
    if header is None or tuple(header) != layout.columns:
        raise SpecError(f"{name} row 1: header is {header!r}, expected {list(layout.columns)!r}")
    seen: dict[tuple[str, ...], int] = {}
    rows: list[Row] = []
    for line, record in enumerate(records, start=2):
        if not record:
            continue  # a blank line
        if len(record) != len(layout.columns):
            expected = f"{len(layout.columns)} ({', '.join(layout.columns)})"
            raise SpecError(f"{name} row {line}: {len(record)} values, expected {expected}")
        row = Row(name, line, dict(zip(layout.columns, record, strict=True)))
        for column, value in row.values.items():
            if value != value.strip():
                raise row.error(column, f"{value!r} has spaces around it")
            if not value and column not in layout.optional:
                raise row.error(column, "empty")
        ident = tuple(row[c] for c in layout.key)
        if ident in seen:
            shown = " / ".join(v for v in ident if v)
            raise row.error(layout.key[0], f"{shown!r} is already on row {seen[ident]}")
        seen[ident] = line
        rows.append(row)
    return tuple(rows)


@functools.cache
def table(name: str) -> tuple[Row, ...]:
    """The checked rows of the terms file `name` (one of LAYOUTS), read once per process."""
    return read_table(terms_dir() / name, LAYOUTS[name])


@functools.cache
def sources() -> dict[str, Row]:
    """Each terms file's source and as-of date (ISO), by file name, from `terms/sources.csv`."""
    out: dict[str, Row] = {}
    for row in table(SOURCES):
        if row["file"] not in LAYOUTS or row["file"] == SOURCES:
            raise row.error("file", f"{row['file']!r} is not a terms file")
        try:
            datetime.date.fromisoformat(row["as_of"])
        except ValueError:
            raise row.error("as_of", f"{row['as_of']!r} is not a date (YYYY-MM-DD)") from None
        out[row["file"]] = row
    return out
