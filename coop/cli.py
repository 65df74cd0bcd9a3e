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

from coop import bench, names
from coop.errors import WARNING, CoopError, ValidationError, format_problem
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


COMMANDS: dict[str, Command] = {}


def command(name: str, help_text: str, *args: Arg | OneOf) -> Callable[[Handler], Handler]:
    """Register the decorated handler as subcommand `name` with its arguments (the one way commands are added)."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} registered twice")
        COMMANDS[name] = Command(name, handler, help_text, args)
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
MAX_WARNING_LINES = 100


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
    arg("--vendor-type", default=None, help="distributor vendor type (usage reports)"),
    arg("--add-districts", action="store_true", help="register districts a usage report names"),
    arg("--state", help="state of the districts --add-districts registers (two letters)"),
    arg("--zip", help="ZIP code of the districts --add-districts registers (their local radius centre)"),
)
def _ingest(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Load one file as a batch (a distributor usage report when detected or --vendor is given)."""
    from coop.ingest import ingest_file

    result = ingest_file(
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
    shown = [p for p in result.problems if p.severity == WARNING][:MAX_WARNING_LINES]
    for problem in shown:
        print(f"warning: {format_problem(problem)}", file=sys.stderr)
    if result.warnings > len(shown):
        print(f"warning: ... and {result.warnings - len(shown)} more", file=sys.stderr)
    return result.to_json()


@command("batches", "list ingest batches")
def _batches(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """List every ingest batch."""
    from coop.store import batches

    return batches.list_batches(con).to_dicts()


@command("undo", "remove one ingest batch", arg("batch_id", type=int))
def _undo(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Remove one batch and its lines."""
    from coop.store import batches

    return {"batch_id": args.batch_id, "rows_removed": batches.undo(con, args.batch_id)}


# --- metrics ---
@command(
    "metrics",
    "local share and local price premiums per district and for the co-op",
    arg("--from", dest="date_from", type=_iso_date, default=None, help="first invoice date (inclusive)"),
    arg("--to", dest="date_to", type=_iso_date, default=None, help="last invoice date (inclusive)"),
)
def _metrics(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Local share, unknown-origin spend and local price premiums per district and for the co-op."""
    from coop.metrics import compute

    if args.date_from is not None and args.date_to is not None and args.date_from > args.date_to:
        raise CoopError(f"--from {args.date_from} is after --to {args.date_to}")
    return compute.compute(con, args.date_from, args.date_to).to_json()


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
)
def _report(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Write the month's partner-meeting packet (HTML and XLSX) into a folder."""
    from coop.report import build, render

    packet = build.build(con, args.month, include_savings=not args.no_savings)
    paths = render.write(packet, args.out)
    return {
        "month": args.month,
        "html": paths["html"],
        "xlsx": paths["xlsx"],
        "coop_local_share": packet.coop_local_share,
        "coop_local_share_text": build.format_share(packet.coop_local_share),
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


@command("classify", "classify an item description (unprocessed per 7 CFR 210.21(g))", arg("text"))
def _classify(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Classify one item description: product, category, unprocessed, the rule and its source."""
    from coop.products.classify import classify

    found = classify(args.text)
    return {
        "unprocessed": found.unprocessed,
        "reason": found.reason,
        "source": found.source,
        "rule": found.rule,
        "product": found.product,
        "category": found.category,
        "confidence": found.confidence,
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
