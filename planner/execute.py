"""Run a planned statement in a tenant transaction of its own, on a pooled asyncpg connection.

On the served app the statement takes a connection straight from the engine's pool, without
the ORM session: one simple-protocol round trip begins the transaction and sets the request's
tenant for it (``BEGIN; SELECT set_config('app.tenant_id', …, true)``, so row-level security
applies to the app role), the statement runs as a prepared statement (asyncpg prepares it once
per connection) and answers PostgreSQL's JSON text unchanged, then ``ROLLBACK`` ends the
transaction before the connection goes back to the pool. A session bound to a connection
rather than an engine (a caller's own transaction), or already in a transaction (an earlier
operation of a batch), runs the statement in that transaction, as the session's other reads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util import greenlet_spawn

from db.sessions import TENANT_INFO_KEY, TENANT_SETTING
from planner.compiler import Statement
from planner.decide import admitted
from planner.plans import Plan
from schema.context import Context
from schema.observe import OPERATION_KEY

# The schema's tracer (schema/spans.py): a planned operation gets the span a schema one would.
tracer = trace.get_tracer("pilotgraph.graphql")
# The pooled statement bypasses SQLAlchemy's instrumentation: it gets its client span here (no
# parameter values, as no SQL span carries them).
db_tracer = trace.get_tracer("pilotgraph.db")
_DB_ATTRIBUTES = {"db.system": "postgresql", "db.operation": "SELECT"}
# A tenant id written into the simple-protocol BEGIN as a literal: only these characters, so
# quoting cannot be escaped whatever the server's ``standard_conforming_strings``. Any other
# value is sent as a bound parameter, in a round trip of its own.
_LITERAL_SAFE = re.compile(r"[A-Za-z0-9_.:-]{0,200}")
_SET_TENANT = "SELECT set_config($1, $2, true)"


async def fetch_data(
    *, session: AsyncSession, statement: Statement, parameters: Sequence[Any]
) -> str:
    """The ``data`` object's JSON text, built by ``statement`` as the session's tenant."""
    tenant = session.info.get(TENANT_INFO_KEY) or ""  # no tenant: RLS shows no tenant's rows
    if isinstance(session.bind, AsyncEngine) and not session.in_transaction():
        return await _on_pooled(session.bind, tenant, statement, parameters)
    connection = await session.connection()  # begins the transaction and sets the tenant
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    text: str = await driver.fetchval(statement.sql, *parameters)
    return text


async def _on_pooled(
    engine: AsyncEngine, tenant: str, statement: Statement, parameters: Sequence[Any]
) -> str:
    """Check a connection out, run the statement in a transaction of the tenant's, return it.

    A failure (or cancellation) leaves the connection in an unknown state: it is discarded,
    not returned, and the original error goes on to the edge (503 when the database failed).
    """
    pooled = await engine.raw_connection()
    driver = pooled.driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    try:
        with db_tracer.start_as_current_span(
            "SELECT", kind=trace.SpanKind.CLIENT, attributes=_DB_ATTRIBUTES
        ):
            await _begin(driver, tenant)
            text: str = await driver.fetchval(statement.sql, *parameters)
            await driver.execute("ROLLBACK")
    except BaseException as error:
        if not driver.is_closed():
            driver.terminate()  # no polite close: a silent network would be waited on again
        await greenlet_spawn(pooled.invalidate, error if isinstance(error, Exception) else None)
        raise
    await greenlet_spawn(pooled.close)
    return text


async def _begin(driver: Any, tenant: str) -> None:
    """``BEGIN`` and the transaction's tenant, in one round trip when the id is plain."""
    if _LITERAL_SAFE.fullmatch(tenant):
        await driver.execute(f"BEGIN; SELECT set_config('{TENANT_SETTING}', '{tenant}', true)")
        return
    await driver.execute("BEGIN")
    await driver.execute(_SET_TENANT, TENANT_SETTING, tenant)


async def answer(plan: Plan, context: Context, variables: Mapping[str, Any] | None) -> str | None:
    """The ``data`` JSON text of ``plan`` for this request, or None: the schema answers it."""
    caller = admitted(context, plan.roots)
    if caller is None:
        return None
    arguments = plan.arguments(variables)
    if arguments is None:
        return None
    statement, parameters = plan.statement(caller, arguments)
    fixed = [caller.tenant, caller.member, context.now]
    with tracer.start_as_current_span(" ".join(filter(None, ("query", plan.name)))) as span:
        span.set_attribute("graphql.operation.type", "query")
        if plan.name:
            span.set_attribute("graphql.operation.name", plan.name)
        span.set_attribute("pilotgraph.planned", True)
        data = await context.run_province(
            fetch_data, statement=statement, parameters=[*fixed, *parameters]
        )
    if context.request is not None:  # for the access log and the operations metric
        context.request.scope.setdefault("state", {})[OPERATION_KEY] = plan.name or "anonymous"
    return data
