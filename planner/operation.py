"""A trusted document read into what the planner covers, or refused as :class:`Unplanned`.

Covered: one query operation of root fields from :data:`planner.mapping.ROOTS`, with only the
arguments each plans, selecting fields of :data:`planner.mapping.OBJECTS` (aliases and
``__typename`` too). Not covered, so left to the schema: mutations and subscriptions,
fragments, directives, and any other field or argument.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

from planner.mapping import ARGUMENTS, OBJECTS, ROOTS, ToOne

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
    return Selected(key, name, _object(root.type_name, node.selection_set), node)


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
        if isinstance(field, ToOne):
            selected.append(Selected(key, name, _object(field.type_name, node.selection_set)))
        elif node.selection_set is not None:
            raise Unplanned(f"a selection on the leaf {type_name}.{name}")
        else:
            selected.append(Selected(key, name))
    return tuple(selected)
