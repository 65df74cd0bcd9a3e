"""The `python -m coop` command line: one subcommand per operation, text or --json output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from coop import bench, errors, names
from coop.errors import WARNING, CoopError, ValidationError, group_problems
from coop.registry import districts
from coop.store import db

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


# --- the command registry: every subcommand registers itself the same way ----------------------------
@dataclass(frozen=True)
class Arg:
    """One argument of a subcommand: argparse's flags and keyword options."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    """An argument as `ArgumentParser.add_argument` takes it."""
    return Arg(flags, options)


@dataclass(frozen=True)
class OneOf:
    """Mutually exclusive arguments; one of them must be given when `required`."""

    args: tuple[Arg, ...]
    required: bool = False


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, handler, one-line help and arguments."""

    name: str
    handler: Handler
    help: str
    args: tuple[Arg | OneOf, ...]
    reads_only: bool = False  # opens the database read-only: works on a read-only file


COMMANDS: dict[str, Command] = {}


def command(name: str, help_text: str, *args: Arg | OneOf, reads_only: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated handler as subcommand `name` with its arguments (the one way commands are added).

    A command that `reads_only` opens the database read-only, so it works on a read-only file.
    """

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} registered twice")
        COMMANDS[name] = Command(name, handler, help_text, args, reads_only)
        return handler

    return register


def _iso_date(text: str) -> date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _given(args: argparse.Namespace, *keys: str) -> dict[str, Any]:
    """The named options the user set (left unset, the library's own defaults apply)."""
    return {k: getattr(args, k) for k in keys if getattr(args, k) is not None}


LIBRARY_DEFAULT = " (default: the library's)"


# --- handlers --------------------------------------------------------------------
@command("init", "create or migrate the database")
def _init(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Create or migrate the database."""
    return {"db": str(db.resolve_path(args.db)), "schema_version": db.schema_version(con)}


@command("districts", "upsert districts from a CSV file", arg("file", type=Path))
def _districts(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert districts from a CSV file."""
    return {"districts_upserted": districts.upsert_from_csv(con, args.file)}


# --- ingest, batches, undo ---
MAX_WARNING_LINES = 100  # warning messages printed (each may cover many rows); every row's: --json
MAX_PROBLEM_LINES = 200  # error messages printed for a refused file (each may cover many rows)


def _map_pair(text: str) -> tuple[str, str | None]:
    """An argparse type: 'Source header=column' as (source header, column or None when left empty)."""
    source, sep, column = text.rpartition("=")
    if not sep or not source.strip():
        raise argparse.ArgumentTypeError(f"not 'Source header=column': {text!r}")
    return source.strip(), column.strip() or None


@command(
    "ingest",
    "validate and load one CSV/XLSX/Parquet file or distributor usage report as a batch",
    arg("file", type=Path),
    arg("--district", default=None, help="district id the file's lines belong to"),
    arg("--mapping", default=None, help="use a saved header mapping"),
    arg("--save-mapping", default=None, help="save the header mapping used under this name"),
    arg(
        "--map",
        dest="map_pairs",
        action="append",
        type=_map_pair,
        default=None,
        metavar="SOURCE=column",
        help="map a source header to a canonical column (repeatable; 'SOURCE=' leaves it out)",
    ),
    arg("--header-row", type=int, default=None, help="the header's row number as a spreadsheet shows it"),
    arg("--sheet", default=None, help="XLSX sheet name (default: the first sheet)"),
    arg("--skip-invalid", action="store_true", help="load valid rows, keep the rest as rejects"),
    arg("--vendor", default=None, help="distributor name (usage reports)"),
    arg(
        "--vendor-type",
        default=None,
        help="a usage report's vendor type; for any other file, the type to register its unknown vendors as",
    ),
    arg("--add-districts", action="store_true", help="register districts a usage report names"),
    arg("--state", help="state of the districts --add-districts registers (two letters)"),
    arg("--zip", help="ZIP code of the districts --add-districts registers (their local radius centre)"),
)
def _ingest(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Load one file as a batch (a distributor usage report when detected or --vendor is given)."""
    try:
        result = _run_ingest(args, con)
    except ValidationError as exc:
        _write_vendors_template(args.file, exc, args.db)
        raise
    groups = [g for g in group_problems(result.problems) if g.severity == WARNING]
    for group in groups[:MAX_WARNING_LINES]:
        print(f"warning: {group.text()}", file=sys.stderr)
    if len(groups) > MAX_WARNING_LINES:
        print(f"warning: ... and {len(groups) - MAX_WARNING_LINES} more (every row's: --json)", file=sys.stderr)
    return result.to_json()


def _write_vendors_template(file: Path, exc: ValidationError, db_path: str | None) -> None:
    """For a load refused for unregistered vendors: write them to a vendors file beside the database, say where."""
    from coop.ingest import pipeline
    from coop.registry import vendors

    unknown = pipeline.unknown_vendors(exc.problems)
    if not unknown:
        return
    target = vendors.write_template(db.resolve_path(db_path).parent / f"{file.stem}.new-vendors.csv", unknown)
    exc.args = (
        f"{exc}; the {len(unknown)} vendor(s) the registry lacks are listed in {target}: fill in vendor_type (and "
        f"origin_state, origin_zip if known), run `python -m coop vendors {target}` and load {file.name} again "
        "(or load it with --vendor-type TYPE)",
    )


def _run_ingest(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """`ingest_file` with the command's options."""
    from coop.ingest import ingest_file

    return ingest_file(
        con,
        args.file,
        district_id=args.district,
        mapping=args.mapping,
        sheet=args.sheet,
        skip_invalid=args.skip_invalid,
        save_mapping=args.save_mapping,
        vendor_name=args.vendor,
        vendor_type=args.vendor_type,
        add_districts=args.add_districts,
        state=args.state,
        zip_code=args.zip,
        header_row=args.header_row,
        mapping_overrides=dict(args.map_pairs or []),
    )


@command("batches", "list ingest batches", reads_only=True)
def _batches(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """List every ingest batch."""
    from coop.store import batches

    return batches.list_batches(con).to_dicts()


@command("undo", "remove one ingest batch (and the districts and vendors it registered)", arg("batch_id", type=int))
def _undo(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Remove one batch, its lines, and the districts and vendors it registered that nothing else uses."""
    from coop.store import batches

    removed, registered = batches.undo_batch(con, args.batch_id)
    return {
        "batch_id": args.batch_id,
        "rows_removed": removed,
        "districts_removed": registered[names.DISTRICTS],
        "vendors_removed": registered[names.VENDORS],
    }


# --- metrics ---
@command(
    "metrics",
    "local share and local price premiums per district and for the co-op",
    arg("--from", dest="date_from", type=_iso_date, default=None, help="first invoice date (inclusive)"),
    arg("--to", dest="date_to", type=_iso_date, default=None, help="last invoice date (inclusive)"),
    arg("--as", dest="as_email", default=None, metavar="EMAIL", help="print exactly what this user may see"),
    reads_only=True,
)
def _metrics(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Local share, unknown-origin spend and local price premiums per district and for the co-op."""
    from coop.metrics import compute, privacy
    from coop.registry import users

    if args.date_from is not None and args.date_to is not None and args.date_from > args.date_to:
        raise CoopError(f"--from {args.date_from} is after --to {args.date_to}")
    user = users.get(con, args.as_email) if args.as_email is not None else users.LOCAL
    return privacy.view(compute.compute(con, args.date_from, args.date_to), user, privacy.peer_rule(con))


@command(
    "summary",
    "state of the purchase summary metrics read (maintained on load)",
    arg("--rebuild", action="store_true", help="recompute the summary from every purchase line"),
)
def _summary(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The purchase summary's state (exists, current, rows, lines covered); rebuilt from the lines with --rebuild."""
    from coop.store import summary

    return db.rebuild_summary(con) if args.rebuild else summary.status(con)


# --- route LP: optimize, sensitivity, incentive ---
LP_ARGS: tuple[Arg | OneOf, ...] = (
    arg("--scenario", default="bau", help="bau, co-hb-19-1132, local-25, high-economic-impact, ..."),
    arg("--scenario-file", type=Path, default=None, help="a user-defined scenario as JSON"),
    OneOf(
        (
            arg("--district", default=None, help="use this district's calibrated route costs and meals"),
            arg("--paper", action="store_true", help="use the paper's costs and meals (default)"),
        )
    ),
    arg("--unrounded", action="store_true", help="exact ratio coefficients instead of Table 3's"),
    arg("--model-file", type=Path, default=None, help="a user-edited model as JSON (default: paper)"),
)


def _lp_inputs(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> tuple[Any, Any]:
    """The model (paper or a district's calibrated costs) and the scenario (shipped name or JSON file)."""
    from coop.optimize import lp, paper, scenarios
    from coop.optimize.model import model_from_json

    base = model_from_json(args.model_file) if args.model_file is not None else paper.paper_model()
    base = base.unrounded() if args.unrounded else base
    if args.district is not None:
        model, notes = lp.district_model(con, args.district, base=base)
        print(f"{model.source}; " + "; ".join(notes), file=sys.stderr)
    else:
        model = base
    if args.scenario_file is not None:
        return model, scenarios.scenario_from_json(args.scenario_file)
    return model, scenarios.get_scenario(args.scenario)


@command("optimize", "solve the route-choice LP (Love et al. 2025) for one scenario", *LP_ARGS)
def _optimize(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Solve the route LP for one scenario."""
    from coop.optimize import lp

    model, scenario = _lp_inputs(args, con)
    result = lp.solve(scenario, model)
    return result.to_json() if args.json else result.text()


@command("sensitivity", "the paper's cost sensitivity analysis (10 runs) for one scenario", *LP_ARGS)
def _sensitivity(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """The paper's +/-50% cost sensitivity runs for one scenario."""
    from coop.optimize import sensitivity

    model, scenario = _lp_inputs(args, con)
    result = sensitivity.sensitivity(scenario, model)
    return result.to_json() if args.json else result.text()


@command(
    "incentive",
    "smallest per-meal incentive moving a target share of meals to some routes",
    *LP_ARGS,
    OneOf(
        (
            arg("--route", choices=names.ROUTES, default=None, help="incentive on this route only"),
            arg("--local", action="store_true", help="incentive on all three local routes (default)"),
        )
    ),
    arg("--target", type=float, required=True, help="share of meals to reach, in (0, 1]"),
    arg("--max-incentive", type=float, default=None, help="largest incentive to try ($ per meal)"),
)
def _incentive(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """The smallest extra per-meal incentive that moves a target share of meals to a route or the local routes."""
    from coop.optimize import incentive

    model, scenario = _lp_inputs(args, con)
    routes = (args.route,) if args.route is not None else names.LOCAL_ROUTES
    result = incentive.find_incentive(scenario, args.target, routes, model, max_incentive=args.max_incentive)
    return result.to_json() if args.json else result.text()


# --- pooled co-op: pool ---
@command(
    "pool",
    "pooled co-op purchasing: savings against standalone optima and fair splits",
    arg("--spec", type=Path, default=None, help="a JSON pool spec (default: built from the database)"),
    arg("--local-share", type=float, default=None, help="database spec: every member's minimum local share"),
    arg("--from", dest="date_from", type=_iso_date, default=None, help="database spec: first invoice date"),
    arg("--to", dest="date_to", type=_iso_date, default=None, help="database spec: last invoice date"),
    arg(
        "--exact-limit",
        type=int,
        default=None,
        help="exact Shapley and core check up to this many members" + LIBRARY_DEFAULT,
    ),
    arg(
        "--permutations",
        type=int,
        default=None,
        help="sampled Shapley permutations beyond the exact limit" + LIBRARY_DEFAULT,
    ),
    arg("--seed", type=int, default=None, help="random seed of the sampled Shapley" + LIBRARY_DEFAULT),
    arg(
        "--tolerance",
        type=float,
        default=None,
        help="sampled Shapley stops once every member's 95%% half-width is within this fraction of its standalone "
        "cost" + LIBRARY_DEFAULT,
    ),
    arg(
        "--time-budget",
        "--max-seconds",
        dest="time_budget",
        type=float,
        default=None,
        help="seconds the sampled Shapley may run if the tolerance is not met sooner" + LIBRARY_DEFAULT,
    ),
    arg(
        "--scheduler",
        default=None,
        help="dask scheduler for the coalition solves, tcp://HOST:8786 (default: $COOP_DASK_SCHEDULER, else a "
        "LocalCluster on this machine)",
    ),
    arg(
        "--workers",
        type=int,
        default=None,
        help="LocalCluster worker processes (default: the cores available; 0: solve in this process)",
    ),
    arg(
        "--core-time-limit",
        type=float,
        default=None,
        help="seconds for each core-separation MILP beyond the exact limit" + LIBRARY_DEFAULT,
    ),
    arg("--mip-gap", type=float, default=None, help="relative MIP gap of every coalition solve" + LIBRARY_DEFAULT),
    arg("--time-limit", type=float, default=None, help="seconds per coalition solve" + LIBRARY_DEFAULT),
)
def _pool(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Standalone optima against the pooled optimum and each allocation of the pooled cost."""
    from coop.optimize import allocate, pool, pool_spec, quotes

    if args.spec is not None:
        spec = pool_spec.load_spec(args.spec)
    else:
        spec = quotes.spec_from_db(
            con, local_share_min=args.local_share, date_from=args.date_from, date_to=args.date_to
        )
    settings = pool.SolverSettings(**_given(args, "mip_gap", "time_limit"))
    options = _given(
        args, "exact_limit", "permutations", "seed", "tolerance", "time_budget", "scheduler", "workers",
        "core_time_limit",
    )  # fmt: skip
    sampled = len(spec.districts) > min(options.get("exact_limit", allocate.DEFAULT_EXACT), allocate.EXACT_LIMIT)
    if sampled or sys.stderr.isatty():  # long runs say how far they are, on stderr (stdout stays JSON)
        options["progress"] = _progress_to_stderr()
    report = allocate.allocate(spec, settings, **options)
    return report.to_json() if args.json else str(report.table()) + "\n" + "\n".join(report.notes)


def _progress_to_stderr(quiet_for: float = 2.0, every: float = 5.0) -> Callable[[float, str], None]:
    """A progress callback printing to stderr (stdout stays JSON): silent for quick runs, then every few seconds."""
    import time

    start = time.monotonic()
    last = [start]

    def show(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - start < quiet_for or (now - last[0] < every and fraction < 1.0):
            return
        last[0] = now
        print(f"pool: {fraction:4.0%} {message} ({now - start:,.0f} s)", file=sys.stderr, flush=True)

    return show


@command(
    "report",
    "write the monthly partner-meeting packet (HTML and XLSX)",
    arg("--month", required=True, help="YYYY-MM"),
    arg("--out", type=Path, required=True, help="folder for packet-YYYY-MM.html and .xlsx"),
    arg("--no-savings", action="store_true", help="skip the pooled-savings section (faster)"),
    arg("--district", default=None, metavar="ID", help="one district's packet: its figures beside peer aggregates"),
    arg("--as", dest="as_email", default=None, metavar="EMAIL", help="write exactly the packet this user may see"),
    reads_only=True,
)
def _report(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Write the month's partner-meeting packet (HTML and XLSX) into a folder, as a user or district may see it."""
    from coop.registry import users
    from coop.report import build, render

    viewer = users.get(con, args.as_email) if args.as_email is not None else users.LOCAL
    if args.district is not None:
        viewer = users.district_view(con, viewer, args.district)
    packet = build.build(con, args.month, viewer=viewer, include_savings=not args.no_savings)
    paths = render.write(packet, args.out)
    return {
        "month": args.month,
        "as": viewer.email,
        "role": viewer.role,
        "districts": list(viewer.districts),
        "html": paths["html"],
        "xlsx": paths["xlsx"],
        "coop_local_share": packet.coop_local_share,
        "coop_local_share_text": packet.coop_withheld or build.format_share(packet.coop_local_share),
    }


@command(
    "bench",
    "run the benchmarks (ingest, metrics, LP, pool) against same-run baselines",
    arg("--rows", type=int, default=bench.DEFAULT_ROWS, help="lines of the ingest benchmark's file"),
    arg("--metrics-rows", type=int, default=bench.DEFAULT_METRICS_ROWS, help="lines of the metrics benchmark's table"),
    arg("--districts", type=int, default=bench.DEFAULT_DISTRICTS, help="largest co-op for the pool benchmark"),
    arg("--only", nargs="*", help="run only these (" + ", ".join(bench.NAMES) + ")"),
    arg("--bench-dir", type=Path, default=bench.BENCH_DIR, help="the checkout's benchmark folder (default: ./bench)"),
)
def _bench(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Run the benchmark scripts and print every figure with its same-run baseline and ratio."""
    result = bench.run(
        rows=args.rows,
        metrics_rows=args.metrics_rows,
        districts=args.districts,
        only=tuple(args.only or ()),
        bench_dir=args.bench_dir,
        progress=lambda f, msg: print(f"[{f:4.0%}] {msg}", file=sys.stderr),
    )
    return result if args.json else bench.table(result)


@command(
    "export",
    "export purchases to Parquet partitioned by district and year (plus small tables)",
    arg("--out", type=Path, required=True, help="folder to write into"),
    reads_only=True,
)
def _export(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Export the database to Hive-partitioned Parquet."""
    from coop.store import export

    return export.to_parquet(con, args.out)


# --- sample co-op, vendor registry, meal counts ---
@command(
    "sample",
    "load the bundled sample co-op (or generate files with --rows/--out, --regenerate)",
    arg("--rows", type=int, default=None, help="write a generated file of this many purchase lines"),
    arg("--out", type=Path, default=None, help="the file --rows writes (CSV)"),
    arg("--district", default=None, help="with --rows: put every line under this district id"),
    arg("--regenerate", action="store_true", help="rewrite data/sample from the generator"),
    arg("--seed", type=int, default=2025, help="generator seed"),
)
def _sample(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Load the bundled sample co-op, write a generated file (--rows N --out FILE), or rewrite data/sample."""
    from coop import sample

    if args.regenerate:
        return {"regenerated": [str(p) for p in sample.regenerate(seed=args.seed)]}
    if args.rows is not None or args.out is not None:
        if args.rows is None or args.out is None:
            raise CoopError("sample: --rows and --out go together")
        path = sample.write_lines(args.rows, args.out, seed=args.seed, district_id=args.district)
        return {"out": str(path), "rows": args.rows}
    return sample.load(con)


@command("vendors", "upsert the vendor registry from a CSV (vendor_name, vendor_type, origin)", arg("file", type=Path))
def _vendors(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert the vendor registry from a CSV file."""
    from coop.registry import vendors

    return {"vendors_upserted": vendors.upsert_from_csv(con, args.file)}


@command("users", "upsert users and their roles from a CSV (email, role, districts)", arg("file", type=Path))
def _users(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert users (coordinator, partner, district or viewer, with their district ids) from a CSV file."""
    from coop.registry import users

    return {"users_upserted": users.upsert_from_csv(con, args.file)}


@command("audit", "who loaded, undid or edited what and when (newest first)", arg("--limit", type=int, default=100))
def _audit_log(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The latest audit-log entries."""
    from coop.store import audit

    return audit.entries(con, args.limit).to_dicts()


@command("meals", "upsert monthly meal counts from a CSV (district_id, month, meals)", arg("file", type=Path))
def _meals(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert monthly meal counts from a CSV file."""
    from coop.registry import meals

    return {"meal_counts_upserted": meals.upsert_from_csv(con, args.file)}


# --- procurement rules: thresholds, bids, classify ---
@command(
    "thresholds",
    "procurement method each district-vendor-year's spend requires; split purchases",
    arg("--school-year", type=int, default=None, help="YYYY: the school year starting YYYY-07-01"),
    reads_only=True,
)
def _thresholds(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Required vs recorded procurement method per district, vendor and school year, and split purchases."""
    from coop.rules import splits, thresholds

    table = thresholds.thresholds_from_db(con, args.school_year)
    found = splits.split_purchases_from_db(con, args.school_year)
    return {
        "school_year": args.school_year,
        "school_year_convention": "school year N = N-07-01..(N+1)-06-30",
        "flagged": int(table["flag"].sum()),
        "thresholds": table.to_dicts(),
        "split_purchases": found.to_dicts(),
    }


@command(
    "bids",
    "rank bids with a geographic preference (1 point = 1 cent, or a percentage)",
    arg("file", type=Path, help="CSV with bidder,price,meets_preference"),
    OneOf(
        (
            arg("--points", type=float, default=None, help="preference points (1 point = 1 cent off)"),
            arg("--percent", type=float, default=None, help="preference as a percentage off"),
        ),
        required=True,
    ),
    arg("--among", type=int, default=None, help="apply the preference only among the K lowest bids"),
    arg("--item", default=None, help="item description: preference applies only if unprocessed"),
)
def _bids(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Score a bids CSV with a geographic preference (points or percent, optionally among the K lowest)."""
    from coop.rules import bids

    frame = bids.read_bids(args.file)
    result = bids.score_bids(frame, points=args.points, percent=args.percent, among=args.among, item=args.item)
    return result.to_json()


@command(
    "buy-american",
    "non-domestic share of each district's commercial food cost against the Buy American cap",
    arg("--school-year", type=int, default=None, help="YYYY: the school year starting YYYY-07-01 (default: latest)"),
    arg("--exceptions", type=Path, default=None, help="first record exceptions from a CSV (district_id, product, "
        "reason, approved_by, approved_on)"),
)  # fmt: skip
def _buy_american(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The school year's cap, and per district commercial food cost, non-domestic and unknown cost, flags."""
    from coop.rules import buy_american

    if args.exceptions is not None:
        buy_american.exceptions_from_csv(con, args.exceptions)
    return buy_american.buy_american_from_db(con, args.school_year).to_json()


@command(
    "worksheet",
    "check procurement quotes and write seed 002's worksheets (XLSX and HTML) per procurement",
    arg("file", type=Path, help="quotes CSV/XLSX: procurement_id, district_id, date, item, ... (one row a quote)"),
    arg("--out", type=Path, required=True, help="folder for the worksheets"),
)
def _worksheet(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Each procurement's method, quotes, completeness problems and award; its worksheets written."""
    from coop.rules import procurement

    return {"procurements": [p.to_json() for p in procurement.worksheet_file(con, args.file, args.out)]}


@command(
    "census",
    "each district's food costs for a school year in the Farm to School Census's terms (CSV and XLSX)",
    arg("--school-year", type=int, required=True, help="YYYY: the school year starting YYYY-07-01"),
    arg("--out", type=Path, required=True, help="folder for census-SYYYYY-YY.csv, .xlsx and the mapping"),
)
def _census(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Total, local and unknown-origin food cost and local cost by Census category and source, per district."""
    from coop.report import census

    result = census.census(con, args.school_year)
    return {**result.to_json(), "files": census.write(result, args.out)}


@command(
    "classify",
    "classify an item description (unprocessed per 7 CFR 210.21(g)); --set stores a correction, --undo removes one",
    arg("text", nargs="?", default=None, help="the item description"),
    arg("--pack-size", default=None, help="the line's pack size (6/#10 is canned)"),
    OneOf(
        (
            arg("--set", dest="set_text", metavar="TEXT", default=None, help="store a correction for this text"),
            arg("--undo", type=int, default=None, metavar="ID", help="undo correction ID"),
            arg("--corrections", action="store_true", help="list every correction made"),
        )
    ),
    arg("--category", default=None, help="with --set: fruit, vegetable, grain, protein, dairy or other"),
    arg("--unprocessed", default=None, help="with --set: yes or no"),
    arg("--product", default=None, help="with --set: the commodity (default: the classifier's)"),
)
def _classify(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Classify one description as a load would (corrections in force apply), or set, undo or list corrections."""
    from coop.parsing import parse_bool
    from coop.products import corrections

    if args.set_text is not None:
        unprocessed = parse_bool(args.unprocessed) if args.unprocessed is not None else None
        if args.category is None or unprocessed is None:
            raise CoopError("classify --set needs --category C and --unprocessed yes|no")
        return corrections.set_correction(con, args.set_text, args.category, unprocessed, args.product)
    if args.undo is not None:
        return corrections.undo(con, args.undo)
    if args.corrections:
        return {"corrections": corrections.history(con).to_dicts()}
    if args.text is None:
        raise CoopError("classify needs TEXT (or --set TEXT, --undo ID, --corrections)")
    found = corrections.classify(args.text, args.pack_size, con)
    return {
        "category": found.category,
        "product": found.product,
        "unprocessed": found.unprocessed,
        "reason": found.reason,
        "source": found.source,
        "confidence": found.confidence,
        "rule": found.rule,
    }


# --- parser ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand; each subcommand's handler is `func`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=None, help="database file (default $COOP_DB or data/coop.duckdb)")
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")

    parser = argparse.ArgumentParser(prog="python -m coop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, parents=[common], help=cmd.help, description=cmd.help)
        p.set_defaults(func=cmd.handler)
        for item in cmd.args:
            if isinstance(item, OneOf):
                group = p.add_mutually_exclusive_group(required=item.required)
                for one in item.args:
                    group.add_argument(*one.flags, **one.options)
            else:
                p.add_argument(*item.flags, **item.options)
    return parser


AUDITED = ("ingest", "undo", "districts", "vendors", "meals", "users")  # the commands that change what is on file


def _audit(args: argparse.Namespace, con: duckdb.DuckDBPyConnection, result: Any) -> None:
    """Record a changing command in the audit log under the OS user: what it was given and what it did."""
    from coop.store import audit

    if args.command not in AUDITED:
        return
    given = [str(getattr(args, key)) for key in ("file", "batch_id") if getattr(args, key, None) is not None]
    done = ", ".join(f"{k} {v}" for k, v in (result or {}).items() if isinstance(v, (int, str)) and v is not None)
    audit.record(con, audit.os_user(), args.command, "; ".join(filter(None, [" ".join(given), done])))


def _subject(args: argparse.Namespace) -> str:
    """What a command works on, for its one-line error: its input file, else its output, else the database."""
    for key in ("file", "spec", "out"):
        value = getattr(args, key, None)
        if value is not None:
            return str(value)
    return str(db.resolve_path(args.db))


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; errors go to stderr as one line with a non-zero exit, never a traceback.

    A CoopError (a refused input, a damaged or locked database) exits 1; anything unforeseen exits 2 with one
    line naming the command and its file, its traceback logged for the developer (`coop.errors.log_path`).
    """
    args = build_parser().parse_args(argv)
    reads_only = COMMANDS[args.command].reads_only and not getattr(args, "rebuild", False)
    db_path = db.resolve_path(args.db)
    try:
        opener = db.connect_for_reading if reads_only else db.connect
        con = opener(args.db, on_wait=lambda msg: print(msg, file=sys.stderr))
        try:
            result = args.func(args, con)
            _audit(args, con, result)
        except duckdb.Error as exc:
            if db.is_damage_error(exc):
                raise db.damaged(db_path, exc) from exc
            raise
        finally:
            con.close()
    except ValidationError as exc:
        groups = group_problems(exc.problems)  # rows sharing a column and reason: one line, rows as ranges
        for group in groups[:MAX_PROBLEM_LINES]:
            print(group.text(), file=sys.stderr)
        if len(groups) > MAX_PROBLEM_LINES:
            print(f"... and {len(groups) - MAX_PROBLEM_LINES} more problems", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except CoopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the boundary: whatever was not foreseen becomes one line, logged with its traceback
        print(f"error: {errors.unexpected(exc, f'{args.command} {_subject(args)}: could not finish')}", file=sys.stderr)
        return 2
    emit(result, args.json)
    return 0
