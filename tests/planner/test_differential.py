"""Every planned trusted document answers exactly as the schema does.

Each request goes to two apps over the same data: one answers trusted documents with the
planner's single statement, the other runs every operation on the schema. Status and body must
be equal as JSON, list order included, for every caller (five roles, three tenants of two
provinces, a province admin outside its province, anonymous), each feature state (on, off, a
partial ramp) and variables that hypothesis draws (``first`` in and out of range, ``when``,
search text with Vietnamese, decomposed accents, LIKE's own characters, NUL and surrogates;
member-list cursors from real pages, forged over names and ids, malformed, respelled, or naming
another tenant's members). The member list is also paged through to its end on both paths.
The planned path must have answered every success and nothing else.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edge.manifest import sha256
from schema.relay import encode_cursor
from tests.planner.conftest import BY_NAME, FEATURE_STATES, Paths, set_feature_state
from tests.planner.world import CALLERS, Caller, member_names

PLANNED = ("Home", "Meetings", "Notices", "Documents", "Members", "DraftResolutions")
DEFAULTS: dict[str, dict[str, Any]] = {
    "Home": {},
    "Meetings": {"when": "UPCOMING", "first": 5},
    "Notices": {"first": 5},
    "Documents": {"first": 20, "search": None},
    "Members": {"first": 4},
    "DraftResolutions": {},
}


async def _post(paths: Paths, app: Any, caller: Caller, token, body: dict[str, Any]):
    async with paths.client(app, caller, token) as client:
        # escaped JSON: a lone surrogate in a variable reaches the server as a client sends it
        content = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        response = await client.post("/graphql", content=content, headers=headers)
    return response.status_code, response.json()


async def assert_same_answer(paths: Paths, caller: Caller, token, body: dict[str, Any]) -> None:
    # when
    before = paths.planned_statements
    planned = await _post(paths, paths.planned, caller, token, body)
    ran_planned = paths.planned_statements > before
    generic = await _post(paths, paths.generic, caller, token, body)
    # then
    assert planned == generic, (caller.name, body)
    succeeded = generic[0] == 200 and "errors" not in generic[1]
    assert ran_planned == succeeded, (caller.name, body, generic)


@pytest.mark.parametrize("state", sorted(FEATURE_STATES))
@pytest.mark.parametrize("name", PLANNED)
async def test_every_caller_gets_the_same_answer_on_both_paths(paths, gateway, token, name, state):
    # given
    set_feature_state(gateway, state)
    text = BY_NAME[name]
    for caller in CALLERS:
        # when / then: by text, and by the manifest's hash alone
        await assert_same_answer(paths, caller, token, {"query": text, "variables": DEFAULTS[name]})
        persisted = {"version": 1, "sha256Hash": sha256(text)}
        body = {"variables": DEFAULTS[name], "extensions": {"persistedQuery": persisted}}
        await assert_same_answer(paths, caller, token, body)
    if state == "on":  # with every feature on, most callers succeed: the planner answered
        assert paths.planned_statements > 0


SEARCHES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "21-NQ",
            "nghị quyết",
            "Nghị quyết",
            "Nghi\u0323 quyê\u0301t",  # decomposed: NFC makes it "Nghị quyết"
            "%",
            "10%",
            "_",
            "a_b",
            "\\",
            "/",
            "'",
            "  Kết luận  ",
            "",
            " ",
            "x" * 101,
            "Đ" * 100,
            "a\x00b",
            "\ud800",
        ]
    ),
    st.text(max_size=12),
)
# Every member's cursor as the schema writes it, in every tenant: a foreign tenant's too.
REAL_CURSORS = sorted(encode_cursor(name, id_) for id_, name in member_names())
FORGED_CURSORS = st.builds(
    encode_cursor,
    st.one_of(st.sampled_from(sorted({n for _, n in member_names()})), st.text(max_size=8)),
    st.one_of(st.uuids(), st.sampled_from(sorted(i for i, _ in member_names()))),
)


def _respelled(cursor: str) -> list[str]:
    raw = base64.urlsafe_b64decode(cursor)
    member_id, _, name = raw.decode().partition(":")
    return [
        cursor.rstrip("="),  # unpadded
        base64.b64encode(raw).decode(),  # the standard alphabet
        base64.urlsafe_b64encode(f"{member_id.upper()}:{name}".encode()).decode(),
        base64.urlsafe_b64encode(f"{uuid.UUID(member_id).hex}:{name}".encode()).decode(),
        f" {cursor}",
    ]


MALFORMED_CURSORS = st.one_of(
    st.sampled_from([c for cursor in REAL_CURSORS[:3] for c in _respelled(cursor)]),
    st.sampled_from(["", "=", "!!!", "bm8tY29sb24", "\x00", "\ud800", "a" * 500]),
    st.binary(max_size=40).map(lambda raw: base64.urlsafe_b64encode(raw).decode()),
    st.text(max_size=20),
)
CURSORS = st.one_of(st.none(), st.sampled_from(REAL_CURSORS), FORGED_CURSORS, MALFORMED_CURSORS)
VARIABLES = {
    "Meetings": st.fixed_dictionaries(
        {
            "when": st.sampled_from(["UPCOMING", "PAST", "ALL", "SOON"]),
            "first": st.integers(-2, 103),
        }
    ),
    "Notices": st.fixed_dictionaries({"first": st.integers(-2, 103)}),
    "Documents": st.fixed_dictionaries(
        {"first": st.integers(-1, 102), "search": SEARCHES},
        optional={"extra": st.just(1)},
    ),
    "Members": st.fixed_dictionaries(
        {"first": st.one_of(st.integers(-1, 8), st.sampled_from([50, 100, 101]))},
        optional={"after": CURSORS},
    ),
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.sampled_from(sorted(VARIABLES)).flatmap(
        lambda name: st.tuples(
            st.just(name),
            VARIABLES[name],
            st.sampled_from(CALLERS),
            st.sampled_from(sorted(FEATURE_STATES)),
        )
    )
)
async def test_drawn_variables_get_the_same_answer_on_both_paths(paths, gateway, token, case):
    # given
    name, variables, caller, state = case
    set_feature_state(gateway, state)
    # when / then
    await assert_same_answer(paths, caller, token, {"query": BY_NAME[name], "variables": variables})


@pytest.mark.parametrize("first", [1, 3, 50])
@pytest.mark.parametrize("caller", CALLERS, ids=lambda caller: caller.name)
async def test_paging_the_member_list_to_its_end_gets_the_same_pages(paths, token, caller, first):
    # given
    text, after, pages = BY_NAME["Members"], None, 0
    while True:
        # when: the next page on both paths, from the cursor the last one ended at
        body = {"query": text, "variables": {"first": first, "after": after}}
        await assert_same_answer(paths, caller, token, body)
        _, answer = await _post(paths, paths.planned, caller, token, body)
        if "errors" in answer:
            break
        page = answer["data"]["members"]
        pages += 1
        # then: each edge's cursor is the schema's own spelling of its member
        for edge in page["edges"]:
            assert edge["cursor"] == encode_cursor(edge["node"]["fullName"], _uuid(edge))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages >= (0 if caller.name.startswith(("anonymous", "hn-admin-on")) else 1)


def _uuid(edge: dict[str, Any]) -> uuid.UUID:
    raw = edge["node"]["id"]
    return uuid.UUID(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()[7:])


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    variables=VARIABLES["Members"],
    caller=st.sampled_from(CALLERS),
    state=st.sampled_from(sorted(FEATURE_STATES)),
)
async def test_drawn_member_cursors_get_the_same_answer_on_both_paths(
    paths, gateway, token, variables, caller, state
):
    # given
    set_feature_state(gateway, state)
    # when / then
    body = {"query": BY_NAME["Members"], "variables": variables}
    await assert_same_answer(paths, caller, token, body)
