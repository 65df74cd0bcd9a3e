"""Where coalition solves run: in this process, or as tasks on dask.distributed (a LocalCluster or a scheduler).

A task solves one chain of coalitions (bit masks over the spec's members, bit i = member i) in order on its
process's own pooled model, built once per process and spec. Each solve warm-starts from the one before it in
the chain (the nearest coalition solved, one member apart) and every chain starts cold, so a chain's values
depend on the chain alone: the same seed gives the same split whatever the number of workers. Progress comes
back chain by chain, as each task finishes on its worker.

A cluster: `dask scheduler` on one machine, `dask worker tcp://HOST:8786 --nthreads 1` on each worker machine
(with this repository's requirements installed and `coop` importable), then `--scheduler tcp://HOST:8786` or
the `COOP_DASK_SCHEDULER` environment variable.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import pickle
import sys
import time
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from coop.errors import CoopError, ModelError
from coop.optimize.pool import PoolModel, SolverSettings
from coop.optimize.pool_spec import PoolSpec
from coop.optimize.status import INFEASIBLE, TIME_LIMIT

SCHEDULER_ENV = "COOP_DASK_SCHEDULER"  # tcp://HOST:8786 of a running `dask scheduler`; unset: a LocalCluster
IN_PROCESS = "in-process"
CONNECT_TIMEOUT = "10s"  # how long to wait for a dask scheduler to answer
MODELS_KEPT = 2  # pooled models a process keeps (one per spec and settings)

_MODELS: OrderedDict[str, PoolModel] = OrderedDict()  # this process's models: a worker builds each spec's once


@dataclass(frozen=True)
class ChainValues:
    """The optima of one chain of coalitions, in chain order (math.inf where a coalition is infeasible)."""

    masks: tuple[int, ...]
    costs: tuple[float, ...]
    worst_gap: float
    time_limited: int  # solves that stopped at the time limit with a plan
    seconds: float


def spec_key(spec: PoolSpec, settings: SolverSettings) -> str:
    """A digest naming a spec and its solver settings (a worker's model cache key)."""
    return hashlib.sha256(pickle.dumps((spec, settings))).hexdigest()


def _model(key: str, spec: PoolSpec, settings: SolverSettings) -> PoolModel:
    """The pooled model of this process for the spec, built on first use."""
    model = _MODELS.get(key)
    if model is None:
        model = PoolModel(spec, settings)
        _MODELS[key] = model
        while len(_MODELS) > MODELS_KEPT:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(key)
    return model


def members_of(mask: int) -> list[int]:
    """Member indices of a coalition bit mask."""
    out, i = [], 0
    while mask:
        if mask & 1:
            out.append(i)
        mask >>= 1
        i += 1
    return out


def solve_chain(key: str, spec: PoolSpec, settings: SolverSettings, chain: Sequence[int]) -> ChainValues:
    """c(S) for each coalition of a chain, in order, cold start first then warm starts along the chain (a task)."""
    start = time.perf_counter()
    model = _model(key, spec, settings)
    model.cold_start()
    costs: list[float] = []
    worst, limited = 0.0, 0
    for mask in chain:
        solve = model.solve(members_of(mask), detail=False)
        if solve.cost is None:
            if solve.status != INFEASIBLE:
                raise ModelError(f"coalition ({', '.join(solve.members)}): no plan, solver status {solve.status}")
            costs.append(math.inf)
            continue
        worst = max(worst, solve.mip_gap)
        limited += solve.status == TIME_LIMIT
        costs.append(solve.cost)
    return ChainValues(tuple(chain), tuple(costs), worst, limited, time.perf_counter() - start)


def sampling_settings(settings: SolverSettings) -> SolverSettings:
    """The settings of sampled coalition solves: 'auto' heuristics become light (same optima, 2-3x faster)."""
    return replace(settings, heuristics="light") if settings.heuristics == "auto" else settings


def default_workers() -> int:
    """Local worker processes by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def scheduler_address(scheduler: str | None = None) -> str | None:
    """The scheduler given, else COOP_DASK_SCHEDULER, else None (a LocalCluster on this machine)."""
    return scheduler or os.environ.get(SCHEDULER_ENV) or None


OnChain = Callable[[int, ChainValues], None]


class ChainSolver(Protocol):
    """What sampled Shapley needs from a runner: the member ids, and chains of coalition masks solved."""

    ids: tuple[str, ...]

    def solve_chains(
        self, chains: Sequence[Sequence[int]], on_done: OnChain | None = None, deadline: float | None = None
    ) -> list[ChainValues | None]:
        """Each chain's values, in chain order; None for a chain not finished by `deadline`."""
        ...


class Runner:
    """Solves chains of coalitions for one spec: in this process (no client) or as dask tasks."""

    def __init__(self, spec: PoolSpec, settings: SolverSettings, client: Any = None, where: str = IN_PROCESS) -> None:
        self.spec = spec
        self.ids = spec.ids
        self.settings = settings
        self.key = spec_key(spec, settings)
        self.client = client
        self.where = where
        self._spec_ref: Any = None
        if client is not None:
            info = client.scheduler_info(n_workers=-1)
            self.workers = len(info.get("workers", {}))
            if self.workers == 0:
                raise ModelError(f"dask scheduler {where}: no workers connected (start `dask worker {where}`)")
        else:
            self.workers = 0

    def solve_chains(
        self, chains: Sequence[Sequence[int]], on_done: OnChain | None = None, deadline: float | None = None
    ) -> list[ChainValues | None]:
        """Each chain's values, in chain order; None for a chain not finished by `deadline` (time.monotonic)."""
        if self.client is None:
            return self._in_process(chains, on_done, deadline)
        return self._on_dask(chains, on_done, deadline)

    def _in_process(
        self, chains: Sequence[Sequence[int]], on_done: OnChain | None, deadline: float | None
    ) -> list[ChainValues | None]:
        """Chains solved one after another in this process."""
        out: list[ChainValues | None] = [None] * len(chains)
        for k, chain in enumerate(chains):
            if deadline is not None and time.monotonic() >= deadline:
                break
            out[k] = solve_chain(self.key, self.spec, self.settings, chain)
            if on_done is not None:
                on_done(k, out[k])
        return out

    def _on_dask(
        self, chains: Sequence[Sequence[int]], on_done: OnChain | None, deadline: float | None
    ) -> list[ChainValues | None]:
        """Chains submitted as tasks; results gathered as workers finish them."""
        try:
            return self._gather(chains, on_done, deadline)
        except CoopError:
            raise
        except Exception as exc:  # anything a remote worker raises (a missing package, a lost worker) is one line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"dask cluster {self.where}: {first} (each worker needs requirements.txt installed and the "
                "repository on PYTHONPATH)"
            ) from exc

    def _gather(
        self, chains: Sequence[Sequence[int]], on_done: OnChain | None, deadline: float | None
    ) -> list[ChainValues | None]:
        """Submit the chains and collect them as they finish, cancelling what is left at the deadline."""
        from distributed import wait

        if self._spec_ref is None:  # sent once to every worker, not with each task
            self._spec_ref = self.client.scatter(self.spec, broadcast=True)
        futures = [
            self.client.submit(solve_chain, self.key, self._spec_ref, self.settings, tuple(chain), pure=False)
            for chain in chains
        ]
        index = {f.key: k for k, f in enumerate(futures)}
        out: list[ChainValues | None] = [None] * len(chains)
        pending = set(futures)
        try:
            while pending:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    done, pending = wait(pending, timeout=timeout, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    break
                for future in sorted(done, key=lambda f: index[f.key]):
                    k = index[future.key]
                    out[k] = future.result()
                    if on_done is not None:
                        on_done(k, out[k])
        finally:
            if pending:
                self.client.cancel(list(pending))
        return out


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """Hide the __main__ module while worker processes spawn, so they do not re-run it.

    multiprocessing's spawn re-executes the parent's main script in each child; under Streamlit that script is the
    page (it would open the database and draw the page in every worker), under a bench it is the bench.
    """
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


@contextlib.contextmanager
def open_runner(
    spec: PoolSpec, settings: SolverSettings, *, scheduler: str | None = None, workers: int | None = None
) -> Iterator[Runner]:
    """A Runner: on a dask scheduler, in this process, or on a LocalCluster.

    The scheduler at `scheduler` (or COOP_DASK_SCHEDULER) when given; this process when `workers` is 0; else a
    LocalCluster of `workers` processes (default: the cores available).
    """
    address = scheduler_address(scheduler)
    if address is None and workers == 0:
        yield Runner(spec, settings)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
        raise ModelError("parallel coalition solves need dask.distributed (pip install -r requirements.txt)") from exc
    with contextlib.ExitStack() as stack:
        if address is not None:
            try:
                client = stack.enter_context(Client(address, timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError) as exc:
                raise ModelError(f"cannot reach the dask scheduler at {address}: {exc}") from exc
            where = address
        else:
            n = workers if workers is not None else default_workers()
            if n < 1:
                raise ModelError(f"workers must be 0 (this process) or at least 1, got {n}")
            with _plain_main():
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                )
            client = stack.enter_context(Client(cluster))
            where = f"LocalCluster({n} workers)"
        yield Runner(spec, settings, client, where)
