"""GraphQL over WebSocket (graphql-transport-ws), through the same edge as HTTP.

strawberry's handler keeps the protocol (init, ping, complete, the per-connection operation
limit); each ``subscribe`` runs through :class:`gateway.edge.documents.Edge` with a context of its
own, closed when the operation ends. A refused document answers an ``error`` message with the
code and message HTTP answers. The token was verified at the upgrade (tenancy middleware).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from graphql import GraphQLFormattedError
from starlette.websockets import WebSocket
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.edge.documents import WEBSOCKET, Call, Edge
from gateway.edge.http_spec import EdgeRefusal, Params, params_from_json
from schema.context import Context


class EdgeView(Protocol):
    """What the handler needs of the view that made it (``gateway.view.GraphQLView``)."""

    edge: Edge

    def new_context(self, request: WebSocket) -> Context: ...


class EdgeTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws whose operations run through the edge, each with its own context."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params: dict[str, Params] = {}  # by operation id, until its task starts

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        """Check the payload as HTTP checks a body, then let strawberry start the operation."""
        if not self.connection_acknowledged:
            await super().handle_subscribe(message)
            return
        try:
            params = params_from_json(message.get("payload"))
        except EdgeRefusal as exc:
            await self.send_message(_error(message["id"], exc))
            return
        self.params[message["id"]] = params
        started: SubscribeMessage = {**message, "payload": {"query": params.query or ""}}
        await super().handle_subscribe(started)
        if message["id"] not in self.operations:  # refused: over the limit, or a reused id
            self.params.pop(message["id"], None)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Run one operation through the edge; its context is closed however it ends."""
        view = cast(EdgeView, self.view)
        # Typed as the abstract AsyncWebSocketAdapter; the ASGI adapter holds the Starlette socket.
        socket = self.websocket.ws  # type: ignore[attr-defined]
        context = view.new_context(socket)
        address = socket.client.host if socket.client else "unknown"
        call = Call(self.params.pop(operation.id), context, WEBSOCKET, address)
        try:
            await self._results(operation, call)
        except EdgeRefusal as exc:
            await operation.send_operation_message(_error(operation.id, exc))
        except Exception as error:
            await self.handle_task_exception(error)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            raise
        finally:
            await context.close()

    async def _results(self, operation: Operation[Context, None], call: Call) -> None:
        view = cast(EdgeView, self.view)
        async with aclosing(view.edge.stream(call)) as results:
            async for result in results:
                if isinstance(result, PreExecutionError):
                    assert result.errors
                    await operation.send_initial_errors(result.errors)
                    return
                await operation.send_next(result)
                await call.context.release()  # hold no connection between subscription events
        await operation.send_operation_message({"id": operation.id, "type": "complete"})


def _error(operation_id: str, refusal: EdgeRefusal) -> ErrorMessage:
    """The ``error`` message for a refusal: the code and message HTTP answers."""
    error: GraphQLFormattedError = {
        "message": refusal.message,
        "extensions": {"code": refusal.code},
    }
    return {"id": operation_id, "type": "error", "payload": [error]}
