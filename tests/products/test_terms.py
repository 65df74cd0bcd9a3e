"""coop/products/terms/: every file loads, has its header and source, no repeated key; bad data is named."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coop import names
from coop.errors import SpecError
from coop.products import classify, units, vocabulary
from coop.products.classify import CFR, COOP, Q14, Q15, Q16, Q17, TABLE1, TABLE2

ROOT = Path(__file__).resolve().parents[2]
TERMS = ROOT / "coop" / "products" / "terms"
CITATIONS = (CFR, TABLE1, TABLE2, Q14, Q15, Q16, Q17, COOP)
PRODUCT_FILES = (
    "fruits.csv",
    "vegetables.csv",
    "proteins.csv",
    "cuts.csv",
    "grains.csv",
    "products.csv",
    "nonfood.csv",
)


def test_every_terms_file_has_a_layout_and_every_layout_a_file() -> None:
    assert {p.name for p in TERMS.glob("*.csv")} == set(vocabulary.LAYOUTS)
    assert vocabulary.terms_dir().joinpath("markers.csv").is_file()


@pytest.mark.parametrize("name", sorted(vocabulary.LAYOUTS))
def test_every_terms_file_loads_with_its_header_and_unique_keys(name: str) -> None:
    layout = vocabulary.LAYOUTS[name]
    header = (TERMS / name).read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(layout.columns)
    rows = vocabulary.table(name)
    assert rows, name
    keys = [tuple(r[c] for c in layout.key) for r in rows]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("name", sorted(set(vocabulary.LAYOUTS) - {vocabulary.SOURCES}))
def test_every_terms_file_says_where_its_terms_come_from_and_when(name: str) -> None:
    source = vocabulary.sources()[name]
    assert len(source["source"]) > 10
    assert datetime.date.fromisoformat(source["as_of"]) <= datetime.date.today()
    assert f"`{name}`" in (TERMS / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["products.csv", "markers.csv", "pack_shapes.csv"])
def test_rows_that_decide_cite_a_rule_source(name: str) -> None:
    for row in vocabulary.table(name):
        assert row["source"].startswith(CITATIONS), (row.line, row["source"])


def test_a_keyword_belongs_to_one_product_file() -> None:
    total = sum(len(vocabulary.table(n)) for n in PRODUCT_FILES)
    assert len(classify.TERMS) == total
    assert set(classify.TERMS.values()) and {t.category for t in classify.TERMS.values()} <= set(names.CATEGORIES)


def test_loaded_terms_keep_their_meaning() -> None:
    assert classify.ABBREVIATIONS["chkn"] == "chicken"
    assert classify.TERMS["apple"].product == "apples" and classify.TERMS["apple"].source.startswith(TABLE2)
    assert classify.TERMS["sauce"].head_only and not classify.TERMS["juice"].head_only
    assert classify.TERMS["milk"].nature == classify.UNPROCESSED
    assert classify.TERMS["buttermilk"].nature == classify.PROCESSED
    fish_nugget, nugget = classify.MARKERS["nugget"]
    assert (fish_nugget.keeps, fish_nugget.only) == (True, frozenset({"fish"}))
    assert (nugget.keeps, nugget.unless) == (False, frozenset({"fish"}))
    popcorn = classify.MARKERS["popcorn"][0]
    assert {"beef", "chicken", "pork", "fish", "shrimp"} <= popcorn.only and "apples" not in popcorn.only
    assert classify.MARKERS["preservative"][0].unless == classify.PRODUCE >= {"apples", "carrots"}
    assert {"butternut", "honeycrisp"} <= classify.VARIETY_WORDS and "with" in classify.SKIP_WORDS
    assert units._ALIASES["LBS"] == units.LB and "CS" in units._CONTAINER_UOMS and "CLAM" in units._COUNTED_CONTAINERS


def test_terms_are_found_from_another_working_directory(tmp_path: Path) -> None:
    code = "from coop.products.classify import classify; print(classify('CHKN BRST').product)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "chicken"


@pytest.fixture
def terms_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the package's terms files that the loader reads instead, to break one at a time."""
    copy = tmp_path / "terms"
    shutil.copytree(TERMS, copy)
    vocabulary.table.cache_clear()
    monkeypatch.setattr(vocabulary, "terms_dir", lambda: copy)
    yield copy
    vocabulary.table.cache_clear()


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first line starting with `old`; return its spreadsheet row number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(old))
    lines[index] = new
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index + 1


def test_a_bad_marker_effect_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "markers.csv", "canned,", "canned,heats,canning heats the product,seed 004 Q17,,")
    with pytest.raises(SpecError, match=rf"markers\.csv row {row} column effect: 'heats' is not one of keeps, changes"):
        classify._build_markers(classify._build_groups())


def test_an_unknown_marker_group_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "markers.csv", "pulled,", "pulled,changes,pulled meat is cooked,seed 002,@meat,")
    with pytest.raises(SpecError, match=rf"markers\.csv row {row} column only: unknown group '@meat'"):
        classify._build_markers(classify._build_groups())


def test_a_bad_category_or_rank_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "products.csv", "juice,", "juice,juice,fruits,processed,dish,no,juice,seed 002")
    with pytest.raises(SpecError, match=rf"products\.csv row {row} column category: 'fruits' is not one of fruit,"):
        classify._build_terms()
    vocabulary.table.cache_clear()
    row = _replace(terms_copy / "products.csv", "juice,", "juice,juice,fruit,processed,entree,no,juice,seed 002")
    with pytest.raises(SpecError, match=rf"products\.csv row {row} column rank: 'entree' is not one of cut,"):
        classify._build_terms()


def test_a_keyword_in_two_files_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "nonfood.csv", "tray,", "apple,trays,no")
    message = rf"nonfood\.csv row {row} column keyword: 'apple' is already a keyword in \S*fruits\.csv row 2"
    with pytest.raises(SpecError, match=message):
        classify._build_terms()


def test_a_keyword_the_tokeniser_cannot_match_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "fruits.csv", "apple,", "Apple,apples")
    with pytest.raises(SpecError, match=rf"fruits\.csv row {row} column keyword: 'Apple' is not lower-case words"):
        classify._build_terms()


def test_a_bad_unit_label_is_named(terms_copy: Path) -> None:
    row = _replace(terms_copy / "unit_aliases.csv", "LBS,", "LBS,pounds,")
    with pytest.raises(SpecError, match=rf"unit_aliases\.csv row {row} column unit: 'pounds' is not one of lb,"):
        units._aliases()
    vocabulary.table.cache_clear()
    row = _replace(terms_copy / "unit_aliases.csv", "LBS,", "lbs,lb,")
    with pytest.raises(SpecError, match=rf"unit_aliases\.csv row {row} column spelling: 'lbs' is not upper case"):
        units._aliases()


def test_a_bad_pack_shape_bound_or_scope_is_named(terms_copy: Path) -> None:
    groups = classify._build_groups()
    row = _replace(terms_copy / "pack_shapes.csv", "grain portions,", "grain portions,oz,many,,,8,@grains,why,seed 002")
    with pytest.raises(SpecError, match=rf"pack_shapes\.csv row {row} column count_min: 'many' is not a number"):
        classify._build_shapes(groups)
    vocabulary.table.cache_clear()
    row = _replace(terms_copy / "pack_shapes.csv", "grain portions,", "grain portions,oz,24,2,,8,@grains,why,seed 002")
    with pytest.raises(SpecError, match=rf"pack_shapes\.csv row {row} column count_min: the least is above the most"):
        classify._build_shapes(groups)
    vocabulary.table.cache_clear()
    row = _replace(terms_copy / "pack_shapes.csv", "grain portions,", "grain portions,oz,24,,,8,@grain,why,seed 002")
    with pytest.raises(SpecError, match=rf"pack_shapes\.csv row {row} column only: unknown group '@grain'"):
        classify._build_shapes(groups)
