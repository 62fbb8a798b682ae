"""Property-based fuzzing of documents and variables: never a 5xx, never another tenant's data."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.relay import encode_id
from tenants.types import Role
from tests import world

# What only Kim Son holds: a Yen Mo member must never read any of it.
KIM_SON_ONLY = ("Bùi Văn Sơn", "Vũ Thị Lan", "Kim Chính", "xóm 5", "Thông báo Kim Sơn")
KIM_SON_IDS = [
    encode_id("Member", world.KS_MEMBER),
    encode_id("Branch", world.KS_BRANCH),
    encode_id("Meeting", world.KS_UPCOMING),
    encode_id("DraftResolution", world.KS_DRAFT),
    encode_id("Notice", world.KS_NOTICE),
    str(world.KS_MEMBER),
    "not-an-id",
    world.KIM_SON,
]
SCALARS = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=12),
    st.sampled_from(KIM_SON_IDS),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
LEAVES = {
    "members": "edges { cursor node { id fullName branch { id name } } } totalCount",
    "branches": "id name members { totalCount edges { node { fullName } } }",
    "meetings": "id title branch { name } attendance { member { fullName } }",
    "notices": "id title",
    "documents": "id title",
    "me": "id fullName branch { name }",
    "branch": "id name",
    "tenant": "__typename",
}
ARGUMENTS = {
    "members": ["first", "after", "branchId", "search"],
    "branches": [],
    "meetings": ["first", "branchId"],
    "notices": ["first"],
    "documents": ["first", "search"],
    "me": [],
    "branch": ["id"],
    "tenant": ["slug"],
}


@st.composite
def root_field(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(LEAVES)))
    chosen = draw(st.lists(st.sampled_from(ARGUMENTS[name] or ["x"]), max_size=3, unique=True))
    args = ", ".join(f"{arg}: {json.dumps(draw(SCALARS))}" for arg in chosen if arg != "x")
    alias = draw(st.sampled_from(["", "a: ", "b: "]))
    return f"{alias}{name}{f'({args})' if args else ''} {{ {LEAVES[name]} }}"


DOCUMENTS = st.one_of(
    st.lists(root_field(), min_size=1, max_size=3).map(
        lambda fields: "{ " + " ".join(fields) + " }"
    ),
    st.text(max_size=80),
    st.sampled_from(
        [
            "query($f: Int!) { members(first: $f) { totalCount } }",
            "query($id: ID!) { branch(id: $id) { name } }",
        ]
    ),
)
VARIABLES = st.one_of(st.none(), st.dictionaries(st.sampled_from(["f", "id", "x"]), SCALARS))


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=DOCUMENTS, variables=VARIABLES, strict=st.booleans())
async def test_fuzzed_requests_never_5xx_nor_leak_another_tenant(
    client_for, token, document, variables, strict
):
    # given: a Yen Mo member
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    accept = "application/graphql-response+json" if strict else "application/json"
    # when
    response = await client.post(
        "/graphql", json={"query": document, "variables": variables}, headers={"Accept": accept}
    )
    # then
    assert response.status_code < 500, response.text
    body = response.json()
    assert "errors" in body or "data" in body
    for marker in KIM_SON_ONLY:
        assert marker not in response.text, (document, variables)
