"""Splitting the co-op's pooled cost among members: proportional, Shapley, least core, Owen; core checks.

The cost game is c(S) = the pooled model's optimum for coalition S (coop.pool). An allocation a gives each
member a cost; it is individually rational when a_i <= c({i}) and in the core when no coalition S pays more
than its own optimum: sum_{i in S} a_i <= c(S) for every S, with sum_i a_i = c(N).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import polars as pl

from coop.errors import ModelError
from coop.optimize.pool import (
    PoolModel,
    PoolResult,
    Progress,
    SolverSettings,
    coalition_members,
    solve_pool,
)
from coop.optimize.pool_spec import PoolSpec
from coop.optimize.status import INFEASIBLE, TIME_LIMIT

EXACT_LIMIT = 12  # exact Shapley and core check over all 2^n coalitions up to this many members
DEFAULT_EXACT = 10
DEFAULT_PERMUTATIONS = 64
DEFAULT_SAMPLING_SECONDS = 120.0  # sampled Shapley stops after this long (at least 2 permutation pairs)

PROPORTIONAL = "proportional"
SHAPLEY = "shapley"
LEAST_CORE = "least_core"
OWEN = "owen"

WEAKNESS = {
    PROPORTIONAL: (
        "Splits the pooled cost in proportion to standalone costs, ignoring who creates the savings: a large "
        "member whose volume unlocks a tier or pays for a delivery run gets the same percentage as everyone "
        "(under-rewarded), and the split can fall outside the core."
    ),
    SHAPLEY: (
        "Averages each member's marginal cost over every order of joining: fair by its axioms, but it can lie "
        "outside the core (a subgroup would pay less on its own), and it needs all 2^n coalition optima "
        "(sampled, with a standard error, beyond the exact limit)."
    ),
    LEAST_CORE: (
        "Minimises the largest amount any subgroup would save by leaving; when the core is empty some subgroup "
        "still gains that amount by leaving, and among the many such splits we pick the one nearest Shapley, "
        "which is a convention rather than a principle."
    ),
    OWEN: (
        "Prices each member's demand and policy commitments at the pooled LP's shadow prices: in the core by "
        "construction when every right-hand side is additive over members, but shadow prices are not unique "
        "when the LP is degenerate, and undefined once tiers or fixed costs make the pool a MILP; capacity "
        "rent is split by category demand share."
    ),
}


@dataclass(frozen=True)
class CoalitionValues:
    """c(S) for coalitions given as bit masks (bit i = member i), with how they were obtained."""

    ids: tuple[str, ...]
    values: dict[int, float]  # mask -> optimum (math.inf when infeasible)
    exhaustive: bool  # True when every coalition was solved
    worst_gap: float
    time_limited: int  # coalition solves that stopped at the time limit with a plan
    seconds: float

    @property
    def grand(self) -> float:
        """c(N), the co-op's pooled optimum."""
        return self.values[(1 << len(self.ids)) - 1]


@dataclass(frozen=True)
class Allocation:
    """One way to split the co-op's cost, with its core and individual-rationality verdicts."""

    method: str
    costs: pl.DataFrame  # district, standalone_cost, cost, savings[, std_error]
    in_core: bool | None  # None when the core could not be checked exhaustively and no violation was found
    individually_rational: bool
    max_excess: float  # max over checked coalitions of (sum of their costs - c(S)); > 0 means outside the core
    blocking: tuple[str, ...] | None  # the coalition with the largest excess when outside the core
    weakness: str

    def as_dict(self) -> dict[str, float]:
        """District id -> allocated cost."""
        return dict(zip(self.costs["district"].to_list(), self.costs["cost"].to_list(), strict=True))


@dataclass(frozen=True)
class AllocationReport:
    """Every allocation of the pooled cost, whether the core is empty, and the pool result behind them."""

    pool: PoolResult
    games: CoalitionValues
    allocations: tuple[Allocation, ...]
    core_empty: bool | None  # None when not checked exhaustively
    least_core_epsilon: float | None  # > 0: the core is empty by this many dollars
    permutations: int  # Shapley permutations sampled (0 when exact)
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def allocation(self, method: str) -> Allocation:
        """The allocation made by `method`."""
        for a in self.allocations:
            if a.method == method:
                return a
        raise KeyError(method)

    def table(self) -> pl.DataFrame:
        """One row per district: standalone cost and each method's allocated cost (dollars per year)."""
        out = self.pool.standalone.select("district", "standalone_cost", pooled_purchases_cost="coop_cost")
        for a in self.allocations:
            out = out.join(a.costs.select("district", pl.col("cost").alias(a.method)), on="district", how="left")
        return out

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON form (DESIGN.md `pool --json`)."""
        pool = self.pool
        out: dict[str, Any] = {
            "standalone": dict(
                zip(pool.standalone["district"].to_list(), pool.standalone["standalone_cost"].to_list(), strict=True)
            ),
            "coop_cost": pool.coop_cost,
            "savings": pool.savings,
            "allocation": {a.method: a.as_dict() for a in self.allocations},
            "in_core": {a.method: a.in_core for a in self.allocations},
            "individually_rational": {a.method: a.individually_rational for a in self.allocations},
            "weakness": {a.method: a.weakness for a in self.allocations},
            "max_excess": {a.method: a.max_excess if math.isfinite(a.max_excess) else None for a in self.allocations},
            "blocking": {a.method: list(a.blocking) if a.blocking else None for a in self.allocations},
            "core_empty": self.core_empty,
            "least_core_epsilon": self.least_core_epsilon,
            "status": pool.status,
            "mip_gap": pool.settings.mip_gap,
            "time_limit": pool.settings.time_limit,
            "heuristics": pool.heuristics,
            "worst_gap": max(pool.worst_gap, self.games.worst_gap),
            "coalitions_solved": len(self.games.values),
            "exact": self.games.exhaustive,
            "permutations": self.permutations,
            "tiers": pool.tiers.to_dicts(),
            "binding_capacities": pool.capacities.filter("binding").to_dicts(),
            "coop_purchases_cost": dict(
                zip(pool.standalone["district"].to_list(), pool.standalone["coop_cost"].to_list(), strict=True)
            ),
            "seconds": self.seconds,
            "notes": list(self.notes),
        }
        shapley = next((a for a in self.allocations if a.method == SHAPLEY), None)
        if shapley is not None and "std_error" in shapley.costs.columns:
            out["shapley_std_error"] = {
                d: se if se is not None and math.isfinite(se) else None
                for d, se in zip(shapley.costs["district"].to_list(), shapley.costs["std_error"].to_list(), strict=True)
            }
        return out


# --- coalition values -------------------------------------------------------------------------------
def _value(model: PoolModel, mask: int, values: dict[int, float], stats: list[float]) -> float:
    """c(S) for a bit mask, solved once and cached in `values`."""
    if mask in values:
        return values[mask]
    if mask == 0:
        values[0] = 0.0
        return 0.0
    members = [i for i in range(len(model.ids)) if mask >> i & 1]
    solve = model.solve(members, detail=False)
    if solve.cost is None:
        if solve.status == INFEASIBLE:
            values[mask] = math.inf
            return math.inf
        raise ModelError(f"coalition ({', '.join(solve.members)}): no plan, solver status {solve.status}")
    stats[0] = max(stats[0], solve.mip_gap)
    if solve.status == TIME_LIMIT:
        stats[1] += 1
    values[mask] = solve.cost
    return solve.cost


def all_coalitions(
    model: PoolModel, progress: Progress | None = None, values: dict[int, float] | None = None
) -> CoalitionValues:
    """c(S) for all 2^n coalitions (reusing any `values` given), in Gray-code order: one member changes a step."""
    n = len(model.ids)
    if n > EXACT_LIMIT:
        raise ModelError(f"{n} members: exact enumeration is limited to {EXACT_LIMIT} (2^{EXACT_LIMIT} solves)")
    start = time.perf_counter()
    values = dict(values or {0: 0.0})
    stats = [0.0, 0.0]
    total = 1 << n
    step = max(1, total // 100)
    for k in range(1, total):
        mask = k ^ (k >> 1)
        _value(model, mask, values, stats)
        if progress is not None and k % step == 0:
            progress(k / total, f"coalition {k} of {total - 1}")
    if progress is not None:
        progress(1.0, f"{total - 1} coalitions solved")
    return CoalitionValues(model.ids, values, True, stats[0], int(stats[1]), time.perf_counter() - start)


def _membership(n: int, masks: np.ndarray) -> np.ndarray:
    """Rows of 0/1 membership for bit masks."""
    return ((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(float)


def shapley_exact(games: CoalitionValues) -> np.ndarray:
    """Exact Shapley cost shares from all coalition values."""
    n = len(games.ids)
    masks = np.arange(1 << n)
    v = np.array([games.values[int(m)] for m in masks])
    if not np.isfinite(v).all():
        bad = coalition_members(int(masks[~np.isfinite(v)][0]), games.ids)
        raise ModelError(f"Shapley undefined: coalition ({', '.join(bad)}) cannot meet its demand and policies")
    member = _membership(n, masks)
    size = member.sum(axis=1).astype(int)
    weight = np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])
    phi = np.zeros(n)
    for i in range(n):
        without = masks[member[:, i] == 0]
        phi[i] = float(np.sum(weight[size[without]] * (v[without | (1 << i)] - v[without])))
    return phi


def shapley_sampled(
    model: PoolModel,
    permutations: int = DEFAULT_PERMUTATIONS,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    values: dict[int, float] | None = None,
    max_seconds: float | None = None,
) -> tuple[np.ndarray, np.ndarray, CoalitionValues, int]:
    """Shapley shares from antithetic permutation pairs: estimates, standard errors, values used, permutations run.

    Stops early (after at least two pairs) once `max_seconds` have passed.
    """
    n = len(model.ids)
    rng = np.random.default_rng(seed)
    pairs = max(1, permutations // 2)
    start = time.perf_counter()
    values = dict(values or {0: 0.0})
    stats = [0.0, 0.0]
    samples = np.zeros((pairs, n))
    for p in range(pairs):
        order = rng.permutation(n)
        both = np.zeros(n)
        for perm in (order, order[::-1]):
            mask = 0
            before = 0.0
            for i in perm:
                mask |= 1 << int(i)
                after = _value(model, mask, values, stats)
                both[i] += after - before
                before = after
        samples[p] = both / 2.0
        if progress is not None:
            progress((p + 1) / pairs, f"permutation pair {p + 1} of {pairs}")
        if max_seconds is not None and p >= 1 and time.perf_counter() - start > max_seconds:
            samples = samples[: p + 1]
            break
    pairs = samples.shape[0]
    if not np.isfinite(samples).all():
        raise ModelError("Shapley undefined: some coalition cannot meet its demand and policies")
    phi = samples.mean(axis=0)
    stderr = samples.std(axis=0, ddof=1) / math.sqrt(pairs) if pairs > 1 else np.full(n, math.nan)
    games = CoalitionValues(model.ids, values, False, stats[0], int(stats[1]), time.perf_counter() - start)
    return phi, stderr, games, 2 * pairs


# --- allocations and the core ------------------------------------------------------------------------
def proportional(standalone: np.ndarray, grand: float) -> np.ndarray:
    """The pooled cost split in proportion to standalone costs."""
    total = float(standalone.sum())
    if total <= 0:
        return np.full(standalone.size, grand / standalone.size)
    return grand * standalone / total


def core_excess(games: CoalitionValues, allocation: np.ndarray) -> tuple[float, int]:
    """The largest (allocated cost of S - c(S)) over the known proper coalitions, and that coalition's mask."""
    n = len(games.ids)
    grand = (1 << n) - 1
    masks = np.array([m for m in games.values if 0 < m < grand and math.isfinite(games.values[m])], dtype=object)
    if masks.size == 0:
        return -math.inf, 0
    if n <= 62:
        m64 = masks.astype(np.int64)
        excess = _membership(n, m64) @ allocation - np.array([games.values[int(m)] for m in m64])
    else:
        excess = np.array(
            [sum(allocation[i] for i in range(n) if int(m) >> i & 1) - games.values[int(m)] for m in masks]
        )
    k = int(np.argmax(excess))
    return float(excess[k]), int(masks[k])


def least_core(games: CoalitionValues, anchor: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The least-core epsilon (> 0 iff the core is empty) and the least-core allocation nearest `anchor` (L1)."""
    n = len(games.ids)
    grand = (1 << n) - 1
    masks = np.array([m for m in range(1, grand) if math.isfinite(games.values[m])], dtype=np.int64)
    member = _membership(n, masks)
    v = np.array([games.values[int(m)] for m in masks])
    a = cp.Variable(n)
    eps = cp.Variable()
    base = [cp.sum(a) == games.grand]
    if masks.size:
        base.append(member @ a <= v + eps)
    first = cp.Problem(cp.Minimize(eps), base)
    first.solve(solver=cp.HIGHS)
    if first.status != cp.OPTIMAL:
        raise ModelError(f"least-core LP: solver status {first.status}")
    eps_star = float(eps.value) if masks.size else 0.0
    if anchor is None:
        return eps_star, np.asarray(a.value, dtype=float)
    slack = 1e-9 * max(1.0, abs(games.grand))
    second = cp.Problem(cp.Minimize(cp.norm1(a - anchor)), [*base, eps <= eps_star + slack])
    second.solve(solver=cp.HIGHS)
    if second.status != cp.OPTIMAL:
        raise ModelError(f"least-core tie-break LP: solver status {second.status}")
    return eps_star, np.asarray(a.value, dtype=float)


def owen(pool: PoolResult) -> np.ndarray:
    """Each member's demand and policy rows priced at the pooled LP's shadow prices (pure LP pools only)."""
    duals = pool.coop.duals
    if duals is None:
        raise ModelError("Owen allocation needs a pure LP pool (no tiers, no fixed costs)")
    spec = pool.spec
    ids = list(spec.ids)
    own = (
        duals.filter(pl.col("constraint") != "capacity")
        .group_by("district")
        .agg(value=(pl.col("dual") * pl.col("rhs")).sum())
    )
    shares = dict(zip(own["district"].to_list(), own["value"].to_list(), strict=True))
    out = np.array([shares.get(d, 0.0) for d in ids])
    rent = (
        duals.filter(pl.col("constraint") == "capacity")
        .select(pl.col("key").alias("offer"), "dual")
        .join(pool.capacity_shares, on="offer")
        .group_by("district")
        .agg(value=(pl.col("dual") * pl.col("units")).sum())
    )
    for district, value in rent.iter_rows():
        out[ids.index(district)] += value
    return out


def _allocation(
    method: str,
    ids: tuple[str, ...],
    standalone: np.ndarray,
    cost: np.ndarray,
    games: CoalitionValues,
    tol: float,
    std_error: np.ndarray | None = None,
) -> Allocation:
    """An Allocation with its core and individual-rationality verdicts."""
    excess, mask = core_excess(games, cost)
    outside = excess > tol
    in_core: bool | None = (not outside) if games.exhaustive else (False if outside else None)
    data: dict[str, Any] = {
        "district": list(ids),
        "standalone_cost": standalone,
        "cost": cost,
        "savings": standalone - cost,
    }
    if std_error is not None:
        data["std_error"] = std_error
    return Allocation(
        method=method,
        costs=pl.DataFrame(data),
        in_core=in_core,
        individually_rational=bool(np.all(cost <= standalone + tol)),
        max_excess=excess,
        blocking=coalition_members(mask, ids) if outside else None,
        weakness=WEAKNESS[method],
    )


def allocate(
    spec: PoolSpec,
    settings: SolverSettings | None = None,
    *,
    exact_limit: int = DEFAULT_EXACT,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    max_seconds: float | None = DEFAULT_SAMPLING_SECONDS,
    progress: Progress | None = None,
) -> AllocationReport:
    """The pool result and every allocation of its cost, with core checks (exact up to `exact_limit` members)."""
    start = time.perf_counter()
    model = PoolModel(spec, settings)
    n = len(spec.districts)
    exact = n <= min(exact_limit, EXACT_LIMIT)

    def part(lo: float, hi: float) -> Progress | None:
        """A progress callback mapped onto [lo, hi] of the whole run."""
        if progress is None:
            return None
        return lambda f, msg: progress(lo + (hi - lo) * f, msg)

    pool = solve_pool(spec, model=model, progress=part(0.0, 0.1))
    ids = spec.ids
    standalone = pool.standalone["standalone_cost"].to_numpy()
    seeded = {0: 0.0, (1 << n) - 1: pool.coop_cost}
    seeded.update({1 << i: float(standalone[i]) for i in range(n)})
    notes: list[str] = []
    tol = max(1e-7 * max(1.0, abs(pool.coop_cost)), 4.0 * model.settings.mip_gap * abs(pool.coop_cost))
    if exact:
        games = all_coalitions(model, progress=part(0.1, 0.95), values=seeded)
        phi, phi_se, used = shapley_exact(games), None, 0
    else:
        phi, phi_se, games, used = shapley_sampled(
            model, permutations, seed=seed, progress=part(0.1, 0.95), values=seeded, max_seconds=max_seconds
        )
        notes.append(
            f"{n} members: Shapley from {used} sampled permutations (antithetic pairs); core checked only "
            f"against the {len(games.values) - 1} coalitions solved"
        )
    if games.time_limited:
        notes.append(f"{games.time_limited} coalition solves stopped at the {model.settings.time_limit:g} s limit")
    allocs = [
        _allocation(PROPORTIONAL, ids, standalone, proportional(standalone, pool.coop_cost), games, tol),
        _allocation(SHAPLEY, ids, standalone, phi, games, tol, phi_se),
    ]
    core_empty: bool | None = None
    epsilon: float | None = None
    if exact:
        epsilon, lc = least_core(games, anchor=phi)
        core_empty = epsilon > tol
        allocs.append(_allocation(LEAST_CORE, ids, standalone, lc, games, tol))
        if core_empty:
            notes.append(f"the core is empty: any split leaves some subgroup ${epsilon:,.2f} better off alone")
    if spec.pure_lp:
        allocs.append(_allocation(OWEN, ids, standalone, owen(pool), games, tol))
    if progress is not None:
        progress(1.0, "allocations done")
    return AllocationReport(
        pool=pool,
        games=games,
        allocations=tuple(allocs),
        core_empty=core_empty,
        least_core_epsilon=epsilon,
        permutations=used,
        seconds=time.perf_counter() - start,
        notes=tuple(notes),
    )
