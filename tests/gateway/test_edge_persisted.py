"""Persisted operations: Apollo APQ (bounded) and the trusted-documents mode."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from gateway.edge.config import EdgeSettings, PersistedMode
from gateway.edge.manifest import CLIENTS_MANIFEST, build_manifest, load_manifest, sha256
from tenants.types import Role
from tests import world

TYPENAME = "{ __typename }"
NOTICES = "query Notices { notices { title } }"
OTHER = "{ t: __typename }"


def persisted(query: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


def error_of(response) -> dict[str, object]:
    return response.json()["errors"][0]


@pytest.fixture
def member_token(token):
    return token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))


async def test_apq_registers_on_retry_then_runs_by_hash(edge_client, member_token):
    # given
    client = edge_client(member_token)
    by_hash = {"extensions": persisted(TYPENAME)}
    # when
    unknown = await client.post("/graphql", json=by_hash)
    registered = await client.post("/graphql", json={"query": TYPENAME, **by_hash})
    known = await client.post("/graphql", json=by_hash)
    over_get = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(TYPENAME))},
        headers={"GraphQL-Require-Preflight": "1"},
    )
    # then
    assert unknown.status_code == 200
    assert error_of(unknown) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }
    assert registered.json() == {"data": {"__typename": "Query"}}
    assert known.json() == {"data": {"__typename": "Query"}}
    assert over_get.json() == {"data": {"__typename": "Query"}}


async def test_apq_refuses_a_hash_that_does_not_match(edge_client, member_token):
    # given
    client = edge_client(member_token)
    # when
    response = await client.post(
        "/graphql", json={"query": OTHER, "extensions": persisted(TYPENAME)}
    )
    # then
    assert error_of(response) == {
        "message": "The sha256Hash does not match the query.",
        "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
    }


async def test_apq_cache_is_bounded(edge_client, member_token):
    # given: room for one document
    client = edge_client(member_token, apq_cache_size=1)
    await client.post("/graphql", json={"query": TYPENAME, "extensions": persisted(TYPENAME)})
    await client.post("/graphql", json={"query": OTHER, "extensions": persisted(OTHER)})
    # when
    evicted = await client.post("/graphql", json={"extensions": persisted(TYPENAME)})
    kept = await client.post("/graphql", json={"extensions": persisted(OTHER)})
    # then
    assert error_of(evicted)["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert kept.json() == {"data": {"t": "Query"}}


async def test_apq_off_refuses_hashes(edge_client, member_token):
    # given
    client = edge_client(member_token, persisted=PersistedMode.OFF)
    # when
    response = await client.post("/graphql", json={"extensions": persisted(TYPENAME)})
    # then
    assert error_of(response) == {
        "message": "Persisted queries are not supported here.",
        "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
    }


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(build_manifest({"Notices": NOTICES})), encoding="utf-8")
    return str(path)


async def test_trusted_documents_run_by_hash_or_identical_text(edge_client, member_token, manifest):
    # given
    client = edge_client(member_token, persisted=PersistedMode.TRUSTED, trusted_manifest=manifest)
    # when
    by_hash = await client.post("/graphql", json={"extensions": persisted(NOTICES)})
    by_text = await client.post("/graphql", json={"query": NOTICES})
    # then
    assert by_hash.status_code == 200
    titles = [n["title"] for n in by_hash.json()["data"]["notices"]]
    assert titles
    assert by_text.json() == by_hash.json()


async def test_trusted_documents_refuse_anything_else(edge_client, member_token, manifest):
    # given
    client = edge_client(member_token, persisted=PersistedMode.TRUSTED, trusted_manifest=manifest)
    # when
    other = await client.post(
        "/graphql",
        json={"query": TYPENAME},
        headers={"Accept": "application/graphql-response+json"},
    )
    registering = await client.post(
        "/graphql", json={"query": TYPENAME, "extensions": persisted(TYPENAME)}
    )
    # then
    assert other.status_code == 400
    assert other.json() == {
        "errors": [
            {
                "message": "Only operations from the trusted-documents manifest may run.",
                "extensions": {"code": "OPERATION_NOT_ALLOWED"},
            }
        ]
    }
    assert error_of(registering) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }


def test_a_tampered_manifest_fails_at_start_up(tmp_path):
    # given
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({sha256(TYPENAME): OTHER}), encoding="utf-8")
    # when / then
    with pytest.raises(ValidationError, match="does not match its document"):
        EdgeSettings(persisted=PersistedMode.TRUSTED, trusted_manifest=str(path))
    with pytest.raises(ValidationError, match="needs trusted_manifest"):
        EdgeSettings(persisted=PersistedMode.TRUSTED)


@pytest.mark.parametrize("mode", [PersistedMode.OFF, PersistedMode.APQ])
async def test_a_committed_manifest_hash_runs_in_every_mode(edge_client, member_token, mode):
    # given: no manifest configured; the repository's clients send only hashes
    home = next(b for b in load_manifest(CLIENTS_MANIFEST).values() if b.startswith("query Home"))
    client = edge_client(member_token, persisted=mode)
    # when
    by_hash = await client.post("/graphql", json={"extensions": persisted(home)})
    changed = await client.post(
        "/graphql", json={"query": home.replace("Home", "Home2"), "extensions": persisted(home)}
    )
    # then
    assert by_hash.status_code == 200, by_hash.text
    assert by_hash.json()["data"]["me"]["fullName"] == "Trần Thị Bình"
    assert error_of(changed)["extensions"] == {"code": "PERSISTED_QUERY_HASH_MISMATCH"}


async def test_apq_off_runs_a_configured_manifest_hash(edge_client, member_token, manifest):
    # given
    client = edge_client(member_token, persisted=PersistedMode.OFF, trusted_manifest=manifest)
    # when
    by_hash = await client.post("/graphql", json={"extensions": persisted(NOTICES)})
    unknown = await client.post("/graphql", json={"extensions": persisted(TYPENAME)})
    # then
    assert [n["title"] for n in by_hash.json()["data"]["notices"]]
    assert error_of(unknown)["extensions"] == {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}
