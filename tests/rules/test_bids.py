"""Geographic-preference bid scoring: seed 004 Q5's worked example, percentages, ties, warnings, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop import cli
from coop.errors import SpecError, ValidationError
from coop.rules import bids

DATA = Path(__file__).resolve().parents[1] / "data" / "bids"


def _bids(*rows: tuple[str, float, bool]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=bids.BID_SCHEMA, orient="row")


SEED = _bids(("Bidder 1", 1.97, False), ("Bidder 2", 2.10, True), ("Bidder 3", 2.03, False))


def _evaluated(result: bids.BidResult) -> dict[str, float]:
    return dict(zip(result.ranking[bids.BIDDER], result.ranking[bids.EVALUATED_PRICE], strict=True))


def test_seed004_q5_worked_example() -> None:
    result = bids.score_bids(SEED, points=10, among=3)
    assert result.winner == "Bidder 1"
    assert _evaluated(result) == pytest.approx({"Bidder 1": 1.97, "Bidder 2": 2.00, "Bidder 3": 2.03})
    assert result.ranking[bids.BIDDER].to_list() == ["Bidder 1", "Bidder 2", "Bidder 3"]
    # the evaluated price only ranks: the price paid stays the bid
    assert result.ranking.filter(pl.col(bids.BIDDER) == "Bidder 2")[bids.PRICE].item() == pytest.approx(2.10)
    assert result.warnings == ()


def test_more_points_let_the_local_bid_win() -> None:
    result = bids.score_bids(SEED, points=15, among=3)
    assert result.winner == "Bidder 2"
    assert _evaluated(result)["Bidder 2"] == pytest.approx(1.95)


def test_percentage_preference() -> None:
    # 5% off $2.10 = $1.995 > $1.97: Bidder 1 still wins; 7% off = $1.953 wins for Bidder 2
    five = bids.score_bids(SEED, percent=5)
    assert five.winner == "Bidder 1" and _evaluated(five)["Bidder 2"] == pytest.approx(1.995)
    seven = bids.score_bids(SEED, percent=7)
    assert seven.winner == "Bidder 2" and _evaluated(seven)["Bidder 2"] == pytest.approx(1.953)


def test_among_k_lowest_only() -> None:
    # the local bid is 4th lowest: with among=3 it gets no preference
    four = _bids(("A", 1.90, False), ("B", 1.95, False), ("C", 1.99, False), ("Local", 2.02, True))
    limited = bids.score_bids(four, points=20, among=3)
    assert limited.winner == "A"
    assert limited.ranking.filter(pl.col(bids.BIDDER) == "Local")[bids.PREFERENCE_APPLIED].item() is False
    assert bids.score_bids(four, points=20).winner == "Local"  # $1.82 when every bid is eligible


def test_tie_on_evaluated_price_goes_to_lower_bid_then_local() -> None:
    # Local $2.05 - 10 points = $1.95 ties Other's $1.95: lower actual price (Other) wins
    tie = _bids(("Other", 1.95, False), ("Local", 2.05, True), ("Third", 2.20, False))
    result = bids.score_bids(tie, points=10)
    assert result.winner == "Other"
    assert result.ranking[bids.RANK].to_list() == [1, 2, 3]
    # same actual price and same evaluated price: the bid meeting the preference wins
    same = _bids(("Other", 2.00, False), ("Local", 2.00, True), ("Third", 2.20, False))
    assert bids.score_bids(same, points=0).winner == "Local"


def test_full_tie_names_no_winner() -> None:
    twins = _bids(("A", 2.00, False), ("B", 2.00, False), ("C", 2.10, False))
    result = bids.score_bids(twins, points=10)
    assert result.winner is None
    assert result.ranking[bids.RANK].to_list() == [1, 1, 3]
    assert any("unresolved tie" in w for w in result.warnings)


def test_warnings_for_few_bids_and_exclusion() -> None:
    two = bids.score_bids(_bids(("A", 2.0, False), ("B", 2.1, True)), points=10)
    assert any("fewer than 3" in w for w in two.warnings)
    # 50 points is larger than the whole spread ($0.13): any local bid beats every other -> exclusion (Q3)
    big = bids.score_bids(SEED, points=50)
    assert big.winner == "Bidder 2"
    assert any("exclusion" in w and "Q3" in w for w in big.warnings)
    # the 2024 rule beside Q3's warning, with its source and date
    (exclusion,) = [w for w in big.warnings if "exclusion" in w]
    assert "since 2024-07-01" in exclusion and "as a specification" in exclusion and "89 FR 31962" in exclusion
    assert big.to_json()["rules"] == [bids.EXCLUSION_Q3, bids.LOCAL_SPECIFICATION_2024]
    assert "2011" in bids.EXCLUSION_Q3 and "locally caught" in bids.LOCAL_SPECIFICATION_2024
    assert any("leaves 1 competitive bid" in w for w in big.warnings)


def test_preference_only_for_unprocessed_products() -> None:
    canned = bids.score_bids(SEED, points=15, item="Peaches, diced, canned #10")
    assert canned.winner == "Bidder 1"  # ranked on price alone
    assert not canned.ranking[bids.PREFERENCE_APPLIED].any()
    assert any("processed" in w and "Q17" in w for w in canned.warnings)
    fresh = bids.score_bids(SEED, points=15, item="Apples, Gala, 88ct")
    assert fresh.winner == "Bidder 2"
    assert bids.score_bids(SEED, points=15, unprocessed=False).winner == "Bidder 1"


def test_bad_arguments() -> None:
    with pytest.raises(SpecError):
        bids.score_bids(SEED, points=10, percent=5)
    with pytest.raises(SpecError):
        bids.score_bids(SEED, percent=100)
    with pytest.raises(SpecError):
        bids.score_bids(SEED, points=10, among=0)


def test_read_bids_any_case_booleans_and_money() -> None:
    frame = bids.read_bids(DATA / "mixed_case_booleans.csv")
    assert frame[bids.MEETS_PREFERENCE].to_list() == [True, False, True, True]
    assert frame[bids.PRICE].to_list() == pytest.approx([1.80, 1075.0, 1.90, 1.95])


def test_read_bids_names_every_bad_cell() -> None:
    path = DATA / "bad_cells.csv"
    with pytest.raises(ValidationError) as info:
        bids.read_bids(path)
    found = {(p.row, p.column) for p in info.value.problems}
    assert found == {(2, "price"), (3, "bidder"), (4, "price"), (4, "meets_preference"), (5, "bidder"), (6, "price")}
    assert all(p.file == str(path) for p in info.value.problems)


def test_read_bids_missing_column() -> None:
    with pytest.raises(ValidationError) as info:
        bids.read_bids(DATA / "missing_column.csv")
    assert {(p.row, p.column) for p in info.value.problems} == {(1, "price"), (1, "meets_preference")}


def test_cli_bids_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bids", str(DATA / "seed004_q5.csv"), "--points", "10", "--among", "3", "--db", str(db_path), "--json"]
    assert cli.main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["winner"] == "Bidder 1"
    assert [(r["bidder"], r["evaluated_price"]) for r in out["ranking"]] == [
        ("Bidder 1", pytest.approx(1.97)),
        ("Bidder 2", pytest.approx(2.00)),
        ("Bidder 3", pytest.approx(2.03)),
    ]
    assert set(out["ranking"][0]) >= {"bidder", "price", "meets_preference", "evaluated_price"}


def test_cli_bids_bad_file_names_row_and_column(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["bids", str(DATA / "bad_cells.csv"), "--percent", "5", "--db", str(db_path), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "bad_cells.csv row 2 column price" in captured.err


def test_cli_classify_json(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["classify", "CANNED GREEN BEANS #10", "--db", str(db_path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["unprocessed"] is False and "Q17" in out["source"]
    assert out["category"] == "vegetable" and out["reason"]


bid_rows = st.lists(
    st.tuples(
        st.integers(min_value=50, max_value=500).map(lambda cents: cents / 100),
        st.booleans(),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(bid_rows, st.one_of(st.none(), st.integers(0, 40)), st.one_of(st.none(), st.integers(1, 8)))
def test_scoring_properties(rows: list[tuple[float, bool]], points: int | None, among: int | None) -> None:
    frame = _bids(*[(f"B{i}", price, meets) for i, (price, meets) in enumerate(rows)])
    result = bids.score_bids(frame, points=points, among=among)
    ranked = result.ranking
    # evaluated prices never exceed the bid, the paid price is the bid, and ranks follow evaluated price
    assert (ranked[bids.EVALUATED_PRICE] <= ranked[bids.PRICE] + 1e-9).all()
    assert sorted(ranked[bids.PRICE].to_list()) == sorted(price for price, _ in rows)
    assert ranked[bids.EVALUATED_PRICE].to_list() == sorted(ranked[bids.EVALUATED_PRICE].to_list())
    best = ranked[bids.EVALUATED_PRICE].min()
    if result.winner is not None:
        winner = ranked.filter(pl.col(bids.BIDDER) == result.winner).row(0, named=True)
        assert winner[bids.EVALUATED_PRICE] == pytest.approx(best)
    # without a preference the lowest bid wins
    if not points:
        assert best == pytest.approx(min(price for price, _ in rows))


def test_example_bids_are_seed_004s_worked_example() -> None:
    assert bids.example_bids().equals(SEED)
    assert bids.score_bids(bids.example_bids(), points=10, among=3).winner == "Bidder 1"
