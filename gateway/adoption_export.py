"""``GET /v1/adoption.csv``: adoption KPIs as CSV, one row per tenant (or wave) and period.

Query parameters: ``from``, ``to`` (local days, inclusive), ``granularity`` (day, week, month;
default month) and ``tenant`` (a slug; without it, every tenant of the caller's province). Who may
read what is GraphQL's rule (``adoption.access``).

``by=wave&flag=KEY`` (optionally ``&wave=N``): one row per wave of the flag's plan and period,
the figures of ``adoptionByWave`` (the same read, :mod:`schema.adoption.waves`), for the roles that
may read it (province admins and auditors); ``by=tenant`` is the default.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from adoption import read_model
from adoption.access import province_for, target_for
from adoption.errors import AdoptionError
from adoption.read_model import WaveSeries
from adoption.series import AdoptionPoint, Granularity
from db.sessions import scope_session
from gateway.responses import domain_error_response, error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from rollout.errors import PlanNotFound
from schema.adoption.waves import plan_wave_series
from schema.errors import PilotGraphError
from tenants.permissions import UNAUTHENTICATED, Permission, Refused, refusal

# The HTTP status of each refusal of the access policy.
STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "FORBIDDEN_TENANT": 403,
    "TENANT_NOT_FOUND": 404,
    "PROVINCE_REQUIRED": 400,
}
BY = ("tenant", "wave")
COLUMNS = (
    "tenant",
    "start",
    "end",
    "members",
    "installs",
    "activated_members",
    "activation_rate",
    "new_installs",
    "new_activations",
    "active_members",
    "uses",
    "stickiness",
)
# a wave row: its position, name and tenants (space-separated), then the tenant row's figures
WAVE_COLUMNS = ("wave", "wave_name", "tenants", *COLUMNS[1:])


async def export_csv(request: Request) -> Response:
    """The KPIs as ``text/csv``, or a coded JSON error."""
    state: GatewayState = request.app.state.pilotgraph
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    try:
        start, end, granularity = _parameters(request)
        by_wave = _by_wave(request)
    except PilotGraphError as exc:
        return error_response(400, str(exc.code), exc.message)
    if by_wave is not None:
        return await _wave_csv(state, scope, by_wave, start, end, granularity)
    target = target_for(
        principal=scope.principal,
        registry=state.registry,
        request_tenant=scope.tenant,
        slug=request.query_params.get("tenant"),
    )
    if isinstance(target, Refused):
        return error_response(STATUS[target.code], target.code, target.message)
    out, writer = _sheet(COLUMNS)
    async with scope_session(state.sessionmaker(), scope.tenant.id if scope.tenant else None) as s:
        try:
            by_tenant = await read_model.tenant_series(
                session=s, target=target, start=start, end=end, granularity=granularity
            )
            for tenant_id, points in by_tenant.items():
                writer.writerows([tenant_id, *_figures(p)] for p in points)
        except AdoptionError as exc:
            return error_response(400, exc.code, exc.message)
    return _csv(out, f"adoption-{start}-{end}.csv")


def _sheet(columns: tuple[str, ...]) -> tuple[io.StringIO, Any]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    return out, writer


def _csv(out: io.StringIO, filename: str) -> Response:
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _by_wave(request: Request) -> tuple[str, int | None] | None:
    """``(flag, wave or None)`` for ``by=wave``; None for the default ``by=tenant``."""
    params = request.query_params
    by = params.get("by", "tenant")
    if by not in BY:
        raise PilotGraphError("BAD_USER_INPUT", "'by' is tenant or wave.")
    if by == "tenant":
        if "flag" in params or "wave" in params:
            raise PilotGraphError("BAD_USER_INPUT", "'flag' and 'wave' go with by=wave.")
        return None
    if "tenant" in params:
        raise PilotGraphError("BAD_USER_INPUT", "by=wave takes no 'tenant': a wave is its tenants.")
    flag = params.get("flag", "")
    if not flag:
        raise PilotGraphError("BAD_USER_INPUT", "by=wave needs 'flag', the plan's flag key.")
    wave = params.get("wave")
    if wave is not None and not (wave.isascii() and wave.isdigit()):
        raise PilotGraphError("BAD_USER_INPUT", "'wave' is a wave's position: 0, 1, 2…")
    return flag, None if wave is None else int(wave)


def _province(state: GatewayState, scope: RequestScope) -> str | Refused:
    """The province a wave export reads: province roles only (``adoptionByWave``'s rule)."""
    if scope.principal is None:
        return UNAUTHENTICATED
    if refused := refusal(scope.principal.roles, Permission.READ_PROVINCE_ADOPTION):
        return refused
    return province_for(
        principal=scope.principal, registry=state.registry, request_tenant=scope.tenant
    )


async def _wave_csv(
    state: GatewayState,
    scope: RequestScope,
    by_wave: tuple[str, int | None],
    start: dt.date,
    end: dt.date,
    granularity: Granularity,
) -> Response:
    """One row per wave of the flag's plan (or the one ``wave``) and period."""
    province = _province(state, scope)
    if isinstance(province, Refused):
        return error_response(STATUS[province.code], province.code, province.message)
    flag, wave = by_wave
    async with scope_session(state.sessionmaker(), scope.tenant.id if scope.tenant else None) as s:
        try:
            waves = await plan_wave_series(
                session=s,
                province_id=province,
                flag=flag,
                start=start,
                end=end,
                granularity=granularity,
            )
        except AdoptionError as exc:
            return error_response(400, exc.code, exc.message)
        except PlanNotFound as exc:
            return domain_error_response(404, exc)
    if wave is not None and wave not in {w.position for w in waves}:
        return error_response(400, "BAD_USER_INPUT", f"The plan of {flag!r} has no wave {wave}.")
    out, writer = _sheet(WAVE_COLUMNS)
    for series in waves:
        if wave is None or series.position == wave:
            writer.writerows(_wave_row(series, p) for p in series.points)
    return _csv(out, f"adoption-waves-{flag}-{start}-{end}.csv")


def _wave_row(wave: WaveSeries, point: AdoptionPoint) -> list[object]:
    return [wave.position, wave.name, " ".join(wave.tenant_ids), *_figures(point)]


def _parameters(request: Request) -> tuple[dt.date, dt.date, Granularity]:
    params = request.query_params
    try:
        start = dt.date.fromisoformat(params["from"])
        end = dt.date.fromisoformat(params["to"])
    except (KeyError, ValueError) as exc:
        raise PilotGraphError(
            "BAD_USER_INPUT", "'from' and 'to' are required local days (YYYY-MM-DD)."
        ) from exc
    try:
        granularity = Granularity(params.get("granularity", "month"))
    except ValueError as exc:
        raise PilotGraphError("BAD_USER_INPUT", "'granularity' is day, week or month.") from exc
    return start, end, granularity


def _figures(point: AdoptionPoint) -> list[object]:
    """A period's figures, as the columns after the tenant (or the wave's) ones."""

    def ratio(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return [
        point.start,
        point.end,
        point.members,
        point.installs,
        point.activated_members,
        ratio(point.activation_rate),
        point.new_installs,
        point.new_activations,
        point.active_members,
        point.uses,
        ratio(point.stickiness),
    ]
