"""The ASGI app: ``POST /graphql`` (GraphQL over HTTP, JSON) and ``GET /healthz``."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    ValidationRule,
    execute,
    parse,
    specified_rules,
    validate,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from member_development.auth import AuthError, router_allowed, verify
from member_development.context import RequestContext
from member_development.db import create_tables, make_engine, make_sessionmaker
from member_development.schema import schema
from member_development.settings import Settings, load_settings

logger = logging.getLogger("member_development")
ROUTER_FIELDS = frozenset({"_service", "_entities"})


class RouterFieldsRule(ValidationRule):
    """``_service`` and ``_entities`` are the router's, through fragments too."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        if node.name.value in ROUTER_FIELDS and parent is self.context.schema.query_type:
            self.report_error(
                GraphQLError(
                    f"'{node.name.value}' is reserved for the federation router.",
                    node,
                    extensions={"code": "ROUTER_CREDENTIAL_REQUIRED"},
                )
            )


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


def _formatted(error: GraphQLError) -> dict[str, Any]:
    """Expected errors keep code and message; anything else is masked with a logged id."""
    if (error.extensions or {}).get("code"):
        return dict(error.formatted)
    if error.original_error is None:
        return {**error.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}
    if isinstance(error.original_error, GraphQLError):  # e.g. an argument of the wrong shape
        return {**error.formatted, "extensions": {"code": "BAD_USER_INPUT"}}
    error_id = uuid.uuid4().hex
    logger.error("unexpected error %s at %s", error_id, error.path, exc_info=error.original_error)
    return {
        "message": f"Unexpected error; quote error id {error_id}.",
        "path": error.path,
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    }


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    if "application/json" not in request.headers.get("content-type", ""):
        return _refusal(415, "UNSUPPORTED_CONTENT_TYPE", "Send application/json.")
    try:
        body = json.loads(await request.body())
    except ValueError:
        return _refusal(400, "MALFORMED_JSON", "Unable to parse request body as JSON")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _refusal(400, "MISSING_QUERY", "No GraphQL query found in the request")
    return body


async def graphql_endpoint(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    try:
        # A JWKS fetch (first token, unknown kid) is blocking I/O: off the event loop.
        principal = await asyncio.to_thread(verify, settings, request.headers.get("authorization"))
    except AuthError as exc:
        return _refusal(401, AuthError.code, str(exc))
    try:
        document = parse(body["query"])
    except GraphQLSyntaxError as exc:
        return _refusal(400, "GRAPHQL_PARSE_FAILED", exc.message)
    rules = list(specified_rules)
    if not router_allowed(settings, request.headers.get("x-router-token")):
        rules.append(RouterFieldsRule)
    errors = validate(schema.graphql_schema, document, rules)
    if errors:
        return JSONResponse({"errors": [_formatted(e) for e in errors]}, 400)
    context = RequestContext(sessionmaker=request.app.state.sessionmaker, principal=principal)
    result = execute(
        schema.graphql_schema,
        document,
        variable_values=body.get("variables") or None,
        operation_name=body.get("operationName"),
        context_value=context,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [_formatted(e) for e in result.errors]
    return JSONResponse(payload)


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None, engine: AsyncEngine | None = None) -> Starlette:
    """The app; tables are created at start when missing."""
    settings = settings or load_settings()
    engine = engine or make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await create_tables(engine)
        yield
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql_endpoint, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessionmaker = make_sessionmaker(engine)
    return app
