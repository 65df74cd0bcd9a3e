"""Benchmark: the classifier on the labelled real item text (tests/data/classify), and its speed through ingest.

Prints accuracy per field (category, unprocessed) on the whole labelled set and on its held-out part against the
floors of issue 17 (95% and 97%), the confusion between categories, the worst misses, and items per second
through the ingest path (`coop.ingest.enrich.with_items` on the real report's 9,619 lines, classifier caches
cleared: every distinct description and pack size classified once) against the same lines classified by
description alone with `classify_many` (the granularity before pack sizes counted).

    python bench/classify.py [--json] [--misses N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from coop import names  # noqa: E402
from coop.ingest import enrich, usage_report  # noqa: E402
from coop.products import classify, evaluate  # noqa: E402
from coop.store import db  # noqa: E402

LABELS = ROOT / "tests" / "data" / "classify" / "sgv_2019_2020_items.csv"
REAL = ROOT.parent / "shared" / "data" / "real" / "sgv-coop-district-usage-2019-2020.xlsx"
FLOORS = {"category": 0.95, "unprocessed": 0.97}


def _clear() -> None:
    """Empty the classifier's caches, so every text is classified again."""
    classify.classify.cache_clear()
    classify._base.cache_clear()
    classify._resolve.cache_clear()
    classify._words.cache_clear()


def _answer(text: str, pack: str | None) -> tuple[str, bool]:
    found = classify.classify(text, pack)
    return found.category, found.unprocessed


def _speed(lines: pl.DataFrame) -> tuple[float, float, int]:
    """Seconds through with_items (fresh database, caches cleared), seconds by description alone, distinct pairs."""
    frame = lines.select(
        pl.col(names.DESCRIPTION),
        pl.lit(None, pl.String).alias(names.PRODUCT),
        pl.lit(None, pl.String).alias(names.CATEGORY),
        pl.lit(None, pl.Boolean).alias(names.UNPROCESSED),
        pl.col(names.PACK_SIZE),
    )
    with tempfile.TemporaryDirectory() as tmp:
        con = db.connect(Path(tmp) / "bench.duckdb")
        try:
            enr = enrich.enrichment(con)
            _clear()
            start = time.perf_counter()
            enrich.with_items(frame, enr)
            ours = time.perf_counter() - start
        finally:
            con.close()
    _clear()
    start = time.perf_counter()
    classify.classify_many(lines[names.DESCRIPTION])
    base = time.perf_counter() - start
    pairs = lines.select(names.DESCRIPTION, names.PACK_SIZE).unique().height
    return ours, base, pairs


def main() -> None:
    """Measure and print (or print JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", type=int, default=15, help="worst misses to print per field")
    args = parser.parse_args()
    predicted = evaluate.predict(evaluate.read_labels(LABELS), _answer)
    scores = {part or "all": evaluate.score(predicted, part) for part in (None, *evaluate.PARTS)}
    figures = []
    for part in ("all", "held_out"):
        score = scores[part]
        for field, value in (("category", score.category_accuracy), ("unprocessed", score.unprocessed_accuracy)):
            figures.append(
                {
                    "name": f"classify: {field} accuracy, labelled real item text ({part}, {score.rows} rows)",
                    "value": value,
                    "unit": "share",
                    "baseline": "issue 17 floor",
                    "baseline_value": FLOORS[field],
                    "ratio": value / FLOORS[field],
                    "goal": f">= {FLOORS[field]:.0%}",
                    "met": value >= FLOORS[field],
                }
            )
    details: dict[str, object] = {"scores": {k: s.as_dict() for k, s in scores.items()}}
    if REAL.exists():
        lines = usage_report.parse(REAL).lines
        ours, base, pairs = _speed(lines)
        figures.append(
            {
                "name": f"classify through ingest (with_items, {lines.height:,} real lines, {pairs:,} distinct items)",
                "value": pairs / ours,
                "unit": "items/s",
                "baseline": "classify_many by description alone, same lines",
                "baseline_value": lines[names.DESCRIPTION].n_unique() / base,
                "ratio": ours / base,
                "goal": "time within 1.5x of by-description",
                "met": ours / base <= 1.5,
            }
        )
    confusion = evaluate.confusion(predicted)
    details["confusion"] = confusion.to_dicts()
    out = {"figures": figures, "details": details}
    if args.json:
        print(json.dumps(out))
        return
    for f in figures:
        print(f"{f['name']}: {f['value']:.4g} {f['unit']} (baseline {f['baseline_value']:.4g}; met {f['met']})")
    print("\nconfusion (expected -> got, rows):")
    for row in confusion.head(15).iter_rows():
        print(f"  {row[0]:>10} -> {row[1]:<10} {row[2]}")
    misses = scores["all"].misses
    for field in ("category", "unprocessed"):
        print(f"\nmisses, {field} (first {args.misses}):")
        for d, p, _, e, g in misses.filter(pl.col("field") == field).head(args.misses).iter_rows():
            print(f"  {d} [{p}]: expected {e}, got {g}")


if __name__ == "__main__":
    main()
