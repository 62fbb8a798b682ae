"""Measured shapes of operations, by document text, operation and variables; bounded in bytes.

Measuring walks the whole document against the schema (:func:`gateway.edge.limits.measure`),
on every request before this cache. The shape depends on the schema, the document, the chosen
operation, the variables (list sizes such as ``first: $first``) and the assumed list size, so all
of them are in the key; variables are keyed by their canonical JSON, and only small ones
(:data:`MAX_VARIABLES_TEXT` characters) are cached, so a client varying large inputs cannot fill
the cache with them. A document that fails to measure (a fragment cycle) is never kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode

from gateway.edge.limits import Shape, measure
from schema.bounded import ByteBoundedLRU, text_bytes
from schema.bounded import variables_key as bounded_key

MAX_VARIABLES_TEXT = 1024
SHAPES: ByteBoundedLRU[tuple[Any, ...], Shape] = ByteBoundedLRU(8 * 1024 * 1024, 256 * 1024, 4096)


def measured(
    schema: GraphQLSchema,
    query: str,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    assumed_list_size: int,
) -> Shape:
    """:func:`measure`'s answer for ``document`` (parsed from ``query``), cached."""
    variables_key = bounded_key(variables, MAX_VARIABLES_TEXT)
    if variables_key is None:
        return measure(schema, document, operation, variables, assumed_list_size)
    name = operation.name.value if operation.name else None
    key = (schema, query, name, variables_key, assumed_list_size)
    shape = SHAPES.get(key)
    if shape is None:
        shape = measure(schema, document, operation, variables, assumed_list_size)
        SHAPES.put(key, shape, text_bytes(query, variables_key))
    return shape
