"""The paper's numbers, written once: Love et al. (2025), seed 003, the route-choice LP for school food.

Everything else (the model, the scenarios, calibration's fallbacks, the pool spec's 'paper' policy forms,
the sensitivity runs and the sample co-op's prices) imports them from here. Each number names the table
or section of the paper it comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from coop import names
from coop.errors import ModelError
from coop.optimize.model import ConstraintRow, Model, Route

PAPER_SOURCE = "paper: Love et al. (2025), Table 3"

# Section "Quantity constraint" and Table 3 (Quantity, right-hand side): the average 2013-14 annual meal
# count of the four median Colorado school districts by pupil size.
PAPER_MEALS = 46_085.0

# Section "Meal cost parameterization" and Table 3 (Objective Function Cost): dollars per meal, 2013-14.
# c4 = $1.84 (Sysco); c3 = c4 + the $0.06 farm-gate premium; c2 = c4 + 33% (food hub); c1 = c4 + 24% (direct).
PAPER_COST_PER_MEAL: Mapping[str, float] = MappingProxyType(
    {
        names.DIRECT_LOCAL: 2.28,
        names.NONTRADITIONAL_LOCAL: 2.45,
        names.TRADITIONAL_LOCAL: 1.90,
        names.TRADITIONAL_NONLOCAL: 1.84,
    }
)
# Each route's cost per meal over the traditional non-local one (the premiums the same section derives).
PAPER_RATIO: Mapping[str, float] = MappingProxyType(
    {r: c / PAPER_COST_PER_MEAL[names.TRADITIONAL_NONLOCAL] for r, c in PAPER_COST_PER_MEAL.items()}
)

# Table 1: the four supply-chain routes (choice variables z1..z4).
PAPER_ROUTES: tuple[Route, ...] = tuple(
    Route(route, PAPER_COST_PER_MEAL[route], label)
    for route, label in (
        (names.DIRECT_LOCAL, "Direct local (z1)"),
        (names.NONTRADITIONAL_LOCAL, "Non-traditional local (z2)"),
        (names.TRADITIONAL_LOCAL, "Traditional local (z3)"),
        (names.TRADITIONAL_NONLOCAL, "Traditional non-local (z4)"),
    )
)

# Economic impact multipliers (output multiplier per dollar of sales), section "Economic impact
# policy constraint": 1.6251, 1.6640, 1.4872, 1.4872; intensity = multiplier x cost per meal.
PAPER_ECONOMIC_MULTIPLIERS: tuple[float, ...] = (1.6251, 1.6640, 1.4872, 1.4872)

# Coefficients as the linearised model and Table 3 print them; targets from the sections of each
# constraint (local intensity 25%: Denver Food Vision 2030; economic impact $3.50 per meal; price risk
# $0.05 s.d. per meal). Two misprints in Table 3 are corrected from the paper's own derivation: labor
# is -0.02 on z3 and z4 (0.14 - 0.16; Table 3 puts it on z1 and z2), and assortment depth is 0.36 on z2
# (4.36 - 4.0; Table 3 prints 0.46, the linearised model above it 0.36).
PAPER_CONSTRAINTS: tuple[ConstraintRow, ...] = (
    ConstraintRow(
        names.QUANTITY_CONSTRAINT, ">=", (1.0, 1.0, 1.0, 1.0), PAPER_MEALS, "operational",
        label="Quantity: meals purchased per year", unit="meals",
    ),
    ConstraintRow(
        names.LABOR, "<=", (0.0, 0.0, -0.02, -0.02), 0.0, "operational",
        intensities=(0.16, 0.16, 0.14, 0.14), target=0.16, digits=2,
        label="Labor (food prep): cost per meal at most the maximum", unit="$ per meal",
    ),
    ConstraintRow(
        names.ASSORTMENT_BREADTH, ">=", (-7.06, -29.27, 41.89, 41.89), 0.0, "operational",
        intensities=(52.94, 30.73, 101.89, 101.89), target=60.0, digits=2,
        label="Assortment breadth: SKUs per category", unit="SKUs",
    ),
    ConstraintRow(
        names.ASSORTMENT_DEPTH, ">=", (0.75, 0.36, 0.0, 0.0), 0.0, "operational",
        intensities=(4.75, 4.36, 4.00, 4.00), target=4.0, digits=2,
        label="Assortment depth: products within a category", unit="index",
    ),
    ConstraintRow(
        names.LOCAL_INTENSITY, ">=", (0.75, 0.75, 0.75, -0.25), 0.0, "policy",
        intensities=(1.0, 1.0, 1.0, 0.0), target=0.25, digits=2,
        label="Local intensity: share of meals from local routes", unit="share of meals",
    ),
    ConstraintRow(
        names.ECONOMIC_IMPACT, ">=", (0.21, 0.58, -0.67, -0.76), 0.0, "policy",
        multipliers=PAPER_ECONOMIC_MULTIPLIERS, target=3.5, digits=2,
        label="Economic impact: average output per meal", unit="$ of output per meal",
    ),
    ConstraintRow(
        names.PRICE_RISK, "<=", (-0.012, -0.0082, 0.037, 0.037), 0.0, "policy",
        intensities=(0.038, 0.0418, 0.087, 0.087), target=0.05, digits=4,
        label="Price risk: average price standard deviation per meal", unit="$ s.d. per meal",
    ),
)  # fmt: skip


def _row(name: str) -> ConstraintRow:
    """The paper's constraint row called `name` (Table 3)."""
    (row,) = (r for r in PAPER_CONSTRAINTS if r.name == name)
    return row


def paper_target(name: str) -> float:
    """The per-meal target of one of the paper's ratio constraints (e.g. local intensity's 0.25)."""
    target = _row(name).target
    if target is None:
        raise ModelError(f"the paper's constraint {name!r} has no per-meal target")
    return target


def _route_map(name: str) -> Mapping[str, float]:
    """Route -> the published linearised coefficient of the paper's row `name` (Table 3)."""
    return MappingProxyType(dict(zip(names.ROUTES, _row(name).coefficients, strict=True)))


# The route-mix forms a pool spec's policy may name as 'paper' (Table 3): economic impact >= 0, price risk <= 0.
PAPER_ECONOMIC_IMPACT: Mapping[str, float] = _route_map(names.ECONOMIC_IMPACT)
PAPER_PRICE_RISK: Mapping[str, float] = _route_map(names.PRICE_RISK)

# Section "Model scenarios" (and Table 4's note): CO HB 19-1132 "lowered the objective parameters by
# $0.05 per meal for z1, z2, and z3" (dollars per meal on the three local routes).
PAPER_CO_HB_INCENTIVE = 0.05

# Section "Sensitivity analysis": every objective-function parameter, and each alone, at 50% and 150%.
PAPER_FACTORS: tuple[float, ...] = (0.5, 1.5)


def paper_model() -> Model:
    """The paper's model with the published (rounded) linearised coefficients of Table 3."""
    return Model(PAPER_ROUTES, PAPER_CONSTRAINTS, PAPER_SOURCE)


def unrounded_model() -> Model:
    """The paper's model with exact `intensity - target` coefficients (economic impact = multiplier x cost - 3.5)."""
    return paper_model().unrounded()
