"""The permission matrix: every mutation × every role, on its own tenant and on another."""

from __future__ import annotations

import pytest

from schema.relay import encode_id
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

A = encode_id("Branch", world.YM_BRANCH_A)
MUTATIONS = {
    "scheduleMeeting": (
        "mutation($i: ScheduleMeetingInput!) { scheduleMeeting(input: $i) { errors { code } } }",
        {
            "branchId": A,
            "title": "Họp",
            "startsAt": "2026-12-20T01:00:00Z",
            "endsAt": "2026-12-20T02:00:00Z",
            "place": "Hội trường",
        },
    ),
    "updateMeeting": (
        "mutation($i: UpdateMeetingInput!) { updateMeeting(input: $i) { errors { code } } }",
        {"id": encode_id("Meeting", world.YM_UPCOMING_A), "title": "Họp mới"},
    ),
    "cancelMeeting": (
        "mutation($i: CancelMeetingInput!) { cancelMeeting(input: $i) { errors { code } } }",
        {"id": encode_id("Meeting", world.YM_UPCOMING_A), "reason": "Hoãn"},
    ),
    "recordAttendance": (
        "mutation($i: RecordAttendanceInput!) { recordAttendance(input: $i) { errors { code } } }",
        {
            "meetingId": encode_id("Meeting", world.YM_PAST_A),
            "marks": [{"memberId": encode_id("Member", world.YM_MEMBER_A2), "status": "PRESENT"}],
        },
    ),
    "publishNotice": (
        "mutation($i: PublishNoticeInput!) { publishNotice(input: $i) { errors { code } } }",
        {"kind": "GENERAL", "title": "Thông báo", "body": "Nội dung", "branchId": A},
    ),
    "commentOnDraftResolution": (
        "mutation($i: CommentOnDraftResolutionInput!) "
        "{ commentOnDraftResolution(input: $i) { errors { code } } }",
        {"resolutionId": encode_id("DraftResolution", world.YM_DRAFT_A), "body": "Ý kiến"},
    ),
}

OK, DENIED = "ok", "FORBIDDEN"
# role → outcome per mutation, in MUTATIONS order, acting on Yen Mo's branch A.
MATRIX = {
    Role.MEMBER: [DENIED, DENIED, DENIED, DENIED, DENIED, OK],
    Role.BRANCH_SECRETARY: [OK, OK, OK, OK, OK, OK],
    Role.TENANT_ADMIN: [OK, OK, OK, OK, OK, "payload:FORBIDDEN"],
    Role.PROVINCE_ADMIN: [OK, OK, OK, OK, OK, DENIED],
    Role.AUDITOR: [DENIED] * 6,
}
SUBJECTS = {Role.MEMBER: world.YM_MEMBER_A, Role.BRANCH_SECRETARY: world.YM_SECRETARY_A}
CASES = [
    (role, name, outcome)
    for role, outcomes in MATRIX.items()
    for name, outcome in zip(MUTATIONS, outcomes, strict=True)
]


def _client(client_for, token, role, tenant):
    subject = str(SUBJECTS.get(role, f"{role.value}-1"))
    if role in (Role.PROVINCE_ADMIN, Role.AUDITOR):
        return client_for(token(role, subject=subject), headers={"X-Tenant": tenant})
    return client_for(token(role, tenant=tenant, subject=subject))


def _outcome(body, name):
    if body.get("errors"):
        return error_codes(body)[0]
    codes = [e["code"] for e in body["data"][name]["errors"]]
    return f"payload:{codes[0]}" if codes else OK


@pytest.mark.parametrize(("role", "name", "expected"), CASES)
async def test_own_tenant(client_for, token, role, name, expected):
    # given
    client = _client(client_for, token, role, world.YEN_MO)
    document, variables = MUTATIONS[name]
    # when
    status, body = await gql(client, document, {"i": variables})
    # then
    assert status == 200
    assert _outcome(body, name) == expected


@pytest.mark.parametrize(("role", "name", "expected"), CASES)
async def test_other_tenant_ids_are_not_found(client_for, token, role, name, expected):
    # given: the same role, at home in Kim Son, sends Yen Mo's ids
    client = _client(client_for, token, role, world.KIM_SON)
    document, variables = MUTATIONS[name]
    # when
    status, body = await gql(client, document, {"i": variables})
    # then
    assert status == 200
    outcome = _outcome(body, name)
    assert outcome == (DENIED if expected == DENIED else "payload:NOT_FOUND")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BRANCH_SECRETARY, Role.TENANT_ADMIN])
async def test_tenant_bound_roles_cannot_select_another_tenant(client_for, token, role):
    # given
    client = client_for(token(role, tenant=world.KIM_SON), headers={"X-Tenant": world.YEN_MO})
    document, variables = MUTATIONS["scheduleMeeting"]
    # when
    status, body = await gql(client, document, {"i": variables})
    # then
    assert status == 403
    assert error_codes(body) == ["FORBIDDEN_TENANT"]


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_the_handbook(client_for, token, role):
    # given
    client = _client(client_for, token, role, world.YEN_MO)
    # when
    status, body = await gql(client, "{ tenant { slug } documents { number } }")
    # then
    assert status == 200
    assert body == {"data": {"tenant": {"slug": "yen-mo"}, "documents": [{"number": "21-NQ/TW"}]}}
