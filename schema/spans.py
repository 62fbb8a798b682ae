"""One span per GraphQL operation, named and attributed per the current semantic conventions.

Strawberry's own OpenTelemetry extension exports every resolver argument as
``graphql.param.*`` (install tokens, search text): this one records only what the document
declares, never a value. The span is named ``{graphql.operation.type} {graphql.operation.name}``
(``query Home``) and carries those two attributes; ``graphql.document`` is left out, because an
inline literal (``search(text: "…")``) would carry a value all the same. It is the current span
while the operation runs, so SQL spans are its children, and a child of the HTTP server span.
"""

from __future__ import annotations

from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from strawberry.extensions import SchemaExtension

tracer = trace.get_tracer("pilotgraph.graphql")


class OperationSpans(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        with tracer.start_as_current_span("GraphQL operation") as span:
            yield
            self._describe(span)

    def _describe(self, span: trace.Span) -> None:
        context = self.execution_context
        name: str | None = context.operation_name
        kind: str | None
        try:
            kind = context.operation_type.value
        except RuntimeError:  # no document, or no operation of that name: nothing ran
            kind = name = None  # and a name the document does not declare is the client's text
        span.update_name(" ".join(part for part in (kind, name) if part) or "GraphQL operation")
        if kind:
            span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        if context.result is not None and context.result.errors:
            span.set_status(Status(StatusCode.ERROR))
