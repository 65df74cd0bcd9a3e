"""The classifier on the labelled real item text (tests/data/classify): accuracy floors, whole set and held-out part."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from coop.errors import SpecError
from coop.products import classify, evaluate
from tests.conftest import DATA

LABELS = DATA / "classify" / "sgv_2019_2020_items.csv"
# issue 17's floors (category, unprocessed), on the whole set and on each part
FLOORS = {
    None: (0.95, 0.97),
    "tuned": (0.95, 0.97),
    "held_out": (0.95, 0.97),
}


@pytest.fixture(scope="module")
def predicted() -> pl.DataFrame:
    labels = evaluate.read_labels(LABELS)

    def answer(text: str, pack: str | None) -> tuple[str, bool]:
        found = classify.classify(text, pack)
        return found.category, found.unprocessed

    return evaluate.predict(labels, answer)


def test_the_labelled_set_covers_the_real_report(predicted: pl.DataFrame) -> None:
    assert predicted.height == 2767 and predicted["description"].n_unique() == 2648
    assert predicted.filter(pl.col("part") == "held_out").height > 800
    assert predicted["unprocessed"].null_count() / predicted.height < 0.10  # blank only where debatable


@pytest.mark.parametrize("part", [None, "tuned", "held_out"])
def test_accuracy_floors(predicted: pl.DataFrame, part: str | None) -> None:
    score = evaluate.score(predicted, part)
    category_floor, unprocessed_floor = FLOORS[part]
    assert score.category_accuracy >= category_floor, score.misses.filter(pl.col("field") == "category")
    assert score.unprocessed_accuracy >= unprocessed_floor, score.misses.filter(pl.col("field") == "unprocessed")


def test_nothing_packed_in_10_cans_is_unprocessed(predicted: pl.DataFrame) -> None:
    canned = predicted.filter(pl.col("pack_size").str.contains("#10", literal=True))
    assert canned.height > 70 and not canned["got_unprocessed"].any()


def test_confusion_names_the_pairs_that_miss(predicted: pl.DataFrame) -> None:
    table = evaluate.confusion(predicted)
    misses = evaluate.score(predicted).misses.filter(pl.col("field") == "category").height
    assert int(table["rows"].sum()) == misses
    assert not table.filter(pl.col("expected") == pl.col("got")).height


def test_a_malformed_labelled_set_is_refused_by_name(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("description,pack_size,categories,unprocessed,part\nAPPLE,,fruit,true,training\n")
    with pytest.raises(SpecError, match="part other than tuned, held_out"):
        evaluate.read_labels(bad)
