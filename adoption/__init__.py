"""Adoption metrics: the app's events, rollups kept at ingest, and the KPIs read from them.

Rollout reads the KPIs only through its ``rollout.kpi.KpiSource`` protocol; the gateway wires
:class:`adoption.kpi_source.AdoptionKpis` in at start-up.
"""
