"""The GraphQL endpoint: GraphQL over HTTP and over WebSocket, strawberry underneath.

HTTP requests are read here (media types, parameters, CSRF); every operation, from HTTP or
from :mod:`gateway.websocket`, then runs through the one edge, :mod:`gateway.edge.documents`.
Each request (each WebSocket operation) gets a :class:`Context` of its own, closed once it ends:
closing waits for every resolver's database work, so no connection is left behind.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import process_result
from strawberry.schema import Schema as StrawberrySchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from db.sessions import scope_session
from gateway.auth import ROUTER_HEADER, router_allowed
from gateway.edge.config import EdgeSettings
from gateway.edge.documents import HTTP_GET, HTTP_POST, RETRY_AFTER_S, Call, Edge, PlannedData
from gateway.edge.http_spec import (
    GRAPHQL_RESPONSE,
    EdgeRefusal,
    Params,
    check_content_type,
    check_json_depth,
    check_preflighted,
    decode_json,
    is_request_error,
    negotiate,
    params_from_json,
    params_from_query_string,
)
from gateway.pages import graphiql_page
from gateway.responses import error_response
from gateway.settings import Settings
from gateway.state import SCOPE_KEY, GatewayState, RequestScope
from gateway.websocket import EdgeTransportWSHandler
from schema.context import Context
from schema.unavailable import RETRYABLE

CONTEXT_KEY = "pilotgraph_context"


# One operation's response: a JSON object, or a planned answer written as PostgreSQL wrote it.
Body = dict[str, Any] | PlannedData


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = EdgeTransportWSHandler

    def __init__(self, schema: StrawberrySchema, edge: Edge, graphql_ide: Any = None) -> None:
        # Only graphql-transport-ws: its handler runs operations through the edge.
        protocols = [GRAPHQL_TRANSPORT_WS_PROTOCOL]
        super().__init__(schema, graphql_ide=graphql_ide, subscription_protocols=protocols)
        self.edge = edge

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
        """Answer one GraphQL-over-HTTP request: each of its operations through the edge."""
        settings: Settings = request.app.state.pilotgraph.settings
        if self._wants_ide(request):
            if self.graphql_ide:
                return await self.render_graphql_ide(request)
            raise EdgeRefusal(404, "NOT_FOUND", "Not Found")
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        address = request.client.host if request.client else "unknown"
        try:
            media_type = negotiate(request.headers.get("accept"))
            operations, batched = await self._read(request, settings.edge)
        except EdgeRefusal:
            await self.edge.throttle(context, address)  # a refused request costs a token too
            raise
        transport = HTTP_GET if request.method == "GET" else HTTP_POST
        calls = [Call(params, context, transport, address) for params in operations]
        bodies = [await self._one(call) for call in calls]
        return self._respond(bodies, batched, media_type, sub_response)

    async def render_graphql_ide(self, request: Request) -> Response:
        """Our GraphiQL page: every asset from the gateway, none from a CDN."""
        return graphiql_page()

    def decode_json(self, data: str | bytes) -> object:
        """A WebSocket message's JSON; too deep is malformed (closed 4400), not a crash."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            check_json_depth(raw)
        except EdgeRefusal as exc:
            raise json.JSONDecodeError(exc.message, "", 0) from exc
        return json.loads(raw)

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
        body = await request.body()  # the BodyLimit middleware has bounded it (413)
        if not body:
            raise EdgeRefusal(400, "MISSING_QUERY", "No GraphQL query found in the request")
        data = decode_json(body)
        if not isinstance(data, list):
            return [params_from_json(data)], False
        if edge.max_batch == 0:
            raise EdgeRefusal(400, "BATCHING_DISABLED", "Operation batching is turned off.")
        if not data or len(data) > edge.max_batch:
            raise EdgeRefusal(
                400, "BATCH_TOO_LARGE", f"A batch holds 1 to {edge.max_batch} operations."
            )
        return [params_from_json(item) for item in data], True

    async def _one(self, call: Call) -> Body:
        """Run one operation; a refusal of the document becomes a request error."""
        try:
            result = await self.edge.execute(call)
        except EdgeRefusal as exc:
            if exc.status != 400 or exc.code == "MISSING_QUERY":
                raise
            return _request_error(exc.code, exc.message)
        return result if isinstance(result, PlannedData) else _body(result)

    def _respond(
        self,
        bodies: list[Body],
        batched: bool,
        media_type: str,
        sub_response: Response,
    ) -> Response:
        status = 200
        if any(_unavailable(body) for body in bodies):
            status = 503
            sub_response.headers["Retry-After"] = RETRY_AFTER_S
        elif not batched and media_type == GRAPHQL_RESPONSE and not _has_data(bodies[0]):
            status = 400
        encoded = [_encoded(body) for body in bodies]
        response = Response(
            b"[" + b",".join(encoded) + b"]" if batched else encoded[0],
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
        """The request's context; :class:`SessionCloser` closes it once the request ends."""
        context = self.new_context(request, response)
        request.scope["state"][CONTEXT_KEY] = context
        return context

    def new_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        """A context with a session of its own; whoever asks for it closes it."""
        state: GatewayState = request.app.state.pilotgraph
        scope: RequestScope = request.scope["state"][SCOPE_KEY]
        # A closed session refuses further use instead of quietly opening a new transaction.
        session = state.sessionmaker(close_resets_only=False)
        return Context(
            request=request if isinstance(request, Request) else None,
            response=response if isinstance(response, Response) else None,
            session=scope_session(session, scope.tenant.id if scope.tenant else None),
            principal=scope.principal,
            tenant=scope.tenant,
            registry=state.registry,
            now=state.clock(),
            install_key=state.install_key,
            flags=state.flags,
            kpis=state.kpis,
            guardrail=state.guardrail,
            webhook_origins=state.webhook_origins,
            forget_service_key=state.service_keys.forget,
            router=isinstance(request, Request)
            and router_allowed(state.settings, request.headers.get(ROUTER_HEADER)),
        )


def _request_error(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _body(result: ExecutionResult) -> dict[str, Any]:
    """The response body; request errors carry no ``data`` (GraphQL spec, execution never began)."""
    body: dict[str, Any] = dict(process_result(result))
    if is_request_error(result.data, result.errors):
        body.pop("data", None)
    return body


def _encoded(body: Body) -> bytes:
    """One operation's response as UTF-8 JSON; a planned answer's data text goes in unchanged."""
    if isinstance(body, PlannedData):
        return b'{"data":' + body.json_text.encode("utf-8") + b"}"
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _has_data(body: Body) -> bool:
    return isinstance(body, PlannedData) or "data" in body


def _unavailable(body: Body) -> bool:
    """The database failed or was too slow for this operation: the answer is 503."""
    if isinstance(body, PlannedData):
        return False  # a planned answer is always a success
    return any(
        (error.get("extensions") or {}).get("code") in RETRYABLE
        for error in body.get("errors") or []
    )


class SessionCloser:
    """Close the request's context once the response is sent (rolls back anything uncommitted).

    Closing waits for every resolver still using the session, so even an operation whose
    result was settled early never leaves a connection checked out or idle in a transaction.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            context: Context | None = scope.get("state", {}).get(CONTEXT_KEY)
            if context is not None:
                await context.close()


__all__ = ["GraphQLView", "SessionCloser"]
