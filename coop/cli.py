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


# --- handlers --------------------------------------------------------------------
def _init(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Create or migrate the database."""
    return {"db": str(db.resolve_path(args.db)), "schema_version": db.schema_version(con)}


def _districts(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert districts from a CSV file."""
    return {"districts_upserted": districts.upsert_from_csv(con, args.file)}


# --- ingest, batches, undo (agent "ingest") ---
MAX_WARNING_LINES = 100


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
    )
    shown = [p for p in result.problems if p.severity == WARNING][:MAX_WARNING_LINES]
    for problem in shown:
        print(f"warning: {format_problem(problem)}", file=sys.stderr)
    if result.warnings > len(shown):
        print(f"warning: ... and {result.warnings - len(shown)} more", file=sys.stderr)
    return result.to_json()


def _batches(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """List every ingest batch."""
    from coop.store import batches

    return batches.list_batches(con).to_dicts()


def _undo(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Remove one batch and its lines."""
    from coop.store import batches

    return {"batch_id": args.batch_id, "rows_removed": batches.undo(con, args.batch_id)}


# --- end ingest ---


# --- metrics (agent "metrics") ---
def _iso_date(text: str) -> date:
    """An argparse type: a YYYY-MM-DD date."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


def _metrics(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Local share, unknown-origin spend and local price premiums per district and for the co-op."""
    from coop.metrics import compute

    if args.date_from is not None and args.date_to is not None and args.date_from > args.date_to:
        raise CoopError(f"--from {args.date_from} is after --to {args.date_to}")
    return compute.compute(con, args.date_from, args.date_to).to_json()


def _summary(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The purchase summary's state (exists, current, rows, lines covered); rebuilt from the lines with --rebuild."""
    from coop.store import summary

    return summary.rebuild(con) if args.rebuild else summary.status(con)


# --- end metrics ---


# --- route LP: optimize, sensitivity, incentive (agent "lp") ---
def _lp_inputs(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> tuple[Any, Any]:
    """The model (paper or a district's calibrated costs) and the scenario (shipped name or JSON file)."""
    from coop.optimize import lp, scenarios

    base = scenarios.model_from_json(args.model_file) if args.model_file is not None else scenarios.paper_model()
    base = base.unrounded() if args.unrounded else base
    if args.district is not None:
        model, notes = lp.district_model(con, args.district, base=base)
        print(f"{model.source}; " + "; ".join(notes), file=sys.stderr)
    else:
        model = base
    if args.scenario_file is not None:
        return model, scenarios.scenario_from_json(args.scenario_file)
    return model, scenarios.get_scenario(args.scenario)


def _optimize(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Solve the route LP for one scenario."""
    from coop.optimize import lp

    model, scenario = _lp_inputs(args, con)
    result = lp.solve(scenario, model)
    return result.to_json() if args.json else result.text()


def _sensitivity(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """The paper's +/-50% cost sensitivity runs for one scenario."""
    from coop.optimize import sensitivity

    model, scenario = _lp_inputs(args, con)
    result = sensitivity.sensitivity(scenario, model)
    return result.to_json() if args.json else result.text()


def _incentive(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """The smallest extra per-meal incentive that moves a target share of meals to a route or the local routes."""
    from coop import names
    from coop.optimize import incentive

    model, scenario = _lp_inputs(args, con)
    routes = (args.route,) if args.route is not None else names.LOCAL_ROUTES
    result = incentive.find_incentive(scenario, args.target, routes, model, max_incentive=args.max_incentive)
    return result.to_json() if args.json else result.text()


def _add_lp_commands(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """Register optimize, sensitivity and incentive."""
    from coop import names

    def lp_args(p: argparse.ArgumentParser) -> None:
        """The arguments every route-LP command takes."""
        p.add_argument("--scenario", default="bau", help="bau, co-hb-19-1132, local-25, high-economic-impact, ...")
        p.add_argument("--scenario-file", type=Path, default=None, help="a user-defined scenario as JSON")
        where = p.add_mutually_exclusive_group()
        where.add_argument("--district", default=None, help="use this district's calibrated route costs and meals")
        where.add_argument("--paper", action="store_true", help="use the paper's costs and meals (default)")
        p.add_argument("--unrounded", action="store_true", help="exact ratio coefficients instead of Table 3's")
        p.add_argument("--model-file", type=Path, default=None, help="a user-edited model as JSON (default: paper)")

    lp_args(add("optimize", _optimize, "solve the route-choice LP (Love et al. 2025) for one scenario"))
    lp_args(add("sensitivity", _sensitivity, "the paper's cost sensitivity analysis (10 runs) for one scenario"))
    p = add("incentive", _incentive, "smallest per-meal incentive moving a target share of meals to some routes")
    lp_args(p)
    target = p.add_mutually_exclusive_group()
    target.add_argument("--route", choices=names.ROUTES, default=None, help="incentive on this route only")
    target.add_argument("--local", action="store_true", help="incentive on all three local routes (default)")
    p.add_argument("--target", type=float, required=True, help="share of meals to reach, in (0, 1]")
    p.add_argument("--max-incentive", type=float, default=None, help="largest incentive to try ($ per meal)")


# --- end route LP ---


# --- pooled co-op: pool (agent "pool") ---
def _pool(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Standalone optima against the pooled optimum and each allocation of the pooled cost."""
    from coop.optimize import allocate, pool, quotes

    if args.spec is not None:
        spec = pool.load_spec(args.spec)
    else:
        spec = quotes.spec_from_db(
            con, local_share_min=args.local_share, date_from=args.date_from, date_to=args.date_to
        )
    settings = pool.SolverSettings(mip_gap=args.mip_gap, time_limit=args.time_limit)
    report = allocate.allocate(
        spec,
        settings,
        exact_limit=args.exact_limit,
        permutations=args.permutations,
        seed=args.seed,
        max_seconds=args.max_seconds,
    )
    return report.to_json() if args.json else str(report.table())


def _report(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Write the month's partner-meeting packet (HTML and XLSX) into a folder."""
    from coop.report import build

    packet = build.build(con, args.month, include_savings=not args.no_savings)
    paths = build.write(packet, args.out)
    return {
        "month": args.month,
        "html": paths["html"],
        "xlsx": paths["xlsx"],
        "coop_local_share": packet.coop_local_share,
        "coop_local_share_text": build.format_share(packet.coop_local_share),
    }


def _bench(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> Any:
    """Run the benchmark scripts and print every figure with its same-run baseline and ratio."""
    from coop import bench

    result = bench.run(
        rows=args.rows,
        metrics_rows=args.metrics_rows,
        districts=args.districts,
        only=tuple(args.only or ()),
        progress=lambda f, msg: print(f"[{f:4.0%}] {msg}", file=sys.stderr),
    )
    return result if args.json else bench.table(result)


def _export(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Export the database to Hive-partitioned Parquet."""
    from coop.store import export

    return export.to_parquet(con, args.out)


def _add_pool_commands(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """Register pool."""
    p = add("pool", _pool, "pooled co-op purchasing: savings against standalone optima and fair splits")
    p.add_argument("--spec", type=Path, default=None, help="a JSON pool spec (default: built from the database)")
    p.add_argument("--local-share", type=float, default=None, help="database spec: every member's minimum local share")
    p.add_argument("--from", dest="date_from", type=_iso_date, default=None, help="database spec: first invoice date")
    p.add_argument("--to", dest="date_to", type=_iso_date, default=None, help="database spec: last invoice date")
    p.add_argument("--exact-limit", type=int, default=10, help="exact Shapley and core check up to this many members")
    p.add_argument("--permutations", type=int, default=64, help="sampled Shapley permutations beyond the exact limit")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sampled Shapley")
    p.add_argument("--max-seconds", type=float, default=120.0, help="time budget of the sampled Shapley")
    p.add_argument("--mip-gap", type=float, default=1e-6, help="relative MIP gap of every coalition solve")
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per coalition solve")


# --- end pooled co-op ---


# --- sample co-op, vendor registry, meal counts (agent "sample") ---
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


def _vendors(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert the vendor registry from a CSV file."""
    from coop.registry import vendors

    return {"vendors_upserted": vendors.upsert_from_csv(con, args.file)}


def _meals(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Upsert monthly meal counts from a CSV file."""
    from coop.registry import meals

    return {"meal_counts_upserted": meals.upsert_from_csv(con, args.file)}


def _add_sample_commands(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """Register sample, vendors and meals."""
    p = add("sample", _sample, "load the bundled sample co-op (or generate files with --rows/--out, --regenerate)")
    p.add_argument("--rows", type=int, default=None, help="write a generated file of this many purchase lines")
    p.add_argument("--out", type=Path, default=None, help="the file --rows writes (CSV)")
    p.add_argument("--district", default=None, help="with --rows: put every line under this district id")
    p.add_argument("--regenerate", action="store_true", help="rewrite data/sample from the generator")
    p.add_argument("--seed", type=int, default=2025, help="generator seed")
    p = add("vendors", _vendors, "upsert the vendor registry from a CSV (vendor_name, vendor_type, origin)")
    p.add_argument("file", type=Path)
    p = add("meals", _meals, "upsert monthly meal counts from a CSV (district_id, month, meals)")
    p.add_argument("file", type=Path)


# --- end sample ---


# --- procurement rules: thresholds, bids, classify (agent "rules") ---
def _thresholds(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Required vs recorded procurement method per district, vendor and school year, and split purchases."""
    from coop.rules import thresholds

    table = thresholds.thresholds_from_db(con, args.school_year)
    splits = thresholds.split_purchases_from_db(con, args.school_year)
    return {
        "school_year": args.school_year,
        "school_year_convention": "school year N = N-07-01..(N+1)-06-30",
        "flagged": int(table["flag"].sum()),
        "thresholds": table.to_dicts(),
        "split_purchases": splits.to_dicts(),
    }


def _bids(args: argparse.Namespace, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Score a bids CSV with a geographic preference (points or percent, optionally among the K lowest)."""
    from coop.rules import bids

    frame = bids.read_bids(args.file)
    result = bids.score_bids(frame, points=args.points, percent=args.percent, among=args.among, item=args.item)
    return result.to_json()


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


def _add_rules_commands(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """Register thresholds, bids and classify."""
    p = add("thresholds", _thresholds, "procurement method each district-vendor-year's spend requires; split purchases")
    p.add_argument("--school-year", type=int, default=None, help="YYYY: the school year starting YYYY-07-01")
    p = add("bids", _bids, "rank bids with a geographic preference (1 point = 1 cent, or a percentage)")
    p.add_argument("file", type=Path, help="CSV with bidder,price,meets_preference")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--points", type=float, default=None, help="preference points (1 point = 1 cent off)")
    how.add_argument("--percent", type=float, default=None, help="preference as a percentage off")
    p.add_argument("--among", type=int, default=None, help="apply the preference only among the K lowest bids")
    p.add_argument("--item", default=None, help="item description: preference applies only if unprocessed")
    p = add("classify", _classify, "classify an item description (unprocessed per 7 CFR 210.21(g))")
    p.add_argument("text")


# --- end rules ---


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
    # ingest, batches, undo (agent "ingest")
    p = add("ingest", _ingest, "validate and load one CSV/XLSX/Parquet file or distributor usage report as a batch")
    p.add_argument("file", type=Path)
    p.add_argument("--district", default=None, help="district id the file's lines belong to")
    p.add_argument("--mapping", default=None, help="use a saved header mapping")
    p.add_argument("--save-mapping", default=None, help="save the header mapping used under this name")
    p.add_argument("--sheet", default=None, help="XLSX sheet name (default: the first sheet)")
    p.add_argument("--skip-invalid", action="store_true", help="load valid rows, keep the rest as rejects")
    p.add_argument("--vendor", default=None, help="distributor name (usage reports)")
    p.add_argument("--vendor-type", default=None, help="distributor vendor type (usage reports)")
    p.add_argument("--add-districts", action="store_true", help="register districts a usage report names")
    p.add_argument("--state", help="state of the districts --add-districts registers (two letters)")
    p.add_argument("--zip", help="ZIP code of the districts --add-districts registers (their local radius centre)")
    add("batches", _batches, "list ingest batches")
    p = add("undo", _undo, "remove one ingest batch")
    p.add_argument("batch_id", type=int)
    # metrics (agent "metrics")
    p = add("metrics", _metrics, "local share and local price premiums per district and for the co-op")
    p.add_argument("--from", dest="date_from", type=_iso_date, default=None, help="first invoice date (inclusive)")
    p.add_argument("--to", dest="date_to", type=_iso_date, default=None, help="last invoice date (inclusive)")
    p = add("summary", _summary, "state of the purchase summary metrics read (maintained on load)")
    p.add_argument("--rebuild", action="store_true", help="recompute the summary from every purchase line")
    # optimize, sensitivity, incentive (agent "lp")
    _add_lp_commands(add)
    _add_pool_commands(add)
    p = add("report", _report, "write the monthly partner-meeting packet (HTML and XLSX)")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", type=Path, required=True, help="folder for packet-YYYY-MM.html and .xlsx")
    p.add_argument("--no-savings", action="store_true", help="skip the pooled-savings section (faster)")
    p = add("bench", _bench, "run the benchmarks (ingest, metrics, LP, pool) against same-run baselines")
    p.add_argument("--rows", type=int, default=1_000_000, help="lines of the ingest benchmark's file")
    p.add_argument("--metrics-rows", type=int, default=10_000_000, help="lines of the metrics benchmark's table")
    p.add_argument("--districts", type=int, default=200, help="largest co-op for the pool benchmark")
    p.add_argument("--only", nargs="*", help="run only these (ingest, metrics, lp, pool)")
    p = add("export", _export, "export purchases to Parquet partitioned by district and year (plus small tables)")
    p.add_argument("--out", type=Path, required=True, help="folder to write into")
    _add_sample_commands(add)
    _add_rules_commands(add)
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
