"""Text that no store can hold is refused before any resolver runs, once for every argument.

PostgreSQL's ``text`` and ``jsonb`` refuse U+0000, and a lone surrogate (U+D800–U+DFFF, which
JSON's ``\\ud800`` escape can produce) has no UTF-8 encoding at all. Either one, reaching a
resolver in ``documents(search:)``, a cursor or a mutation's input, used to fail deep in the
driver as ``INTERNAL_SERVER_ERROR``. Here every string literal of the document and every string
in the variables (keys included) is checked, whatever its type (``String``, ``ID``, ``JSON``), and
the operation is refused as a request error with ``BAD_USER_INPUT``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, StringValueNode, Visitor, visit
from strawberry.extensions import SchemaExtension

CODE = "BAD_USER_INPUT"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]").search
# A literal can only hold U+0000 through an escape: the lexer refuses raw control characters.
_MAYBE_IN_LITERAL = re.compile("[\x00\ud800-\udfff]|\\\\u").search


def unstorable(text: str) -> bool:
    """Whether ``text`` holds U+0000 or an unpaired surrogate."""
    return _UNSTORABLE(text) is not None


def bad_variable(variables: dict[str, Any] | None) -> str | None:
    """The name of the first variable holding unstorable text anywhere inside it."""
    for name, value in (variables or {}).items():
        if unstorable(name) or _holds_unstorable(value):
            return name
    return None


def _holds_unstorable(value: Any) -> bool:
    # Depth is bounded: request bodies nesting more than 64 levels are refused before parsing.
    if isinstance(value, str):
        return unstorable(value)
    if isinstance(value, dict):
        return any(unstorable(k) or _holds_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_unstorable(item) for item in value)
    return False


class _Literals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: StringValueNode | None = None

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> Any:
        if unstorable(node.value):
            self.found = node
            return Visitor.BREAK
        return None


def bad_literal(query: str, document: DocumentNode) -> StringValueNode | None:
    """The first string literal of ``document`` holding unstorable text (escapes decoded)."""
    if _MAYBE_IN_LITERAL(query) is None:
        return None  # the common case: no escape at all, so no walk
    literals = _Literals()
    visit(document, literals)
    return literals.found


def refusal(
    query: str, document: DocumentNode, variables: dict[str, Any] | None
) -> GraphQLError | None:
    """The request error for unstorable text in the document or the variables, if any."""
    name = bad_variable(variables)
    if name is not None:
        return GraphQLError(
            f"Variable '${name}' holds U+0000 or an unpaired surrogate, which text cannot hold.",
            extensions={"code": CODE},
        )
    node = bad_literal(query, document)
    if node is not None:
        return GraphQLError(
            "A string argument holds U+0000 or an unpaired surrogate, which text cannot hold.",
            node,
            extensions={"code": CODE},
        )
    return None


class TextArguments(SchemaExtension):
    """Refuse the operation (a request error) when an argument holds unstorable text.

    Runs before validation, after :class:`~schema.document_cache.CachedDocuments` has had its
    say: the refusal stands whether or not the document validated before, and the document is
    not admitted to the cache.
    """

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            error = refusal(context.query or "", document, context.variables)
            if error is not None:
                context.pre_execution_errors = [error]
        yield
