import streamlit as st

from ui import access, charts, feedback, filters, tables
from ui import buying_power as bp
from ui import labels as lb

user = access.require("buying_power")

start, end, chosen = filters.setup(
    "Co-op buying power",
    "What buying together would cost against each district buying alone, where the savings come from, and how "
    "to split them fairly.",
)
period = filters.period_label(start, end)

source = st.radio(
    "Pool from",
    [bp.DB_SPEC, "upload"],
    format_func=lambda s: "the database (districts and period in the sidebar)" if s == bp.DB_SPEC else "a JSON spec",
    horizontal=True,
    key="pool_source",
)
if source == bp.DB_SPEC:
    with st.expander("Price terms: volume tiers, capacities, fixed costs (editable)"):
        terms = st.data_editor(
            feedback.call(bp.quotes_table),
            num_rows="dynamic",
            column_config={
                lb.ROUTE: st.column_config.SelectboxColumn(
                    "Route", options=list(lb.ROUTES), format_func=lambda r: lb.ROUTE_LABELS[r], required=True
                ),
                lb.QUOTE_KIND: st.column_config.SelectboxColumn(
                    "Kind", options=["tier", "capacity", "fixed_cost"], format_func=lb.quote_kind, required=True
                ),
                "category": st.column_config.TextColumn("Category"),
                "threshold": st.column_config.NumberColumn("Threshold (× median demand)", format="%.2f"),
                "value": st.column_config.NumberColumn("Value", format="%.4g"),
                "note": st.column_config.TextColumn("Note", width="large"),
            },
            hide_index=True,
            placeholder="",
            width="stretch",
            key="pool-quotes",
        )
        st.caption(
            "Volume tier: threshold = pooled annual volume in multiples of the median member's demand, value = "
            "fraction off the unit cost; capacity: value = multiple of today's co-op volume on that route and "
            "category; fixed cost: value = US dollars per year paid once by a group that uses the offer. Category "
            "'*' = all. "
            "Rows marked 'default assumption' are not real quotes: replace them with your vendors' terms."
        )
        if st.button("Save these price terms"):
            with feedback.shown():
                st.success(f"Saved {bp.save_quotes(terms):,} price term(s).")
    use_min = st.toggle(
        "Same minimum local share for every district",
        value=False,
        help="Off: each district must keep at least today's local share of its units.",
        key="pool_use_min",
    )
    local_min = (
        st.slider("Minimum local share of each district's units", 0.0, 1.0, 0.25, 0.05, key="pool_local_min")
        if use_min
        else None
    )
    spec = feedback.call(bp.db_spec, start, end, chosen, terms, local_min)
    basis = f"{period}; demand and unit costs from the purchases on file, {bp.price_basis(terms)}"
else:
    upload = st.file_uploader("Pool spec (JSON)", type=["json"], key="pool_upload")
    if upload is None:
        st.info(
            'Upload a spec: `{"districts": [{"id", "demand": {category: units}, "policy": {"local_share_min"}}], '
            '"offers": [{"route", "category", "unit_cost", "tiers", "capacity", "fixed_cost", "local"}]}`.'
        )
        st.stop()
    spec = feedback.call(bp.spec_from_upload, upload.name, upload.getvalue())
    terms = None
    basis = f"spec {upload.name}"

members = len(spec.districts)
exact = bp.exact_shapley_limit()
st.caption(
    f"{members} district(s), {len(spec.offers)} offer(s). Exact Shapley value and core check solve all "
    f"{2**members:,} coalitions up to {exact} members; beyond that Shapley is sampled to a stated precision on "
    f"{bp.where_solves_run()} and the core is checked exactly by one MILP over membership."
)
pool = feedback.call(bp.solve_pool, spec)
standalone_total = bp.standalone_total(pool)
terms_basis = bp.price_basis(terms)
status = bp.status_words(pool.status)
k1, k2, k3, k4 = st.columns(4)
k1.metric("Buying alone", f"${standalone_total:,.0f}", help="Sum of each district's own least cost, $ per year.")
k2.metric("Buying together", f"${pool.coop_cost:,.0f}", help="The grand coalition's least cost, $ per year.")
k3.metric(
    "Savings",
    f"${pool.savings:,.0f}",
    delta=f"{pool.savings / standalone_total:.1%}" if standalone_total else None,
    delta_color="off",
    help=f"Modelled, not booked: {terms_basis}. Replace the default assumptions with vendors' quotes under "
    "'Price terms'.",
)
k4.metric(
    "Solver",
    pool.status.replace("_", " ").capitalize(),
    help=f"{status.capitalize()}. MIP gap {pool.settings.mip_gap:g}, time limit {pool.settings.time_limit:g} s per "
    f"solve; worst gap reached {pool.worst_gap:.2g}; solved in {pool.solve_seconds:.1f} s.",
)
k3.caption(f"Modelled on {terms_basis}.")
k4.caption(status.capitalize() + ".")

if source == bp.DB_SPEC:
    with st.expander("Alone, at each district's route-LP optimum (the Route optimizer's model)"):
        choices = bp.scenario_choices()
        lp_scenario = st.selectbox("Scenario", list(choices), format_func=lambda k: choices[k], key="pool_lp_scenario")
        alone_lp = feedback.call(bp.route_lp_alone, list(spec.ids), lp_scenario)
        tables.show(
            alone_lp,
            {
                "route_lp_cost": st.column_config.NumberColumn("Route-LP cost ($)", format="dollar"),
                "route_lp_status": st.column_config.TextColumn("Solver"),
            },
        )
        st.caption(
            f"{period}. Each district alone at its own route-LP optimum (calibrated cost per meal by route and annual "
            "meals, the scenario's constraints; US dollars per year), as the Route optimizer solves it for that "
            "district, beside buying alone and pooled above; a pool of these districts' own route models starts from "
            "exactly these standalone costs."
        )

charts.show(
    charts.standalone_vs_pooled(
        bp.pool_costs(pool),
        period=basis,
        definition="Cost = least annual purchase cost meeting each district's demand and policy (US dollars).",
    )
)
st.subheader("Where the savings come from")
tables.show(
    bp.savings_by_route(pool),
    {
        lb.ROUTE: st.column_config.TextColumn("Route"),
        "units_standalone": st.column_config.NumberColumn("Units alone", format="localized"),
        "units_coop": st.column_config.NumberColumn("Units pooled", format="localized"),
        "cost_standalone": st.column_config.NumberColumn("Cost alone ($)", format="dollar"),
        "cost_coop": st.column_config.NumberColumn("Cost pooled ($)", format="dollar"),
        "saving": st.column_config.NumberColumn("Difference ($)", format="dollar"),
    },
)
st.caption(
    f"{basis}. Annual units (base units: lb, gal, each, dozen) and cost per route, all districts buying alone "
    "vs pooled; savings come from volume tiers the pool reaches, fixed costs shared and capacity reassigned."
)
st.markdown("**Volume tiers and fixed costs in the pooled plan**")
tables.show(
    pool.tiers,
    {
        "offer": st.column_config.TextColumn("Offer (route: category/unit)"),
        "category": st.column_config.TextColumn("Category / base unit"),
        "tier": st.column_config.NumberColumn("Tier", format="%d", help="The volume tier reached (-1 = none)"),
        "unit_cost": st.column_config.NumberColumn("Unit cost ($)", format="$%.3f", help="US dollars per base unit"),
        "base_unit_cost": st.column_config.NumberColumn("List cost ($)", format="$%.3f", help="Before any tier"),
        "fixed_cost_paid": st.column_config.NumberColumn("Fixed cost ($)", format="dollar"),
    },
    column_order=bp.TIER_COLUMNS,
)
st.caption("Pooled annual volume per offer (base units), the tier it reaches and the unit cost ($ per unit).")
binding = bp.binding_capacities(pool)
st.markdown(f"**Capacities that bind: {binding.height}**")
tables.show(binding, {"offer": st.column_config.TextColumn("Offer (route: category/unit)")})

st.subheader("Splitting the cost: allocation methods side by side")
st.caption(f"Fair splits need the least cost of every group of districts: {bp.shapley_note(members, exact)}.")
tolerance, budget = bp.DEFAULT_TOLERANCE, bp.DEFAULT_TIME_BUDGET
if members > exact:
    p1, p2 = st.columns(2)
    tolerance = (
        p1.number_input(
            "Precision: 95% half-width within (% of each district's standalone cost)",
            min_value=0.1,
            max_value=20.0,
            value=bp.DEFAULT_TOLERANCE * 100,
            step=0.1,
            key="pool_tolerance",
        )
        / 100
    )
    budget = p2.number_input(
        "Time budget (seconds)", min_value=10.0, value=bp.DEFAULT_TIME_BUDGET, step=30.0, key="pool_time_budget"
    )
if st.button("Compute the fair split", key="pool_split_run", type="primary"):
    st.session_state["pool_split_requested"] = True
if not st.session_state.get("pool_split_requested"):
    st.info("Press **Compute the fair split** to solve every coalition (progress is shown).")
else:
    bar = st.progress(0.0, text="Solving every coalition…")
    report = feedback.call(
        bp.allocate, spec, lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m), tolerance, budget
    )
    bar.empty()
    (st.success if report.precision_target_met else st.warning)(bp.precision_summary(report))
    (st.success if report.core_check is not None and report.core_check.in_core else st.warning)(bp.core_verdict(report))
    for note in report.notes:
        st.warning(lb.md(note))
    charts.show(
        charts.allocation_methods(
            bp.allocation_long(report),
            period=basis,
            definition="Each district's share of the pooled cost under each method (US dollars per year).",
        )
    )
    split = report.table()
    tables.show(
        split,
        {"district": st.column_config.TextColumn("District")}
        | {c: st.column_config.NumberColumn(tables.header(c) + " ($)", format="dollar") for c in split.columns[1:]},
    )
    st.caption("US dollars per year per district: standalone cost, cost of its own pooled purchases, and each method.")
    if not report.games.exhaustive:
        st.dataframe(
            bp.precision_table(report),
            hide_index=True,
            width="stretch",
            column_config={
                "standalone_cost": st.column_config.NumberColumn("Alone ($)", format="dollar"),
                "shapley": st.column_config.NumberColumn("Shapley share ($)", format="dollar"),
                "half_width": st.column_config.NumberColumn("95% half-width ($)", format="dollar"),
                "half_width_share": st.column_config.NumberColumn("Half-width / alone", format="percent"),
                "within_tolerance": st.column_config.CheckboxColumn("Within the precision target"),
            },
        )
        st.caption(
            "Sampled Shapley share per district with its 95% confidence half-width (US dollars per year): the exact "
            "value lies within share ± half-width with 95% confidence."
        )
    core = (
        "not checked exhaustively"
        if report.core_empty is None
        else ("empty" if report.core_empty else "not empty: some split leaves no group better off alone")
    )
    st.markdown(f"**Core check**: the core is {core}.")
    if report.least_core_epsilon is not None and report.core_empty:
        st.caption(
            f"Least-core ε = ${report.least_core_epsilon:,.2f}: the smallest amount some group still gains by leaving."
        )
    tables.show(
        bp.allocation_checks(report),
        {
            "max_excess": st.column_config.NumberColumn("Largest group excess ($)", format="dollar"),
            "known_weakness": st.column_config.TextColumn("Known weakness", width="large"),
        },
        wrap=True,
    )
    st.caption(
        "In the core = no group of districts would pay less on its own; individually rational = no district pays more "
        "than buying alone; excess = what a group pays above its own optimum (> 0 means it would rather leave)."
    )

st.subheader("What if…")
w1, w2 = st.columns(2)
change = w1.radio(
    "Change",
    [bp.LEAVE, bp.CAPACITY],
    format_func=lambda c: "a district leaves" if c == bp.LEAVE else "local supply capacity changes",
    key="pool_whatif",
)
who = w2.selectbox("District", list(spec.ids), key="pool_whatif_district") if change == bp.LEAVE else None
factor = (
    w2.slider("Local capacity × factor", 0.0, 3.0, 2.0, 0.25, key="pool_whatif_factor")
    if change == bp.CAPACITY
    else 1.0
)
if st.button("Solve the what-if", key="pool_whatif_run"):
    with feedback.shown():
        before, after = bp.what_if(spec, change, who, factor)
        a1, a2 = st.columns(2)
        a1.metric(
            "Pooled cost",
            f"${after.coop_cost:,.0f}",
            delta=bp.delta_dollars(after.coop_cost - before.coop_cost),
            delta_color="inverse",
        )
        a2.metric(
            "Savings vs buying alone",
            f"${after.savings:,.0f}",
            delta=bp.delta_dollars(after.savings - before.savings),
        )
        st.caption(f"Modelled on {terms_basis}; solver: {bp.status_words(after.status)}.")
        tables.show(after.standalone, {"district": st.column_config.TextColumn("District")})
        st.caption("After the change: each district's standalone and pooled cost and savings (US dollars per year).")
