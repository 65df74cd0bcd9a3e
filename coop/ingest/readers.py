"""Reading district files (CSV, XLSX, Parquet) into string frames and mapping their headers to canonical columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from coop import names
from coop.errors import InputFileError, Problem
from coop.ingest.mapping import propose_mapping

CSV_DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
CHUNK_ROWS = 250_000  # rows per chunk when streaming a file through validation and loading

class EmptyFileError(InputFileError):
    """The file has no bytes or no header row."""


@dataclass(frozen=True)
class Table:
    """A file opened for streaming: its headers, kind, cell problems found while opening, and its chunks."""

    headers: tuple[str, ...]
    source_kind: str
    problems: tuple[Problem, ...]
    chunks: Callable[[], Iterator[pl.DataFrame]]

    def batches(self) -> Iterator[pl.DataFrame]:
        """The rows in chunks: source headers as text plus `source_row`, blank rows dropped."""
        return self.chunks()


@dataclass(frozen=True)
class RawTable:
    """A file read as strings: `frame` (source headers + `source_row`), cell problems, and its kind."""

    frame: pl.DataFrame
    problems: tuple[Problem, ...]
    source_kind: str


def _detect_encoding(head: bytes) -> str:
    """'utf-8' when the sample decodes as UTF-8 (BOM allowed), else 'cp1252'."""
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample boundary is still UTF-8
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8"


def _detect_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the header consistently with the following lines."""
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in CSV_DELIMITERS}
        return max(counts, key=lambda d: counts[d]) if max(counts.values()) > 0 else ","


def _csv_table(path: Path, chunk_rows: int) -> Table:
    """A CSV file (any of , ; tab |, BOM or not, UTF-8 or Windows-1252) streamed in chunks of strings."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise EmptyFileError(f"{path.name}: file is empty")
    encoding = _detect_encoding(head)
    delimiter = _detect_delimiter(head.decode(encoding, errors="replace").lstrip("\ufeff"))
    # UTF-8 is read straight from the file; other encodings are re-encoded in memory first
    source: Path | io.BytesIO = (
        path if encoding == "utf-8" else io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
    )
    try:
        lazy = pl.scan_csv(source, separator=delimiter, infer_schema=False, has_header=True)
        columns = lazy.collect_schema().names()
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError(f"{path.name}: file is empty") from exc
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(f"{path.name}: cannot parse as CSV: {str(exc).splitlines()[0]}") from exc
    headers = [c.lstrip("\ufeff").strip() for c in columns]
    lazy = lazy.rename(dict(zip(columns, headers, strict=True))).with_row_index(names.SOURCE_ROW, offset=2)

    def batches() -> Iterator[pl.DataFrame]:
        # Polars' streaming reader: bounded read-ahead (about 0.5 GB at 10M lines), batches of `chunk_rows`
        try:
            for batch in lazy.collect_batches(chunk_size=chunk_rows):
                yield _clean(batch)
        except pl.exceptions.PolarsError as exc:
            raise InputFileError(f"{path.name}: cannot parse as CSV: {str(exc).splitlines()[0]}") from exc

    return Table(tuple(headers), "csv", (), batches)


def _parquet_table(path: Path, chunk_rows: int) -> Table:
    """A Parquet file streamed in chunks with every column cast to text, first record = row 2."""
    try:
        lazy = pl.scan_parquet(path)
        headers = lazy.collect_schema().names()
    except Exception as exc:  # pyarrow/polars raise various types for a corrupt file
        raise InputFileError(f"{path.name}: cannot read as Parquet: {exc}") from exc
    lazy = lazy.with_columns(pl.all().cast(pl.String)).with_row_index(names.SOURCE_ROW, offset=2)

    def batches() -> Iterator[pl.DataFrame]:
        for batch in lazy.collect_batches(chunk_size=chunk_rows):
            yield _clean(batch)

    return Table(tuple(headers), "parquet", (), batches)


def _frame_table(frame: pl.DataFrame, kind: str, problems: tuple[Problem, ...], chunk_rows: int) -> Table:
    """An in-memory frame (with `source_row`) served in chunks."""
    headers = tuple(c for c in frame.columns if c != names.SOURCE_ROW)

    def batches() -> Iterator[pl.DataFrame]:
        for offset in range(0, max(frame.height, 1), chunk_rows):
            yield frame.slice(offset, chunk_rows)

    return Table(headers, kind, problems, batches)


def _clean(frame: pl.DataFrame) -> pl.DataFrame:
    """Text stripped with empty cells as null, `source_row` as Int64, empty rows dropped (every reader's chunks)."""
    text = pl.col(pl.String)
    # two steps: in one expression Polars strips every cell twice (half the reading's CPU time)
    frame = frame.with_columns(text.str.strip_chars()).with_columns(
        pl.when(text == "").then(None).otherwise(text).name.keep()
    )
    frame = frame.select(pl.exclude(names.SOURCE_ROW), pl.col(names.SOURCE_ROW).cast(pl.Int64))
    data_cols = [c for c in frame.columns if c != names.SOURCE_ROW]
    if data_cols:
        frame = frame.filter(~pl.all_horizontal(pl.col(data_cols).is_null()))
    return frame


def _collect(table: Table) -> RawTable:
    """A streamed table read whole into one frame."""
    parts = list(table.batches())
    frame = pl.concat(parts, how="vertical") if parts else pl.DataFrame()
    if not parts or frame.width == 0:
        schema = {h: pl.String for h in table.headers} | {names.SOURCE_ROW: pl.Int64}
        frame = pl.DataFrame(schema=schema)
    return RawTable(frame, table.problems, table.source_kind)


def read_csv(path: Path) -> RawTable:
    """A CSV file (any of , ; tab |, BOM or not, UTF-8 or Windows-1252) as strings plus `source_row`."""
    return _collect(_csv_table(path, CHUNK_ROWS))


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell value as text: whole floats without '.0', dates as ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """The first (or named) sheet of an XLSX as strings; a formula without a cached value is a cell problem."""
    import openpyxl  # heavy import, only needed for Excel files

    try:
        values_wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise InputFileError(f"{path.name}: cannot open as XLSX: {exc}") from exc
    try:
        if sheet is not None and sheet not in values_wb.sheetnames:
            raise InputFileError(f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(values_wb.sheetnames)})")
        name = sheet or values_wb.sheetnames[0]
        value_rows = values_wb[name].iter_rows(values_only=True)
        formula_rows = formulas_wb[name].iter_rows(values_only=True)
        header: list[str] | None = None
        columns: list[list[str | None]] = []
        row_numbers: list[int] = []
        problems: list[Problem] = []
        for number, (values, formulas) in enumerate(zip(value_rows, formula_rows, strict=False), start=1):
            if header is None:
                if all(v is None or str(v).strip() == "" for v in values):
                    continue
                header = [str(v).strip() if v is not None else f"column_{i + 1}" for i, v in enumerate(values)]
                columns = [[] for _ in header]
                continue
            texts = [_cell_text(values[i]) if i < len(values) else None for i in range(len(header))]
            for i, text in enumerate(texts):
                formula = formulas[i] if i < len(formulas) else None
                if text is None and isinstance(formula, str) and formula.startswith("="):
                    reason = f"formula {formula} has no cached value (open and save the file in Excel)"
                    problems.append(Problem(path.name, number, header[i], reason))
                columns[i].append(text)
            row_numbers.append(number)
    finally:
        values_wb.close()
        formulas_wb.close()
    if header is None:
        raise EmptyFileError(f"{path.name}: sheet {name!r} is empty")
    frame = pl.DataFrame({h: pl.Series(h, col, dtype=pl.String) for h, col in zip(header, columns, strict=True)})
    frame = _clean(frame.with_columns(pl.Series(names.SOURCE_ROW, row_numbers, dtype=pl.Int64)))
    return RawTable(frame, tuple(problems), "xlsx")


def read_parquet(path: Path) -> RawTable:
    """A Parquet file with every column cast to text, plus `source_row` (first record = row 2)."""
    return _collect(_parquet_table(path, CHUNK_ROWS))


def open_table(path: str | Path, sheet: str | None = None, chunk_rows: int | None = None) -> Table:
    """A file opened for streaming by its suffix: headers now, chunks of rows on demand."""
    path = Path(path)
    chunk_rows = chunk_rows or CHUNK_ROWS
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        raw = read_xlsx(path, sheet)
        return _frame_table(raw.frame, raw.source_kind, raw.problems, chunk_rows)
    if suffix in PARQUET_SUFFIXES:
        return _parquet_table(path, chunk_rows)
    if suffix in CSV_SUFFIXES:
        return _csv_table(path, chunk_rows)
    raise InputFileError(f"{path.name}: unknown file type {suffix!r} (use CSV, XLSX or Parquet)")


def preview(path: str | Path, sheet: str | None = None, rows: int = 20) -> tuple[dict[str, str | None], pl.DataFrame]:
    """For an intake page: the proposed header mapping and the file's first rows (as text, with `source_row`)."""
    table = open_table(path, sheet, chunk_rows=max(rows, 1))
    first = next(iter(table.batches()), None)
    head = first.head(rows) if first is not None else pl.DataFrame(schema=dict.fromkeys(table.headers, pl.String))
    return propose_mapping(list(table.headers)), head


def read_file(path: str | Path, sheet: str | None = None) -> RawTable:
    """Read any supported file whole by its suffix; InputFileError when missing or of unknown format."""
    return _collect(open_table(path, sheet))
