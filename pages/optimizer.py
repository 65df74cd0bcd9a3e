import streamlit as st

from ui import access, charts, feedback, filters, tables
from ui import labels as lb
from ui import optimizer as op

user = access.require("optimizer")

start, end, chosen = filters.setup(
    "Route optimizer",
    "Which supply-chain routes a school food authority should buy its meals through at least cost, under policy "
    "constraints: the linear program of Love, Jablonski, Thilmany McFadden & Bellows (2025).",
)

c1, c2 = st.columns(2)
source = c1.selectbox(
    "Model",
    [op.PAPER, *chosen],
    format_func=lambda s: op.PAPER_MODEL_LABEL if s == op.PAPER else f"District {s}, calibrated",
    key="opt_source",
    help="A district's model uses its own route costs per meal and annual meals, falling back to the co-op's and "
    "then the paper's figures where it has too little data.",
)
choices = op.scenario_choices()
name = c2.selectbox("Scenario", list(choices), format_func=lambda n: choices[n], key="opt_scenario")
base_scenario = op.scenario(name)
st.caption(f"**{choices[name]}**: {base_scenario.description}")

base, notes = feedback.call(op.base_model, source)
st.caption(f"Model: {lb.md(base.source)}.")
for note in notes:
    st.caption(f"• {lb.md(note)}")

with st.expander("Parameters (editable)", expanded=False):
    key = f"{source}-{name}"
    routes = base.routes_table()
    edited_routes = st.data_editor(
        routes,
        disabled=[lb.ROUTE, "label"],
        column_config={
            lb.ROUTE: None,
            "label": st.column_config.TextColumn("Route"),
            "cost_per_meal": st.column_config.NumberColumn(
                "Cost per meal ($)", min_value=0.0, step=0.01, format="$%.2f", required=True
            ),
        },
        hide_index=True,
        placeholder="",
        width="stretch",
        key=f"opt-costs-{key}",
    )
    meals = st.number_input(
        "Meals per year", min_value=1.0, value=float(base.meals), step=1000.0, format="%.0f", key=f"opt-meals-{key}"
    )
    policy = st.multiselect(
        "Policy constraints switched on",
        list(lb.POLICY_CONSTRAINTS),
        default=list(base_scenario.policy),
        format_func=lambda c: base.row(c).label,
        key=f"opt-policy-{key}",
    )
    targets = {}
    cols = st.columns(len(lb.POLICY_CONSTRAINTS))
    for col, constraint in zip(cols, lb.POLICY_CONSTRAINTS, strict=True):
        row = base.row(constraint)
        current = base_scenario.target_map.get(constraint, row.target)
        value = col.number_input(
            f"Target: {row.label.split(':')[0]} ({row.unit})",
            value=float(current),
            format="%.4f",
            key=f"opt-target-{constraint}-{key}",
        )
        if value != row.target or constraint in base_scenario.target_map:
            targets[constraint] = value
    incentive = st.number_input(
        "Incentive on the three local routes ($ per meal)",
        min_value=0.0,
        value=float(base_scenario.incentive),
        step=0.01,
        format="%.2f",
        key=f"opt-incentive-{key}",
    )
    st.caption(
        "Costs in US dollars per meal; targets are per-meal averages (local intensity: share of meals; economic "
        "impact: dollars of output per meal; price risk: standard deviation in dollars per meal)."
    )
    tables.show(base.constraints_table())
    st.caption(
        "The model's constraints, one row each: what one meal through each route (columns) adds to the constraint, "
        "the comparison and the limit; a target row counts each meal's intensity above (+) or below (−) the target."
    )

with feedback.shown():
    model = op.edited_model(base, edited_routes, meals)
    chosen_scenario = op.edited_scenario(name, policy, targets, incentive)
    result = op.solve(model, chosen_scenario)

    if not result.optimal:
        st.error(f"No plan: the model is **{result.status}**. {result.message}", icon=":material/error:")
        if result.conflicts:
            st.markdown(
                "Relaxing any one of these constraints restores a feasible plan: "
                + ", ".join(f"**{base.row(c).label}**" for c in result.conflicts)
            )
    else:
        k1, k2, k3 = st.columns(3)
        k1.metric("Total cost", f"${result.total_cost:,.0f}", help="US dollars per year, net of any incentive.")
        k2.metric("Cost per meal", f"${result.cost_per_meal:,.3f}")
        k3.metric("Meals from local routes", f"{result.share():.0%}")
        charts.show(
            charts.meals_per_route(
                result.meals_table(),
                scenario=chosen_scenario.label or chosen_scenario.name,
                definition="Least-cost meals per year through each route (LP solution).",
            )
        )
        st.markdown("**Meals per route**")
        tables.show(
            op.reduced_costs(result),
            {
                lb.ROUTE: st.column_config.TextColumn("Route"),
                "meals": st.column_config.NumberColumn("Meals per year", format="localized"),
                "share": st.column_config.NumberColumn("Share of meals", format="percent"),
                "reduced_cost": st.column_config.NumberColumn("Reduced cost ($/meal)", format="$%.3f"),
                "meaning": st.column_config.TextColumn("What it means", width="large"),
            },
            wrap=True,
        )
        st.caption(
            "Meals per year through each route in the least-cost plan. Reduced cost = how much a route's cost "
            "per meal must fall before it enters the plan (the paper's activity duals, Table 6)."
        )
        st.markdown("**Constraints: shadow prices**")
        tables.show(
            op.shadow_prices(result, model),
            {
                "constraint": st.column_config.TextColumn("Constraint"),
                "requirement": st.column_config.TextColumn("What it requires"),
                "shadow_price": st.column_config.NumberColumn("Shadow price ($)", format="$%.4f"),
                "binding": st.column_config.CheckboxColumn("Binding"),
                "meaning": st.column_config.TextColumn("What it means", width="large"),
            },
            wrap=True,
        )
        st.caption(
            "Shadow price = change in total cost (US dollars per year) per one-unit increase of the constraint's "
            "right-hand side, as the paper reports it (Table 5). Only switched-on constraints are listed."
        )

st.subheader("All six scenarios on this model")
with feedback.shown():
    compared = op.compare_scenarios(model)
    charts.show(
        charts.scenario_meals(
            compared,
            scenario="the paper's six scenarios",
            definition="Least-cost meals per year by route under each scenario, with the parameters above; a "
            "scenario whose constraints no plan can meet is labelled infeasible.",
        )
    )

st.subheader("Sensitivity: route costs at 50% and 150%")
st.caption(
    "The paper's analysis: all route costs, then each route's cost alone, at 50% and at 150% of baseline "
    "(10 runs), economic-impact coefficients recomputed from the varied costs."
)
if st.button("Run the sensitivity analysis", key="opt_run_sensitivity"):
    bar = st.progress(0.0, text="starting")
    with feedback.shown():
        sens = op.run_sensitivity(
            model, chosen_scenario, progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m)
        )
        st.session_state["opt_sensitivity"] = (key, sens)
    bar.empty()
stored = st.session_state.get("opt_sensitivity")
if stored and stored[0] == f"{source}-{name}":
    sens = stored[1]
    tables.show(sens.table(), {"factor": st.column_config.NumberColumn("Cost factor", format="percent")})
    st.caption(
        "One row per run: cost factor, route varied (or all), solver status, total cost (US dollars per year), "
        "meals per year "
        "per route; infeasible runs name the constraints in conflict."
    )
    tables.show(op.ranges_table(sens))
    st.caption(
        "Range over the optimal runs: meals per year, shadow prices (US dollars) and reduced costs (dollars per meal)."
    )

st.subheader("Incentive curve")
i1, i2 = st.columns(2)
target_routes = i1.multiselect(
    "Incentive paid on",
    list(lb.ROUTES),
    default=list(lb.LOCAL_ROUTES),
    format_func=lambda r: lb.ROUTE_LABELS[r],
    key="opt_incentive_routes",
)
goal = i2.slider("Target share of meals on those routes", 0.05, 1.0, 0.25, 0.05, key="opt_incentive_target")
if target_routes:
    with feedback.shown():
        curve = op.incentive_curve(model, chosen_scenario, tuple(target_routes))
        label = ", ".join(lb.ROUTE_LABELS[r].lower() for r in target_routes)
        charts.show(
            charts.incentive_curve(
                curve,
                target=label,
                scenario=chosen_scenario.label or chosen_scenario.name,
                definition="Share of meals the least-cost plan buys on those routes when each of their meals "
                "earns this extra payment (on top of the scenario's own incentive).",
            )
        )
        found = op.find_incentive(model, chosen_scenario, tuple(target_routes), goal)
        if found.reachable and found.incentive is not None and found.incentive <= 1e-9:
            st.success(
                f"No extra incentive needed: the least-cost plan already buys {(found.share_without or 0):.0%} "
                f"of meals on {label} (target {goal:.0%})."
            )
        elif found.reachable and found.incentive is not None:
            at = op.share_at(found)
            st.success(
                f"The least-cost plan buys {(found.share_without or 0):.0%} of meals on {label} without an extra "
                f"incentive. From **${found.incentive:,.3f} per meal** extra it buys {at:.0%} there (the curve's "
                f"step), which meets the {goal:.0%} target; a smaller payment does not move any meals."
                if at is not None and (found.share_without or 0) < 1e-9
                else f"The smallest extra incentive that reaches {goal:.0%} of meals on {label} is **"
                f"${found.incentive:,.3f} per meal**: the least-cost plan then buys "
                f"{'–' if at is None else f'{at:.0%}'} there (without it: {(found.share_without or 0):.0%})."
            )
        else:
            st.warning(found.message or f"No incentive reaches {goal:.0%} on {label}.")
