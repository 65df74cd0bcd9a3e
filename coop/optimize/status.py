"""The solver status words of the route LP and the pooled model, and cvxpy's statuses mapped onto them once.

The route LP reports one of `LP_STATUSES` (DESIGN's CLI contract: optimal, infeasible, unbounded,
error). The pooled MILP can also stop at its time limit with a feasible plan (`time_limit`: the
cost is then an upper bound), so it reports one of `POOL_STATUSES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal

import cvxpy as cp

Status = Literal["optimal", "infeasible", "unbounded", "error"]
PoolStatus = Literal["optimal", "infeasible", "unbounded", "error", "time_limit"]

OPTIMAL: Final = "optimal"
INFEASIBLE: Final = "infeasible"
UNBOUNDED: Final = "unbounded"
ERROR: Final = "error"
TIME_LIMIT: Final = "time_limit"  # stopped at the time limit with a feasible plan; cost is an upper bound

LP_STATUSES: tuple[Status, ...] = (OPTIMAL, INFEASIBLE, UNBOUNDED, ERROR)
POOL_STATUSES: tuple[PoolStatus, ...] = (*LP_STATUSES, TIME_LIMIT)

# cvxpy's status -> ours. Two cvxpy answers need the caller's second look: INFEASIBLE_OR_UNBOUNDED
# (`AMBIGUOUS`; the LP decides it with a zero-cost re-solve, the pool reads it as infeasible) and a solve
# stopped at a limit (`STOPPED`: a plan only if the solver has a feasible point). Anything else is an error.
AMBIGUOUS: Final = cp.settings.INFEASIBLE_OR_UNBOUNDED
STOPPED: Final = cp.USER_LIMIT
CVXPY_STATUS: Mapping[str, Status] = MappingProxyType(
    {
        cp.OPTIMAL: OPTIMAL,
        cp.OPTIMAL_INACCURATE: OPTIMAL,
        cp.INFEASIBLE: INFEASIBLE,
        cp.INFEASIBLE_INACCURATE: INFEASIBLE,
        cp.UNBOUNDED: UNBOUNDED,
        cp.UNBOUNDED_INACCURATE: UNBOUNDED,
    }
)


def from_cvxpy(status: str | None) -> Status:
    """Our word for a cvxpy problem status (`error` for one we cannot read as a result)."""
    return CVXPY_STATUS.get(status or "", ERROR)


def inaccurate(status: str | None) -> bool:
    """True when cvxpy says the answer is only approximately what it reports (optimal/infeasible/unbounded)."""
    return status in (cp.OPTIMAL_INACCURATE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED_INACCURATE)
