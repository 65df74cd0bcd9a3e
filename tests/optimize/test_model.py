"""The LP's data model: routes, constraint rows, derived models (costs, targets, unrounded) and model JSON."""

from __future__ import annotations

import json

import pytest

from coop import cli, names
from coop.errors import ModelError, SpecError
from coop.optimize.model import ConstraintRow, Model, Route, model_from_dict, model_from_json, model_to_dict
from coop.optimize.paper import paper_model, unrounded_model

Z1, Z2, Z3, Z4 = names.ROUTES
Q = 46_085


def _tiny() -> Model:
    """Two routes, a quantity row and a ratio row with a target (hand-checkable)."""
    return Model(
        (Route("a", 1.0), Route("b", 2.0)),
        (
            ConstraintRow(names.QUANTITY_CONSTRAINT, ">=", (1.0, 1.0), 10.0),
            ConstraintRow("share", ">=", (0.5, -0.5), intensities=(1.0, 0.0), target=0.5, kind="policy"),
            ConstraintRow("impact", ">=", (-1.0, 0.0), multipliers=(2.0, 1.0), target=3.0, digits=1),
        ),
        "tiny",
    )


def test_linearised_coefficients_round_half_away_from_zero():
    row = ConstraintRow("r", ">=", (0.0, 0.0), intensities=(1.125, -1.125), target=0.0, digits=2)
    assert row.linearised((1.0, 1.0)) == (1.13, -1.13)
    assert ConstraintRow("q", ">=", (1.0,)).has_unrounded_form is False
    with pytest.raises(ModelError, match="no unrounded form"):
        ConstraintRow("q", ">=", (1.0,)).linearised((1.0,))


def test_derived_models_recompute_cost_linked_rows_and_targets():
    model = _tiny()
    assert model.route_names == ("a", "b") and model.costs == (1.0, 2.0) and model.meals == 10.0
    dearer = model.with_costs({"a": 2.0}, meals=20)
    assert dearer.row("impact").coefficients == (1.0, -1.0)  # 2 x 2 - 3, 1 x 2 - 3
    assert dearer.meals == 20.0 and dearer.source == "tiny"
    assert model.scaled(0.5, "b").costs == (1.0, 1.0)
    assert model.scaled(2.0).costs == (2.0, 4.0)
    assert model.with_targets({"share": 0.25}).row("share").coefficients == (0.75, -0.25)
    with pytest.raises(ModelError, match="no per-meal target"):
        model.with_targets({names.QUANTITY_CONSTRAINT: 1.0})
    with pytest.raises(ModelError, match="unknown route"):
        model.cost("c")
    with pytest.raises(ModelError, match="finite number"):
        model.with_costs([1.0, float("nan")])


def test_tables_say_route_costs_and_coefficients():
    model = _tiny()
    assert model.routes_table().to_dicts() == [
        {names.ROUTE: "a", "label": "", "cost_per_meal": 1.0},
        {names.ROUTE: "b", "label": "", "cost_per_meal": 2.0},
    ]
    table = model.constraints_table()
    assert table.columns == ["constraint", "kind", "sense", "rhs", "target_per_meal", "a", "b"]
    assert table.row(1, named=True) == {
        "constraint": "share", "kind": "policy", "sense": ">=", "rhs": 0.0, "target_per_meal": 0.5, "a": 0.5, "b": -0.5,
    }  # fmt: skip


def test_model_json_keeps_its_format():
    data = model_to_dict(_tiny())
    assert data["source"] == "tiny"
    assert data["routes"][0] == {"name": "a", "cost_per_meal": 1.0, "label": ""}
    assert data["constraints"][2] == {
        "name": "impact", "sense": ">=", "coefficients": [-1.0, 0.0], "rhs": 0.0, "kind": "operational",
        "target": 3.0, "multipliers": [2.0, 1.0], "digits": 1, "label": "", "unit": "",
    }  # fmt: skip
    assert model_from_dict(data) == _tiny()
    with pytest.raises(SpecError, match=r"routes\[0\]\.cost_per_meal must be a list of numbers"):
        model_from_dict({**data, "routes": [{"name": "a", "cost_per_meal": "cheap"}]})
    with pytest.raises(SpecError, match="non-empty 'constraints'"):
        model_from_dict({**data, "constraints": []})


def test_model_rejects_mismatched_rows():
    model = paper_model()
    row = model.row(names.LABOR)
    with pytest.raises(ModelError, match="coefficients"):
        Model(model.routes, (row.__class__(row.name, "<=", (1.0, 2.0)),))


def test_model_json_round_trip_and_user_model_file(tmp_path, db_path, capsys):
    for model in (paper_model(), unrounded_model()):
        assert model_from_dict(json.loads(json.dumps(model_to_dict(model)))) == model
    data = model_to_dict(paper_model())
    data["routes"][2]["cost_per_meal"] = 1.80  # traditional local now cheaper than non-local
    path = tmp_path / "model.json"
    path.write_text(json.dumps(data))
    assert cli.main(["optimize", "--model-file", str(path), "--scenario", "bau", "--json", "--db", str(db_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["meals"][Z3] == pytest.approx(Q)
    assert out["reduced_costs"][Z4] == pytest.approx(0.04)
    data["constraints"][0]["sense"] = "=="
    path.write_text(json.dumps(data))
    with pytest.raises(SpecError, match=r"constraints\[0\]\.sense"):
        model_from_json(path)
    data["constraints"][0]["sense"] = ">="
    data["constraints"][1]["coefficients"] = [1, 2]
    path.write_text(json.dumps(data))
    assert cli.main(["optimize", "--model-file", str(path), "--json", "--db", str(db_path)]) == 1
    assert "2 coefficients for 4 routes" in capsys.readouterr().err
