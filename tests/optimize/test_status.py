"""One status vocabulary: the LP's words (DESIGN's CLI contract), the pool's time limit, cvxpy mapped once."""

from __future__ import annotations

import cvxpy as cp
import pytest

from coop.optimize import lp, status
from coop.optimize.scenarios import define_scenario


def test_the_words_are_designs_cli_contract_plus_the_pools_time_limit():
    assert status.LP_STATUSES == ("optimal", "infeasible", "unbounded", "error")
    assert (*status.LP_STATUSES, "time_limit") == status.POOL_STATUSES
    assert status.TIME_LIMIT == "time_limit"


@pytest.mark.parametrize(
    ("cvxpy_status", "word", "inaccurate"),
    [
        (cp.OPTIMAL, status.OPTIMAL, False),
        (cp.OPTIMAL_INACCURATE, status.OPTIMAL, True),
        (cp.INFEASIBLE, status.INFEASIBLE, False),
        (cp.INFEASIBLE_INACCURATE, status.INFEASIBLE, True),
        (cp.UNBOUNDED, status.UNBOUNDED, False),
        (cp.UNBOUNDED_INACCURATE, status.UNBOUNDED, True),
        (cp.USER_LIMIT, status.ERROR, False),
        (cp.SOLVER_ERROR, status.ERROR, False),
        (None, status.ERROR, False),
    ],
)
def test_cvxpy_statuses_map_onto_ours(cvxpy_status, word, inaccurate):
    assert status.from_cvxpy(cvxpy_status) == word
    assert status.inaccurate(cvxpy_status) is inaccurate


def test_the_two_answers_callers_look_at_again():
    assert status.AMBIGUOUS == cp.settings.INFEASIBLE_OR_UNBOUNDED
    assert status.STOPPED == cp.USER_LIMIT
    assert status.from_cvxpy(status.AMBIGUOUS) == status.ERROR  # never reported as is: LP and pool decide


def test_lp_results_use_the_vocabulary():
    assert lp.solve("bau").status == status.OPTIMAL
    assert lp.solve(define_scenario("free", incentive=2.0)).status == status.UNBOUNDED
    assert lp.solve(define_scenario("bad", policy=["fairness"])).status == status.ERROR
    econ_4 = define_scenario("econ-4", policy=["economic_impact"], targets={"economic_impact": 4.0})
    assert lp.solve(econ_4).status == status.INFEASIBLE  # only z2 reaches $4.00, and not alone
