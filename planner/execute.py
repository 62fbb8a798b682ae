"""Run a planned statement as the request's tenant: on a connection that keeps its tenant, or in
the request session's transaction.

On the served app the statement goes to :mod:`db.tenant_connections`: connections of its own,
beside the engine's pool, whose session is set to the request's tenant (row-level security
applies to the app role) only when it last served another; the statement is prepared once per
connection and answers PostgreSQL's JSON text unchanged, in one round trip when the tenant
matches. A session bound to a connection rather than an engine (a caller's own transaction), or
already in a transaction (an earlier operation of a batch), runs the statement in that
transaction, as the session's other reads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.tenant_connections import tenant_connections
from planner.compiler import Statement
from planner.decide import Caller, admitted
from planner.plans import Plan
from schema.context import Context
from schema.observe import OPERATION_KEY
from schema.rollout.features import FlagAsker

# The schema's tracer (schema/spans.py): a planned operation gets the span a schema one would.
tracer = trace.get_tracer("pilotgraph.graphql")
# The planned statement bypasses SQLAlchemy's instrumentation: it gets its client span here (no
# parameter values, as no SQL span carries them).
db_tracer = trace.get_tracer("pilotgraph.db")
_DB_ATTRIBUTES = {"db.system": "postgresql", "db.operation": "SELECT"}


@dataclass(frozen=True, slots=True)
class Ready:
    """A request the plan answers: its statement and every parameter, decided in Python."""

    plan: Plan
    tenant: str
    statement: Statement
    parameters: list[Any]


def ready(
    plan: Plan, asker: FlagAsker, variables: Mapping[str, Any] | None, now: dt.datetime
) -> Ready | None:
    """The statement answering this request, or None: the schema answers it (an error)."""
    caller: Caller | None = admitted(asker, plan.roots)
    if caller is None:
        return None
    arguments = plan.arguments(variables)
    if arguments is None:
        return None
    statement, parameters = plan.statement(caller, arguments)
    fixed = [caller.tenant, caller.member, now]
    return Ready(plan, caller.tenant, statement, [*fixed, *parameters])


async def fetch_pooled(engine: AsyncEngine, request: Ready) -> str:
    """The ``data`` object's JSON text, on a planned connection beside ``engine``."""
    with db_tracer.start_as_current_span(
        "SELECT", kind=trace.SpanKind.CLIENT, attributes=_DB_ATTRIBUTES
    ):
        pool = tenant_connections(engine)
        text: str = await pool.fetchval(request.tenant, request.statement.sql, request.parameters)
    return text


async def fetch_data(*, session: AsyncSession, request: Ready) -> str:
    """The ``data`` object's JSON text, built by the statement as the session's tenant."""
    if isinstance(session.bind, AsyncEngine) and not session.in_transaction():
        return await fetch_pooled(session.bind, request)
    connection = await session.connection()  # begins the transaction and sets the tenant
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    text: str = await driver.fetchval(request.statement.sql, *request.parameters)
    return text


@contextlib.contextmanager
def operation_span(plan: Plan) -> Iterator[None]:
    """The span a schema operation would get (``query Home``), marked as planned."""
    with tracer.start_as_current_span(" ".join(filter(None, ("query", plan.name)))) as span:
        span.set_attribute("graphql.operation.type", "query")
        if plan.name:
            span.set_attribute("graphql.operation.name", plan.name)
        span.set_attribute("pilotgraph.planned", True)
        yield


def operation_name(plan: Plan) -> str:
    """The name the access log and the operations metric give the operation."""
    return plan.name or "anonymous"


async def answer(plan: Plan, context: Context, variables: Mapping[str, Any] | None) -> str | None:
    """The ``data`` JSON text of ``plan`` for this request, or None: the schema answers it."""
    request = ready(plan, context, variables, context.now)
    if request is None:
        return None
    with operation_span(plan):
        data = await context.run_province(fetch_data, request=request)
    if context.request is not None:  # for the access log and the operations metric
        context.request.scope.setdefault("state", {})[OPERATION_KEY] = operation_name(plan)
    return data
