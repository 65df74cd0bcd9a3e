"""Cached wrappers for the Meeting packet page: the months on offer, the packet, its downloads, the Census export."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from coop import calendar
from coop.report import build, census, render
from coop.report.build import Packet
from coop.report.census import Census
from coop.store import db
from ui import access, session


def packet_months(start: date, end: date) -> list[date]:
    """First days of the months from `start` to `end`, newest first."""
    return calendar.months(start, end)[::-1]


def _key(month: date, include_savings: bool) -> tuple[object, ...]:
    """What a month's packet depends on: the database, its data version, the month, the savings switch and who asks."""
    return (str(db.resolve_path()), session.data_version(), month, include_savings, access.current_user())


def packet(month: date, include_savings: bool, progress: Callable[[float, str], None]) -> Packet:
    """The meeting packet for one month as the signed-in user may see it (kept until the data changes)."""
    viewer = access.current_user()
    return session.memo(
        "packet",
        _key(month, include_savings),
        lambda: build.build(session.cursor(), month, viewer=viewer, include_savings=include_savings, progress=progress),
    )


def packet_html(month: date, include_savings: bool, built: Packet) -> str:
    """The packet as one self-contained HTML document, the preview and the download alike (kept with the packet)."""
    return session.memo("packet_html", _key(month, include_savings), lambda: render.to_html(built))


def packet_xlsx(built: Packet) -> bytes:
    """The packet as an Excel workbook."""
    return render.to_xlsx(built)


# --- the Farm to School Census export ---------------------------------------------------------------------------
# the export's columns shown at first sight (the category and source breakdown is one click away)
CENSUS_HEADLINE = ["name", "total_food_cost", "local_food_cost", "local_share", "unknown_origin_cost", "district_id"]


def census_years(start: date, end: date) -> list[int]:
    """School years (July-June) overlapping the period, newest first."""
    return calendar.school_years(start, end)[::-1]


def census_export(school_year: int) -> Census:
    """Each district's figures for the school year in the Census's terms (kept until the data changes)."""
    key = (str(db.resolve_path()), session.data_version(), school_year)
    return session.memo("census", key, lambda: census.census(session.cursor(), school_year))


def census_edition() -> str:
    """The edition of the Census questionnaire the export follows."""
    return census.EDITION


def census_files(result: Census) -> dict[str, bytes]:
    """The export's files (csv, xlsx, mapping) as bytes."""
    with tempfile.TemporaryDirectory(prefix="coop-census-") as folder:
        return {kind: Path(path).read_bytes() for kind, path in census.write(result, folder).items()}
