"""Generated hostile documents and bodies against the real app: never a 5xx, always a code.

Documents mix fragments (which may spread each other, cycles included), aliases, inline
fragments, nesting, Unicode, and huge literals; bodies are arbitrary bytes or deep JSON.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tenants.types import Role
from tests import world

FIELDS = ["__typename", "me", "notices", "members", "branch", "nope", "__schema", "types"]
FRAGMENTS = ["F0", "F1", "F2", "F3"]
LITERALS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.integers(min_value=4_000, max_value=6_000).map(lambda n: "9" * n),
    st.text(max_size=20).map(json.dumps),
    st.integers(min_value=50_000, max_value=150_000).map(lambda n: json.dumps("ư" * n)),
    st.sampled_from(["$v", "[1, [2, [3]]]", '{a: {b: "ồ"}}', "true", "null"]),
)
ALIASES = st.sampled_from(["", "a: ", "b: ", "_1: ", "tên: "])


def selections(depth: int) -> st.SearchStrategy[str]:
    """A selection set's contents: fields (maybe aliased, with arguments), spreads, inline."""
    field = st.builds(
        lambda alias, name, args, sub: f"{alias}{name}{args}{sub}",
        ALIASES,
        st.sampled_from(FIELDS),
        st.one_of(st.just(""), LITERALS.map(lambda value: f"(first: {value})")),
        st.just("") if depth == 0 else selections(depth - 1).map(lambda s: f" {{ {s} }}"),
    )
    spread = st.sampled_from(FRAGMENTS).map(lambda name: f"...{name}")
    inline = (
        st.just("__typename")
        if depth == 0
        else selections(depth - 1).map(lambda s: f"... on Query {{ {s} }}")
    )
    one = st.one_of(field, spread, inline)
    return st.lists(one, min_size=1, max_size=4).map(" ".join)


@st.composite
def documents(draw: st.DrawFn) -> str:
    operation = draw(selections(3))
    definitions = [
        f"fragment {name} on Query {{ {draw(selections(2))} }}"
        for name in draw(st.lists(st.sampled_from(FRAGMENTS), unique=True, max_size=4))
    ]
    repeat = draw(st.integers(min_value=1, max_value=3))
    return " ".join([f"query Q($v: Int) {{ {operation} }}", *definitions] * repeat)


def coded(body: Any) -> bool:
    """Every error carries a code: GraphQL-shaped errors, or OFREP's ``errorCode``."""
    if not isinstance(body, dict):
        return False
    if "errors" in body:
        return all((error.get("extensions") or {}).get("code") for error in body["errors"])
    return "data" in body or "errorCode" in body


FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(document=documents(), strict=st.booleans())
async def test_generated_documents_are_answered_with_a_code(edge_client, document, strict):
    # given: anonymous, default limits
    client = edge_client()
    accept = "application/graphql-response+json" if strict else "application/json"
    # when
    response = await client.post(
        "/graphql", json={"query": document, "variables": {"v": 3}}, headers={"Accept": accept}
    )
    # then
    assert response.status_code < 500, response.text
    assert coded(response.json()), (document, response.text)


BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.tuples(st.sampled_from(["[", '{"a":', '{"query":']), st.integers(1, 3_000)).map(
        lambda pair: (pair[0] * pair[1]).encode()
    ),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=20,
    ).map(lambda value: json.dumps(value).encode()),
)
PATHS = [
    "/graphql",
    "/ofrep/v1/evaluate/flags",
    "/ofrep/v1/evaluate/flags/handbook",
    "/v1/events",
    "/t/yen-mo/v1/events",
    "/t/yen-mo/v1/install-tokens",
    "/admin/api/oidc/token",
    "/admin/api/oidc/refresh",
]


@FUZZ
@given(path=st.sampled_from(PATHS), body=BODIES)
async def test_generated_bodies_are_answered_with_a_code(edge_client, token, path, body):
    # given: a signed-in member, so OFREP and events read their bodies
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    client = edge_client(member, settings__oidc_issuer="http://127.0.0.1:9")
    # when
    response = await client.post(path, content=body, headers={"content-type": "application/json"})
    # then
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    if response.status_code >= 400:
        assert coded(response.json()), (path, body[:80], response.text)
