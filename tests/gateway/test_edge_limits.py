"""Query limits per role, checked before execution, each refusal with its code and message."""

from __future__ import annotations

import pytest
from graphql import get_introspection_query
from pydantic import SecretStr

from gateway.auth import issue_development_token
from gateway.edge.config import DEFAULT, QueryLimits
from gateway.settings import Environment
from tenants.types import Role
from tests import world

GRAPHQL_RESPONSE = "application/graphql-response+json"
DEEP = "{ members(first: 1) { edges { node { branch { name } } } } }"
ALIASES = "{ a: __typename b: __typename }"
TWO_ROOTS = "{ __typename members(first: 1) { totalCount } }"
COSTLY = """
query Costly($n: Int!) {
  members(first: $n) { edges { node { branch { members(first: 100) { totalCount } } } } }
}
"""
INTROSPECTION = "{ __schema { queryType { name } } }"


def limited(**limits: int) -> dict[str, QueryLimits]:
    return {DEFAULT: QueryLimits(), Role.MEMBER.value: QueryLimits(**limits)}


@pytest.fixture
def member_token(token):
    return token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))


@pytest.mark.parametrize(
    ("limits", "document", "variables", "code", "message"),
    [
        (
            {"max_depth": 4},
            DEEP,
            None,
            "QUERY_TOO_DEEP",
            "The operation is 5 levels deep; the limit is 4.",
        ),
        (
            {"max_aliases": 1},
            ALIASES,
            None,
            "TOO_MANY_ALIASES",
            "The operation uses 2 aliases; the limit is 1.",
        ),
        ({"max_tokens": 8}, DEEP, None, "QUERY_TOO_LARGE", "The document has more than 8 tokens."),
        (
            {"max_root_fields": 1},
            TWO_ROOTS,
            None,
            "TOO_MANY_ROOT_FIELDS",
            "The operation selects 2 root fields; the limit is 1.",
        ),
        (
            {"max_cost": 1_000},
            COSTLY,
            {"n": 100},
            "QUERY_TOO_COMPLEX",
            "The operation costs 20400; the limit is 1000.",
        ),
    ],
)
async def test_each_limit_refuses_with_its_code(
    edge_client, member_token, limits, document, variables, code, message
):
    # given
    client = edge_client(member_token, query_limits=limited(**limits))
    # when
    strict = await client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    legacy = await client.post("/graphql", json={"query": document, "variables": variables})
    # then
    expected = {"errors": [{"message": message, "extensions": {"code": code}}]}
    assert strict.status_code == 400
    assert strict.json() == expected
    assert legacy.status_code == 200
    assert legacy.json() == expected


async def test_cost_follows_the_first_argument(edge_client, member_token):
    # given: 100 members each with 100 branch members costs 20400; one member costs 204
    client = edge_client(member_token, query_limits=limited(max_cost=1_000))
    # when
    status_ok = await client.post("/graphql", json={"query": COSTLY, "variables": {"n": 1}})
    # then
    assert status_ok.status_code == 200
    edges = status_ok.json()["data"]["members"]["edges"]
    assert len(edges) == 1
    assert edges[0]["node"]["branch"]["members"]["totalCount"] >= 1


async def test_limits_are_per_role(edge_client, token):
    # given: members are held to depth 4, other roles use the default limits
    admin = token(Role.TENANT_ADMIN, tenant=world.YEN_MO)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    limits = limited(max_depth=4)
    # when
    as_admin = await edge_client(admin, query_limits=limits).post("/graphql", json={"query": DEEP})
    as_member = await edge_client(member, query_limits=limits).post(
        "/graphql", json={"query": DEEP}
    )
    # then
    assert as_admin.json()["data"]["members"]["edges"][0]["node"]["branch"]["name"]
    assert as_member.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


async def test_anonymous_requests_use_the_anonymous_limits(edge_client):
    # given
    client = edge_client(
        query_limits={DEFAULT: QueryLimits(), "anonymous": QueryLimits(max_aliases=0)}
    )
    # when
    response = await client.post("/graphql", json={"query": ALIASES})
    # then
    assert response.json()["errors"][0] == {
        "message": "The operation uses 2 aliases; the limit is 0.",
        "extensions": {"code": "TOO_MANY_ALIASES"},
    }


async def test_fragment_cycles_do_not_hang_the_limits(edge_client, member_token):
    # given
    cyclic = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }"
    client = edge_client(member_token)
    # when
    response = await client.post("/graphql", json={"query": cyclic})
    # then
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_introspection_in_production_only_for_allowed_roles(edge_client, settings):
    # given: production, introspection allowed to tenant admins only
    secret = SecretStr("edge-test-secret-" + "x" * 40)
    signer = settings.model_copy(update={"jwt_secret": secret})

    def token_of(role: Role) -> str:
        return issue_development_token(signer, subject="s", roles=[role], tenant=world.YEN_MO)

    production = {
        "settings__environment": Environment.PRODUCTION,
        "settings__jwt_secret": secret,
        "introspection_roles": frozenset({"tenant_admin"}),
    }
    admin = edge_client(token_of(Role.TENANT_ADMIN), **production)
    member = edge_client(token_of(Role.MEMBER), **production)
    anonymous = edge_client(**production)
    # when
    allowed = await admin.post("/graphql", json={"query": INTROSPECTION})
    refused = await member.post("/graphql", json={"query": INTROSPECTION})
    refused_anonymous = await anonymous.post("/graphql", json={"query": INTROSPECTION})
    # then
    assert allowed.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    expected = {
        "errors": [
            {
                "message": "Introspection is not allowed for your role.",
                "extensions": {"code": "INTROSPECTION_DISABLED"},
            }
        ]
    }
    assert refused.json() == expected
    assert refused_anonymous.json() == expected


async def test_introspection_is_on_in_development(edge_client, member_token):
    # when
    response = await edge_client(member_token).post("/graphql", json={"query": INTROSPECTION})
    # then
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


async def test_tools_full_introspection_query_fits_the_default_limits(edge_client, member_token):
    # given: what GraphiQL and codegen send, nested about 13 levels through ofType
    client = edge_client(member_token)
    # when
    response = await client.post("/graphql", json={"query": get_introspection_query()})
    # then
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_document_caches_are_bounded():
    # given
    from gateway.edge.documents import parse_document
    from gateway.edge.limits import count_tokens
    from schema.root import DOCUMENT_CACHE_SIZE

    # when: more distinct documents than the caches hold
    for n in range(DOCUMENT_CACHE_SIZE + 100):
        parse_document(f"{{ a{n}: __typename }}")
        count_tokens(f"{{ a{n}: __typename }}", 100)
    # then
    assert parse_document.cache_info().currsize <= DOCUMENT_CACHE_SIZE
    assert count_tokens.cache_info().maxsize is not None
    assert count_tokens.cache_info().currsize <= count_tokens.cache_info().maxsize


def test_limits_per_role_come_from_the_environment(monkeypatch):
    # given
    monkeypatch.setenv(
        "PILOTGRAPH_EDGE", '{"query_limits": {"member": {"max_depth": 5}}, "max_batch": 3}'
    )
    from gateway.settings import load_settings

    # when
    edge = load_settings().edge
    # then: a member gets 5; a member who is also a tenant admin gets the more generous default
    assert edge.max_batch == 3
    assert edge.limits_for(frozenset({"member"})).max_depth == 5
    assert edge.limits_for(frozenset({"member", "tenant_admin"})).max_depth == 12
    assert edge.limits_for(None).max_depth == 12
