"""The edge's cache of measured shapes answers exactly as measuring afresh does."""

from __future__ import annotations

import pytest
from graphql import get_operation_ast, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.edge import shapes
from gateway.edge.limits import QueryRefused, measure
from schema.root import schema

GRAPHQL_SCHEMA = schema._schema
MEMBERS = """query Members($first: Int!) {
  members(first: $first) { totalCount edges { node { fullName branch { name } } } }
}"""
CYCLE = (
    "query { me { ...A } } fragment A on Member { branch { ...B } } fragment B on Branch { ...A }"
)


def _both(
    query: str, variables: dict[str, object] | None, list_size: int = 20
) -> tuple[object, object]:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    cached = shapes.measured(GRAPHQL_SCHEMA, query, document, operation, variables, list_size)
    fresh = measure(GRAPHQL_SCHEMA, document, operation, variables, list_size)
    return cached, fresh


@settings(max_examples=60, deadline=None)
@given(first=st.integers(min_value=-5, max_value=500), list_size=st.integers(1, 100))
def test_a_cached_shape_is_the_measured_one_for_these_variables(first: int, list_size: int) -> None:
    for _ in range(2):  # the second answer comes from the cache
        cached, fresh = _both(MEMBERS, {"first": first}, list_size)
        assert cached == fresh


def test_variables_and_list_size_are_part_of_the_key() -> None:
    small, _ = _both(MEMBERS, {"first": 1})
    large, _ = _both(MEMBERS, {"first": 100})
    assumed, _ = _both(MEMBERS, {"first": 1}, list_size=50)
    assert small.cost < large.cost
    assert _both(MEMBERS, {"first": 1})[0] == small
    assert _both(MEMBERS, {"first": 1}, list_size=50)[0] == assumed


def test_large_variables_are_measured_but_not_kept() -> None:
    shapes.SHAPES.clear()
    big = {"first": 5, "search": "đ" * (shapes.MAX_VARIABLES_TEXT + 1)}
    cached, fresh = _both(MEMBERS, big)
    assert cached == fresh
    assert len(shapes.SHAPES) == 0


def test_a_document_refused_while_measuring_is_not_kept() -> None:
    shapes.SHAPES.clear()
    document = parse(CYCLE)
    operation = get_operation_ast(document)
    assert operation is not None
    for _ in range(2):
        with pytest.raises(QueryRefused):
            shapes.measured(GRAPHQL_SCHEMA, CYCLE, document, operation, None, 20)
    assert len(shapes.SHAPES) == 0
