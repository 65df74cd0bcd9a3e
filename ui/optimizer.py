"""Cached wrappers for the Route optimizer page: models, scenarios, LP solves, sensitivity and incentives."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import polars as pl
import streamlit as st

from coop import names
from coop.optimize import explain, incentive, lp, paper, scenarios, sensitivity
from coop.optimize.incentive import IncentiveResult
from coop.optimize.lp import LPResult
from coop.optimize.model import Model
from coop.optimize.scenarios import Scenario
from coop.optimize.sensitivity import SensitivityResult
from ui import session

PAPER = "paper"
PAPER_MODEL_LABEL = f"The paper's model (Table 3, {paper.PAPER_MEALS:,.0f} meals)"


def scenario_choices() -> dict[str, str]:
    """Shipped scenario name -> its label (the paper's six scenarios)."""
    return {name: s.label or name for name, s in scenarios.SCENARIOS.items()}


def scenario(name: str) -> Scenario:
    """The shipped scenario called `name`."""
    return scenarios.get_scenario(name)


@st.cache_data(show_spinner="Calibrating the district's route costs…", max_entries=64)
def _district_model(_con: duckdb.DuckDBPyConnection, version: str, district_id: str) -> tuple[Model, tuple[str, ...]]:
    """The paper's model with one district's calibrated route costs and annual meals, and the calibration notes."""
    return lp.district_model(_con.cursor(), district_id)


def base_model(source: str) -> tuple[Model, tuple[str, ...]]:
    """The model to start from: the paper's (source PAPER) or a district's calibrated one, with notes."""
    if source == PAPER:
        return paper.paper_model(), ()
    return _district_model(session.connection(), session.data_version(), source)


def edited_model(base: Model, routes: pl.DataFrame, meals: float) -> Model:
    """The model with the edited routes table's costs ($ per meal) and annual meals (cost-linked rows recomputed)."""
    costs = dict(zip(routes[names.ROUTE].to_list(), routes["cost_per_meal"].to_list(), strict=True))
    return base.with_costs(costs, meals=meals, source=base.source)


def edited_scenario(name: str, policy: list[str], targets: dict[str, float], incentive: float) -> Scenario:
    """The shipped scenario `name` with its policy constraints, targets and incentive replaced where edited."""
    start = scenarios.get_scenario(name)
    if tuple(policy) == start.policy and incentive == start.incentive and targets == start.target_map:
        return start
    return scenarios.define_scenario(
        f"{name} (edited)",
        base=start,
        policy=policy,
        targets=targets,
        incentive=incentive,
        label=f"{start.label} (edited)",
        description=start.description,
    )


@st.cache_data(show_spinner="Solving the route LP…", max_entries=256)
def solve(model: Model, scenario: Scenario) -> LPResult:
    """One solve of the route LP."""
    return lp.solve(scenario, model)


def compare_scenarios(model: Model) -> pl.DataFrame:
    """Meals per route under every shipped scenario on this model (`route`, `meals`, `series`, status, cost)."""
    results = {label: solve(model, scenario(name)) for name, label in scenario_choices().items()}
    return explain.scenario_comparison(model, results)


def reduced_costs(result: LPResult) -> pl.DataFrame:
    """Meals per route with each route's reduced cost explained in words."""
    return explain.reduced_costs(result)


def shadow_prices(result: LPResult, model: Model) -> pl.DataFrame:
    """Each switched-on constraint's shadow price with what it means, in words."""
    return explain.shadow_prices(result, model)


def run_sensitivity(model: Model, scenario: Scenario, progress: Callable[[float, str], None]) -> SensitivityResult:
    """The paper's +/-50% cost sensitivity runs for one scenario."""
    return sensitivity.sensitivity(scenario, model, progress=progress)


def ranges_table(result: SensitivityResult) -> pl.DataFrame:
    """Min and max over the optimal sensitivity runs of meals, shadow prices and reduced costs."""
    return explain.sensitivity_ranges(result)


@st.cache_data(show_spinner="Tracing the incentive curve…", max_entries=64)
def incentive_curve(model: Model, scenario: Scenario, routes: tuple[str, ...]) -> pl.DataFrame:
    """Share of meals on `routes` (`local_share`) against an extra incentive in $ per meal, solved points only."""
    curve = incentive.incentive_curve(scenario, routes, model)
    return curve.rename({"share": "local_share"}).drop_nulls("local_share")


def share_at(found: IncentiveResult) -> float | None:
    """The share of meals on the incentive's routes in the plan at the incentive found (None without a plan)."""
    return None if found.result is None else found.result.share(found.routes)


@st.cache_data(show_spinner="Searching for the smallest incentive…", max_entries=64)
def find_incentive(model: Model, scenario: Scenario, routes: tuple[str, ...], target: float) -> IncentiveResult:
    """The smallest extra per-meal incentive on `routes` reaching `target` share."""
    return incentive.find_incentive(scenario, target, routes, model)
