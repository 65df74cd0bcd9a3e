"""Cached wrappers for the Meeting packet page: the months on offer, the packet, and its downloads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from coop import calendar
from coop.report import build, render
from coop.report.build import Packet
from coop.store import db
from ui import session


def packet_months(start: date, end: date) -> list[date]:
    """First days of the months from `start` to `end`, newest first."""
    return calendar.months(start, end)[::-1]


def _key(month: date, include_savings: bool) -> tuple[object, ...]:
    """What a month's packet depends on: the database, its data version, the month and the savings switch."""
    return (str(db.resolve_path()), session.data_version(), month, include_savings)


def packet(month: date, include_savings: bool, progress: Callable[[float, str], None]) -> Packet:
    """The meeting packet for one month (kept until the data changes)."""
    return session.memo(
        "packet",
        _key(month, include_savings),
        lambda: build.build(session.cursor(), month, include_savings=include_savings, progress=progress),
    )


def packet_html(month: date, include_savings: bool, built: Packet) -> str:
    """The packet as one self-contained HTML document, the preview and the download alike (kept with the packet)."""
    return session.memo("packet_html", _key(month, include_savings), lambda: render.to_html(built))


def packet_xlsx(built: Packet) -> bytes:
    """The packet as an Excel workbook."""
    return render.to_xlsx(built)
