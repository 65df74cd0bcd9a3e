"""Reading terms files: the exact header, required cells, unique keys, and errors naming file, row and column."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coop.errors import CoopError, SpecError
from coop.products import vocabulary
from coop.products.vocabulary import Layout, read_table

LAYOUT = Layout(("word", "means", "note"), ("word",), frozenset({"note"}))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_rows_with_their_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", 'word,means,note\nchkn,chicken,\n\n"a, b",c,"quoted, note"\n')
    rows = read_table(path, LAYOUT)
    assert [(r.line, r["word"], r["means"], r["note"]) for r in rows] == [
        (2, "chkn", "chicken", ""),
        (4, "a, b", "c", "quoted, note"),  # the blank row 3 is skipped but still counted
    ]
    assert rows[0].file == str(path)


def test_a_wrong_header_names_file_and_row_1(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,meaning,note\nchkn,chicken,\n")
    with pytest.raises(SpecError, match=r"t\.csv row 1: header is \['word', 'meaning', 'note'\], expected"):
        read_table(path, LAYOUT)


def test_an_empty_file_is_a_missing_header(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"t\.csv row 1: header is None"):
        read_table(_write(tmp_path / "t.csv", ""), LAYOUT)


def test_a_row_with_too_few_values_names_its_row(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,means,note\nchkn,chicken,\nbrst,breast\n")
    with pytest.raises(SpecError, match=r"t\.csv row 3: 2 values, expected 3 \(word, means, note\)"):
        read_table(path, LAYOUT)


def test_an_empty_required_cell_names_row_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,means,note\nchkn,,\n")
    with pytest.raises(SpecError, match=r"t\.csv row 2 column means: empty"):
        read_table(path, LAYOUT)


def test_spaces_around_a_value_are_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,means,note\nchkn ,chicken,\n")
    with pytest.raises(SpecError, match=r"t\.csv row 2 column word: 'chkn ' has spaces around it"):
        read_table(path, LAYOUT)


def test_a_duplicate_key_names_both_rows(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,means,note\nchkn,chicken,\nbrst,breast,\nchkn,chick,\n")
    with pytest.raises(SpecError, match=r"t\.csv row 4 column word: 'chkn' is already on row 2"):
        read_table(path, LAYOUT)


def test_a_compound_key_allows_repeats_of_one_column(tmp_path: Path) -> None:
    layout = Layout(("word", "only"), ("word", "only"), frozenset({"only"}))
    path = _write(tmp_path / "t.csv", "word,only\nstick,fish\nstick,\n")
    assert [r["only"] for r in read_table(path, layout)] == ["fish", ""]
    _write(path, "word,only\nstick,fish\nstick,fish\n")
    with pytest.raises(SpecError, match="row 3 column word: 'stick / fish' is already on row 2"):
        read_table(path, layout)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"nope\.csv: terms file not found"):
        read_table(tmp_path / "nope.csv", LAYOUT)


def test_row_choice_and_items(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "word,means,note\nstick,keeps,@meats; fish\n")
    (row,) = read_table(path, LAYOUT)
    assert row.choice("means", {"keeps": True, "changes": False}) is True
    assert row.items("note") == ("@meats", "fish")
    error = row.error("means", "bad")
    assert isinstance(error, CoopError) and str(error) == f"{path} row 2 column means: bad"
    with pytest.raises(SpecError, match=r"row 2 column word: 'stick' is not one of keeps, changes"):
        row.choice("word", {"keeps": True, "changes": False})


@pytest.fixture
def terms_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty terms directory the loader reads instead of the package's."""
    vocabulary.table.cache_clear()
    vocabulary.sources.cache_clear()
    monkeypatch.setattr(vocabulary, "terms_dir", lambda: tmp_path)
    yield tmp_path
    vocabulary.table.cache_clear()
    vocabulary.sources.cache_clear()


def test_sources_need_a_date_and_a_known_file(terms_in: Path) -> None:
    _write(terms_in / "sources.csv", "file,source,as_of\nfruits.csv,seed 002,2026-11-23\n")
    assert vocabulary.sources()["fruits.csv"]["as_of"] == "2026-11-23"
    vocabulary.table.cache_clear()
    vocabulary.sources.cache_clear()
    _write(terms_in / "sources.csv", "file,source,as_of\nfruits.csv,seed 002,Nov 2026\n")
    with pytest.raises(SpecError, match=r"sources\.csv row 2 column as_of: 'Nov 2026' is not a date"):
        vocabulary.sources()
    vocabulary.table.cache_clear()
    vocabulary.sources.cache_clear()
    _write(terms_in / "sources.csv", "file,source,as_of\nfruit.csv,seed 002,2026-11-23\n")
    with pytest.raises(SpecError, match=r"sources\.csv row 2 column file: 'fruit\.csv' is not a terms file"):
        vocabulary.sources()


def test_table_is_read_once(terms_in: Path) -> None:
    _write(terms_in / "skip_words.csv", "word\nwith\n")
    first = vocabulary.table("skip_words.csv")
    _write(terms_in / "skip_words.csv", "word\nand\n")
    assert vocabulary.table("skip_words.csv") is first
