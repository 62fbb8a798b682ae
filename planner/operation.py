"""A trusted document read into what the planner covers, or refused as :class:`Unplanned`.

Covered: one query operation of root fields from :data:`planner.mapping.ROOTS`, with only the
arguments each plans, selecting fields of :data:`planner.mapping.OBJECTS` (aliases and
``__typename`` too) or, for a root answering one of :data:`planner.mapping.CONNECTIONS`, its
Relay fields over such objects. Not covered, so left to the schema: mutations and subscriptions,
fragments, directives, and any other field or argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from planner.mapping import ARGUMENTS, CONNECTIONS, OBJECTS, ROOTS, ToMany, ToOne

TYPENAME = "__typename"


class Unplanned(Exception):
    """What makes an operation run on the schema instead."""


@dataclass(frozen=True, slots=True)
class Selected:
    """One selected field: its response key, its name and, for an object, its fields."""

    key: str
    name: str
    fields: tuple[Selected, ...] = ()
    node: FieldNode | None = None  # kept for root fields: their arguments


def read_operation(document: DocumentNode) -> tuple[OperationDefinitionNode, tuple[Selected, ...]]:
    """The document's single query and its root fields; raises :class:`Unplanned`."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or len(document.definitions) != 1:
        raise Unplanned("one operation and no fragments")
    operation = operations[0]
    if operation.operation is not OperationType.QUERY:
        raise Unplanned(f"a {operation.operation.value}")
    if operation.directives:
        raise Unplanned("directives on the operation")
    return operation, tuple(_root(node) for node in _fields(operation.selection_set))


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    if selection_set is None:
        raise Unplanned("an object without a selection")
    fields = []
    for node in selection_set.selections:
        if not isinstance(node, FieldNode):
            raise Unplanned("a fragment")
        if node.directives:
            raise Unplanned(f"a directive on {node.name.value!r}")
        fields.append(node)
    return fields


def _root(node: FieldNode) -> Selected:
    name = node.name.value
    root = ROOTS.get(name)
    if root is None:
        raise Unplanned(f"the root field {name!r}")
    extra = {argument.name.value for argument in node.arguments or ()} - ARGUMENTS[name]
    if extra:
        raise Unplanned(f"the arguments {sorted(extra)} of {name!r}")
    key = node.alias.value if node.alias else name
    if root.type_name in CONNECTIONS:
        return Selected(key, name, _connection(root.type_name, node.selection_set), node)
    return Selected(key, name, _object(root.type_name, node.selection_set), node)


# The Relay fields of a connection, its edges and its page info: leaves, or what they hold.
PAGE_FIELDS: dict[str, str | None] = {"totalCount": None, "edges": "edge", "pageInfo": "pageInfo"}
EDGE_FIELDS: dict[str, str | None] = {"cursor": None, "node": "node"}
PAGE_INFO_FIELDS: dict[str, str | None] = {"hasNextPage": None, "endCursor": None}


def _connection(type_name: str, selection_set: SelectionSetNode | None) -> tuple[Selected, ...]:
    node_type, edge_type = CONNECTIONS[type_name].node, CONNECTIONS[type_name].edge
    selected = []
    for node, name, key, inner in _relay(type_name, PAGE_FIELDS, selection_set):
        if inner == "edge":
            edge = [
                Selected(k, n, _object(node_type, e.selection_set) if kind else ())
                for e, n, k, kind in _relay(edge_type, EDGE_FIELDS, node.selection_set)
            ]
            selected.append(Selected(key, name, tuple(edge)))
        elif inner == "pageInfo":
            info = _relay("PageInfo", PAGE_INFO_FIELDS, node.selection_set)
            selected.append(Selected(key, name, tuple(Selected(k, n) for _, n, k, _ in info)))
        else:
            selected.append(Selected(key, name))
    return tuple(selected)


def _relay(
    type_name: str, known: Mapping[str, str | None], selection_set: SelectionSetNode | None
) -> list[tuple[FieldNode, str, str, str | None]]:
    """Each selected field of a Relay type: node, name, response key and what it holds."""
    found = []
    for node in _fields(selection_set):
        name = node.name.value
        if node.arguments or (name != TYPENAME and name not in known):
            raise Unplanned(f"the field {type_name}.{name}")
        kind = known.get(name)
        if kind is None and node.selection_set is not None:
            raise Unplanned(f"a selection on the leaf {type_name}.{name}")
        found.append((node, name, node.alias.value if node.alias else name, kind))
    return found


def _object(type_name: str, selection_set: SelectionSetNode | None) -> tuple[Selected, ...]:
    mapped = OBJECTS[type_name].fields
    selected = []
    for node in _fields(selection_set):
        name = node.name.value
        key = node.alias.value if node.alias else name
        if node.arguments:
            raise Unplanned(f"arguments of {type_name}.{name}")
        field = mapped.get(name)
        if name != TYPENAME and field is None:
            raise Unplanned(f"the field {type_name}.{name}")
        if isinstance(field, ToOne | ToMany):
            selected.append(Selected(key, name, _object(field.type_name, node.selection_set)))
        elif node.selection_set is not None:
            raise Unplanned(f"a selection on the leaf {type_name}.{name}")
        else:
            selected.append(Selected(key, name))
    return tuple(selected)
