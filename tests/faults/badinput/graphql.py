"""GraphQL operations built from the schema, each variable then sent wrong in every way.

Every root query and mutation gets one operation declaring a variable per argument. Each variable
is replaced in turn by values of the wrong type, null, huge numbers, unstorable text, bad global
IDs and cursors; each string inside an input object gets U+0000 and a lone surrogate. A field or
argument added to the schema is covered without a change here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    get_named_type,
)

from tests.security.operations import root_fields, selection

BASE: dict[str, Any] = {
    "Int": 5,
    "Float": 0.5,
    "Boolean": True,
    "String": "probe",
    "ID": "cHJvYmU",
    "Date": "2026-11-01",
    "DateTime": "2026-12-01T00:00:00+00:00",
    "JSON": {"a": 1},
    "_Any": {"__typename": "Tenant", "slug": "yen-mo"},
}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# (kind, value) sent in place of one variable
WRONG: list[tuple[str, Any]] = [
    ("var-null", None),
    ("var-boolean", True),
    ("var-integer", 1),
    ("var-int-overflow", 2**31),
    ("var-int64-overflow", 2**63),
    ("var-huge-float", 1e308),
    ("var-negative", -1),
    ("var-empty-string", ""),
    ("var-string", "x"),
    ("var-long-string", "9" * 5_000),
    ("var-nul-string", "a\u0000b"),
    ("var-surrogate-string", "a\ud800b"),
    ("var-empty-list", []),
    ("var-list", [1, "x", None]),
    ("var-object", {"a": {"b": [1]}}),
    ("var-nul-object-key", {"\u0000": 1}),
    ("bad-global-id-type", _b64("Branch:00000000-0000-0000-0000-000000000001")),
    ("bad-global-id-uuid", _b64("Member:not-a-uuid")),
    ("bad-global-id-base64", "!!!not base64!!!"),
    ("bad-cursor", _b64("cursor:\u0000:" + "f" * 40)),
    ("bad-cursor-json", _b64('{"after": [1, 2, 3]}')),
    ("var-real-tenant", "yen-mo"),
    ("var-real-flag", "handbook"),
    ("var-unknown-slug", "no-such-tenant"),
]
# Arguments named so get a real value in the base operation: mutations then go further.
NAMED: dict[str, Any] = {"flag": "handbook", "tenant": "yen-mo", "slug": "yen-mo", "variant": "on"}


@dataclass(frozen=True)
class Operation:
    kind: str  # query, mutation
    field: str
    text: str
    variables: dict[str, Any]


def operations() -> list[Operation]:
    """One operation per root field with arguments (and those without), variables declared."""
    found: list[Operation] = []
    for kind in ("query", "mutation"):
        for name, definition in root_fields(kind).items():
            found.append(_operation(kind, name, definition))
    return found


def _operation(kind: str, name: str, definition: GraphQLField) -> Operation:
    declared = ", ".join(f"${n}: {a.type}" for n, a in definition.args.items())
    passed = ", ".join(f"{n}: ${n}" for n in definition.args)
    header = f"{kind} Probe({declared})" if declared else f"{kind} Probe"
    call = f"{name}({passed})" if passed else name
    text = f"{header} {{ {call} {selection(definition.type)} }}"
    # Optional arguments start null, so one wrong variable is the only thing wrong.
    variables = {
        n: NAMED.get(n, base_value(a.type) if isinstance(a.type, GraphQLNonNull) else None)
        for n, a in definition.args.items()
    }
    return Operation(kind, name, text, variables)


def base_value(type_: Any) -> Any:
    """A plausible value of a type: enough to pass coercion."""
    if isinstance(type_, GraphQLNonNull):
        return base_value(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [base_value(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {n: base_value(f.type) for n, f in type_.fields.items()}
    return BASE.get(get_named_type(type_).name, "probe")


def variants(operation: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, variables): each variable wrong in each way, each nested string unstorable."""
    yield "graphql-base", operation.variables
    yield "graphql-no-variables", {}
    yield "graphql-unknown-variable", {**operation.variables, "noSuchVariable": 1}
    for name, value in operation.variables.items():
        for kind, wrong in WRONG:
            yield kind, {**operation.variables, name: wrong}
        for path, replaced in _nested_strings(value):
            for kind, text in (("nested-nul", "x\u0000"), ("nested-surrogate", "\udfffx")):
                yield f"{kind}-{path}"[:40], {**operation.variables, name: replaced(text)}


def _nested_strings(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, function putting a text there) for every string inside an object or list."""
    if isinstance(value, dict):
        for key, item in value.items():
            for inner, put in _nested_strings(item, f"{path}.{key}"):
                yield inner, (lambda text, k=key, p=put: {**value, k: p(text)})
    elif isinstance(value, list) and value:
        for inner, put in _nested_strings(value[0], f"{path}[0]"):
            yield inner, (lambda text, p=put: [p(text), *value[1:]])
    elif isinstance(value, str) and path:
        yield path, (lambda text: text)


# Documents that are themselves wrong: (kind, query)
DOCUMENTS: list[tuple[str, str]] = [
    ("unknown-field", "{ noSuchField }"),
    ("unknown-argument", "{ members(noSuchArgument: 1) { totalCount } }"),
    ("literal-nul", '{ documents(search: "a\\u0000b") { __typename } }'),
    ("literal-nul-braced", '{ documents(search: "a\\u{0}b") { __typename } }'),
    ("literal-surrogate", '{ documents(search: "a\\ud800b") { __typename } }'),
    ("literal-bad-cursor", '{ members(first: 2, after: "a\\u0000") { totalCount } }'),
    ("literal-bad-id", '{ branch(id: "\\u0000") { __typename } }'),
    ("literal-huge-int", "{ members(first: 99999999999999999999) { totalCount } }"),
    ("literal-negative-first", "{ members(first: -5) { totalCount } }"),
    ("syntax-error", "{ members(first: "),
    ("deep-selection", "{ me " + "{ branch " * 60 + "}" * 61),
    ("many-aliases", "{ " + " ".join(f"a{i}: __typename" for i in range(2_000)) + " }"),
    ("fragment-cycle", "{ ...A } fragment A on Query { ...A }"),
    ("subscription-over-http", "subscription { __typename }"),
    ("two-operations", "query A { __typename } query B { __typename }"),
    ("directive-garbage", '{ __typename @skip(if: "x") @nosuch }'),
    ("introspection", "{ __schema { types { name } } }"),
    *(
        (kind, f"{{ _entities(representations: [{representations}]) {{ __typename }} }}")
        for kind, representations in (
            ("entities-not-entity", '{__typename: "Query"}'),
            ("entities-unknown-type", '{__typename: "Nope", id: "x"}'),
            ("entities-missing-key", '{__typename: "Member"}'),
            ("entities-extra-key", '{__typename: "Tenant", slug: "yen-mo", x: 1}'),
            ("entities-null-id", '{__typename: "Member", id: null}'),
            ("entities-integer-id", '{__typename: "Branch", id: 5}'),
            ("entities-scalar", '"Member", 1, null'),
            ("entities-no-typename", '{id: "x"}'),
        )
    ),
]
