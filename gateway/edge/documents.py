"""The one edge every GraphQL operation passes, whatever its transport (HTTP, batches, WebSocket).

In order: the caller's rate limits, the persisted operation (APQ or trusted documents), tokens,
the operation the transport allows, depth, aliases, root fields and cost, and the introspection
policy. Only :class:`Edge` calls the schema's ``execute`` and ``subscribe``, so a new transport
that runs operations through it cannot skip a check. Refusals are :class:`EdgeRefusal` with the
same code and message on every transport; see docs/EDGE.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from strawberry.schema import Schema as StrawberrySchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperation
from strawberry.utils.aio import aclosing

from db.dialect import is_postgres
from gateway.edge import limits
from gateway.edge.http_spec import EdgeRefusal, Params
from gateway.edge.persisted import PersistedOperations
from gateway.edge.ratelimit import RateGate, refusal
from gateway.edge.shapes import measured
from gateway.settings import Settings
from planner.execute import answer
from planner.plans import Plan, Planner
from schema.context import Context
from schema.document_cache import parse_document
from tenants.identity import Principal
from tenants.registry import TenantInfo

UNAVAILABLE = "SERVICE_UNAVAILABLE"
# In a request's ASGI state: the planned lane took this request's rate-limit token, then left
# the request to the full path; its first operation does not take another.
LANE_THROTTLED = "pilotgraph_lane_throttled"
RETRY_AFTER_S = "5"
Result = ExecutionResult | PreExecutionError


@dataclass(frozen=True, slots=True)
class Transport:
    """How an operation arrived, and which operation types may arrive that way."""

    name: str
    allowed: frozenset[OperationType]


HTTP_GET = Transport("GET", frozenset({OperationType.QUERY}))
HTTP_POST = Transport("POST", frozenset({OperationType.QUERY, OperationType.MUTATION}))
WEBSOCKET = Transport("WebSocket", frozenset(OperationType))


@dataclass(frozen=True, slots=True)
class Call:
    """One operation to run: its parameters, the request's context, transport and address."""

    params: Params
    context: Context
    transport: Transport
    address: str


@dataclass(frozen=True, slots=True)
class PlannedData:
    """A planned operation's answer: the ``data`` object as PostgreSQL wrote it (JSON text),
    written into the response body unchanged; the planned path only ever answers success."""

    json_text: str


class Edge:
    """Admit an operation (or refuse it with a code), then run it on the schema."""

    def __init__(self, schema: StrawberrySchema, settings: Settings, rates: RateGate) -> None:
        self.schema = schema
        self.settings = settings
        self.rates = rates
        self.persisted = PersistedOperations(settings.edge)
        self.planner = _planner(schema, settings, self.persisted.manifest)

    async def throttle(self, context: Context, address: str) -> None:
        """Take the caller's token for one operation; 429 ``RATE_LIMITED`` when none is left."""
        request = context.request
        if request is not None and request.scope.get("state", {}).pop(LANE_THROTTLED, 0):
            return
        await self.take(context.principal, context.tenant, address)

    async def take(
        self, principal: Principal | None, tenant: TenantInfo | None, address: str
    ) -> None:
        """Take a token from the caller's bucket and its tenant's, or refuse with 429."""
        verdict = await self.rates.take(principal, tenant, address)
        if not verdict.allowed:
            raise refusal(verdict)

    def lane_plan(self, params: Params) -> tuple[str, Plan] | None:
        """The document and its plan when ``params`` ask for a planned operation (by hash or
        text, in the configured persisted mode, the router's privilege aside), else None;
        nothing is taken or registered."""
        if self.planner is None:
            return None
        try:
            query = self.persisted.document(params)
        except EdgeRefusal:
            return None
        plan = self._plan_for(query, params) if query else None
        return None if plan is None or query is None else (query, plan)

    def _plan_for(self, query: str, params: Params) -> Plan | None:
        """The plan answering ``query`` as ``params`` name its operation, if there is one."""
        plan = self.planner.plans.get(query) if self.planner else None
        if plan is None or params.operation_name not in (None, plan.name):
            return None
        return plan

    async def execute(self, call: Call) -> ExecutionResult | PlannedData:
        """Admit a query or mutation and run it within ``edge.request_timeout_s``: planned
        when it is a trusted document the planner answers, else on the schema."""
        query = await self._admit(call)
        planned = await self._planned(call, query)
        return planned or await self._execute(call, query)

    async def _planned(self, call: Call, query: str) -> PlannedData | None:
        plan = self._plan_for(query, call.params)
        if plan is None:
            return None
        try:
            async with asyncio.timeout(self.settings.edge.request_timeout_s):
                data = await answer(plan, call.context, call.params.variables)
        except TimeoutError as exc:
            raise timed_out() from exc
        return None if data is None else PlannedData(data)

    async def stream(self, call: Call) -> AsyncGenerator[Result, None]:
        """Admit any operation the transport allows; a query or mutation yields one result."""
        query = await self._admit(call)
        if _operation_type(query, call.params) is not OperationType.SUBSCRIPTION:
            yield await self._execute(call, query)
            return
        source = await self.schema.subscribe(
            query,
            variable_values=call.params.variables,
            context_value=call.context,
            operation_name=call.params.operation_name,
            operation_extensions=call.params.extensions,
        )
        if isinstance(source, PreExecutionError):
            yield source
            return
        async with aclosing(source):
            async for result in source:
                yield result

    async def _execute(self, call: Call, query: str) -> ExecutionResult:
        try:
            async with asyncio.timeout(self.settings.edge.request_timeout_s):
                return await self.schema.execute(
                    query,
                    variable_values=call.params.variables,
                    context_value=call.context,
                    operation_name=call.params.operation_name,
                    allowed_operation_types=_strawberry(call.transport),
                    operation_extensions=call.params.extensions,
                )
        except TimeoutError as exc:
            raise timed_out() from exc
        except (InvalidOperationTypeError, CannotGetOperationTypeError) as exc:
            raise limits.QueryRefused(
                "BAD_REQUEST", f"This operation cannot run here: {exc}."
            ) from exc

    async def _admit(self, call: Call) -> str:
        """The document to run, once the caller's bucket and every check let it pass."""
        await self.throttle(call.context, call.address)
        query = self.persisted.document(call.params, verified_router=self._verified_router(call))
        if not query:
            raise EdgeRefusal(400, "MISSING_QUERY", "No GraphQL query found in the request")
        self.check(query, call)
        self.persisted.register(call.params, query)
        return query

    def _verified_router(self, call: Call) -> bool:
        """The router proved itself with the configured token; without one (development) nobody."""
        return call.context.router and self.settings.router_token is not None

    def check(self, query: str, call: Call) -> None:
        """Refuse, before execution, what the transport, limits or introspection policy forbid."""
        self.check_document(query, call.params, call.transport, call.context.principal)

    def check_document(
        self, query: str, params: Params, transport: Transport, principal: Principal | None
    ) -> None:
        """:meth:`check`, for a caller known by its principal."""
        roles = _roles(principal)
        role_limits = self.settings.edge.limits_for(roles)
        limits.check_tokens(query, role_limits)
        try:
            document = parse_document(query)
        except GraphQLError:
            return  # strawberry answers the syntax error with its code
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            raise EdgeRefusal(400, "BAD_REQUEST", "Choose an operation with operationName.")
        _check_transport(operation, transport)
        shape = self._measure(query, document, operation, params)
        limits.check_shape(shape, role_limits)
        if shape.introspection and not self._may_introspect(roles):
            raise limits.QueryRefused(
                "INTROSPECTION_DISABLED", "Introspection is not allowed for your role."
            )

    def _measure(
        self,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        params: Params,
    ) -> limits.Shape:
        schema: GraphQLSchema = self.schema._schema
        list_size = self.settings.edge.assumed_list_size
        return measured(schema, query, document, operation, params.variables, list_size)

    def _may_introspect(self, roles: frozenset[str] | None) -> bool:
        if not self.settings.is_production:
            return True
        return bool(roles and roles & self.settings.edge.introspection_roles)


def timed_out() -> EdgeRefusal:
    """The answer to an operation that ran past ``edge.request_timeout_s``."""
    message = "The request took too long; retry shortly."
    return EdgeRefusal(503, UNAVAILABLE, message, {"Retry-After": RETRY_AFTER_S})


def _planner(
    schema: StrawberrySchema, settings: Settings, manifest: dict[str, str]
) -> Planner | None:
    """The manifest's plans, on PostgreSQL with ``planned_operations`` on (else None)."""
    if not settings.planned_operations or not is_postgres(settings.db_url):
        return None
    return Planner.for_documents(schema._schema, manifest)


def _check_transport(operation: OperationDefinitionNode, transport: Transport) -> None:
    if operation.operation in transport.allowed:
        return
    if transport is HTTP_GET:
        raise EdgeRefusal(405, "METHOD_NOT_ALLOWED", "Send mutations with POST.", {"Allow": "POST"})
    raise limits.QueryRefused(
        "BAD_REQUEST",
        f"A {operation.operation.value} cannot run over {transport.name}.",
    )


def _operation_type(query: str, params: Params) -> OperationType | None:
    try:
        operation = get_operation_ast(parse_document(query), params.operation_name)
    except GraphQLError:
        return None
    return operation.operation if operation else None


def _strawberry(transport: Transport) -> set[StrawberryOperation]:
    return {StrawberryOperation(kind.value) for kind in transport.allowed}


def _roles(principal: Principal | None) -> frozenset[str] | None:
    if principal is None:
        return None
    return frozenset(str(role) for role in principal.roles)
