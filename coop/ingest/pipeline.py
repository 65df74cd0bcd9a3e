"""The one ingest entry: a file's shape detected, read by its reader, validated, enriched and loaded as one batch."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from coop import names
from coop.errors import (
    ERROR,
    WARNING,
    DatabaseError,
    InputFileError,
    Problem,
    ValidationError,
    describe,
    group_problems,
)
from coop.ingest import enrich, readers, sink, usage_report, validate
from coop.ingest import mapping as header_map

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class IngestResult:
    """Outcome of one ingest: the new batch (or the batch that already has the file) and every problem."""

    batch_id: int | None
    rows_loaded: int
    rows_rejected: int
    already_loaded_as: int | None
    problems: tuple[Problem, ...] = ()

    @property
    def warnings(self) -> int:
        """Number of flagged-but-loaded problems."""
        return sum(1 for p in self.problems if p.severity == WARNING)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON: batch_id, rows_loaded, rows_rejected, already_loaded_as, warnings, messages, problems.

        `warnings` is a count; `messages` one text per problem (rows sharing a column and reason said once, their
        rows as ranges); `problems` every row's problem, one each.
        """
        return {
            "batch_id": self.batch_id,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": self.rows_rejected,
            "already_loaded_as": self.already_loaded_as,
            "warnings": self.warnings,
            "messages": [g.text() for g in group_problems(self.problems)],
            "problems": [p.to_dict() for p in self.problems],
        }


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def already_loaded(con: duckdb.DuckDBPyConnection, sha256: str) -> IngestResult | None:
    """The no-op result naming the batch that already loaded a file with this sha256; None if none did."""
    ((previous,),) = con.execute(
        f"SELECT min({names.BATCH_ID}) FROM {names.BATCHES} WHERE {names.SHA256} = ?", [sha256]
    ).fetchall()
    return None if previous is None else IngestResult(None, 0, 0, int(previous), ())


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    *,
    district_id: str | None = None,
    mapping: str | None = None,
    sheet: str | None = None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    save_mapping: str | None = None,
    vendor_name: str | None = None,
    vendor_type: str | None = None,
    add_districts: bool = False,
    state: str | None = None,
    zip_code: str | None = None,
    header_row: int | None = None,
    mapping_overrides: dict[str, str | None] | None = None,
) -> IngestResult:
    """Load one file as one batch, read by its shape; a no-op naming the batch if the same file was loaded before.

    A distributor usage report (detected by its structure, or any file given a `vendor_name`) needs `vendor_name`
    and `vendor_type`; it may register the districts it names (`add_districts`, at `state` and `zip_code`). Any
    other file is a CSV, XLSX (`sheet`) or Parquet table of one district's lines (`district_id`), its headers
    mapped automatically or by a saved `mapping`, with `mapping_overrides` (source header -> column, None to
    leave it out) on top (`save_mapping` stores the one used); its header row is found among the first rows
    unless `header_row` (1-based) names it. There `vendor_type` registers the file's vendors that neither the file
    nor the vendor registry types, as that type, in the load's transaction (undone with its batch).
    """
    path = Path(path)
    if vendor_name is not None or usage_report.is_usage_report(path):
        if header_row is not None or mapping_overrides:
            raise InputFileError(f"{path}: a distributor usage report's header is its own (no --header-row, --map)")
        if vendor_name is None or vendor_type is None:
            raise InputFileError(f"{path}: a distributor usage report needs --vendor NAME and --vendor-type TYPE")
        return _ingest_report(
            con,
            path,
            vendor_name=vendor_name,
            vendor_type=vendor_type,
            district_id=district_id,
            add_districts=add_districts,
            skip_invalid=skip_invalid,
            progress=progress,
            state=state,
            zip_code=zip_code,
        )
    return _ingest_table(
        con,
        path,
        register_vendors_as=_vendor_type(vendor_type),
        district_id=district_id,
        mapping=mapping,
        sheet=sheet,
        skip_invalid=skip_invalid,
        progress=progress,
        save_mapping=save_mapping,
        header_row=header_row,
        overrides=mapping_overrides or {},
    )


def unknown_vendors(problems: Iterable[Problem]) -> list[str]:
    """The vendor names a refused load's problems say the vendor registry lacks, in the order first met."""
    found = (p.value for p in problems if p.kind == validate.UNKNOWN_VENDOR and p.value)
    return list(dict.fromkeys(v[1:-1] if v.startswith("'") and v.endswith("'") else v for v in found))


def _vendor_type(text: str | None) -> str | None:
    """A vendor type given for a file's unknown vendors, normalised ("Food Hub" -> food_hub); refused if unknown."""
    if text is None:
        return None
    normal = "_".join(text.strip().lower().replace("-", " ").split())
    if normal not in names.VENDOR_TYPES:
        raise InputFileError(f"--vendor-type {text!r}: not a vendor type (one of {', '.join(names.VENDOR_TYPES)})")
    return normal


def load_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    *,
    file_name: str,
    sha256: str,
    source_kind: str,
    district_id: str | None,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    register_districts: pl.DataFrame | None = None,
) -> IngestResult:
    """Validate, classify, convert and load a frame of canonical columns as one batch, atomically.

    `register_districts` (district_id, name, state, zip, bill_to_id) are registered in the same transaction.
    """
    if names.SOURCE_ROW not in frame.columns:
        frame = frame.with_row_index(names.SOURCE_ROW, offset=2)
    frame = frame.with_columns(pl.col(names.SOURCE_ROW).cast(pl.Int64))
    size = readers.CHUNK_ROWS
    chunks = (frame.slice(offset, size) for offset in range(0, max(frame.height, 1), size))
    return _load(
        con,
        chunks,
        list(frame.columns),
        file_name=file_name,
        sha256=sha256,
        source_kind=source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
        size_hint=None,
        register_districts=register_districts,
    )


# --- the readers ---------------------------------------------------------------------
def _ingest_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    register_vendors_as: str | None,
    district_id: str | None,
    mapping: str | None,
    sheet: str | None,
    skip_invalid: bool,
    progress: Progress | None,
    save_mapping: str | None,
    header_row: int | None,
    overrides: dict[str, str | None],
) -> IngestResult:
    """Read, map, validate and load one CSV/XLSX/Parquet file of one district's lines."""
    _report(progress, 0.0, f"reading {path.name}")
    if path.exists():
        readers.check_file(path)  # a folder, an unreadable file
    if path.exists() and path.stat().st_size == 0:
        raise _empty_file(path.name)
    saved = header_map.load_mapping(con, mapping) if mapping else None
    sha = file_sha256(path) if path.exists() else ""
    done = already_loaded(con, sha) if sha else None
    if done is not None:
        return done
    try:
        table = readers.open_table(path, sheet, header_row=header_row)
    except readers.EmptyFileError as exc:
        raise _empty_file(path.name) from exc
    headers = list(table.headers)
    resolved = header_map.override_mapping(header_map.resolve_mapping(headers, saved), overrides, path.name)
    empty = pl.DataFrame(schema={h: pl.String for h in headers} | {names.SOURCE_ROW: pl.Int64})
    batches = table.batches()
    first = next(batches, empty)
    chosen = {header_map.normalise_header(s) for s in overrides}  # headers the user mapped stay as mapped
    fixed = frozenset(h for h in headers if h in (saved or {}) or header_map.normalise_header(h) in chosen)
    resolved, decided = header_map.decide_ambiguous(resolved, first, fixed)
    header_map.apply_mapping(empty, resolved)
    notes = [Problem(path.name, table.header_row, header, note, WARNING) for header, note in decided]
    if table.header_row > 1:
        note = f"header row found on row {table.header_row}; the rows above it are skipped"
        notes.insert(0, Problem(path.name, table.header_row, "(header)", note, WARNING))
    result = _load(
        con,
        (header_map.apply_mapping(chunk, resolved) for chunk in itertools.chain([first], batches)),
        [c for c in resolved.values() if c is not None],
        file_name=path.name,
        sha256=sha,
        source_kind=table.source_kind,
        district_id=district_id,
        skip_invalid=skip_invalid,
        progress=progress,
        reader_problems=table.problems,
        shown={canonical: header for header, canonical in resolved.items() if canonical is not None},
        headers=headers,
        size_hint=path.stat().st_size,
        stripped=True,
        register_vendors_as=register_vendors_as,
    )
    if save_mapping:
        header_map.save_mapping(con, save_mapping, resolved)
    if not notes or result.already_loaded_as is not None:
        return result
    return replace(result, problems=tuple(sorted([*notes, *result.problems], key=lambda p: p.row)))


def _ingest_report(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    vendor_name: str,
    vendor_type: str,
    district_id: str | None,
    add_districts: bool,
    skip_invalid: bool,
    progress: Progress | None,
    state: str | None,
    zip_code: str | None,
) -> IngestResult:
    """Load a distributor usage report as one batch, each block under its district (registered with it if allowed)."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    sha = file_sha256(path)
    done = already_loaded(con, sha)
    if done is not None:
        return done
    _report(progress, 0.0, f"reading {path.name}")
    report = usage_report.read(
        con,
        path,
        vendor_name=vendor_name,
        vendor_type=vendor_type,
        district_id=district_id,
        add_districts=add_districts,
        state=state,
        zip_code=zip_code,
    )
    columns = sink.REGISTERABLE[names.DISTRICTS][1]
    new = pl.DataFrame(
        [{c: d[c] for c in columns} for d in report.new_districts], schema=dict.fromkeys(columns, pl.String)
    )
    result = load_frame(
        con,
        report.lines,
        file_name=report.file_name,
        sha256=sha,
        source_kind=usage_report.SOURCE_KIND,
        district_id=None,
        skip_invalid=skip_invalid,
        progress=progress,
        register_districts=new if new.height else None,
    )
    if not report.notes:
        return result
    return replace(result, problems=tuple(sorted([*report.notes, *result.problems], key=lambda p: p.row)))


# --- the load ------------------------------------------------------------------------
def _report(progress: Progress | None, fraction: float, message: str) -> None:
    """Call the progress callback when there is one."""
    if progress is not None:
        progress(fraction, message)


def _empty_file(file_name: str) -> ValidationError:
    """The error for a file with no header row."""
    problem = Problem(file_name, 1, "(header)", "file is empty: no header row", ERROR)
    return ValidationError(f"{file_name}: file is empty", [problem])


def _load(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[pl.DataFrame],
    columns: list[str],
    *,
    file_name: str,
    sha256: str,
    source_kind: str,
    district_id: str | None,
    skip_invalid: bool,
    progress: Progress | None,
    reader_problems: Iterable[Problem] = (),
    shown: dict[str, str] | None = None,
    headers: list[str] | None = None,
    size_hint: int | None = None,
    stripped: bool = False,
    register_districts: pl.DataFrame | None = None,
    register_vendors_as: str | None = None,
) -> IngestResult:
    """The one loading path: chunk by chunk validate, classify, convert and insert, all in one transaction.

    Districts to register (`register_districts`) and the vendors `register_vendors_as` types go into the same
    transaction, recorded as the batch's, so a failed or killed load leaves none of them and undo removes them.
    """
    done = already_loaded(con, sha256)
    if done is not None:
        return done
    _report(progress, 0.05, "checking columns")
    given = [*columns, names.DISTRICT_ID] if district_id is not None else columns
    missing = validate.missing_columns(given)
    if missing:
        found = f" (found: {', '.join(headers)})" if headers is not None else ""
        problems = [Problem(file_name, 1, c, reason + found, ERROR) for c, reason in missing]
        raise ValidationError(f"{file_name}: {len(missing)} required column(s) missing; nothing loaded", problems)
    checks = validate.checks(con, file_name, district_id, shown or {}, stripped=stripped)
    if register_districts is not None:
        checks = replace(checks, known=pl.concat([checks.known, register_districts[names.DISTRICT_ID]]))
    enr = enrich.enrichment(con)
    reader_list = list(reader_problems)
    registering = Registering(register_districts, register_vendors_as)
    try:
        return _load_rows(
            con, chunks, checks, enr, reader_list, skip_invalid, progress, size_hint, source_kind, sha256, registering
        )
    except (OSError, duckdb.IOException, duckdb.OutOfMemoryException, duckdb.TransactionException) as exc:
        # disk full, a file-size limit, no memory: the transaction was rolled back, the database is as it was
        if isinstance(exc, duckdb.TransactionException) and "failed to commit" not in str(exc).lower():
            raise
        raise DatabaseError(f"{file_name}: cannot store the load: {describe(exc)}; nothing loaded") from exc


@dataclass(frozen=True)
class Registering:
    """What a load registers in its transaction: districts (a frame), and the vendor type for unknown vendors."""

    districts: pl.DataFrame | None = None
    vendor_type: str | None = None


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    chunks: Iterable[pl.DataFrame],
    checks: validate.Checks,
    enr: enrich.Enrichment,
    reader_list: list[Problem],
    skip_invalid: bool,
    progress: Progress | None,
    size_hint: int | None,
    source_kind: str,
    sha256: str,
    registering: Registering,
) -> IngestResult:
    """Validate and enrich the chunks while a background cursor inserts them in one transaction (or refuses all)."""
    file_name = checks.file_name
    reader_bad = {p.row for p in reader_list}
    error_frames: list[pl.DataFrame] = [validate.reader_errors(reader_list)] if reader_list else []
    warnings: list[Problem] = []
    registered_vendors: list[str] = []
    seen = loaded = rejected = 0
    failed = bool(reader_list) and not skip_invalid
    out = sink.Sink(
        con,
        file_name=file_name,
        district_id=checks.district_id,
        source_kind=source_kind,
        sha256=sha256,
        size_hint=size_hint,
    )
    try:
        if registering.districts is not None and not failed:
            out.submit_registered(names.DISTRICTS, registering.districts)
        for chunk, last in _with_last(sink.first_row_group_apart(chunks)):
            if chunk.is_empty():
                continue
            seen += chunk.height
            _report(progress, _fraction(seen, size_hint), f"validating rows up to {seen:,}")
            typed = enrich.with_registry(validate.typed(chunk, checks), enr)
            if registering.vendor_type is not None:
                vendors = enrich.register_unknown(typed, enr, registering.vendor_type)
                if vendors is not None:
                    registered_vendors += vendors[names.VENDOR_NAME].to_list()
                    if not failed:
                        out.submit_registered(names.VENDORS, vendors)
                    typed = enrich.with_registry(typed, enr)
            good, errors = validate.check(typed, checks, reader_bad)
            if errors.height:
                error_frames.append(errors)
                failed = failed or not skip_invalid
            if failed:
                out.discard()  # nothing will be kept; go on validating so every bad cell is listed
                continue
            chunk_rejects = errors
            if reader_bad:
                in_chunk = set(chunk[names.SOURCE_ROW].to_list())
                extra = validate.reader_errors(p for p in reader_list if p.row in in_chunk)
                chunk_rejects = pl.concat([errors, extra])
            rejected += chunk.height - good.height
            if good.height:
                good = enrich.with_prices(enrich.with_base_units(enrich.with_items(good, enr), enr))
                warnings += enrich.warnings(good, checks)
                for table, new in enr.new_rows:  # items and packs first seen in this chunk
                    out.submit_dimension(table, new)
                enr.new_rows.clear()
                out.submit_lines(good, last=last)
                loaded += good.height
            if chunk_rejects.height:
                out.submit_rejects(chunk, chunk_rejects)
        error_problems = validate.error_problems(error_frames, file_name)
        if seen == 0:
            raise ValidationError(
                f"{file_name}: no data rows; nothing loaded",
                [Problem(file_name, 2, "(all)", "header only: the file has no data rows", ERROR)],
            )
        if failed:
            raise ValidationError(
                f"{file_name}: {len(error_problems)} invalid cell(s) in "
                f"{len({p.row for p in error_problems})} row(s); nothing loaded",
                error_problems,
            )
        if loaded == 0:  # every row set aside: an empty batch would only block the corrected file
            raise ValidationError(f"{file_name}: none of its {seen:,} row(s) is valid; nothing loaded", error_problems)
        _report(progress, 0.9, f"writing {loaded:,} rows to the database")
        batch_id, duplicates = out.commit(loaded, rejected)
    finally:
        out.close()
    _report(progress, 1.0, f"loaded {loaded:,} rows as batch {batch_id}")
    if registered_vendors:
        names_list = ", ".join(repr(v) for v in registered_vendors)
        note = f"registered {len(registered_vendors)} vendor(s) as {registering.vendor_type}: {names_list}"
        warnings.insert(0, Problem(file_name, 1, checks.label(names.VENDOR_NAME), note, WARNING))
    problems = sorted(error_problems + warnings + duplicates, key=lambda p: p.row)
    return IngestResult(batch_id, loaded, rejected, None, tuple(problems))


def _with_last(chunks: Iterable[pl.DataFrame]) -> Iterator[tuple[pl.DataFrame, bool]]:
    """Each chunk with whether it is the last one (the reader is one chunk ahead)."""
    iterator = iter(chunks)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for chunk in iterator:
        yield previous, False
        previous = chunk
    yield previous, True


def _fraction(seen: int, size_hint: int | None) -> float:
    """Progress between 0.1 and 0.9 while rows stream in (0.5 when the total is unknown)."""
    if not size_hint:
        return 0.5
    return min(0.9, 0.1 + 0.8 * min(1.0, seen * 90 / size_hint))
