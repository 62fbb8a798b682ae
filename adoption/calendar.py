"""Local days, ISO weeks and calendar months in the province's time zone."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` named ``name`` (cached: zones are immutable)."""
    return ZoneInfo(name)


def local_day(moment: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The local calendar day of an aware moment."""
    return moment.astimezone(tz).date()


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def week_of(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def day_start(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The UTC moment at which the local ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
