"""The manifest's operations, planned once at start-up, and the statement a request runs.

A :class:`Plan` holds one operation's root fields; its statements are compiled per variant (the
caller's reach, and the values of arguments that choose the rows' shape, as ``when``) on first
use and kept, a handful per operation. Arguments are coerced and checked in Python exactly as
the schema would; anything the schema would refuse leaves the request to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    get_argument_values,
    get_variable_values,
    parse,
    validate,
)

from planner.compiler import Statement, compile_statement
from planner.decide import Caller
from planner.mapping import ROOTS
from planner.operation import Selected, Unplanned, read_operation
from schema.bounded import variables_key
from schema.text_arguments import bad_literal, bad_variable

Arguments = dict[str, dict[str, Any]]  # per root field's response key
# Checked arguments kept per plan, by their variables' canonical JSON of at most this many
# characters: a client varying large inputs cannot fill the memory with them.
MAX_KEPT_ARGUMENTS = 256
MAX_VARIABLES_TEXT = 512


@dataclass
class Plan:
    """One trusted operation the planner answers."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    roots: tuple[Selected, ...]
    statements: dict[tuple[Any, ...], Statement] = field(default_factory=dict)
    checked: dict[str, Arguments | None] = field(default_factory=dict)  # by variables' JSON

    @property
    def name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None

    def arguments(self, variables: Mapping[str, Any] | None) -> Arguments | None:
        """Each root field's checked arguments, or None where the schema would answer an error.

        Kept per variables' canonical JSON (small ones only, a bounded number): a client sends
        the same few sets again and again (``{}``, a first page)."""
        key = variables_key(variables, MAX_VARIABLES_TEXT)
        if key is None:
            return self._arguments(variables)
        if key in self.checked:
            return self.checked[key]
        checked = self._arguments(variables)
        if len(self.checked) >= MAX_KEPT_ARGUMENTS:
            self.checked.pop(next(iter(self.checked)))
        self.checked[key] = checked
        return checked

    def _arguments(self, variables: Mapping[str, Any] | None) -> Arguments | None:
        if bad_variable(dict(variables) if variables else None) is not None:
            return None
        definitions = self.operation.variable_definitions or ()
        coerced = get_variable_values(self.schema, definitions, dict(variables or {}))
        if isinstance(coerced, list):
            return None
        fields = self.schema.query_type.fields if self.schema.query_type else {}
        checked: Arguments = {}
        for root in self.roots:
            assert root.node is not None
            try:
                values = get_argument_values(fields[root.name], root.node, coerced)
                checked[root.key] = ROOTS[root.name].check(values)
            except (GraphQLError, ValueError):
                return None
        return checked

    def statement(self, caller: Caller, arguments: Arguments) -> tuple[Statement, list[Any]]:
        """The statement of this caller's variant and its parameters."""
        static = {r.key: {n: arguments[r.key][n] for n in ROOTS[r.name].static} for r in self.roots}
        variant = (caller.whole_tenant, *(tuple(v.items()) for v in static.values()))
        statement = self.statements.get(variant)
        if statement is None:
            statement = compile_statement(self.roots, static, caller.whole_tenant)
            self.statements[variant] = statement
        parameters = [arguments[key][name] for key, name in statement.slots]
        return statement, parameters


def plan(schema: GraphQLSchema, text: str) -> Plan:
    """The plan of one trusted document; raises :class:`Unplanned` with the reason."""
    document = parse(text)
    if validate(schema, document) or bad_literal(text, document) is not None:
        raise Unplanned("the document does not validate")
    operation, roots = read_operation(document)
    return Plan(schema, operation, roots)


@dataclass(frozen=True)
class Planner:
    """The manifest's plans by document text, and why each other document is not planned."""

    plans: Mapping[str, Plan]
    unplanned: Mapping[str, str]  # document text → reason

    @classmethod
    def for_documents(cls, schema: GraphQLSchema, documents: Mapping[str, str]) -> Planner:
        """Plan every document (the manifest's, by hash); the rest are noted with a reason."""
        plans: dict[str, Plan] = {}
        unplanned: dict[str, str] = {}
        for text in documents.values():
            try:
                plans[text] = plan(schema, text)
            except (Unplanned, GraphQLError) as exc:
                unplanned[text] = str(exc)
        return cls(plans, unplanned)
