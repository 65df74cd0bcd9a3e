"""Geographic-preference bid scoring (seed 004 Q3, Q5-Q7) and the bids file reader.

How a solicitation is scored here:
* Preference is either `points` (1 point = 1 cent off the evaluated price, seed 004 Q5) or `percent`
  (that share off the evaluated price, Q6), given to bids that meet the geographic preference.
* With `among=K` the preference is applied only among the K lowest-priced responsive bids (Q5's example uses
  3); when several bids tie at the K-th price, all of them are in.
* The evaluated price only ranks bids; the price paid is the bid (Q5's note).
* Ties on evaluated price go to the lower actual bid, then to the bid meeting the preference; bids still tied
  share a rank and no winner is named (the solicitation's own tie-break, e.g. a coin toss, decides).
* Warnings: fewer than 3 bids; a preference larger than the whole spread of bid prices (any preferred bid
  beats every other, so the preference works as the exclusion Q3 forbids), and then fewer than 3 bids left.
* Geographic preference applies only to unprocessed agricultural products (7 CFR 210.21(g)); for a processed
  item the bids are ranked on price alone and the result says why.
* Q3 (seed 004, USDA's geographic preference Q&As, 2011) forbids a solicitation that accepts only local products.
  Since 1 July 2024 a solicitation may instead name "locally grown", "locally raised" or "locally caught" as a
  specification for unprocessed or minimally processed food (`LOCAL_SPECIFICATION_2024`); the exclusion warning
  says both, with their sources and dates, and every result lists them (`RULES`).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from coop import parsing
from coop.errors import InputFileError, Problem, SpecError, ValidationError
from coop.products.classify import classify

BIDDER: Final = "bidder"
PRICE: Final = "price"
MEETS_PREFERENCE: Final = "meets_preference"
PREFERENCE_APPLIED: Final = "preference_applied"
EVALUATED_PRICE: Final = "evaluated_price"
RANK: Final = "rank"
BID_COLUMNS: Final = (BIDDER, PRICE, MEETS_PREFERENCE)
MIN_COMPETITIVE: Final = 3  # "three bids and a buy" (seed 002); Q7: leave an appropriate number of firms
THOUSANDS: Final = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")  # 1,250.00; a lone decimal comma is an error
BID_SCHEMA: Final = {BIDDER: pl.String, PRICE: pl.Float64, MEETS_PREFERENCE: pl.Boolean}

# the rules the scorer applies, with their sources and dates (shown with every result)
EXCLUSION_Q3: Final = (
    "seed 004 Q3 (USDA, Geographic Preference Q&As, 2011): a solicitation that accepts only local products excludes "
    "all others; that is a requirement of bidding, not a preference, and is overly restrictive"
)
LOCAL_SPECIFICATION_2024: Final = (
    "since 2024-07-01 (final rule 'Child Nutrition Programs: Meal Patterns Consistent With the 2020-2025 Dietary "
    "Guidelines', 89 FR 31962 of 2024-04-25, 7 CFR 210.21(g); USDA FNS, Procuring Local Foods for Child Nutrition "
    "Programs): 'locally grown', 'locally raised' or 'locally caught' may be written into a solicitation as a "
    "specification for unprocessed or minimally processed food; a specification every bid must meet, stated in "
    "the solicitation, not a preference applied when scoring"
)
RULES: Final = (EXCLUSION_Q3, LOCAL_SPECIFICATION_2024)


@dataclass(frozen=True)
class BidResult:
    """The scored solicitation: winner (None on an unresolved tie), ranking frame, warnings, how it was scored."""

    winner: str | None
    ranking: pl.DataFrame
    warnings: tuple[str, ...]
    method: str
    rules: tuple[str, ...] = RULES

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON shape: winner, ranking rows (bidder, price, meets_preference, evaluated_price), warnings."""
        return {
            "winner": self.winner,
            "ranking": [
                {
                    BIDDER: r[BIDDER],
                    PRICE: r[PRICE],
                    MEETS_PREFERENCE: r[MEETS_PREFERENCE],
                    EVALUATED_PRICE: r[EVALUATED_PRICE],
                    RANK: r[RANK],
                }
                for r in self.ranking.iter_rows(named=True)
            ],
            "warnings": list(self.warnings),
            "method": self.method,
            "rules": list(self.rules),
        }


def read_bids(path: str | Path) -> pl.DataFrame:
    """Bids from a CSV `bidder,price,meets_preference`; every bad cell is named by file, row and column."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise InputFileError(f"{path}: file is empty")
        columns = [h.strip().lower() for h in header]
        missing = [c for c in BID_COLUMNS if c not in columns]
        if missing:
            problems = [Problem(str(path), 1, c, "required column missing") for c in missing]
            raise ValidationError(f"{path}: missing column(s) {', '.join(missing)}", problems)
        at = {c: columns.index(c) for c in BID_COLUMNS}
        rows: list[dict[str, object]] = []
        problems: list[Problem] = []
        seen: dict[str, int] = {}
        for number, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue

            def cell(column: str, record: list[str] = record) -> str:
                i = at[column]
                return record[i].strip() if i < len(record) else ""

            def bad(column: str, reason: str, number: int = number) -> None:
                problems.append(Problem(str(path), number, column, reason))

            bidder = cell(BIDDER)
            if not bidder:
                bad(BIDDER, "bidder is empty")
            elif bidder in seen:
                bad(BIDDER, f"duplicate bidder (also row {seen[bidder]})")
            else:
                seen[bidder] = number
            raw_price = cell(PRICE).replace("$", "").strip()
            if THOUSANDS.fullmatch(raw_price):
                raw_price = raw_price.replace(",", "")
            try:
                price = float(raw_price)
            except ValueError:
                price = math.nan
            if not math.isfinite(price) or price <= 0:
                bad(PRICE, f"price must be a number > 0, got {cell(PRICE)!r}")
            meets = parsing.parse_bool(cell(MEETS_PREFERENCE))
            if meets is None:
                bad(MEETS_PREFERENCE, f"expected yes/no, true/false, y/n or 1/0, got {cell(MEETS_PREFERENCE)!r}")
            rows.append({BIDDER: bidder, PRICE: price, MEETS_PREFERENCE: meets})
    if problems:
        raise ValidationError(f"{path}: {len(problems)} invalid cell(s)", problems)
    if not rows:
        raise ValidationError(f"{path}: no bids", [Problem(str(path), 2, BIDDER, "no bid rows")])
    return pl.DataFrame(rows, schema=BID_SCHEMA)


def _money(value: float) -> str:
    """A price as dollars and cents."""
    return f"${value:,.2f}"


def score_bids(
    bids: pl.DataFrame,
    *,
    points: float | None = None,
    percent: float | None = None,
    among: int | None = None,
    unprocessed: bool = True,
    item: str | None = None,
) -> BidResult:
    """Rank bids by evaluated price after the geographic preference; the winner pays its bid."""
    if points is not None and percent is not None:
        raise SpecError("give the preference as points or as a percentage, not both")
    if points is not None and points < 0:
        raise SpecError(f"points must be >= 0, got {points}")
    if percent is not None and not 0 <= percent < 100:
        raise SpecError(f"percent must be in [0, 100), got {percent}")
    if among is not None and among < 1:
        raise SpecError(f"among must be >= 1, got {among}")
    missing = [c for c in BID_COLUMNS if c not in bids.columns]
    if missing:
        raise SpecError(f"bids need columns {', '.join(BID_COLUMNS)}; missing {', '.join(missing)}")
    frame = bids.select(BID_COLUMNS).cast(BID_SCHEMA)
    if frame.height == 0:
        raise SpecError("no bids to score")
    warnings: list[str] = []
    if item is not None:
        found = classify(item)
        unprocessed = found.unprocessed
        if not unprocessed:
            warnings.append(
                f"geographic preference applies only to unprocessed products; {item!r} is processed "
                f"({found.reason}; {found.source}), so bids are ranked on price alone"
            )
    elif not unprocessed:
        warnings.append("geographic preference applies only to unprocessed products; ranked on price alone")
    has_preference = unprocessed and (points is not None or percent is not None)
    if among is not None:
        cutoff = frame[PRICE].sort()[min(among, frame.height) - 1]
        eligible = pl.col(PRICE) <= cutoff
    else:
        eligible = pl.lit(True)
    applied = (pl.col(MEETS_PREFERENCE) & eligible) if has_preference else pl.lit(False)
    if points is not None:
        off = pl.lit(points / 100.0)
        evaluated = pl.col(PRICE) - off
        method = f"{points:g} points (1 point = 1 cent)"
    elif percent is not None:
        evaluated = pl.col(PRICE) * (1.0 - percent / 100.0)
        method = f"{percent:g}% price preference"
    else:
        evaluated = pl.col(PRICE)
        method = "lowest price"
    if among is not None and has_preference:
        method += f" among the {among} lowest-priced bids"
    if not has_preference:
        method = "lowest price (no geographic preference applied)"
    scored = frame.with_columns(applied.alias(PREFERENCE_APPLIED)).with_columns(
        pl.when(pl.col(PREFERENCE_APPLIED)).then(evaluated).otherwise(pl.col(PRICE)).round(6).alias(EVALUATED_PRICE)
    )
    ordered = scored.sort([EVALUATED_PRICE, PRICE, MEETS_PREFERENCE], descending=[False, False, True])
    ranked = ordered.with_columns(
        pl.struct(EVALUATED_PRICE, PRICE, ~pl.col(MEETS_PREFERENCE)).rank("min").cast(pl.Int64).alias(RANK)
    ).select(BIDDER, PRICE, MEETS_PREFERENCE, PREFERENCE_APPLIED, EVALUATED_PRICE, RANK)
    top = ranked.filter(pl.col(RANK) == 1)
    winner = top[BIDDER][0] if top.height == 1 else None
    if winner is None:
        warnings.append(
            f"unresolved tie between {', '.join(top[BIDDER])}: same evaluated price, bid and preference status; "
            "apply the solicitation's stated tie-break"
        )
    warnings.extend(_competition_warnings(ranked, has_preference))
    return BidResult(winner, ranked, tuple(warnings), method)


def _competition_warnings(ranked: pl.DataFrame, has_preference: bool) -> list[str]:
    """Warnings when too few bids compete or the preference works as an exclusion (seed 004 Q3, Q7)."""
    out: list[str] = []
    if ranked.height < MIN_COMPETITIVE:
        out.append(f"only {ranked.height} bid(s): fewer than {MIN_COMPETITIVE} competitive bids")
        return out
    if not has_preference:
        return out
    local = ranked.filter(pl.col(PREFERENCE_APPLIED))
    other = ranked.filter(~pl.col(MEETS_PREFERENCE))
    if local.height == 0 or other.height == 0:
        return out
    margin = (local[PRICE] - local[EVALUATED_PRICE]).min()
    spread = ranked[PRICE].max() - ranked[PRICE].min()
    if margin > spread:
        out.append(
            f"the preference ({_money(margin)} or more off) is larger than the whole spread of bids "
            f"({_money(spread)}): any preferred bid beats every other, so it works as an exclusion "
            "(seed 004 Q3, 2011: excluding non-local products is a requirement, not a preference). To buy only "
            "local food, write it into the solicitation as a specification instead: allowed since 2024-07-01 for "
            "unprocessed or minimally processed food (89 FR 31962, 7 CFR 210.21(g); USDA FNS, Procuring Local Foods)"
        )
        if local.height < MIN_COMPETITIVE:
            out.append(
                f"the preference leaves {local.height} competitive bid(s), fewer than {MIN_COMPETITIVE} "
                "(seed 004 Q7: leave an appropriate number of qualified firms)"
            )
    return out


def example_bids() -> pl.DataFrame:
    """Seed 004's worked example: three bids, the second from a bidder meeting the geographic preference."""
    return pl.DataFrame(
        {BIDDER: ["Bidder 1", "Bidder 2", "Bidder 3"], PRICE: [1.97, 2.10, 2.03],
         MEETS_PREFERENCE: [False, True, False]},
        schema=BID_SCHEMA,
    )  # fmt: skip
