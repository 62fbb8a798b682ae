"""Plain leaf fields completed without graphql-core's per-field machinery.

Most fields of a response are plain attributes of a strawberry type (``fullName``, ``status``,
``startsAt``): no resolver, no arguments, no field extension (permission or feature gate), a
scalar or enum type. graphql-core still gives each one the whole field path: a ``Path``, a
strawberry ``Info``, the resolver call through the middleware manager, the awaitable checks and
``complete_value``'s type dispatch — about 400 times for a page of 50 members. For such a field
:class:`PlainLeafExecution` reads the attribute as strawberry's own resolver would (the field's
``default_resolver``, ``getattr``) and coerces it with the type's ``coerce_output_value``, as
``complete_leaf_value`` does.

Only the plain success is taken this way: a value that is missing (``None`` for a non-null
field), an exception, an awaitable, a failed coercion or a coercion to null goes through
``execute_field`` unchanged, which reads the attribute again and answers exactly as before (the
attribute of a plain field is data; reading it twice changes nothing). When a schema extension
hooks every field (``resolve``, run as graphql-core middleware), no field is plain.
``tests/schema/test_execution.py`` requires the same answers with and without this class.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_DATA = (str, int, float, bool)  # never awaitable: skip the check
# graphql-core's own scalars that hand a value of exactly this type out unchanged.
_SAME: dict[GraphQLScalarType, type] = {
    GraphQLString: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
    GraphQLID: str,
}
_MIN_INT, _MAX_INT = -(2**31), 2**31 - 1


@dataclass(frozen=True, slots=True)
class PlainLeaf:
    """How strawberry resolves a plain field, and the leaf type that coerces its value."""

    read: Callable[[Any, str], object]
    python_name: str
    leaf: GraphQLScalarType | GraphQLEnumType
    non_null: bool
    # The Python type whose values the leaf hands out unchanged (str for String…), if any.
    same: type | None = None
    # A strawberry enum: its Python class and each member value's GraphQL name.
    enum: type | None = None
    names: Mapping[Any, str] | None = None


_PLAIN: WeakKeyDictionary[GraphQLObjectType, Mapping[str, PlainLeaf]] = WeakKeyDictionary()


def plain_leaves(parent: GraphQLObjectType) -> Mapping[str, PlainLeaf]:
    """``parent``'s plain leaf fields by name (cached per type: a schema's types live with it)."""
    found = _PLAIN.get(parent)
    if found is None:
        found = _PLAIN[parent] = {
            name: leaf
            for name, field in parent.fields.items()
            if (leaf := _plain_leaf(field)) is not None
        }
    return found


def _plain_leaf(field: GraphQLField) -> PlainLeaf | None:
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolver = field.resolve
    # strawberry marks the resolver of a field with no resolver, extension or error handler
    if definition is None or field.args or not getattr(resolver, "_is_default", False):
        return None
    if definition.base_resolver is not None or definition.extensions:
        return None
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if not isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        return None
    non_null = isinstance(field.type, GraphQLNonNull)
    read, name = definition.default_resolver, definition.python_name
    enum = getattr(inner, "wrapped_cls", None)
    if isinstance(inner, GraphQLEnumType) and isinstance(enum, type):
        names: dict[Any, str] = {}
        for graphql_name, value in inner.values.items():
            names.setdefault(value.value, graphql_name)  # the first match, as strawberry's loop
        return PlainLeaf(read, name, inner, non_null, enum=enum, names=names)
    same = _SAME.get(inner) if isinstance(inner, GraphQLScalarType) else None
    return PlainLeaf(read, name, inner, non_null, same=same)


class PlainLeafExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain leaf fields read and coerced directly."""

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """``execute_fields`` (graphql-core 3.3), a plain leaf's success taken directly."""
        plain = self._plain(parent_type)
        if not plain:  # every field takes graphql-core's path
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                leaf = None if node.arguments else plain.get(node.name.value)
                if leaf is not None:
                    completed = _complete_plain(leaf, source_value, is_awaitable)
                    if completed is not Undefined:
                        results[response_name] = completed
                        continue
                field_path = Path(path, response_name, parent_type.name)
                result = self.execute_field(
                    parent_type, source_value, field_details_list, field_path, position_context
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        return self._gather(results, awaitable_fields) if awaitable_fields else results

    def _plain(self, parent_type: GraphQLObjectType) -> Mapping[str, PlainLeaf]:
        """The plain leaves of ``parent_type``; none when a schema extension hooks every field."""
        manager = self.middleware_manager
        hooked = manager is not None and bool(manager._middleware_resolvers)
        return {} if hooked else plain_leaves(parent_type)

    async def _gather(self, results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
        if len(awaitable_fields) == 1:
            field = awaitable_fields[0]
            results[field] = await results[field]
            return results
        awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
        return results


def _complete_plain(leaf: PlainLeaf, source: Any, is_awaitable: Callable[[Any], bool]) -> Any:
    """The completed value, or ``Undefined`` when the field must take graphql-core's path."""
    try:
        value: Any = leaf.read(source, leaf.python_name)
        if value is None:
            return Undefined if leaf.non_null else None
        kind = type(value)
        if kind is leaf.same and (kind is not int or _MIN_INT <= value <= _MAX_INT):
            return value
        if kind is leaf.enum and leaf.names is not None:
            name = leaf.names.get(value.value)
            if name is not None:
                return name
        if kind not in _DATA and (isinstance(value, Exception) or is_awaitable(value)):
            return Undefined
        coerced = leaf.leaf.coerce_output_value(value)
    except Exception:  # the full path raises it again, located and handled
        return Undefined
    return Undefined if coerced is None else coerced
