"""Splitting the co-op's pooled cost among members: proportional, Shapley, least core, Owen; core checks.

The cost game is c(S) = the pooled model's optimum for coalition S (coop.pool). An allocation a gives each
member a cost; it is individually rational when a_i <= c({i}) and in the core when no coalition S pays more
than its own optimum: sum_{i in S} a_i <= c(S) for every S, with sum_i a_i = c(N).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
import polars as pl
from scipy import stats

from coop.errors import ModelError
from coop.optimize import execution
from coop.optimize.pool import (
    CORE_TIME_LIMIT,
    CoreSeparation,
    PoolModel,
    PoolResult,
    Progress,
    Separation,
    SolverSettings,
    coalition_members,
    solve_pool,
)
from coop.optimize.pool_spec import PoolSpec
from coop.optimize.status import INFEASIBLE, TIME_LIMIT

EXACT_LIMIT = 12  # exact Shapley and core check over all 2^n coalitions up to this many members
DEFAULT_EXACT = 10
DEFAULT_TOLERANCE = 0.01  # sampled Shapley: every member's 95% half-width within 1% of its standalone cost
DEFAULT_TIME_BUDGET = 600.0  # seconds: sampled Shapley stops here if the precision target is not met sooner
DEFAULT_PERMUTATIONS = 100_000  # most permutations sampled (the precision target or the time budget stops sooner)
MIN_PAIRS = 10  # antithetic pairs before the precision rule may stop (a standard error from fewer is unreliable)
MAX_BATCH_PAIRS = 32  # pairs submitted at once; the next batch is sized by the precision still missing
CONFIDENCE = 0.95
LEAST_CORE_ROUNDS = 200  # most constraint-generation rounds of the least core beyond the exact limit
ENUMERATION = "enumeration"
SEPARATION = "separation"

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
class CoreCheck:
    """Whether a split is in the core: by enumerating every coalition, or by the separation MILP at any size."""

    method: str  # ENUMERATION | SEPARATION
    in_core: bool | None  # None: the MILP stopped with its bound above the tolerance and no violation found
    members: tuple[str, ...]  # the most-violated coalition (the tightest one when none is violated)
    excess: float  # its allocated cost minus its own optimum (> 0: it would save this much by leaving)
    excess_bound: float  # no coalition's excess exceeds this (= excess when enumerated)
    mip_gap: float  # (excess_bound - excess) relative to the co-op's cost; 0 when enumerated
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """DESIGN.md's `core_check`."""
        return {
            "method": self.method,
            "in_core": self.in_core,
            "most_violated": {"members": list(self.members), "excess": _finite(self.excess)},
            "mip_gap": _finite(self.mip_gap),
            "excess_bound": _finite(self.excess_bound),
            "seconds": self.seconds,
        }


def _finite(value: float) -> float | None:
    """A float for JSON, None when not finite."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class SampledShapley:
    """Shapley shares estimated from antithetic permutation pairs, with their precision and how sampling ended."""

    estimate: np.ndarray
    std_error: np.ndarray
    half_width: np.ndarray  # 95% confidence half-width per member (Student t over the pairs), dollars
    pairs: int
    target_met: bool  # every half-width within the tolerance times the member's standalone cost
    stopped: str  # "precision target met" | "time budget" | "permutation cap"
    games: CoalitionValues
    solves: int  # coalition solves run (the rest came from the cache of coalition values)

    @property
    def permutations(self) -> int:
        """Permutations sampled (two per pair)."""
        return 2 * self.pairs


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
    half_width: np.ndarray | None = field(default=None, repr=False)  # Shapley 95% half-widths; None when exact
    tolerance: float = DEFAULT_TOLERANCE
    precision_target_met: bool = True
    core_check: CoreCheck | None = None  # the Shapley split's core check
    coalition_solves: int = 0  # coalition optima solved for the split (cached values reused are not counted)
    execution: str = execution.IN_PROCESS  # where coalition solves ran
    workers: int = 0

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

    def precision(self) -> pl.DataFrame:
        """Per district: standalone cost, Shapley share, its 95% half-width (dollars and share of standalone)."""
        shapley = self.allocation(SHAPLEY).costs
        n = shapley.height
        widths = self.half_width if self.half_width is not None else np.zeros(n)
        return (
            shapley.select("district", "standalone_cost", shapley="cost")
            .with_columns(
                half_width=pl.Series(widths, dtype=pl.Float64),
            )
            .with_columns(
                half_width_share=pl.when(pl.col("standalone_cost") > 0)
                .then(pl.col("half_width") / pl.col("standalone_cost"))
                .otherwise(0.0),
                within_tolerance=pl.col("half_width") <= self.tolerance * pl.col("standalone_cost").abs() + 1e-9,
            )
        )

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
        ids = pool.standalone["district"].to_list()
        widths = self.half_width if self.half_width is not None else np.zeros(len(ids))
        out["shapley_half_width"] = {d: _finite(float(w)) for d, w in zip(ids, widths, strict=True)}
        out["precision_target_met"] = self.precision_target_met
        out["tolerance"] = self.tolerance
        out["core_check"] = None if self.core_check is None else self.core_check.to_json()
        out["coalition_solves"] = self.coalition_solves
        out["execution"] = {"where": self.execution, "workers": self.workers}
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


def _membership(n: int, masks: np.ndarray | Sequence[int]) -> np.ndarray:
    """Rows of 0/1 membership for bit masks (any number of members)."""
    if n <= 62:
        return ((np.asarray(masks, dtype=np.int64)[:, None] >> np.arange(n)[None, :]) & 1).astype(float)
    width = (n + 7) // 8
    raw = b"".join(int(m).to_bytes(width, "little") for m in masks)
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(len(masks), width)
    return np.unpackbits(rows, axis=1, bitorder="little")[:, :n].astype(float)


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


def _prefixes(order: np.ndarray) -> list[int]:
    """The coalitions a permutation builds, first member alone to all members, as bit masks."""
    out, mask = [], 0
    for i in order:
        mask |= 1 << int(i)
        out.append(mask)
    return out


def _marginals(order: np.ndarray, values: Mapping[int, float]) -> np.ndarray:
    """Each member's marginal cost when joining in `order`."""
    out = np.zeros(order.size)
    before = 0.0
    for i, mask in zip(order, _prefixes(order), strict=True):
        after = values[mask]
        out[int(i)] = after - before
        before = after
    return out


def half_widths(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standard errors and 95% confidence half-widths (Student t) of the means of iid sample rows."""
    pairs, n = samples.shape
    if pairs < 2:
        return np.full(n, math.inf), np.full(n, math.inf)
    se = samples.std(axis=0, ddof=1) / math.sqrt(pairs)
    return se, float(stats.t.ppf(0.5 + CONFIDENCE / 2, pairs - 1)) * se


def shapley_sampled(
    runner: execution.ChainSolver,
    standalone: np.ndarray,
    *,
    values: dict[int, float],
    tolerance: float = DEFAULT_TOLERANCE,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    max_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    progress: Progress | None = None,
) -> SampledShapley:
    """Shapley shares from antithetic permutation pairs, sampled to a precision, a time budget or a cap.

    Sampling stops once every member's 95% half-width is within `tolerance` x its standalone cost (after at least
    MIN_PAIRS pairs), when the time budget ends, or at the permutation cap.

    Each permutation is one chain of coalition solves (a task); coalition values are cached in `values` and reused
    across permutations. Batches are sized from the values alone (never from timing or the number of workers), so
    without a binding time budget the same seed gives the same estimates whatever runs the chains.
    """
    n = standalone.size
    rng = np.random.default_rng(seed)
    start = time.monotonic()
    deadline = None if time_budget is None else start + max(0.0, time_budget)
    target = tolerance * np.abs(standalone)
    max_pairs = max(2, max_permutations // 2)
    samples = np.zeros((0, n))  # one row per complete pair: the mean of its two permutations' marginals
    tally = {"solves": 0, "limited": 0, "worst": 0.0, "chains": 0, "needed": float(MIN_PAIRS)}
    shown = [0.0]

    def report(fraction: float, message: str) -> None:
        """Progress that never goes backwards."""
        shown[0] = max(shown[0], min(fraction, 1.0))
        if progress is not None:
            progress(shown[0], message)

    def finished(_k: int, chain: execution.ChainValues) -> None:
        """A chain came back from a worker: keep its values and say how far sampling is."""
        values.update(zip(chain.masks, chain.costs, strict=True))
        tally["solves"] += len(chain.masks)
        tally["limited"] += chain.time_limited
        tally["worst"] = max(tally["worst"], chain.worst_gap)
        tally["chains"] += 1
        pairs_now = samples.shape[0] + tally["chains"] / 2
        by_time = (time.monotonic() - start) / time_budget if time_budget else 0.0
        by_precision = min(0.99, pairs_now / tally["needed"])
        if samples.shape[0] == 0:  # no spread measured yet: the pairs needed are a guess
            by_precision = min(0.25, by_precision)
        report(
            max(by_time, by_precision),
            f"{tally['chains']} permutations solved, about {tally['needed']:.0f} pairs needed for the precision target",
        )

    def run(orders: list[np.ndarray], until: float | None) -> None:
        """Solve every coalition of these pairs not yet known, one chain (task) per permutation."""
        chains: list[list[int]] = []
        queued: set[int] = set()
        for order in orders:
            for perm in (order, order[::-1]):
                chain = [m for m in _prefixes(perm) if m not in values and m not in queued]
                queued.update(chain)
                if chain:
                    chains.append(chain)
        runner.solve_chains(chains, finished, until)

    stopped = "permutation cap"
    batch = min(MIN_PAIRS, max_pairs)
    hw = np.full(n, math.inf)
    while True:
        orders = [rng.permutation(n) for _ in range(batch)]
        if samples.shape[0] < 2:  # two pairs whatever the budget: the least that gives a standard error
            run(orders[:2], None)
            run(orders[2:], deadline)
        else:
            run(orders, deadline)
        complete = [o for o in orders if all(m in values for p in (o, o[::-1]) for m in _prefixes(p))]
        if complete:
            rows = np.array([(_marginals(o, values) + _marginals(o[::-1], values)) / 2.0 for o in complete])
            if not np.isfinite(rows).all():
                raise ModelError("Shapley undefined: some coalition cannot meet its demand and policies")
            samples = np.vstack([samples, rows])
        pairs = samples.shape[0]
        _se, hw = half_widths(samples)
        if pairs >= MIN_PAIRS and bool(np.all(hw <= target + 1e-9)):
            stopped = "precision target met"
            break
        if deadline is not None and time.monotonic() >= deadline:
            stopped = "time budget"
            break
        if pairs >= max_pairs:
            break
        # the pairs the least precise member needs at its current spread; the next batch adds 2 to MAX_BATCH_PAIRS
        worst = max((hw[i] / target[i] if target[i] > 0 else (math.inf if hw[i] > 0 else 0.0)) for i in range(n))
        need = pairs * worst**2 if math.isfinite(worst) else float(max_pairs)
        tally["needed"] = float(min(max_pairs, max(MIN_PAIRS, math.ceil(need))))
        batch = int(min(MAX_BATCH_PAIRS, max_pairs - pairs, max(2, tally["needed"] - pairs)))
    se, hw = half_widths(samples)
    pairs = samples.shape[0]
    games = CoalitionValues(
        runner.ids, values, False, float(tally["worst"]), int(tally["limited"]), time.monotonic() - start
    )
    report(1.0, f"{2 * pairs} permutations sampled: {stopped}")
    return SampledShapley(
        estimate=samples.mean(axis=0),
        std_error=se,
        half_width=hw,
        pairs=pairs,
        target_met=stopped == "precision target met",
        stopped=stopped,
        games=games,
        solves=int(tally["solves"]),
    )


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
    masks = [m for m in games.values if 0 < m < grand and math.isfinite(games.values[m])]
    if not masks:
        return -math.inf, 0
    excess = _membership(n, masks) @ allocation - np.array([games.values[m] for m in masks])
    k = int(np.argmax(excess))
    return float(excess[k]), int(masks[k])


def least_core(
    games: CoalitionValues, anchor: np.ndarray | None = None, masks: Sequence[int] | None = None
) -> tuple[float, np.ndarray]:
    """The least-core epsilon (> 0 iff the core is empty) and the least-core allocation nearest `anchor` (L1).

    Over every proper coalition, or only over `masks` (the cuts of constraint generation).
    """
    n = len(games.ids)
    grand = (1 << n) - 1
    if masks is None:
        masks = [m for m in range(1, grand) if math.isfinite(games.values[m])]
    masks = [m for m in masks if 0 < m < grand and math.isfinite(games.values[m])]
    if not masks:  # one member: the whole cost is its own
        return 0.0, np.full(n, games.grand / n)
    member = _membership(n, masks)
    v = np.array([games.values[m] for m in masks])
    try:
        return _least_core_lp(member, v, games.grand, anchor, 1.0)
    except ModelError:
        # HiGHS can stall on thousands of cuts in dollars: the same LPs in units of the co-op's cost
        return _least_core_lp(member, v, games.grand, anchor, max(1.0, abs(games.grand)))


def _least_core_lp(
    member: np.ndarray, v: np.ndarray, grand: float, anchor: np.ndarray | None, scale: float
) -> tuple[float, np.ndarray]:
    """The two least-core LPs (min epsilon, then nearest `anchor`) with money divided by `scale`."""
    n = member.shape[1]
    a = cp.Variable(n)
    eps = cp.Variable()
    base = [cp.sum(a) == grand / scale, member @ a <= v / scale + eps]
    first = cp.Problem(cp.Minimize(eps), base)
    _solve_lp(first, "least-core LP")
    eps_star = float(eps.value)
    if anchor is None:
        return eps_star * scale, np.asarray(a.value, dtype=float) * scale
    slack = 1e-9 * max(1.0, abs(grand) / scale)
    second = cp.Problem(cp.Minimize(cp.norm1(a - anchor / scale)), [*base, eps <= eps_star + slack])
    _solve_lp(second, "least-core tie-break LP")
    return eps_star * scale, np.asarray(a.value, dtype=float) * scale


def _solve_lp(prob: cp.Problem, what: str) -> None:
    """Solve an LP with HiGHS, or a ModelError saying what failed."""
    try:
        prob.solve(solver=cp.HIGHS)
    except (cp.SolverError, ValueError) as exc:  # cvxpy raises ValueError when HiGHS returns no solution
        raise ModelError(f"{what}: HiGHS returned no solution ({exc.__class__.__name__})") from exc
    if prob.status != cp.OPTIMAL:
        raise ModelError(f"{what}: solver status {prob.status}")


@dataclass(frozen=True)
class GeneratedLeastCore:
    """The least core found by constraint generation with the separation MILP, and whether it converged."""

    epsilon: float  # over the coalitions generated: a lower bound on the least-core epsilon, exact once converged
    allocation: np.ndarray
    converged: bool  # the separation found no coalition with excess above epsilon (within its gap)
    rounds: int
    check: Separation  # the last separation, on `allocation`
    stopped: str = ""  # why generation ended


def least_core_generated(
    games: CoalitionValues,
    separation: CoreSeparation,
    *,
    anchor: np.ndarray | None,
    tol: float,
    rounds: int = LEAST_CORE_ROUNDS,
    deadline: float | None = None,
    progress: Progress | None = None,
) -> GeneratedLeastCore:
    """The least core at any size, by constraint generation with the separation MILP.

    The LP runs over the coalitions known so far (every coalition solved, to start), then the separation MILP adds
    the coalition its allocation violates most, until none exceeds epsilon.
    """
    n = len(games.ids)
    grand = (1 << n) - 1
    values = dict(games.values)
    cuts = [m for m in values if 0 < m < grand and math.isfinite(values[m])]
    known = CoalitionValues(games.ids, values, False, games.worst_gap, games.time_limited, games.seconds)
    for k in range(1, rounds + 1):
        eps, a = least_core(known, anchor=anchor, masks=cuts)
        check = separation.most_violated(a)
        if progress is not None:
            progress(k / rounds, f"least core: round {k}, epsilon ${eps:,.2f}, worst excess ${check.excess:,.2f}")
        # converged when no coalition can exceed epsilon by more than the tolerance plus the MILP's stated gap
        gap = check.excess_bound - check.excess if check.excess_bound >= check.excess else 0.0
        if check.excess_bound <= eps + tol or (check.excess <= eps + tol and gap <= tol):
            return GeneratedLeastCore(eps, a, True, k, check, "no coalition exceeds epsilon")
        if check.mask in values:
            return GeneratedLeastCore(eps, a, False, k, check, "the coalition found is already a cut")
        if check.excess <= eps + tol:
            return GeneratedLeastCore(eps, a, False, k, check, "the separation bound is not closed within its gap")
        if deadline is not None and time.monotonic() > deadline:
            return GeneratedLeastCore(eps, a, False, k, check, "time budget")
        values[check.mask] = float(a @ _membership(n, [check.mask])[0]) - check.excess
        cuts.append(check.mask)
    return GeneratedLeastCore(eps, a, False, rounds, check, f"{rounds} rounds")


def enumerated_check(games: CoalitionValues, allocation: np.ndarray, tol: float) -> CoreCheck:
    """The core check of a split over every coalition (exhaustive games only)."""
    start = time.perf_counter()
    excess, mask = core_excess(games, allocation)
    return CoreCheck(
        ENUMERATION,
        excess <= tol,
        coalition_members(mask, games.ids),
        excess,
        excess,
        0.0,
        time.perf_counter() - start,
    )


def separated_check(separation: CoreSeparation, allocation: np.ndarray, tol: float) -> CoreCheck:
    """The core check of a split at any size: the separation MILP's most-violated coalition and its bound."""
    found = separation.most_violated(allocation)
    # in the core within the MIP gap the check states: HiGHS stops once the bound is this close to the best found
    stated_gap = separation.mip_gap * max(1.0, abs(float(np.sum(allocation))))
    verdict: bool | None = True if found.excess_bound <= tol + stated_gap else (False if found.excess > tol else None)
    return CoreCheck(SEPARATION, verdict, found.members, found.excess, found.excess_bound, found.mip_gap, found.seconds)


def _tolerance(grand: float, mip_gap: float) -> float:
    """Dollars within which a coalition's excess counts as zero: solver noise and the stated MIP gap."""
    return max(1e-7 * max(1.0, abs(grand)), 4.0 * mip_gap * abs(grand))


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
    check: CoreCheck | None = None,
) -> Allocation:
    """An Allocation with its core and individual-rationality verdicts (from `check` when one was run)."""
    if check is not None:
        excess, in_core = check.excess, check.in_core
        outside = in_core is False
        blocking = check.members if outside else None
    else:
        excess, mask = core_excess(games, cost)
        outside = excess > tol
        in_core = (not outside) if games.exhaustive else (False if outside else None)
        blocking = coalition_members(mask, ids) if outside else None
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
        blocking=blocking,
        weakness=WEAKNESS[method],
    )


def allocate(
    spec: PoolSpec,
    settings: SolverSettings | None = None,
    *,
    exact_limit: int = DEFAULT_EXACT,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
    tolerance: float = DEFAULT_TOLERANCE,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    scheduler: str | None = None,
    workers: int | None = None,
    core_time_limit: float = CORE_TIME_LIMIT,
    progress: Progress | None = None,
) -> AllocationReport:
    """The pool result and every allocation of its cost, with core checks at any size.

    Up to `exact_limit` members every coalition is solved (exact Shapley, core and least core). Beyond it Shapley
    is sampled until each member's 95% half-width is within `tolerance` of its standalone cost or `time_budget`
    seconds pass, with the coalition solves as tasks on dask (`scheduler`, else COOP_DASK_SCHEDULER, else a
    LocalCluster of `workers` processes; `workers=0` solves in this process), and the core is checked by the
    separation MILP (the least core by constraint generation when Shapley is not in the core).
    """
    start = time.perf_counter()
    if not 0 < tolerance < 1:
        raise ModelError(f"tolerance must be a fraction in (0, 1), got {tolerance:g}")
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
    tol = _tolerance(pool.coop_cost, model.settings.mip_gap)
    where, n_workers = execution.IN_PROCESS, 0
    if exact:
        games = all_coalitions(model, progress=part(0.1, 0.95), values=seeded)
        phi, phi_se, phi_hw, used = shapley_exact(games), None, None, 0
        solves = model.solves
        target_met = True
        checks = {m: None for m in (PROPORTIONAL, SHAPLEY)}
        shapley_check = enumerated_check(games, phi, tol)
    else:
        sampling = execution.sampling_settings(model.settings)
        with execution.open_runner(spec, sampling, scheduler=scheduler, workers=workers) as runner:
            where, n_workers = runner.where, runner.workers
            sampled = shapley_sampled(
                runner,
                standalone,
                values=seeded,
                tolerance=tolerance,
                time_budget=time_budget,
                max_permutations=permutations,
                seed=seed,
                progress=part(0.1, 0.8),
            )
        games, phi, phi_se, phi_hw, used = (
            sampled.games,
            sampled.estimate,
            sampled.std_error,
            sampled.half_width,
            sampled.permutations,
        )
        solves = model.solves + sampled.solves
        target_met = sampled.target_met
        worst = max(float(np.max(phi_hw / np.maximum(np.abs(standalone), 1e-12))), 0.0) if n else 0.0
        notes.append(
            f"{n} members: Shapley from {used} sampled permutations (antithetic pairs, {sampled.solves:,} coalition "
            f"solves on {where}); largest 95% half-width {worst:.2%} of a member's standalone cost "
            f"(target {tolerance:.2%}): {sampled.stopped}"
        )
        separation = CoreSeparation(model, time_limit=core_time_limit)
        if progress is not None:
            progress(0.8, "core check: separation MILP over membership binaries (Shapley split)")
        shapley_check = separated_check(separation, phi, tol)
        if progress is not None:
            progress(0.87, "core check: separation MILP (proportional split)")
        checks = {
            SHAPLEY: shapley_check,
            PROPORTIONAL: separated_check(separation, proportional(standalone, pool.coop_cost), tol),
        }
    if games.time_limited:
        notes.append(f"{games.time_limited} coalition solves stopped at the {model.settings.time_limit:g} s limit")
    allocs = [
        _allocation(
            PROPORTIONAL,
            ids,
            standalone,
            proportional(standalone, pool.coop_cost),
            games,
            tol,
            check=checks[PROPORTIONAL],
        ),
        _allocation(SHAPLEY, ids, standalone, phi, games, tol, phi_se, check=checks[SHAPLEY]),
    ]
    core_empty: bool | None = None
    epsilon: float | None = None
    if exact:
        epsilon, lc = least_core(games, anchor=phi)
        core_empty = epsilon > tol
        allocs.append(_allocation(LEAST_CORE, ids, standalone, lc, games, tol))
    elif shapley_check.in_core is True:
        core_empty = False  # the Shapley split is a core allocation
    else:
        deadline = None if time_budget is None else time.monotonic() + time_budget
        try:
            generated = least_core_generated(
                games, separation, anchor=phi, tol=tol, deadline=deadline, progress=part(0.93, 0.99)
            )
        except ModelError as exc:
            generated = None
            notes.append(f"least core not computed: {exc}")
        if generated is not None:
            verdict = generated.converged and generated.epsilon <= tol
            lc_check = CoreCheck(
                SEPARATION,
                True if verdict else (False if generated.check.excess > tol else None),
                generated.check.members,
                generated.check.excess,
                generated.check.excess_bound,
                generated.check.mip_gap,
                generated.check.seconds,
            )
            allocs.append(_allocation(LEAST_CORE, ids, standalone, generated.allocation, games, tol, check=lc_check))
            if generated.converged:
                epsilon, core_empty = generated.epsilon, generated.epsilon > tol
            else:
                notes.append(
                    f"least core: constraint generation stopped after {generated.rounds} rounds ({generated.stopped}); "
                    f"epsilon is at least ${generated.epsilon:,.2f}"
                )
                core_empty = True if generated.epsilon > tol else None
            notes.append(f"least core: {generated.rounds} rounds of constraint generation with the separation MILP")
    if core_empty and epsilon is not None:
        notes.append(f"the core is empty: any split leaves some subgroup ${epsilon:,.2f} better off alone")
    if spec.pure_lp:
        owen_cost = owen(pool)
        owen_check = None if exact else separated_check(separation, owen_cost, tol)
        allocs.append(_allocation(OWEN, ids, standalone, owen_cost, games, tol, check=owen_check))
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
        half_width=phi_hw,
        tolerance=tolerance,
        precision_target_met=target_met,
        core_check=shapley_check,
        coalition_solves=solves,
        execution=where,
        workers=n_workers,
    )
