"""Every planned trusted document answers exactly as the schema does.

Each request goes to two apps over the same data: one answers trusted documents with the
planner's single statement, the other runs every operation on the schema. Status and body must
be equal as JSON, list order included, for every caller (five roles, three tenants of two
provinces, a province admin outside its province, anonymous), each feature state (on, off, a
partial ramp) and variables that hypothesis draws (``first`` in and out of range, ``when``,
search text with Vietnamese, decomposed accents, LIKE's own characters, NUL and surrogates).
The planned path must have answered every success and nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edge.manifest import sha256
from tests.planner.conftest import BY_NAME, FEATURE_STATES, Paths, set_feature_state
from tests.planner.world import CALLERS, Caller

PLANNED = ("Home", "Meetings", "Notices", "Documents")
DEFAULTS: dict[str, dict[str, Any]] = {
    "Home": {},
    "Meetings": {"when": "UPCOMING", "first": 5},
    "Notices": {"first": 5},
    "Documents": {"first": 20, "search": None},
}


async def _post(paths: Paths, app: Any, caller: Caller, token, body: dict[str, Any]):
    async with paths.client(app, caller, token) as client:
        response = await client.post("/graphql", json=body)
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
