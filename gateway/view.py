"""The GraphQL endpoint: GraphQL over HTTP at the edge, strawberry underneath.

HTTP requests go through :mod:`gateway.edge`: media-type negotiation, parameter checks,
persisted operations, query limits and introspection policy, then strawberry executes.
WebSockets and GraphiQL stay strawberry's.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from graphql import GraphQLError, GraphQLSchema, OperationType, get_operation_ast
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions.parser_cache import _get_parse_cache
from strawberry.http import process_result
from strawberry.schema import Schema as StrawberrySchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperation

from gateway.edge import limits
from gateway.edge.config import EdgeSettings
from gateway.edge.http_spec import (
    GRAPHQL_RESPONSE,
    EdgeRefusal,
    Params,
    check_content_type,
    check_preflighted,
    decode_json,
    is_request_error,
    negotiate,
    params_from_json,
    params_from_query_string,
)
from gateway.edge.persisted import PersistedOperations
from gateway.responses import error_response
from gateway.settings import Settings
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from schema.context import Context
from schema.root import DOCUMENT_CACHE_SIZE
from tenants.db import scope_session

SESSION_KEY = "pilotgraph_session"
# The same LRU cache strawberry's ParserCache uses: parsed once for limits and execution.
parse_document = _get_parse_cache(DOCUMENT_CACHE_SIZE)
UNAVAILABLE = "SERVICE_UNAVAILABLE"
RETRY_AFTER_S = "5"


class GraphQLView(GraphQL[Context, None]):
    _persisted: PersistedOperations | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """GraphQL over HTTP; request-level refusals answer JSON with a code, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.http(request)
        except EdgeRefusal as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.headers)
        await response(scope, receive, send)

    async def http(self, request: Request) -> Response:
        """Answer one GraphQL-over-HTTP request."""
        settings: Settings = request.app.state.pilotgraph.settings
        if self._wants_ide(request):
            if self.graphql_ide:
                return await self.render_graphql_ide(request)
            raise EdgeRefusal(404, "NOT_FOUND", "Not Found")
        media_type = negotiate(request.headers.get("accept"))
        operations, batched = await self._read(request, settings.edge)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            async with asyncio.timeout(settings.edge.request_timeout_s):
                bodies = [
                    await self._one(request, params, context, settings) for params in operations
                ]
        except TimeoutError as exc:
            raise EdgeRefusal(
                503, UNAVAILABLE, "The request took too long; retry shortly.",
                {"Retry-After": RETRY_AFTER_S},
            ) from exc  # fmt: skip
        return self._respond(bodies, batched, media_type, sub_response)

    def _wants_ide(self, request: Request) -> bool:
        accept = request.headers.get("accept", "")
        return (
            request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in accept
        )

    async def _read(self, request: Request, edge: EdgeSettings) -> tuple[list[Params], bool]:
        if request.method == "GET":
            if edge.csrf_require_preflight:
                check_preflighted(request.headers)
            return [params_from_query_string(dict(request.query_params))], False
        check_content_type(request.headers.get("content-type"))
        body = await request.body()
        if len(body) > edge.max_body_bytes:
            raise EdgeRefusal(413, "PAYLOAD_TOO_LARGE",
                              f"The request body is over {edge.max_body_bytes} bytes.")  # fmt: skip
        if not body:
            raise EdgeRefusal(400, "MISSING_QUERY", "No GraphQL query found in the request")
        data = decode_json(body)
        if not isinstance(data, list):
            return [params_from_json(data)], False
        if edge.max_batch == 0:
            raise EdgeRefusal(400, "BATCHING_DISABLED", "Operation batching is turned off.")
        if not data or len(data) > edge.max_batch:
            raise EdgeRefusal(400, "BATCH_TOO_LARGE",
                              f"A batch holds 1 to {edge.max_batch} operations.")  # fmt: skip
        return [params_from_json(item) for item in data], True

    async def _one(
        self, request: Request, params: Params, context: Context, settings: Settings
    ) -> dict[str, Any]:
        """Run one operation; a refusal of the document becomes a request error."""
        try:
            query = self._persisted_for(settings).document(params)
            if not query:
                raise EdgeRefusal(400, "MISSING_QUERY", "No GraphQL query found in the request")
            self._check(request, query, params, context, settings)
        except limits.QueryRefused as exc:
            return _request_error(exc.code, exc.message)
        except EdgeRefusal as exc:
            if exc.status != 400 or exc.code == "MISSING_QUERY":
                raise
            return _request_error(exc.code, exc.message)
        try:
            result = await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=_allowed(request.method),
                operation_extensions=params.extensions,
            )
        except (InvalidOperationTypeError, CannotGetOperationTypeError) as exc:
            return _request_error("BAD_REQUEST", f"This operation cannot run here: {exc}.")
        return _body(result)

    def _graphql_schema(self) -> GraphQLSchema:
        schema = self.schema
        assert isinstance(schema, StrawberrySchema)  # the federation Schema subclasses it
        return schema._schema

    def _persisted_for(self, settings: Settings) -> PersistedOperations:
        if self._persisted is None:
            self._persisted = PersistedOperations(settings.edge)
        return self._persisted

    def _check(
        self, request: Request, query: str, params: Params, context: Context, settings: Settings
    ) -> None:
        """Refuse, before execution, what the method, limits or introspection policy forbid."""
        roles = _roles(context)
        role_limits = settings.edge.limits_for(roles)
        limits.check_tokens(query, role_limits)
        try:
            document = parse_document(query)
        except GraphQLError:
            return  # strawberry answers the syntax error with its code
        operation = get_operation_ast(document, params.operation_name)
        if operation is None:
            raise EdgeRefusal(400, "BAD_REQUEST", "Choose an operation with operationName.")
        if request.method == "GET" and operation.operation is not OperationType.QUERY:
            raise EdgeRefusal(405, "METHOD_NOT_ALLOWED", "Send mutations with POST.",
                              {"Allow": "POST"})  # fmt: skip
        shape = limits.measure(
            self._graphql_schema(), document, operation, params.variables,
            settings.edge.assumed_list_size,
        )  # fmt: skip
        limits.check_shape(shape, role_limits)
        if shape.introspection and not _may_introspect(roles, settings):
            raise limits.QueryRefused(
                "INTROSPECTION_DISABLED", "Introspection is not allowed for your role."
            )

    def _respond(
        self,
        bodies: list[dict[str, Any]],
        batched: bool,
        media_type: str,
        sub_response: Response,
    ) -> Response:
        status = 200
        if any(_unavailable(body) for body in bodies):
            status = 503
            sub_response.headers["Retry-After"] = RETRY_AFTER_S
        elif not batched and media_type == GRAPHQL_RESPONSE and "data" not in bodies[0]:
            status = 400
        payload = bodies if batched else bodies[0]
        response = Response(
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            status_code=sub_response.status_code or status,
            media_type=f"{media_type}; charset=utf-8",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        state: GatewayState = request.app.state.pilotgraph
        scope: RequestScope = request.scope["state"][SCOPE_KEY]
        session = scope_session(state.sessionmaker(), scope.tenant.id if scope.tenant else None)
        request.scope["state"][SESSION_KEY] = session
        return Context(
            request=request if isinstance(request, Request) else None,
            response=response if isinstance(response, Response) else None,
            session=session,
            principal=scope.principal,
            tenant=scope.tenant,
            registry=state.registry,
            now=state.clock(),
            install_key=state.install_key,
            flags=state.flags,
            kpis=state.kpis,
            guardrail=state.guardrail,
        )


def _allowed(method: str) -> set[StrawberryOperation]:
    if method == "GET":
        return {StrawberryOperation.QUERY}
    return {StrawberryOperation.QUERY, StrawberryOperation.MUTATION}


def _roles(context: Context) -> frozenset[str] | None:
    if context.principal is None:
        return None
    return frozenset(str(role) for role in context.principal.roles)


def _may_introspect(roles: frozenset[str] | None, settings: Settings) -> bool:
    if not settings.is_production:
        return True
    return bool(roles and roles & settings.edge.introspection_roles)


def _request_error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _body(result: ExecutionResult) -> dict[str, Any]:
    """The response body; request errors carry no ``data`` (GraphQL spec, execution never began)."""
    body: dict[str, Any] = dict(process_result(result))
    if is_request_error(result.data, result.errors):
        body.pop("data", None)
    return body


def _unavailable(body: dict[str, Any]) -> bool:
    return any(
        (error.get("extensions") or {}).get("code") == UNAVAILABLE
        for error in body.get("errors") or []
    )


class SessionCloser:
    """Close the request's session once the response is sent (rolls back anything uncommitted)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            session = scope.get("state", {}).get(SESSION_KEY)
            if session is not None:
                await session.close()


__all__ = ["GraphQLView", "SessionCloser"]
