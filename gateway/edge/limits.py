"""Query limits checked before execution: tokens, depth, aliases, root fields and cost.

A field costs 1. A field with a ``first``/``last``/``limit`` argument (or that argument's schema
default) multiplies the cost of its subtree by it; a list field under such a field (a connection's
``edges``) costs nothing more; any other list field multiplies by ``assumed_list_size``.
``__schema``/``__type`` subtrees are left to the introspection policy (they cost 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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

from gateway.edge.config import EdgeSettings, QueryLimits
from gateway.edge.http_spec import EdgeRefusal
from schema.bounded import ByteBoundedLRU, text_bytes
from schema.document_cache import DOCUMENTS

SIZE_ARGUMENTS = ("first", "last", "limit")
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
# Tallies stop growing here: a fragment that doubles 60 times needs no 60-digit arithmetic.
SATURATION = 2**62
# Fields, inline fragments and fragment spreads nested deeper are refused before Python's
# recursion limit is near (the parser stops at 200 per definition; fragments chain further).
MAX_NESTING = 128


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


# Documents whose token count passed, by text (refused ones are never kept). Bounds: edge settings.
TOKEN_COUNTS: ByteBoundedLRU[tuple[str, int], int] = ByteBoundedLRU(4 * 1024 * 1024, 64 * 1024)


def configure_caches(edge: EdgeSettings) -> None:
    """Bound the process's token-count and document caches as the edge settings say."""
    TOKEN_COUNTS.resize(edge.token_cache.max_bytes, edge.token_cache.max_entry_bytes)
    DOCUMENTS.resize(edge.document_cache.max_bytes, edge.document_cache.max_entry_bytes)


def count_tokens(query: str, ceiling: int) -> int:
    """Tokens in ``query``, comments included, counting no further than ``ceiling + 1``."""
    known = TOKEN_COUNTS.get((query, ceiling))
    if known is not None:
        return known
    count = _lex(query, ceiling)
    if count <= ceiling:
        TOKEN_COUNTS.put((query, ceiling), count, text_bytes(query))
    return count


def _lex(query: str, ceiling: int) -> int:
    lexer = Lexer(Source(query))
    # What parse(max_comments=...) sets: comments are tokens the parser keeps (~200 bytes each),
    # and the lexer skips a run of them at once, so stop a comment-padded document early.
    lexer._max_comments = ceiling
    count = 0
    try:
        while count <= ceiling and lexer.advance().kind is not TokenKind.EOF:
            count += 1
    except GraphQLError:
        if lexer._comment_count < ceiling:
            raise
        return ceiling + 1
    return count + lexer._comment_count


def check_tokens(query: str, limits: QueryLimits) -> None:
    """Refuse a document longer, or with more tokens (comments included), than allowed."""
    if len(query) > limits.max_length:
        raise QueryRefused(
            "QUERY_TOO_LARGE", f"The document has more than {limits.max_length} characters."
        )
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
    """Depth, aliases, root fields, cost and introspection use of one operation.

    Each fragment is measured once per parent type and reused wherever it is spread, so the work
    is linear in the document however often fragments spread each other. A fragment cycle is
    refused as validation would refuse it; nesting deeper than ``MAX_NESTING`` as too deep.
    """
    walker = _Walker(schema, document, variables or {}, assumed_list_size)
    root = schema.get_root_type(operation.operation)
    tally = walker.selection(operation.selection_set, root, sized=False)
    return Shape(
        depth=tally.depth,
        aliases=tally.aliases,
        root_fields=tally.fields,
        cost=tally.cost,
        introspection=tally.introspection,
    )


@dataclass(frozen=True, slots=True)
class _Tally:
    """A selection set measured on its own: ``depth`` counts its own level."""

    cost: int = 0
    depth: int = 1
    aliases: int = 0
    fields: int = 0
    introspection: bool = False

    def __add__(self, other: _Tally) -> _Tally:
        return _Tally(
            cost=_saturated(self.cost + other.cost),
            depth=max(self.depth, other.depth),
            aliases=_saturated(self.aliases + other.aliases),
            fields=_saturated(self.fields + other.fields),
            introspection=self.introspection or other.introspection,
        )


EMPTY = _Tally()
FragmentKey = tuple[str, str | None, bool]


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
        self.measured: dict[FragmentKey, _Tally] = {}
        self.entered: set[str] = set()
        self.nesting = 0

    def selection(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, *, sized: bool
    ) -> _Tally:
        """The tally of a selection set, fragments included."""
        tally = EMPTY
        for selection in selection_set.selections or ():
            if isinstance(selection, FieldNode):
                tally += self.field(selection, parent, sized=sized)
            elif isinstance(selection, InlineFragmentNode):
                tally += self.nested(selection.selection_set, parent, sized=sized)
            elif isinstance(selection, FragmentSpreadNode):
                tally += self.spread(selection.name.value, parent, sized=sized)
        return tally

    def nested(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, *, sized: bool
    ) -> _Tally:
        """:meth:`selection` one level further down, refusing nesting Python cannot recurse."""
        if self.nesting >= MAX_NESTING:
            raise QueryRefused(
                "QUERY_TOO_DEEP",
                f"The operation nests fields and fragments more than {MAX_NESTING} levels deep.",
            )
        self.nesting += 1
        try:
            return self.selection(selection_set, parent, sized=sized)
        finally:
            self.nesting -= 1

    def spread(self, name: str, parent: GraphQLNamedType | None, *, sized: bool) -> _Tally:
        """A fragment's tally, measured once per parent type and sizing."""
        fragment = self.fragments.get(name)
        if fragment is None:
            return EMPTY  # validation reports the unknown fragment
        key = (name, parent.name if parent is not None else None, sized)
        known = self.measured.get(key)
        if known is not None:
            return known
        if name in self.entered:
            raise QueryRefused(
                "GRAPHQL_VALIDATION_FAILED", f"Cannot spread fragment '{name}' within itself."
            )
        self.entered.add(name)
        tally = self.nested(fragment.selection_set, parent, sized=sized)
        self.entered.discard(name)
        self.measured[key] = tally
        return tally

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, *, sized: bool) -> _Tally:
        """A field's tally: its cost times its list size, one level deeper than its children."""
        alias = int(node.alias is not None)
        if node.name.value in INTROSPECTION_FIELDS:
            return self._introspection(node, alias)
        definition = (
            parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) else None
        )
        size = self._size_argument(node, definition)
        is_list = definition is not None and _is_list(definition.type)
        multiplier = size or (1 if sized or not is_list else self.assumed)
        if node.selection_set is None:
            return _Tally(cost=multiplier, aliases=alias, fields=1)
        child_type = get_named_type(definition.type) if definition is not None else None
        child = self.nested(node.selection_set, child_type, sized=size is not None and not is_list)
        return _Tally(
            cost=_saturated(multiplier * (1 + child.cost)),
            depth=1 + child.depth,
            aliases=_saturated(alias + child.aliases),
            fields=1,
            introspection=child.introspection,
        )

    def _introspection(self, node: FieldNode, alias: int) -> _Tally:
        # Cost and depth are the introspection policy's (tools' standard query nests ~13 deep),
        # but aliases inside still count: each one resolves the subtree again.
        inner = EMPTY
        if node.selection_set is not None:
            inner = self.nested(node.selection_set, None, sized=True)
        return _Tally(
            cost=1, aliases=_saturated(alias + inner.aliases), fields=1, introspection=True
        )

    def _size_argument(self, node: FieldNode, definition: Any) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value not in SIZE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return _int_literal(value.value)
            if isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
                if isinstance(given, int) and not isinstance(given, bool):
                    return max(min(given, SATURATION), 1)
        if definition is not None:
            for name in SIZE_ARGUMENTS:
                arg = definition.args.get(name)
                if arg is not None and isinstance(arg.default_value, int):
                    return max(arg.default_value, 1)
        return None


def _saturated(value: int) -> int:
    return min(value, SATURATION)


def _int_literal(text: str) -> int:
    """A size literal as a positive int; digits beyond any limit saturate (``int()`` refuses
    more than 4,300 digits)."""
    if text.startswith("-"):
        return 1
    return SATURATION if len(text) > 18 else max(int(text), 1)


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
