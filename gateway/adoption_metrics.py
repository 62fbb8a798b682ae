"""Adoption KPIs as Prometheus gauges on the private metrics port, e.g.
``pilotgraph_adoption_activation_ratio{tenant="yen-mo"}``.

Scrapes must not query the database, so a background task refreshes the gauges every
``INTERVAL_S`` seconds, reading each province through the explicit province path. Monthly
figures are for the current local calendar month, to date.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import Gauge

from adoption import read_model
from adoption.calendar import zone
from db.sessions import scope_session
from gateway.observability.metrics import REGISTRY
from gateway.state import GatewayState

INTERVAL_S = 60.0
logger = logging.getLogger("pilotgraph.adoption")


def _gauge(name: str, documentation: str) -> Gauge:
    # Every worker refreshes the same figures from the database: the latest refresh wins.
    return Gauge(name, documentation, ["tenant"], registry=REGISTRY, multiprocess_mode="mostrecent")


GAUGES = {
    "members": _gauge("pilotgraph_adoption_members", "Members of the tenant."),
    "installs": _gauge("pilotgraph_adoption_installs", "Distinct devices that installed the app."),
    "activated": _gauge("pilotgraph_adoption_activated_members", "Members who ever logged in."),
    "activation": _gauge("pilotgraph_adoption_activation_ratio", "Activated members / members."),
    "active": _gauge(
        "pilotgraph_adoption_monthly_active_members",
        "Distinct members active this local calendar month.",
    ),
    "uses": _gauge("pilotgraph_adoption_monthly_uses", "Sessions this local calendar month."),
}


async def refresh(state: GatewayState) -> int:
    """Read every tenant's KPIs and set the gauges; returns how many tenants were read."""
    tenants = state.registry.all()
    read = 0
    for province in sorted({t.province_id for t in tenants}):
        mine = [t for t in tenants if t.province_id == province]
        today = state.clock().astimezone(zone(mine[0].timezone)).date()
        target = read_model.Target(tuple(t.id for t in mine), province)
        async with scope_session(state.sessionmaker(), None) as session:
            summaries = await read_model.per_tenant_summaries(
                session=session, target=target, as_of=today
            )
        for tenant_id, point in summaries.items():
            GAUGES["members"].labels(tenant=tenant_id).set(point.members)
            GAUGES["installs"].labels(tenant=tenant_id).set(point.installs)
            GAUGES["activated"].labels(tenant=tenant_id).set(point.activated_members)
            GAUGES["activation"].labels(tenant=tenant_id).set(point.activation_rate or 0.0)
            GAUGES["active"].labels(tenant=tenant_id).set(point.active_members)
            GAUGES["uses"].labels(tenant=tenant_id).set(point.uses)
        read += len(summaries)
    return read


class AdoptionGauges:
    """Refreshes the gauges in the background for the app's lifetime."""

    def __init__(self, state: GatewayState, interval_s: float = INTERVAL_S) -> None:
        self.state, self.interval_s = state, interval_s
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                await refresh(self.state)
            except Exception:  # a failed refresh keeps the last values; the next one retries
                logger.exception("refreshing adoption gauges failed")
            await asyncio.sleep(self.interval_s)
