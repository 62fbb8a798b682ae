"""Leaves the operation name and masked error ids in the request scope for logs and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

OPERATION_KEY = "pilotgraph_operation"
ERROR_IDS_KEY = "pilotgraph_error_ids"


def _state(context: object) -> dict[str, Any] | None:
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    return scope.setdefault("state", {}) if isinstance(scope, dict) else None


def record_error_id(context: object, error_id: str) -> None:
    state = _state(context)
    if state is not None:
        state.setdefault(ERROR_IDS_KEY, []).append(error_id)


class OperationRecorder(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        state = _state(self.execution_context.context)
        if state is not None:
            state[OPERATION_KEY] = self.execution_context.operation_name or "anonymous"
