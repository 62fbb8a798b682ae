"""Query limits checked before execution: tokens, depth, aliases, root fields and cost.

A field costs 1. A field with a ``first``/``last``/``limit`` argument (or that argument's schema
default) multiplies the cost of its subtree by it; a list field under such a field (a connection's
``edges``) costs nothing more; any other list field multiplies by ``assumed_list_size``.
``__schema``/``__type`` subtrees are left to the introspection policy (they cost 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.language import Lexer, Source, TokenKind

from gateway.edge.config import QueryLimits
from gateway.edge.http_spec import EdgeRefusal

SIZE_ARGUMENTS = ("first", "last", "limit")
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class QueryRefused(EdgeRefusal):
    """A document over a limit: a GraphQL request error (400 or 200 by media type)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


@dataclass(frozen=True, slots=True)
class Shape:
    depth: int
    aliases: int
    root_fields: int
    cost: int
    introspection: bool


@lru_cache(maxsize=2_048)
def count_tokens(query: str, ceiling: int) -> int:
    """Tokens in ``query``, counting no further than ``ceiling + 1``."""
    lexer = Lexer(Source(query))
    count = 0
    while count <= ceiling:
        if lexer.advance().kind is TokenKind.EOF:
            break
        count += 1
    return count


def check_tokens(query: str, limits: QueryLimits) -> None:
    """Refuse a document with more tokens than allowed, before parsing it."""
    try:
        tokens = count_tokens(query, limits.max_tokens)
    except GraphQLError:  # the parser reports the lexing error afterwards
        return
    if tokens > limits.max_tokens:
        raise QueryRefused(
            "QUERY_TOO_LARGE", f"The document has more than {limits.max_tokens} tokens."
        )


def check_shape(shape: Shape, limits: QueryLimits) -> None:
    """Refuse an operation whose shape exceeds ``limits``."""
    if shape.depth > limits.max_depth:
        raise QueryRefused(
            "QUERY_TOO_DEEP",
            f"The operation is {shape.depth} levels deep; the limit is {limits.max_depth}.",
        )
    if shape.aliases > limits.max_aliases:
        raise QueryRefused(
            "TOO_MANY_ALIASES",
            f"The operation uses {shape.aliases} aliases; the limit is {limits.max_aliases}.",
        )
    if shape.root_fields > limits.max_root_fields:
        raise QueryRefused(
            "TOO_MANY_ROOT_FIELDS",
            f"The operation selects {shape.root_fields} root fields;"
            f" the limit is {limits.max_root_fields}.",
        )
    if shape.cost > limits.max_cost:
        raise QueryRefused(
            "QUERY_TOO_COMPLEX",
            f"The operation costs {shape.cost}; the limit is {limits.max_cost}.",
        )


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
    assumed_list_size: int,
) -> Shape:
    """Depth, aliases, root fields, cost and introspection use of one operation."""
    walker = _Walker(schema, document, variables or {}, assumed_list_size)
    root = schema.get_root_type(operation.operation)
    cost, depth = walker.selection(operation.selection_set, root, 1, sized=False, seen=())
    return Shape(
        depth=depth,
        aliases=walker.aliases,
        root_fields=len(walker.fields_of(operation.selection_set, ())),
        cost=cost,
        introspection=walker.introspection,
    )


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any],
        assumed_list_size: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.assumed = assumed_list_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.aliases = 0
        self.introspection = False

    def fields_of(self, selection_set: SelectionSetNode, seen: tuple[str, ...]) -> list[FieldNode]:
        """The fields of a selection set with fragments flattened (cycles cut)."""
        found: list[FieldNode] = []
        for selection in selection_set.selections or ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found += self.fields_of(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    found += self.fields_of(fragment.selection_set, (*seen, name))
        return found

    def selection(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        level: int,
        *,
        sized: bool,
        seen: tuple[str, ...],
    ) -> tuple[int, int]:
        """(cost, depth) of a selection set at ``level``."""
        cost, depth = 0, level
        for node in self.fields_of(selection_set, seen):
            self.aliases += node.alias is not None
            if node.name.value in INTROSPECTION_FIELDS:
                # Governed by the introspection policy; tools' standard query nests ~13 deep.
                self.introspection = True
                cost += 1
                continue
            field_cost, field_depth = self.field(node, parent, level, sized=sized, seen=seen)
            cost += field_cost
            depth = max(depth, field_depth)
        return cost, depth

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        level: int,
        *,
        sized: bool,
        seen: tuple[str, ...],
    ) -> tuple[int, int]:
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        )
        size = self._size_argument(node, definition)
        is_list = definition is not None and _is_list(definition.type)
        multiplier = size or (1 if sized or not is_list else self.assumed)
        if node.selection_set is None:
            return multiplier, level
        child_type = get_named_type(definition.type) if definition is not None else None
        child_cost, depth = self.selection(
            node.selection_set,
            child_type,
            level + 1,
            sized=size is not None and not is_list,
            seen=seen,
        )
        return multiplier * (1 + child_cost), depth

    def _size_argument(self, node: FieldNode, definition: Any) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value not in SIZE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 1)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return max(given, 1)
        if definition is not None:
            for name in SIZE_ARGUMENTS:
                arg = definition.args.get(name)
                if arg is not None and isinstance(arg.default_value, int):
                    return max(arg.default_value, 1)
        return None


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
