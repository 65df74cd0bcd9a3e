"""Measuring the classifier on a labelled set: accuracy per field, per part, and the confusion between categories.

A labelled set is a CSV with `description, pack_size, categories, unprocessed, part` (and anything else):
`categories` lists the accepted categories (`;`-separated), `unprocessed` is true, false or blank (not scored),
`part` is `tuned` or `held_out` (`tests/data/classify/README.md` describes the shipped one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from coop.errors import SpecError
from coop.parsing import FALSE_WORDS, TRUE_WORDS

PARTS: Final = ("tuned", "held_out")
_COLUMNS: Final = ("description", "pack_size", "categories", "unprocessed", "part")
Classifier = Callable[[str, str | None], tuple[str, bool]]  # (text, pack size) -> (category, unprocessed)


@dataclass(frozen=True)
class Score:
    """Accuracy of one part of a labelled set: rows, category and unprocessed accuracy, and the misses."""

    part: str
    rows: int
    category_accuracy: float
    unprocessed_rows: int
    unprocessed_accuracy: float
    misses: pl.DataFrame  # description, pack_size, field, expected, got

    def as_dict(self) -> dict[str, object]:
        """The figures (no misses) as plain values."""
        return {
            "part": self.part,
            "rows": self.rows,
            "category_accuracy": round(self.category_accuracy, 4),
            "unprocessed_rows": self.unprocessed_rows,
            "unprocessed_accuracy": round(self.unprocessed_accuracy, 4),
        }


def read_labels(path: str | Path) -> pl.DataFrame:
    """The labelled set: accepted categories as a list, unprocessed as a nullable bool; a SpecError if malformed."""
    frame = pl.read_csv(path, infer_schema=False).with_columns(pl.all().fill_null(""))
    missing = [c for c in _COLUMNS if c not in frame.columns]
    if missing:
        raise SpecError(f"{path}: labelled set lacks column(s) {', '.join(missing)}")
    words = {w: True for w in TRUE_WORDS} | {w: False for w in FALSE_WORDS}
    bad = frame.filter(~pl.col("part").is_in(PARTS) | (pl.col("categories") == ""))
    if bad.height:
        raise SpecError(f"{path}: {bad.height} row(s) with no categories or a part other than {', '.join(PARTS)}")
    return frame.with_columns(
        pl.col("categories").str.split(";"),
        pl.col("unprocessed").str.to_lowercase().replace_strict(words, default=None, return_dtype=pl.Boolean),
        pl.when(pl.col("pack_size") == "").then(None).otherwise(pl.col("pack_size")).alias("pack_size"),
    )


def predict(labels: pl.DataFrame, classifier: Classifier) -> pl.DataFrame:
    """The labelled rows with the classifier's `got_category` and `got_unprocessed`."""
    got = [classifier(d, p) for d, p in labels.select("description", "pack_size").iter_rows()]
    return labels.with_columns(
        pl.Series("got_category", [c for c, _ in got], dtype=pl.String),
        pl.Series("got_unprocessed", [u for _, u in got], dtype=pl.Boolean),
    )


def score(predicted: pl.DataFrame, part: str | None = None) -> Score:
    """Accuracy on one part (None: all rows) of predicted labels (`predict`)."""
    rows = predicted if part is None else predicted.filter(pl.col("part") == part)
    cat_ok = rows.select(pl.col("categories").list.contains(pl.col("got_category"))).to_series()
    scored = rows.filter(pl.col("unprocessed").is_not_null())
    unp_ok = scored["unprocessed"] == scored["got_unprocessed"]
    misses = pl.concat(
        [
            rows.filter(~cat_ok).select(
                "description",
                "pack_size",
                pl.lit("category").alias("field"),
                pl.col("categories").list.join(";").alias("expected"),
                pl.col("got_category").alias("got"),
            ),
            scored.filter(~unp_ok).select(
                "description",
                "pack_size",
                pl.lit("unprocessed").alias("field"),
                pl.col("unprocessed").cast(pl.String).alias("expected"),
                pl.col("got_unprocessed").cast(pl.String).alias("got"),
            ),
        ]
    )
    return Score(
        part or "all",
        rows.height,
        float(cat_ok.mean() or 0.0) if rows.height else 0.0,
        scored.height,
        float(unp_ok.mean() or 0.0) if scored.height else 0.0,
        misses,
    )


def confusion(predicted: pl.DataFrame) -> pl.DataFrame:
    """Rows per (first accepted category, predicted category) where the prediction is not accepted."""
    return (
        predicted.filter(~pl.col("categories").list.contains(pl.col("got_category")))
        .group_by(pl.col("categories").list.first().alias("expected"), pl.col("got_category").alias("got"))
        .agg(pl.len().alias("rows"))
        .sort("rows", descending=True)
    )
