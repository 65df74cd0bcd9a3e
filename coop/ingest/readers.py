"""Reading district files (CSV, XLSX, Parquet) into string frames and mapping their headers to canonical columns."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
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
HEADER_SEARCH_ROWS = 20  # the header row is looked for among this many first rows
HEADER_LOOKAHEAD = 5  # rows below a candidate header row it must be at least as wide as


class EmptyFileError(InputFileError):
    """The file has no bytes or no header row."""


@dataclass(frozen=True)
class Table:
    """A file opened for streaming: its headers, kind, cell problems found while opening, and its chunks."""

    headers: tuple[str, ...]
    source_kind: str
    problems: tuple[Problem, ...]
    chunks: Callable[[], Iterator[pl.DataFrame]]
    header_row: int = 1  # the header's row number, as a spreadsheet shows it

    def batches(self) -> Iterator[pl.DataFrame]:
        """The rows in chunks: source headers as text plus `source_row`, blank rows dropped."""
        return self.chunks()


@dataclass(frozen=True)
class RawTable:
    """A file read as strings: `frame` (source headers + `source_row`), cell problems, and its kind."""

    frame: pl.DataFrame
    problems: tuple[Problem, ...]
    source_kind: str
    header_row: int = 1  # the header's row number, as a spreadsheet shows it


# the first bytes of files that are not text, and what they are (a file renamed .csv is refused by what it is)
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one: give it the .xlsx suffix)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel .xls workbook (save it as .xlsx or CSV)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"PAR1", "a Parquet file (give it the .parquet suffix)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_BINARY_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])  # control bytes text does not hold
_BINARY_PERCENT = 5  # more than this share of them, with a NUL among them: binary data (random bytes: about 11%)
_CP1252_GAPS = "cp1252-gaps"  # a codec error handler: the five bytes cp1252 leaves undefined read as Latin-1
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell; a longer cell is refused by row and column
_FIELD_LIMIT = 2**31 - 1  # Python's csv module reads fields as long as DuckDB and Polars do (its default: 128 KiB)


def _latin1_gap(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) as Latin-1, as Windows does."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error(_CP1252_GAPS, _latin1_gap)
csv.field_size_limit(_FIELD_LIMIT)


def binary_kind(head: bytes) -> str | None:
    """What a file is when its first bytes say it is not text (a PNG, a ZIP, ...); None for text."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    if any(head.startswith(bom) for bom, _ in _BOMS) or b"\x00" not in head:
        return None
    found = charset_normalizer.from_bytes(head[:4096]).best()
    if found is not None and found.encoding.startswith(("utf_16", "utf_32")):
        return None  # UTF-16 text without its byte-order mark
    controls = sum(head.count(bytes([b])) for b in _BINARY_BYTES)
    if controls * 100 <= len(head) * _BINARY_PERCENT:
        return None  # text with a stray NUL: the cell holding it is refused by row and column
    return "binary data, not text"


def _detect_encoding(head: bytes) -> str:
    """The text encoding of a file's first bytes: a byte-order mark's (UTF-8, UTF-16, UTF-32), UTF-8, else cp1252.

    UTF-16 without a byte-order mark is recognised by `charset_normalizer`; cp1252 (Windows' Western encoding, a
    superset of Latin-1's printable characters) reads every other byte, its five undefined bytes as Latin-1.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding
    if b"\x00" in head:
        found = charset_normalizer.from_bytes(head[:4096]).best()
        if found is not None and found.encoding.startswith(("utf_16", "utf_32")):
            return found.encoding.replace("_", "-")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the sample boundary is still UTF-8
        if exc.start < len(head) - 4:
            return "cp1252"
    return "utf-8"


def _decode(data: bytes, encoding: str) -> str:
    """Bytes as text in `encoding` (cp1252's undefined bytes as Latin-1, so any byte decodes)."""
    return data.decode(encoding, errors=_CP1252_GAPS if encoding == "cp1252" else "strict")


def _only_cr(head: bytes) -> bool:
    """True when the text ends its lines with a lone CR (old Mac files), which CSV readers see as one line."""
    return b"\r" in head and b"\n" not in head


def check_file(path: Path) -> None:
    """Refuse what cannot be read as a file at all: a folder, an unreadable file."""
    if path.is_dir():
        raise InputFileError(f"{path.name}: is a folder, not a file")
    if not path.is_file():
        raise InputFileError(f"{path.name}: not a regular file")
    try:
        with path.open("rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputFileError(f"{path.name}: cannot read the file: {exc.strerror or exc}") from exc


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


def find_header_row(rows: list[list[str | None]]) -> int | None:
    """0-based index of the header among the first rows, or None when no row looks like one.

    A header row's non-empty cells are mostly recognised headers (at least two) and it is at least as wide as
    the rows below it; failing the width, the first row of mostly recognised headers.
    """
    widths = [sum(1 for c in row if c is not None and str(c).strip()) for row in rows]
    candidates: list[int] = []
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        mapped = propose_mapping(cells)
        known = sum(1 for canonical in mapped.values() if canonical is not None)
        if known < 2 or 2 * known < len(mapped):
            continue
        if all(widths[i] >= w for w in widths[i + 1 : i + 1 + HEADER_LOOKAHEAD]):
            return i
        candidates.append(i)
    return candidates[0] if candidates else None


def _choose_header(rows: list[list[str | None]], header_row: int | None, file_name: str, complete: bool) -> int:
    """0-based index of the header row: `header_row` (1-based) when given, else found, else the first non-blank."""
    blank = [not any(c is not None and str(c).strip() for c in row) for row in rows]
    if header_row is not None:
        if header_row < 1:
            raise InputFileError(f"{file_name}: header row {header_row}: rows are numbered from 1")
        if header_row <= len(rows) and blank[header_row - 1]:
            raise InputFileError(f"{file_name}: row {header_row} is blank, not a header row")
        if header_row > len(rows) and complete:
            raise InputFileError(f"{file_name}: no row {header_row} (the file has {len(rows)} rows)")
        return header_row - 1
    found = find_header_row(rows)
    if found is not None:
        return found
    return next((i for i, b in enumerate(blank) if not b), 0)


def _csv_rows(text: str, delimiter: str, limit: int) -> list[list[str | None]]:
    """The first `limit` CSV rows of a text sample (a blank line is an empty row)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str | None]] = []
    try:
        for row in itertools.islice(reader, limit):
            rows.append(list(row))
    except csv.Error:
        pass  # a row cut by the sample's end, or a quote left open: the rows before it are enough
    return rows


def _csv_layout(text: str, header_row: int | None, file_name: str, complete: bool) -> tuple[str, int, int]:
    """(delimiter, 0-based header row, Polars' skip_rows) of a CSV sample; a delimiter finding the header wins."""
    sniffed = _detect_delimiter(text)
    limit = max(HEADER_SEARCH_ROWS + HEADER_LOOKAHEAD, header_row or 0)
    delimiter = sniffed
    if header_row is None:
        for d in (sniffed, *(d for d in CSV_DELIMITERS if d != sniffed)):
            if find_header_row(_csv_rows(text, d, limit)) is not None:
                delimiter = d
                break
    rows = _csv_rows(text, delimiter, limit)
    index = _choose_header(rows, header_row, file_name, complete)
    # Polars drops the empty lines a file starts with before it counts the rows to skip
    leading = next((i for i, row in enumerate(rows) if row), len(rows))
    return delimiter, index, max(index - leading, 0)


def _csv_table(path: Path, chunk_rows: int, header_row: int | None = None) -> Table:
    """A CSV file (any of , ; tab |, BOM or not, UTF-8 or Windows-1252) streamed in chunks of strings."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise EmptyFileError(f"{path.name}: file is empty")
    kind = binary_kind(head)
    if kind is not None:
        raise InputFileError(f"{path.name}: not a CSV text file: it is {kind}")
    encoding = _detect_encoding(head)
    crs = _only_cr(head)
    text = head.decode(encoding, errors=_CP1252_GAPS if encoding == "cp1252" else "replace").lstrip("\ufeff")
    if crs:
        text = text.replace("\r", "\n")
    delimiter, index, skip = _csv_layout(text, header_row, path.name, complete=len(head) < SNIFF_BYTES)
    # UTF-8 with LF or CRLF line ends is read straight from the file; anything else is re-encoded in memory first
    source: Path | io.BytesIO = path
    if encoding not in ("utf-8", "utf-8-sig") or crs:
        try:
            whole = _decode(path.read_bytes(), encoding).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path.name}: not valid {encoding} text at byte {exc.start}: {exc.reason}") from exc
        source = io.BytesIO((whole.replace("\r", "\n") if crs else whole).encode("utf-8"))
    try:
        lazy = pl.scan_csv(source, separator=delimiter, infer_schema=False, has_header=True, skip_rows=skip)
        columns = lazy.collect_schema().names()
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError(f"{path.name}: file is empty") from exc
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(f"{path.name}: cannot parse as CSV: {str(exc).splitlines()[0]}") from exc
    headers = [c.lstrip("\ufeff").strip() for c in columns]
    lazy = lazy.rename(dict(zip(columns, headers, strict=True))).with_row_index(names.SOURCE_ROW, offset=index + 2)

    def batches() -> Iterator[pl.DataFrame]:
        # Polars' streaming reader: bounded read-ahead (about 0.5 GB at 10M lines), batches of `chunk_rows`
        try:
            for batch in lazy.collect_batches(chunk_size=chunk_rows):
                yield _clean(batch)
        except pl.exceptions.PolarsError as exc:
            raise InputFileError(f"{path.name}: cannot parse as CSV: {str(exc).splitlines()[0]}") from exc

    return Table(tuple(headers), "csv", (), batches, index + 1)


def _parquet_table(path: Path, chunk_rows: int) -> Table:
    """A Parquet file streamed in chunks with every column cast to text, first record = row 2.

    A column of nested values (lists, structs, arrays, maps) is refused by name: a cell holds one value.
    """
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head.startswith(b"PAR1"):
        kind = binary_kind(head) or "text, not Parquet"
        raise InputFileError(f"{path.name}: not a Parquet file: it is {kind}")
    try:
        lazy = pl.scan_parquet(path)
        schema = lazy.collect_schema()
    except Exception as exc:  # pyarrow/polars raise various types for a corrupt file
        raise InputFileError(f"{path.name}: cannot read as Parquet: {_first_line(exc)}") from exc
    nested = [name for name, dtype in schema.items() if dtype.is_nested() or dtype == pl.Object]
    if nested:
        raise InputFileError(
            f"{path.name}: column(s) {', '.join(repr(n) for n in nested)} hold nested values (lists or structs); "
            "a purchase line holds one value per cell"
        )
    headers = schema.names()
    lazy = lazy.with_columns(pl.all().cast(pl.String)).with_row_index(names.SOURCE_ROW, offset=2)

    def batches() -> Iterator[pl.DataFrame]:
        try:
            for batch in lazy.collect_batches(chunk_size=chunk_rows):
                yield _clean(batch)
        except pl.exceptions.PolarsError as exc:  # a damaged data page, a value that is not text
            raise InputFileError(f"{path.name}: cannot read as Parquet: {_first_line(exc)}") from exc

    return Table(tuple(headers), "parquet", (), batches)


def _first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text."""
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def _frame_table(raw: RawTable, chunk_rows: int) -> Table:
    """An in-memory table (with `source_row`) served in chunks."""
    frame = raw.frame
    headers = tuple(c for c in frame.columns if c != names.SOURCE_ROW)

    def batches() -> Iterator[pl.DataFrame]:
        for offset in range(0, max(frame.height, 1), chunk_rows):
            yield frame.slice(offset, chunk_rows)

    return Table(headers, raw.source_kind, raw.problems, batches, raw.header_row)


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
    return RawTable(frame, table.problems, table.source_kind, table.header_row)


def read_csv(path: Path, header_row: int | None = None) -> RawTable:
    """A CSV file (any of , ; tab |, BOM or not, UTF-8 or Windows-1252) as strings plus `source_row`."""
    return _collect(_csv_table(path, CHUNK_ROWS, header_row))


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


MAX_ARCHIVE_BYTES = 2 * 1024**3  # an XLSX's declared uncompressed size: at most 2 GiB in all
MAX_MEMBER_RATIO = 200  # and no part over 16 MiB compressed more than 200:1 (sheets compress ~5-30:1; bombs ~1000:1)
_RATIO_FLOOR = 16 * 1024**2


def check_archive(path: Path) -> None:
    """Refuse an XLSX (a ZIP archive) that is not one, or whose declared sizes are out of proportion (a zip bomb).

    Only the archive's directory is read: nothing is decompressed. Python's zipfile stops at each part's declared
    size, so a part whose header understates it fails its checksum instead of filling memory.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        with path.open("rb") as fh:
            kind = binary_kind(fh.read(64)) or "text"
        raise InputFileError(f"{path.name}: not an XLSX workbook (a ZIP archive): it is {kind}: {exc}") from exc
    total = sum(p.file_size for p in parts)
    if total > MAX_ARCHIVE_BYTES:
        raise InputFileError(
            f"{path.name}: the workbook declares {total / 1024**2:,.0f} MiB uncompressed, more than the "
            f"{MAX_ARCHIVE_BYTES / 1024**3:.0f} GiB limit; save its sheet as CSV instead"
        )
    for part in parts:
        if part.file_size > _RATIO_FLOOR and part.file_size > MAX_MEMBER_RATIO * max(part.compress_size, 1):
            raise InputFileError(
                f"{path.name}: part {part.filename} expands {part.file_size / max(part.compress_size, 1):,.0f}:1 "
                f"({part.compress_size:,} to {part.file_size:,} bytes), more than {MAX_MEMBER_RATIO}:1: "
                "refused as a zip bomb; save the sheet as CSV instead"
            )


def first_visible_sheet(file_name: str, sheets: list[tuple[str, str]]) -> str:
    """The first (name, state) sheet whose state is visible (not 'hidden' or 'veryHidden')."""
    for name, state in sheets:
        if state in (None, "", "visible"):
            return name
    raise InputFileError(f"{file_name}: every sheet is hidden (name one with --sheet)")


def read_xlsx(path: Path, sheet: str | None = None, header_row: int | None = None) -> RawTable:
    """The first (or named) sheet of an XLSX as strings; a formula without a cached value is a cell problem.

    The header row is `header_row` (1-based) when given, else found among the first rows (`find_header_row`).
    """
    import openpyxl  # heavy import, only needed for Excel files

    check_archive(path)
    try:
        values_wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a corrupt file
        raise InputFileError(f"{path.name}: cannot open as XLSX: {exc}") from exc
    try:
        if sheet is not None and sheet not in values_wb.sheetnames:
            raise InputFileError(f"{path.name}: no sheet named {sheet!r} (sheets: {', '.join(values_wb.sheetnames)})")
        name = sheet or first_visible_sheet(path.name, [(ws.title, ws.sheet_state) for ws in values_wb.worksheets])
        rows = zip(
            values_wb[name].iter_rows(values_only=True), formulas_wb[name].iter_rows(values_only=True), strict=False
        )
        limit = max(HEADER_SEARCH_ROWS + HEADER_LOOKAHEAD, header_row or 0)
        first = list(itertools.islice(rows, limit))
        texts = [[_cell_text(v) for v in values] for values, _ in first]
        if not any(c is not None and c.strip() for row in texts for c in row) and header_row is None:
            raise EmptyFileError(f"{path.name}: sheet {name!r} is empty")
        index = _choose_header(texts, header_row, path.name, complete=len(first) < limit)
        values = first[index][0] if index < len(first) else ()
        header = [str(v).strip() if v is not None else f"column_{i + 1}" for i, v in enumerate(values)]
        columns: list[list[str | None]] = [[] for _ in header]
        row_numbers: list[int] = []
        problems: list[Problem] = []
        below = itertools.chain(first[index + 1 :], rows)
        for number, (values, formulas) in enumerate(below, start=index + 2):
            texts_row = [_cell_text(values[i]) if i < len(values) else None for i in range(len(header))]
            for i, text in enumerate(texts_row):
                formula = formulas[i] if i < len(formulas) else None
                if text is None and isinstance(formula, str) and formula.startswith("="):
                    reason = f"formula {formula} has no cached value (open and save the file in Excel)"
                    problems.append(Problem(path.name, number, header[i], reason))
                columns[i].append(text)
            row_numbers.append(number)
    finally:
        values_wb.close()
        formulas_wb.close()
    frame = pl.DataFrame({h: pl.Series(h, col, dtype=pl.String) for h, col in zip(header, columns, strict=True)})
    frame = _clean(frame.with_columns(pl.Series(names.SOURCE_ROW, row_numbers, dtype=pl.Int64)))
    return RawTable(frame, tuple(problems), "xlsx", index + 1)


def read_parquet(path: Path) -> RawTable:
    """A Parquet file with every column cast to text, plus `source_row` (first record = row 2)."""
    return _collect(_parquet_table(path, CHUNK_ROWS))


def open_table(
    path: str | Path, sheet: str | None = None, chunk_rows: int | None = None, header_row: int | None = None
) -> Table:
    """A file opened for streaming by its suffix: headers now, chunks of rows on demand.

    `header_row` (1-based, CSV and XLSX) names the header row; without it the header row is found.
    """
    path = Path(path)
    chunk_rows = chunk_rows or CHUNK_ROWS
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    check_file(path)
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _frame_table(read_xlsx(path, sheet, header_row), chunk_rows)
    if suffix in PARQUET_SUFFIXES:
        if header_row is not None:
            raise InputFileError(f"{path.name}: a Parquet file has no header row to choose (header row {header_row})")
        return _parquet_table(path, chunk_rows)
    if suffix in CSV_SUFFIXES:
        return _csv_table(path, chunk_rows, header_row)
    raise InputFileError(f"{path.name}: unknown file type {suffix!r} (use CSV, XLSX or Parquet)")


def preview(
    path: str | Path, sheet: str | None = None, rows: int = 20, header_row: int | None = None
) -> tuple[dict[str, str | None], pl.DataFrame]:
    """For an intake page: the proposed header mapping and the file's first rows (as text, with `source_row`)."""
    table = open_table(path, sheet, chunk_rows=max(rows, 1), header_row=header_row)
    first = next(iter(table.batches()), None)
    head = first.head(rows) if first is not None else pl.DataFrame(schema=dict.fromkeys(table.headers, pl.String))
    return propose_mapping(list(table.headers)), head


def read_file(path: str | Path, sheet: str | None = None, header_row: int | None = None) -> RawTable:
    """Read any supported file whole by its suffix; InputFileError when missing or of unknown format."""
    return _collect(open_table(path, sheet, header_row=header_row))
