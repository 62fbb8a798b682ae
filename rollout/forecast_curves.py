"""The activation curves the wave forecast fits: each tenant's progress, and the pooled curve.

A tenant's curve starts the day before its first activation (a tenant's adoption starts when its
members can use the app, which for the demo pilot predates the plan itself); the pooled curve
aligns every tenant already on at that start and, for each day since, divides the activated
members of the tenants observed that many days by their members, so a large district weighs as
its members do.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rollout import bass
from rollout.kpi import ActivationDay

MAX_POINTS = 120  # the pooled curve is thinned to about this many days, to keep the fit quick


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a tenant already on stands: its curve's start, and its share activated today."""

    start: dt.date | None  # None: nobody activated yet
    share: float  # activated / members on the last day; 0 without members


def progress(curve: Sequence[ActivationDay]) -> Progress:
    """A tenant's start and current share from its daily curve (oldest day first)."""
    first = next((d for d in curve if d.activated > 0), None)
    last = curve[-1] if curve else None
    share = last.activated / last.members if last and last.members else 0.0
    start = None if first is None else first.day - dt.timedelta(days=1)
    return Progress(start=start, share=min(share, 1.0))


def pooled(curves: Mapping[str, Sequence[ActivationDay]]) -> list[bass.Point]:
    """The members-weighted share activated ``t`` days after each tenant's start, per ``t``."""
    activated: dict[int, int] = defaultdict(int)
    members: dict[int, int] = defaultdict(int)
    for curve in curves.values():
        start = progress(curve).start
        if start is None:
            continue
        for day in curve:
            if day.day > start and day.members > 0:
                activated[(day.day - start).days] += day.activated
                members[(day.day - start).days] += day.members
    if not members:
        return []
    mean = sum(members.values()) / len(members)
    points = [
        bass.Point(t, min(activated[t] / members[t], 1.0), members[t] / mean)
        for t in sorted(members)
    ]
    every = max(1, -(-len(points) // MAX_POINTS))
    return points[::every]
