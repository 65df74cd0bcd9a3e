"""The paper's numbers (Love et al. 2025, Table 3 and the scenarios): written once, and they reproduce the paper."""

from __future__ import annotations

import tokenize
from pathlib import Path

import pytest

from coop import names
from coop.errors import ModelError
from coop.optimize import lp, paper
from coop.optimize.paper import paper_model, unrounded_model
from coop.optimize.scenarios import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
Q = 46_085


def test_paper_model_reproduces_the_bau_optimum():
    res = lp.solve("bau", paper_model())
    assert res.status == "optimal"
    assert res.meals == {**dict.fromkeys(names.LOCAL_ROUTES, 0.0), names.TRADITIONAL_NONLOCAL: pytest.approx(Q)}
    assert res.total_cost == pytest.approx(1.84 * Q)
    assert res.shadow_prices[names.QUANTITY_CONSTRAINT] == pytest.approx(1.84)
    table_3 = dict(zip(names.ROUTES, (2.28, 2.45, 1.90, 1.84), strict=True))
    assert res.reduced_costs == pytest.approx({r: c - 1.84 for r, c in table_3.items()})


def test_costs_meals_and_ratios_are_table_3():
    assert paper.PAPER_MEALS == Q
    assert dict(paper.PAPER_COST_PER_MEAL) == dict(zip(names.ROUTES, (2.28, 2.45, 1.90, 1.84), strict=True))
    assert tuple(r.name for r in paper.PAPER_ROUTES) == names.ROUTES
    assert paper.PAPER_RATIO[names.DIRECT_LOCAL] == pytest.approx(2.28 / 1.84)
    assert paper.PAPER_RATIO[names.TRADITIONAL_NONLOCAL] == 1.0
    assert paper.PAPER_ECONOMIC_MULTIPLIERS == (1.6251, 1.6640, 1.4872, 1.4872)
    assert paper_model().source == paper.PAPER_SOURCE and "Table 3" in paper.PAPER_SOURCE
    assert unrounded_model().source == f"{paper.PAPER_SOURCE} (unrounded)"


def test_pool_policy_forms_are_the_models_rows():
    model = paper_model()
    for name, form in (
        (names.ECONOMIC_IMPACT, paper.PAPER_ECONOMIC_IMPACT),
        (names.PRICE_RISK, paper.PAPER_PRICE_RISK),
    ):
        assert tuple(form) == names.ROUTES
        assert tuple(form.values()) == model.row(name).coefficients
    assert dict(paper.PAPER_ECONOMIC_IMPACT) == dict(zip(names.ROUTES, (0.21, 0.58, -0.67, -0.76), strict=True))


def test_scenario_numbers_come_from_the_paper():
    assert paper.PAPER_CO_HB_INCENTIVE == 0.05
    assert paper.paper_target(names.LOCAL_INTENSITY) == 0.25
    assert paper.paper_target(names.ECONOMIC_IMPACT) == 3.5
    assert paper.paper_target(names.PRICE_RISK) == 0.05
    assert paper.PAPER_FACTORS == (0.5, 1.5)
    assert SCENARIOS["co-hb-19-1132"].description.startswith("$0.05 per meal reimbursement")
    assert SCENARIOS["local-25"].label == "25% Local"
    assert "$3.50 per meal" in SCENARIOS["high-economic-impact"].description
    assert "at most $0.05 per meal" in SCENARIOS["low-price-risk"].description
    with pytest.raises(ModelError, match="no per-meal target"):
        paper.paper_target(names.QUANTITY_CONSTRAINT)


def _number(text: str) -> float | None:
    """A numeric literal's value (None for hex, complex and the like)."""
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return None


def test_the_papers_numbers_have_one_home():
    """No module under coop/ but paper.py writes Table 3's distinctive numbers as literals."""
    distinctive = {46085.0, 1.6251, 1.664, 1.4872, 2.28, 2.45, 1.84, 41.89, 29.27, 0.0082}
    found = []
    for path in sorted((ROOT / "coop").rglob("*.py")):
        if path.name == "paper.py":
            continue
        with path.open("rb") as f:
            for tok in tokenize.tokenize(f.readline):
                if tok.type == tokenize.NUMBER and _number(tok.string) in distinctive:
                    found.append(f"{path.relative_to(ROOT)}:{tok.start[0]} {tok.string}")
    assert found == []


def test_unrounded_form_reproduces_published_table_3_coefficients():
    model = paper_model()
    assert model.costs == (2.28, 2.45, 1.90, 1.84)
    assert model.meals == Q
    published = {  # the linearised model as printed (Table 3's labor/depth misprints corrected)
        names.LABOR: (0, 0, -0.02, -0.02),
        names.ASSORTMENT_BREADTH: (-7.06, -29.27, 41.89, 41.89),
        names.ASSORTMENT_DEPTH: (0.75, 0.36, 0, 0),
        names.LOCAL_INTENSITY: (0.75, 0.75, 0.75, -0.25),
        names.ECONOMIC_IMPACT: (0.21, 0.58, -0.67, -0.76),
        names.PRICE_RISK: (-0.012, -0.0082, 0.037, 0.037),
    }
    for name, coefficients in published.items():
        row = model.row(name)
        assert row.coefficients == pytest.approx(coefficients, abs=1e-12)
        assert row.linearised(model.costs) == pytest.approx(coefficients, abs=1e-12)
    exact = unrounded_model().row(names.ECONOMIC_IMPACT).coefficients
    assert exact == pytest.approx((1.6251 * 2.28 - 3.5, 1.6640 * 2.45 - 3.5, 1.4872 * 1.90 - 3.5, 1.4872 * 1.84 - 3.5))
