"""Caches clients can fill are bounded in bytes, and documents the edge refuses are never kept.

Filled with distinct ~0.9 MB documents at the default bounds, and with ~50 kB documents against
small configured bounds (the default ``max_length`` refuses 0.9 MB documents before any cache).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from strawberry.schema import schema as strawberry_schema

from gateway.edge.config import CacheBounds, EdgeSettings, PersistedMode, QueryLimits
from gateway.edge.http_spec import Params
from gateway.edge.limits import TOKEN_COUNTS, QueryRefused, check_tokens, configure_caches
from gateway.edge.manifest import sha256
from gateway.edge.persisted import PersistedOperations
from schema.document_cache import DOCUMENTS
from tenants.types import Role
from tests import world

MB_09 = 900_000
SMALL = CacheBounds(max_bytes=400_000, max_entry_bytes=150_000)
GENEROUS = QueryLimits(max_length=10**7)
TOO_DEEP = "{ me { branch { members(first: 1) { edges { node { fullName } } } } } }"


def named(n: int, length: int) -> str:
    """A valid document of about ``length`` characters: a long operation name, four tokens."""
    return f"query Q{n}{'x' * length} {{ __typename }}"


def apq(query: str, *, send_query: bool = True) -> dict[str, object]:
    body: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    }
    if send_query:
        body["query"] = query
    return body


def apq_params(query: str) -> Params:
    return Params(query, extensions={"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}})


@pytest.fixture(autouse=True)
def empty_caches() -> Iterator[None]:
    """The token and document caches are per process: start empty, end with default bounds."""
    for cache in (TOKEN_COUNTS, DOCUMENTS.valid, DOCUMENTS.handoff):
        cache.clear()
    yield
    configure_caches(EdgeSettings())


@pytest.fixture
def member_token(token):
    return token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))


def test_token_counts_of_09_mb_documents_are_not_kept():
    # given: default bounds, limits that let 0.9 MB documents through to the count
    configure_caches(EdgeSettings())
    # when
    for n in range(20):
        check_tokens(named(n, MB_09), GENEROUS)
    # then: each entry is over token_cache.max_entry_bytes
    assert len(TOKEN_COUNTS) == 0
    assert TOKEN_COUNTS.total_bytes == 0


def test_token_counts_stay_within_the_configured_bytes():
    # given
    configure_caches(EdgeSettings(token_cache=SMALL))
    # when
    for n in range(30):
        check_tokens(named(n, 50_000), GENEROUS)
    # then
    assert 0 < TOKEN_COUNTS.total_bytes <= SMALL.max_bytes
    assert len(TOKEN_COUNTS) < 30


def test_a_document_refused_for_its_tokens_leaves_the_token_cache_unchanged():
    # given
    configure_caches(EdgeSettings(token_cache=SMALL))
    check_tokens("{ __typename }", QueryLimits())
    before = TOKEN_COUNTS.total_bytes, len(TOKEN_COUNTS)
    # when
    for n in range(10):
        with pytest.raises(QueryRefused):
            check_tokens("{ " + f"a{n}: __typename " * 2_000 + "}", QueryLimits())
    # then
    assert (TOKEN_COUNTS.total_bytes, len(TOKEN_COUNTS)) == before


async def test_parsed_documents_stay_within_the_configured_bytes(edge_client, member_token):
    # given
    client = edge_client(member_token, document_cache=SMALL)
    # when
    for n in range(12):
        response = await client.post("/graphql", json={"query": named(n, 50_000)})
        assert response.json() == {"data": {"__typename": "Query"}}
    # then: kept documents plus the hand-off area, each charged text and tokens
    assert 0 < DOCUMENTS.valid.total_bytes <= SMALL.max_bytes
    assert DOCUMENTS.total_bytes <= SMALL.max_bytes * 9  # hand-off: at most 8 entries
    assert len(DOCUMENTS.valid) < 12


async def test_a_cached_document_runs_again_without_validation(
    edge_client, member_token, monkeypatch
):
    # given
    client = edge_client(member_token)
    first = await client.post("/graphql", json={"query": "{ __typename }"})
    validated: list[object] = []
    monkeypatch.setattr(strawberry_schema, "validate_document", validated.append)
    # when
    again = await client.post("/graphql", json={"query": "{ __typename }"})
    # then
    assert first.json() == again.json() == {"data": {"__typename": "Query"}}
    assert validated == []


async def test_refused_documents_leave_the_document_cache_unchanged(edge_client, member_token):
    # given: one kept document; members held to depth 4
    client = edge_client(member_token, query_limits={Role.MEMBER.value: QueryLimits(max_depth=4)})
    await client.post("/graphql", json={"query": "{ __typename }"})
    kept = DOCUMENTS.valid.total_bytes, len(DOCUMENTS.valid)
    # when: refused by the edge, by validation, by the parser
    too_deep = await client.post("/graphql", json={"query": TOO_DEEP})
    invalid = await client.post("/graphql", json={"query": "{ noSuchField }"})
    broken = await client.post("/graphql", json={"query": "{ __typename"})
    # then
    codes = [r.json()["errors"][0]["extensions"]["code"] for r in (too_deep, invalid, broken)]
    assert codes == ["QUERY_TOO_DEEP", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]
    assert (DOCUMENTS.valid.total_bytes, len(DOCUMENTS.valid)) == kept


def test_apq_registrations_of_09_mb_documents_are_not_kept():
    # given: default bounds
    persisted = PersistedOperations(EdgeSettings(persisted=PersistedMode.APQ))
    # when
    for n in range(20):
        query = named(n, MB_09)
        params = apq_params(query)
        persisted.register(params, persisted.document(params) or "")
    # then: each registration is over apq_cache.max_entry_bytes
    assert len(persisted.cache) == 0
    assert persisted.cache.total_bytes == 0


def test_apq_registrations_stay_within_the_configured_bytes():
    # given
    persisted = PersistedOperations(EdgeSettings(apq_cache=SMALL))
    # when
    for n in range(30):
        query = named(n, 50_000)
        params = apq_params(query)
        persisted.register(params, persisted.document(params) or "")
    # then
    assert 0 < persisted.cache.total_bytes <= SMALL.max_bytes
    assert len(persisted.cache) < 30


async def test_a_refused_document_is_not_registered_for_apq(edge_client, member_token):
    # given: members held to depth 4
    client = edge_client(member_token, query_limits={Role.MEMBER.value: QueryLimits(max_depth=4)})
    # when
    refused = await client.post("/graphql", json=apq(TOO_DEEP))
    by_hash = await client.post("/graphql", json=apq(TOO_DEEP, send_query=False))
    # then
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
