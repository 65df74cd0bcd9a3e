"""What a user may see of the metrics: its own districts, and peers only as aggregates that are safe to share.

A co-op asks its members for their purchasing data on a promise of confidentiality. The habit of shared price and
purchasing data (the old antitrust "safety zone" for information exchanges) is followed: an aggregate of other
members is shown only when at least ``min_districts`` (default 5) districts contribute to it and none contributes
more than ``max_share`` (default 25%) of it; otherwise it is withheld and the view says why. Both are co-op settings.

* A coordinator sees everything.
* A partner or district user sees its own districts' figures and prices; the co-op without its districts
  (``peers``) only as a safe aggregate, and the co-op total only when that peer aggregate is safe (with its own
  figures, the co-op total would reveal the peers' sum). Peer prices (co-op premiums) are never shown to it.
* A viewer sees co-op totals only: no district, no prices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from coop import names
from coop.errors import SpecError
from coop.metrics import compute, selection
from coop.metrics.compute import COOP, SCOPE, Metrics
from coop.registry.users import User
from coop.store import settings

_FIGURES = ("total_spend", "local_spend", "local_share", "unknown_origin_spend", "allocated_spend")


@dataclass(frozen=True)
class PeerRule:
    """When an aggregate of other members may be shown: enough contributors, none dominant."""

    min_districts: int = 5
    max_share: float = 0.25

    def withheld(self, spend: Sequence[float]) -> str | None:
        """Why an aggregate of these contributors' spend must be withheld, or None when it may be shown."""
        amounts = [abs(s) for s in spend if s]
        if len(amounts) < self.min_districts:
            return f"withheld: fewer than {self.min_districts} districts contribute ({len(amounts)})"
        if max(amounts) > self.max_share * sum(amounts):
            return f"withheld: one district is over {self.max_share:.0%} of it"
        return None


def peer_rule(con: duckdb.DuckDBPyConnection) -> PeerRule:
    """The co-op's peer-aggregate thresholds (settings `peer_min_districts`, `peer_max_share`; defaults 5, 25%)."""
    stored = settings.get_many(con, [names.PEER_MIN_DISTRICTS, names.PEER_MAX_SHARE])
    try:
        rule = PeerRule(
            int(stored.get(names.PEER_MIN_DISTRICTS, PeerRule.min_districts)),
            float(stored.get(names.PEER_MAX_SHARE, PeerRule.max_share)),
        )
    except ValueError as exc:
        raise SpecError(f"peer-aggregate settings are not numbers: {exc}") from exc
    if rule.min_districts < 1 or not 0.0 < rule.max_share <= 1.0:
        raise SpecError("peer aggregates need at least 1 district and a largest share in (0, 100%]")
    return rule


def _aggregate(m: Metrics, district_ids: Sequence[str]) -> dict[str, object]:
    """Spend figures and routes summed over these districts (`selection.narrow`: local share re-derived)."""
    peers = selection.narrow(m, district_ids)
    row = peers.coop.row(0, named=True)
    figures = {k: row[k] if k == "local_share" else round(float(row[k]), 2) for k in _FIGURES}
    routes = dict.fromkeys(names.ROUTES, 0.0)
    for route, spend in selection.route_spend(peers).select(names.ROUTE, "spend").iter_rows():
        routes[route] = round(spend, 2)
    return {**figures, "routes": routes}


def view(m: Metrics, user: User, rule: PeerRule) -> dict[str, object]:
    """`metrics --json` as this user may see it (DESIGN "Users and roles")."""
    full = m.to_json()
    if user.sees_everything:
        return full
    if user.role == names.VIEWER:
        return {"districts": [], "coop": full["coop"], "premiums": []}
    mine = [d for d in full["districts"] if d[names.DISTRICT_ID] in user.districts]
    peer_ids = [d for d in m.districts[names.DISTRICT_ID].to_list() if d not in user.districts]
    spend = m.districts.filter(pl.col(names.DISTRICT_ID).is_in(peer_ids))["total_spend"].to_list()
    reason = rule.withheld(spend)
    peers: dict[str, object] = {"withheld": True, "reason": reason} if reason else _aggregate(m, peer_ids)
    return {
        "districts": mine,
        "peers": peers,
        "coop": {"withheld": True, "reason": reason} if reason else full["coop"],
        "premiums": [p for p in full["premiums"] if p[SCOPE] in user.districts and p[SCOPE] != COOP],
    }


def coop_only(m: Metrics) -> Metrics:
    """A viewer's metrics: the co-op's own rows only; no district's rows, no vendors, no prices (premiums emptied)."""
    coop = pl.col(SCOPE) == COOP
    return dataclasses.replace(
        m,
        districts=m.districts.clear(),
        by_month=m.by_month.filter(coop),
        by_category=m.by_category.filter(coop),
        by_route=m.by_route.filter(coop),
        premiums=m.premiums.clear(),
        category_premiums=m.category_premiums.clear(),
        route_premiums=m.route_premiums.clear(),
        unpriced=m.unpriced.filter(coop),
        vendors=m.vendors.clear(),
        trajectory=m.trajectory.filter(coop),
        goal=m.goal.filter(coop),
    )


def visible(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None, user: User) -> Metrics:
    """The metrics this user may see (peers come only through `view`).

    All for a coordinator; for a partner or district user its own districts' lines only, the 'coop' scope being
    their sum; for a viewer the co-op's rows only (`coop_only`).
    """
    if user.sees_everything:
        return compute.compute(con, date_from, date_to)
    if user.role == names.VIEWER:
        return coop_only(compute.compute(con, date_from, date_to))
    return compute.compute(con, date_from, date_to, district_ids=user.districts)
