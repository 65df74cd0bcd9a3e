"""Policy scenarios for the route-choice LP: the paper's six (Love et al. 2025, Table 2) and user-defined ones.

A scenario says which policy constraints are on, their per-meal targets, and the per-meal incentive on
some routes; it applies to any model (`coop.optimize.model`). Scenarios read and write JSON.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coop import names
from coop.errors import SpecError
from coop.optimize.model import Model
from coop.optimize.paper import PAPER_CO_HB_INCENTIVE, paper_target


@dataclass(frozen=True)
class Scenario:
    """Which policy constraints are on, their per-meal targets, and the per-meal incentive on some routes."""

    name: str
    policy: tuple[str, ...] = ()
    targets: tuple[tuple[str, float], ...] = ()
    incentive: float = 0.0
    incentive_routes: tuple[str, ...] = names.LOCAL_ROUTES
    operational: tuple[str, ...] = names.OPERATIONAL_CONSTRAINTS
    label: str = ""
    description: str = field(default="", compare=False)

    @property
    def on(self) -> tuple[str, ...]:
        """Every switched-on constraint: operational ones first, then policy ones."""
        return tuple(dict.fromkeys(self.operational + self.policy))

    @property
    def target_map(self) -> dict[str, float]:
        """Per-meal target overrides by constraint name."""
        return dict(self.targets)

    def incentives(self, routes: Sequence[str]) -> tuple[float, ...]:
        """The per-meal incentive on each of `routes` (dollars)."""
        return tuple(self.incentive if r in self.incentive_routes else 0.0 for r in routes)

    def apply(self, model: Model) -> Model:
        """The model with this scenario's targets applied; checks every named constraint and route exists."""
        for name in self.on:
            model.row(name)
        for route in self.incentive_routes:
            model.cost(route)
        return model.with_targets(self.target_map) if self.targets else model

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a JSON-able dict that `scenario_from_dict` reads back."""
        return {
            "name": self.name,
            "label": self.label,
            "policy": list(self.policy),
            "targets": self.target_map,
            "incentive": self.incentive,
            "incentive_routes": list(self.incentive_routes),
            "operational": list(self.operational),
            "description": self.description,
        }


BAU = "bau"
CO_HB_19_1132 = "co-hb-19-1132"
LOCAL_25 = "local-25"
HIGH_ECONOMIC_IMPACT = "high-economic-impact"
LOW_PRICE_RISK = "low-price-risk"
COMBINATION = "combination"

# Table 2 and section "Model scenarios".
SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(BAU, label="Business as usual", description="No policy constraints."),
        Scenario(
            CO_HB_19_1132,
            incentive=PAPER_CO_HB_INCENTIVE,
            label="CO HB 19-1132",
            description=f"${PAPER_CO_HB_INCENTIVE:.2f} per meal reimbursement on the three local routes; "
            "no policy constraints.",
        ),
        Scenario(
            LOCAL_25,
            policy=(names.LOCAL_INTENSITY,),
            label=f"{paper_target(names.LOCAL_INTENSITY):.0%} Local",
            description=f"At least {paper_target(names.LOCAL_INTENSITY):.0%} of meals from local routes "
            "(Denver Food Vision 2030).",
        ),
        Scenario(
            HIGH_ECONOMIC_IMPACT,
            policy=(names.ECONOMIC_IMPACT,),
            label="High economic impact",
            description=f"Average economic impact of at least ${paper_target(names.ECONOMIC_IMPACT):.2f} per meal.",
        ),
        Scenario(
            LOW_PRICE_RISK,
            policy=(names.PRICE_RISK,),
            label="Low price risk",
            description=f"Average price standard deviation of at most ${paper_target(names.PRICE_RISK):.2f} per meal.",
        ),
        Scenario(
            COMBINATION,
            policy=names.POLICY_CONSTRAINTS,
            label="Combination",
            description="All three policy constraints at once.",
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    """The shipped scenario called `name`."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise SpecError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}") from None


def define_scenario(
    name: str,
    *,
    base: Scenario | str | None = None,
    policy: Iterable[str] | None = None,
    targets: Mapping[str, float] | None = None,
    incentive: float | None = None,
    incentive_routes: Iterable[str] | None = None,
    operational: Iterable[str] | None = None,
    label: str | None = None,
    description: str | None = None,
) -> Scenario:
    """A new scenario: `base` (a Scenario or shipped name, default bau) with the given fields replaced."""
    start = get_scenario(base) if isinstance(base, str) else (base or SCENARIOS[BAU])
    merged_targets = start.target_map | dict(targets or {})
    for key, value in merged_targets.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise SpecError(f"scenario {name!r}: target for {key!r} must be a number, got {value!r}")
    new_incentive = start.incentive if incentive is None else incentive
    if (
        isinstance(new_incentive, bool)
        or not isinstance(new_incentive, numbers.Real)
        or not math.isfinite(new_incentive)
    ):
        raise SpecError(f"scenario {name!r}: incentive must be a number of dollars per meal, got {new_incentive!r}")
    policy_t = start.policy if policy is None else tuple(policy)
    operational_t = start.operational if operational is None else tuple(operational)
    routes_t = start.incentive_routes if incentive_routes is None else tuple(incentive_routes)
    for field_name, values in (("policy", policy_t), ("operational", operational_t), ("incentive_routes", routes_t)):
        for value in values:
            if not isinstance(value, str):
                raise SpecError(f"scenario {name!r}: {field_name} must list names, got {value!r}")
    return Scenario(
        name=name,
        policy=policy_t,
        targets=tuple(sorted((k, float(v)) for k, v in merged_targets.items())),
        incentive=float(new_incentive),
        incentive_routes=routes_t,
        operational=operational_t,
        label=label or name,
        description=description if description is not None else "",
    )


_SCENARIO_KEYS = {
    "name",
    "base",
    "policy",
    "targets",
    "incentive",
    "incentive_routes",
    "operational",
    "label",
    "description",
}


def scenario_from_dict(data: Mapping[str, Any], source: str = "scenario") -> Scenario:
    """A scenario from a JSON-style dict (keys as `Scenario.to_dict`, plus an optional `base` scenario name)."""
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a scenario must be a JSON object")
    unknown = set(data) - _SCENARIO_KEYS
    if unknown:
        raise SpecError(f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_SCENARIO_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"{source}: 'name' must be a non-empty string")
    for key in ("policy", "incentive_routes", "operational"):
        if key in data and not isinstance(data[key], list):
            raise SpecError(f"{source}: {key!r} must be a list of names")
    if "targets" in data and not isinstance(data["targets"], Mapping):
        raise SpecError(f"{source}: 'targets' must be an object of constraint -> per-meal target")
    base = data.get("base")
    if base is not None and not isinstance(base, str):
        raise SpecError(f"{source}: 'base' must be a scenario name")
    try:
        return define_scenario(
            name,
            base=base,
            policy=data.get("policy"),
            targets=data.get("targets"),
            incentive=data.get("incentive"),
            incentive_routes=data.get("incentive_routes"),
            operational=data.get("operational"),
            label=data.get("label"),
            description=data.get("description"),
        )
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from None


def scenario_from_json(text_or_path: str | Path) -> Scenario:
    """A scenario from a JSON file path or a JSON string."""
    source = "scenario"
    if isinstance(text_or_path, Path) or not str(text_or_path).lstrip().startswith("{"):
        path = Path(text_or_path)
        if not path.is_file():
            raise SpecError(f"{path}: scenario file not found")
        source, text = str(path), path.read_text(encoding="utf-8")
    else:
        text = str(text_or_path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{source}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    return scenario_from_dict(data, source)
