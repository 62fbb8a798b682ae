"""Documents whose expansion is exponential: refused with a code, each in < 50 ms of CPU.

The bound is one of correctness, not a benchmark: the old walker flattened fragments per use and
took 5 s on an 866-byte document (×4 per two more levels); the edge must refuse before strawberry.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    get_operation_ast,
    parse,
    validate,
)

from gateway.edge.config import EdgeSettings, QueryLimits
from gateway.edge.limits import MAX_NESTING, QueryRefused, check_shape, check_tokens, measure
from schema.document_cache import parse_document
from schema.root import schema

T = TypeVar("T")
BUDGET_S = 0.05
BODY_LIMIT = EdgeSettings().max_body_bytes
REFUSALS = {
    "QUERY_TOO_LARGE",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_COMPLEX",
    "TOO_MANY_ALIASES",
    "TOO_MANY_ROOT_FIELDS",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
}
GENEROUS = QueryLimits(max_tokens=10**9, max_length=10**9)
BOMB_866 = (
    "{ ...F0 }\n"
    + "\n".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(21))
    + "\nfragment F21 on Query { __typename }"
)


def chain(
    levels: int, body: str, *, leaf: str = "__typename", on: str = "Query", root: str = "{ ...F0 }"
) -> str:
    """``levels`` fragments, each selecting ``body`` (which spreads the next: ``{n}``)."""
    parts = [root]
    for i in range(levels):
        parts.append(f"fragment F{i} on {on} {{ {body.format(n=i + 1, i=i)} }}")
    parts.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return "\n".join(parts)


def two_families(levels: int) -> str:
    """A and B at each level both spread A and B of the next: distinct names, no repeats."""
    parts = ["{ ...A0 ...B0 }"]
    for i in range(levels):
        parts += [f"fragment {x}{i} on Query {{ ...A{i + 1} ...B{i + 1} }}" for x in "AB"]
    parts += [f"fragment {x}{levels} on Query {{ __typename }}" for x in "AB"]
    return "\n".join(parts)


def inline_nesting(levels: int) -> str:
    return "{ " + "... on Query { " * levels + "__typename" + " }" * levels + " }"


INLINE_TWICE = "... on Query {{ ...F{n} }} ... on Query {{ ...F{n} }}"
MEMBER_LOOP = "branch {{ members(first: 2) {{ edges {{ node {{ ...F{n} ...F{n} }} }} }} }}"
ALIASED_TWICE = "a{i}: __typename ...F{n} ...F{n}"


def member_loop(levels: int) -> str:
    return chain(levels, MEMBER_LOOP, leaf="id", on="Member", root="{ me { ...F0 } }")


def introspection_aliases(levels: int) -> str:
    return chain(levels, ALIASED_TWICE, on="__Schema", root="{ __schema { ...F0 } }")


VARIANTS: dict[str, tuple[int, Callable[[int], str]]] = {
    "spread twice": (16, lambda n: chain(n, "...F{n} ...F{n}")),
    "aliases": (16, lambda n: chain(n, ALIASED_TWICE)),
    "fields repeated": (16, lambda n: chain(n, "__typename __typename ...F{n} ...F{n}")),
    "inline fragments": (16, lambda n: chain(n, INLINE_TWICE)),
    "wide": (8, lambda n: chain(n, " ".join(["...F{n}"] * 16))),
    "two families": (16, two_families),
    "nested fields": (4, member_loop),
    "introspection aliases": (16, introspection_aliases),
    "fragment chain": (MAX_NESTING + 1, lambda n: chain(n, "__typename ...F{n}")),
    "inline nesting": (MAX_NESTING + 1, inline_nesting),
}


def bombs(start: int, make: Callable[[int], str]) -> Iterator[str]:
    """Ever more levels, doubling, up to the body limit."""
    levels = start
    while len(query := make(levels)) <= BODY_LIMIT:
        yield query
        levels *= 2


def timed(check: Callable[..., T], *args: Any) -> tuple[T, float]:
    """``check(*args)`` and the CPU seconds it took (earlier documents' garbage collected first)."""
    gc.collect()
    started = time.process_time()
    result = check(*args)
    return result, time.process_time() - started


def edge_check(query: str, limits: QueryLimits) -> str | None:
    """What the edge answers before strawberry runs (as ``GraphQLView._check``): a code or None."""
    return timed_edge_check(query, limits)[0]


def timed_edge_check(query: str, limits: QueryLimits) -> tuple[str | None, float]:
    """:func:`edge_check` and the CPU seconds of the edge's own checks (parsing is the parser's:
    linear, and bounded by ``max_tokens`` before it starts)."""
    gc.collect()
    spent = 0.0
    started = time.process_time()
    try:
        check_tokens(query, limits)
        spent = time.process_time() - started
        try:
            document = parse_document(query)
        except GraphQLError:
            return "GRAPHQL_PARSE_FAILED", spent  # strawberry answers the syntax error
        operation = get_operation_ast(document)
        assert operation is not None
        started = time.process_time()
        check_shape(measure(schema._schema, document, operation, None, 20), limits)
    except QueryRefused as refused:
        return refused.code, spent + time.process_time() - started
    return None, spent + time.process_time() - started


def edge_shape(document: DocumentNode, operation: OperationDefinitionNode) -> None:
    with contextlib.suppress(QueryRefused):
        check_shape(measure(schema._schema, document, operation, None, 20), GENEROUS)


@pytest.mark.parametrize("variant", VARIANTS)
def test_bombs_up_to_the_body_limit_are_refused_with_a_code_quickly(variant):
    # given
    start, make = VARIANTS[variant]
    for query in bombs(start, make):
        # when
        code, spent = timed_edge_check(query, QueryLimits())
        # then
        assert code in REFUSALS, (variant, len(query), code)
        assert spent < BUDGET_S, (variant, len(query), spent)


@pytest.mark.parametrize("variant", VARIANTS)
def test_measuring_is_linear_however_fragments_multiply(variant):
    # given: limits generous enough that only the shape refuses; documents up to 50 kB
    start, make = VARIANTS[variant]
    for query in bombs(start, make):
        if len(query) > 50_000:
            break
        try:
            document = parse(query)
        except GraphQLError:
            continue  # nested past the parser's own limit
        operation = get_operation_ast(document)
        assert operation is not None
        # when
        _, spent = timed(edge_shape, document, operation)
        # then
        with pytest.raises(QueryRefused) as refused:
            check_shape(measure(schema._schema, document, operation, None, 20), GENEROUS)
        assert refused.value.code in REFUSALS
        assert spent < BUDGET_S, (variant, len(query), spent)


def test_the_866_byte_bomb_is_refused_for_its_root_fields():
    # given: 21 fragments each spreading the next twice: 2,097,152 fields
    assert len(BOMB_866) < 900
    # when
    code = edge_check(BOMB_866, QueryLimits())
    # then
    assert code == "TOO_MANY_ROOT_FIELDS"


@pytest.mark.parametrize("variant", VARIANTS)
def test_graphql_core_validation_is_not_exponential_on_bombs(variant):
    # given: bombs within the default token limit (what reaches strawberry if the edge let it)
    start, make = VARIANTS[variant]
    for query in bombs(start, make):
        if len(query) > 20_000:
            break
        try:
            document = parse(query)
        except GraphQLError:
            continue
        # when
        _, spent = timed(validate, schema._schema, document)
        # then: polynomial (graphql-core memoises fragment pairs); 2**levels would be hours
        assert spent < 1.0, (variant, len(query), spent)


def test_a_fragment_cycle_is_refused_without_walking_it():
    # given
    cyclic = "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { ...A __typename }"
    # when
    code = edge_check(cyclic, QueryLimits())
    # then
    assert code == "GRAPHQL_VALIDATION_FAILED"


def test_a_huge_size_literal_saturates_instead_of_failing():
    # given: int() refuses more than 4,300 digits
    query = "{ members(first: " + "9" * 5_000 + ") { totalCount } }"
    # when
    code = edge_check(query, QueryLimits())
    # then
    assert code == "QUERY_TOO_COMPLEX"


async def test_the_866_byte_bomb_is_refused_over_http(edge_client):
    # given: anonymous, default limits
    client = edge_client()
    # when
    response = await client.post("/graphql", json={"query": BOMB_866})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "The operation selects 2097152 root fields; the limit is 20.",
                "extensions": {"code": "TOO_MANY_ROOT_FIELDS"},
            }
        ]
    }
