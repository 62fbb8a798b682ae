"""GraphQL over HTTP: media types, status codes, GET, batching, body size, UTF-8."""

from __future__ import annotations

import json

import pytest

from tenants.types import Role
from tests import world

GRAPHQL_RESPONSE = "application/graphql-response+json"
TYPENAME = "{ __typename }"
MEMBER_NAMES = "{ members(first: 2) { edges { node { fullName } } } }"
SCHEDULE = 'mutation { cancelMeeting(input: {id: "x", reason: "r"}) { errors { code } } }'
PREFLIGHT = {"GraphQL-Require-Preflight": "1"}
COERCE = "query($f: Int!) { members(first: $f) { totalCount } }"


@pytest.fixture
def member(client_for, token):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))


@pytest.mark.parametrize(
    ("document", "variables", "code"),
    [
        ("{ members(first: ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ nosuch }", None, "GRAPHQL_VALIDATION_FAILED"),
        (COERCE, {"f": "many"}, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_are_400_without_data_for_graphql_response_json(
    member, document, variables, code
):
    # when
    response = await member.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Accept": GRAPHQL_RESPONSE},
    )
    # then
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = response.json()
    assert "data" not in body
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
async def test_legacy_json_answers_request_errors_with_200(member, accept):
    # when
    headers = {"Accept": accept} if accept else {}
    member.headers.pop("Accept", None)
    response = await member.post("/graphql", json={"query": "{ nosuch }"}, headers=headers)
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_graphql_response_json_is_preferred_when_both_are_accepted(member):
    # when
    response = await member.post(
        "/graphql",
        json={"query": TYPENAME},
        headers={"Accept": f"application/json;q=0.9, {GRAPHQL_RESPONSE}"},
    )
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_unsupported_accept_is_406(member):
    # when
    response = await member.post(
        "/graphql", json={"query": TYPENAME}, headers={"Accept": "text/csv"}
    )
    # then
    assert response.status_code == 406
    assert response.json() == {
        "errors": [
            {
                "message": f"Accept one of {GRAPHQL_RESPONSE}, application/json.",
                "extensions": {"code": "NOT_ACCEPTABLE"},
            }
        ]
    }


async def test_queries_run_over_get(member):
    # when
    response = await member.get(
        "/graphql",
        params={"query": MEMBER_NAMES},
        headers={"Accept": GRAPHQL_RESPONSE, **PREFLIGHT},
    )
    # then
    assert response.status_code == 200
    names = [e["node"]["fullName"] for e in response.json()["data"]["members"]["edges"]]
    assert len(names) == 2


async def test_mutations_over_get_are_405(member):
    # when
    response = await member.get("/graphql", params={"query": SCHEDULE}, headers=PREFLIGHT)
    # then
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "errors": [
            {"message": "Send mutations with POST.", "extensions": {"code": "METHOD_NOT_ALLOWED"}}
        ]
    }


async def test_utf8_in_and_out_and_other_charsets_refused(member):
    # given
    document = '{ __type(name: "Chi bộ Yên Mô") { name } }'
    # when
    ok = await member.post(
        "/graphql",
        content=json.dumps({"query": document}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    latin = await member.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": "application/json; charset=latin-1"},
    )
    names = await member.post("/graphql", json={"query": MEMBER_NAMES})
    # then
    assert ok.status_code == 200
    assert ok.json() == {"data": {"__type": None}}
    assert latin.status_code == 415
    assert latin.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_CHARSET"
    # Vietnamese names travel as UTF-8 bytes, not as \\u escapes
    assert b"\\u" not in names.content
    assert any(ord(ch) > 127 for ch in names.content.decode("utf-8"))


async def test_body_over_the_limit_is_413(edge_client, token):
    # given
    client = edge_client(token(Role.MEMBER, tenant=world.YEN_MO), max_body_bytes=2_048)
    padding = " " * 3_000
    # when
    response = await client.post("/graphql", json={"query": "{ __typename }" + padding})
    # then
    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": "A request carries at most 2048 bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }


async def test_batching_is_off_unless_configured(edge_client, token):
    # given
    member_token = token(Role.MEMBER, tenant=world.YEN_MO)
    off = edge_client(member_token)
    on = edge_client(member_token, max_batch=2)
    batch = [{"query": TYPENAME}, {"query": "{ t: __typename }"}]
    # when
    refused = await off.post("/graphql", json=batch)
    allowed = await on.post("/graphql", json=batch)
    too_many = await on.post("/graphql", json=[*batch, {"query": TYPENAME}])
    # then
    assert refused.status_code == 400
    assert refused.json()["errors"][0] == {
        "message": "Operation batching is turned off.",
        "extensions": {"code": "BATCHING_DISABLED"},
    }
    assert allowed.status_code == 200
    assert allowed.json() == [{"data": {"__typename": "Query"}}, {"data": {"t": "Query"}}]
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0] == {
        "message": "A batch holds 1 to 2 operations.",
        "extensions": {"code": "BATCH_TOO_LARGE"},
    }


async def test_post_without_content_type_is_400(member):
    # when
    response = await member.post("/graphql", content=b'{"query": "{ __typename }"}')
    # then
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_CONTENT_TYPE"


async def test_get_operations_need_a_preflight_header(member):
    # when: what a cross-site <img src> or link could send
    simple = await member.get("/graphql", params={"query": MEMBER_NAMES})
    form = await member.get(
        "/graphql",
        params={"query": MEMBER_NAMES},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    preflighted = await member.get("/graphql", params={"query": MEMBER_NAMES}, headers=PREFLIGHT)
    # then
    expected = {
        "errors": [
            {
                "message": "GET operations need a GraphQL-Require-Preflight header"
                " (CSRF protection).",
                "extensions": {"code": "CSRF_PREFLIGHT_REQUIRED"},
            }
        ]
    }
    assert simple.status_code == 400
    assert simple.json() == expected
    assert form.json() == expected
    assert preflighted.status_code == 200


async def test_form_encoded_posts_are_refused(member):
    # when
    response = await member.post(
        "/graphql",
        content=b"query=%7B__typename%7D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # then
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_CONTENT_TYPE"
