"""Adoption metrics: the app's events, rollups kept at ingest, and the KPIs read from them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rollout.kpi import KpiSource


def kpi_source() -> KpiSource:
    """The :class:`rollout.kpi.KpiSource` rollout gates and guardrails read."""
    from rollout.adoption.kpis import AdoptionKpis

    return AdoptionKpis()
