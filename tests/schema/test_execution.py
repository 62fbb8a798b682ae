"""Plain leaf fields completed directly (:mod:`schema.execution`) answer as graphql-core does.

Every query document of the clients' manifest (the handbook app's and the console's, read from
the manifest, so a new one is covered without editing this test) is sent by every caller of the
planner's world (five roles, three tenants of two provinces, a province admin outside its
province, anonymous) to one gateway twice: once executed by :class:`PlainLeafExecution`, once by
strawberry's own execution context. Status and body must be equal, errors included. Which fields
are plain is derived from the schema and checked against strawberry's own resolvers, and a
planted fault (an enum left uncoerced) must be caught by the same comparison.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    NonNullTypeNode,
    Undefined,
    parse,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import schema.execution
from gateway.app import create_app
from schema.execution import PlainLeaf, PlainLeafExecution, plain_leaves
from schema.root import schema as served_schema
from tenants.handbook.models import MeetingStatus, MemberStatus
from tests import world
from tests.conftest import make_settings
from tests.planner.conftest import MANIFEST, Paths
from tests.planner.world import CALLERS, Caller, load_more

# A value for each variable name the manifest's queries declare without a default.
VALUES: dict[str, Any] = {
    "tenants": [world.YEN_MO, world.KIM_SON, world.DUY_TIEN],
    "from": "2026-01-01",
    "to": "2026-12-31",
    "flag": "handbook",
    "first": 5,
    "when": "UPCOMING",
    "months": 12,
    "unacknowledgedOnly": False,
    "slugs": ["yen-mo", "kim-son", "duy-tien"],
}


def _queries() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each query document of the manifest by name, with its required variables."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for text in MANIFEST.values():
        operation = parse(text).definitions[0]
        if getattr(operation, "operation", None) is None or operation.operation.value != "query":
            continue
        required = [
            v.variable.name.value
            for v in operation.variable_definitions or []
            if isinstance(v.type, NonNullTypeNode) and v.default_value is None
        ]
        missing = [name for name in required if name not in VALUES]
        assert not missing, f"give {operation.name.value}'s {missing} a value in VALUES"
        found[operation.name.value] = (text, {name: VALUES[name] for name in required})
    return found


QUERIES = _queries()


@contextmanager
def executed_by(context_class: type[Any]) -> Iterator[None]:
    before = served_schema.execution_context_class
    served_schema.execution_context_class = context_class
    try:
        yield
    finally:
        served_schema.execution_context_class = before


@pytest.fixture
async def paths(gateway, database) -> Paths:
    await load_more(gateway.sessionmaker)
    app = create_app(make_settings(database, planned_operations=False), state=gateway)
    gateway.clock = lambda: world.NOW
    return Paths(app, app)


async def _post(paths: Paths, caller: Caller, token: Any, body: dict[str, Any]) -> Any:
    async with paths.client(paths.generic, caller, token) as client:
        response = await client.post("/graphql", json=body)
    return response.status_code, response.json()


async def _both(paths: Paths, caller: Caller, token: Any, body: dict[str, Any]) -> tuple[Any, Any]:
    with executed_by(PlainLeafExecution):
        plain = await _post(paths, caller, token, body)
    with executed_by(StrawberryGraphQLCoreExecutionContext):
        stock = await _post(paths, caller, token, body)
    return plain, stock


def test_the_served_schema_completes_plain_leaves_directly():
    assert served_schema.execution_context_class is PlainLeafExecution


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_every_caller_gets_the_same_answer_as_from_graphql_core(paths, token, name):
    text, variables = QUERIES[name]
    for caller in CALLERS:
        # when
        plain, stock = await _both(paths, caller, token, {"query": text, "variables": variables})
        # then: data and errors alike, in order
        assert plain == stock, (name, caller.name)


async def test_the_comparison_is_not_vacuous(paths, token, monkeypatch):
    # given: plain completions counted
    complete = schema.execution._complete_plain
    taken: list[object] = []

    def counted(*args: Any) -> Any:
        taken.append(args[0])
        return complete(*args)

    monkeypatch.setattr(schema.execution, "_complete_plain", counted)
    with_data = set()
    for name in sorted(QUERIES):
        text, variables = QUERIES[name]
        for caller in CALLERS:
            with executed_by(PlainLeafExecution):
                status, body = await _post(
                    paths, caller, token, {"query": text, "variables": variables}
                )
            if status == 200 and any((body.get("data") or {}).values()):
                with_data.add(name)
    # then: the handbook's reads came back with data, most of their fields taken directly
    assert {"Home", "Members", "Meetings", "Notices", "Documents", "DraftResolutions"} <= with_data
    assert len(taken) > 1000


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=st.integers(min_value=-3, max_value=60), when=st.sampled_from(["UPCOMING", "PAST", "ALL"])
)
async def test_drawn_pages_answer_the_same(paths, token, first, when):
    body = {"query": QUERIES["Meetings"][0], "variables": {"first": first, "when": when}}
    for caller in (CALLERS[0], CALLERS[-2]):
        plain, stock = await _both(paths, caller, token, body)
        assert plain == stock, (caller.name, first, when)


def test_plain_leaves_are_exactly_strawberrys_default_resolved_scalar_fields():
    for graphql_type in served_schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        plain = plain_leaves(graphql_type)
        for name, field in graphql_type.fields.items():
            inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            expected = (
                getattr(field.resolve, "_is_default", False)
                and not field.args
                and isinstance(inner, GraphQLScalarType | GraphQLEnumType)
            )
            assert (name in plain) == expected, (graphql_type.name, name)
    # the fields a member list is made of are among them
    member = served_schema._schema.type_map["Member"]
    assert isinstance(member, GraphQLObjectType)
    assert {"fullName", "status", "birthYear"} <= set(plain_leaves(member))


async def test_a_planted_fault_is_caught(paths, token, monkeypatch):
    # given: enums handed out as their Python value, not coerced to their GraphQL name
    complete = schema.execution._complete_plain

    def uncoerced(leaf: Any, source: Any, is_awaitable: Any) -> Any:
        if isinstance(leaf.leaf, GraphQLEnumType):
            value = leaf.read(source, leaf.python_name)
            return getattr(value, "value", value)
        return complete(leaf, source, is_awaitable)

    monkeypatch.setattr(schema.execution, "_complete_plain", uncoerced)
    text, variables = QUERIES["Members"]
    # when
    admin = next(caller for caller in CALLERS if caller.name == "ym-admin")
    plain, stock = await _both(paths, admin, token, {"query": text, "variables": variables})
    # then: the same rows, but the statuses differ ("active" against "ACTIVE")
    assert stock[0] == plain[0] == 200
    assert plain != stock
    statuses = [edge["node"]["status"] for edge in stock[1]["data"]["members"]["edges"]]
    assert statuses
    assert all(status.isupper() for status in statuses)


def _leaves() -> list[PlainLeaf]:
    """One plain leaf of each leaf type the schema's plain fields have."""
    found: dict[str, PlainLeaf] = {}
    for graphql_type in served_schema._schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and not graphql_type.name.startswith("__"):
            for leaf in plain_leaves(graphql_type).values():
                found.setdefault(leaf.leaf.name, leaf)
    return list(found.values())


class _Source:
    def __init__(self, value: object) -> None:
        self.value = value


VALUES_DRAWN = st.one_of(
    st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, True, False, 0, "", "ACTIVE"]),
    st.text(),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.dates(),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.sampled_from([*MemberStatus, *MeetingStatus]),
    st.none(),
)


LEAVES = _leaves()


@pytest.mark.parametrize("leaf", LEAVES, ids=[leaf.leaf.name for leaf in LEAVES])
@settings(max_examples=120, deadline=None)
@given(value=VALUES_DRAWN, non_null=st.booleans())
def test_a_plain_value_is_coerced_as_graphql_core_coerces_it(leaf, value, non_null):
    # given: the leaf read from an attribute holding the drawn value
    plain = dataclasses.replace(leaf, python_name="value", read=getattr, non_null=non_null)
    # when
    completed = schema.execution._complete_plain(plain, _Source(value), lambda _: False)
    # then: the same value graphql-core completes, or graphql-core's own path (Undefined)
    if completed is Undefined:
        return
    if value is None:
        assert completed is None
        assert not non_null
        return
    expected = StrawberryGraphQLCoreExecutionContext.complete_leaf_value(leaf.leaf, value)
    assert completed == expected
    assert type(completed) is type(expected)


def test_a_schema_extension_that_hooks_every_field_still_sees_plain_ones():
    # given: an extension with a per-field resolve hook (graphql-core middleware)
    seen: list[str] = []

    class Hook(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            seen.append(info.field_name)
            return _next(root, info, *args, **kwargs)

    @strawberry.type
    class Query:
        name: str = "Yên Mô"

    hooked = strawberry.Schema(
        query=Query, extensions=[Hook], execution_context_class=PlainLeafExecution
    )
    # when
    result = hooked.execute_sync("{ name }", root_value=Query())
    # then: the hook ran for the plain field, which took graphql-core's path
    assert result.data == {"name": "Yên Mô"}
    assert seen == ["name"]
