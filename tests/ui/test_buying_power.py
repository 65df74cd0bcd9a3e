"""The Co-op buying power wrappers state a sampled split's precision and the core verdict in words."""

from __future__ import annotations

from pathlib import Path

import pytest

from coop.optimize import allocate as al
from coop.optimize.pool_spec import load_spec
from ui import buying_power as bp

POOL = Path(__file__).resolve().parents[1] / "data" / "pool"


def test_sampled_precision_and_core_verdict_in_words():
    # two members: a permutation and its reverse are every order, so each antithetic pair gives the exact Shapley
    # value (92.5, 72.5) with no spread, and the precision target is met at the first check
    report = al.allocate(load_spec(POOL / "two_tier.json"), exact_limit=1, workers=0, tolerance=0.01, time_budget=None)
    assert report.allocation(al.SHAPLEY).as_dict() == pytest.approx({"X": 92.5, "Y": 72.5})
    summary = bp.precision_summary(report)
    assert "sampled" in summary and f"{2 * al.MIN_PAIRS} permutations" in summary and "target 1.00%: met" in summary
    table = bp.precision_table(report)
    assert table["within_tolerance"].all() and table["half_width"].max() == pytest.approx(0.0, abs=1e-9)
    verdict = bp.core_verdict(report)
    assert verdict.startswith("The Shapley split is in the core") and "separation" in verdict


def test_exact_empty_core_names_the_group_and_its_saving():
    report = al.allocate(load_spec(POOL / "empty_core.json"))
    assert bp.precision_summary(report).startswith("Shapley value exact: every one of the 7 coalitions")
    verdict = bp.core_verdict(report)
    # each pair's own optimum is 10 but it pays 2 x 20/3 under Shapley: $3.33 saved by leaving
    assert "outside the core" in verdict and "2 district(s)" in verdict and "$3.33" in verdict
    assert report.core_check.excess == pytest.approx(10 / 3)
