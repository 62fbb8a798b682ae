"""``GET /v1/adoption.csv``: adoption KPIs as CSV, one row per tenant and period.

Query parameters: ``from``, ``to`` (local days, inclusive), ``granularity`` (day, week, month;
default month) and ``tenant`` (a slug; without it, every tenant of the caller's province). Who may
read what is GraphQL's rule (``adoption.access``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from starlette.requests import Request
from starlette.responses import Response

from adoption import read_model
from adoption.access import target_for
from adoption.errors import AdoptionError
from adoption.series import AdoptionPoint, Granularity
from db.sessions import scope_session
from gateway.responses import error_response
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from schema.errors import PilotGraphError
from tenants.permissions import Refused

# The HTTP status of each refusal of the access policy.
STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "FORBIDDEN_TENANT": 403,
    "TENANT_NOT_FOUND": 404,
    "PROVINCE_REQUIRED": 400,
}
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


async def export_csv(request: Request) -> Response:
    """The KPIs as ``text/csv``, or a coded JSON error."""
    state: GatewayState = request.app.state.pilotgraph
    scope: RequestScope = request.scope["state"][SCOPE_KEY]
    try:
        start, end, granularity = _parameters(request)
    except PilotGraphError as exc:
        return error_response(400, str(exc.code), exc.message)
    target = target_for(
        principal=scope.principal,
        registry=state.registry,
        request_tenant=scope.tenant,
        slug=request.query_params.get("tenant"),
    )
    if isinstance(target, Refused):
        return error_response(STATUS[target.code], target.code, target.message)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    async with scope_session(state.sessionmaker(), scope.tenant.id if scope.tenant else None) as s:
        try:
            by_tenant = await read_model.tenant_series(
                session=s, target=target, start=start, end=end, granularity=granularity
            )
            for tenant_id, points in by_tenant.items():
                writer.writerows(_row(tenant_id, p) for p in points)
        except AdoptionError as exc:
            return error_response(400, exc.code, exc.message)
    filename = f"adoption-{start}-{end}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


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


def _row(tenant_id: str, point: AdoptionPoint) -> list[object]:
    def ratio(value: float | None) -> str:
        return "" if value is None else f"{value:.4f}"

    return [
        tenant_id,
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
