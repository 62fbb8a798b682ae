"""Run a planned statement in the request's tenant transaction, on the raw asyncpg connection.

The session begins the transaction as on the generic path (the tenant set for it, so row-level
security applies to the app role); the statement then runs on the driver's own connection,
which prepares it once per connection and answers PostgreSQL's JSON text unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from sqlalchemy.ext.asyncio import AsyncSession

from planner.compiler import Statement
from planner.decide import admitted
from planner.plans import Plan
from schema.context import Context
from schema.observe import OPERATION_KEY

# The schema's tracer (schema/spans.py): a planned operation gets the span a schema one would.
tracer = trace.get_tracer("pilotgraph.graphql")


async def fetch_data(
    *, session: AsyncSession, statement: Statement, parameters: Sequence[Any]
) -> str:
    """The ``data`` object's JSON text, built by ``statement``."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None  # a connection checked out of the pool is open
    text: str = await driver.fetchval(statement.sql, *parameters)
    return text


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
