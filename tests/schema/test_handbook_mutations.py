"""Every handbook mutation: success, typed errors, and nothing half-written."""

from __future__ import annotations

import unicodedata

from schema.relay import encode_id
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

SCHEDULE = """
mutation($input: ScheduleMeetingInput!) {
  scheduleMeeting(input: $input) {
    meeting { title place startsAt status branch { name } }
    errors { field code message }
  }
}
"""
UPDATE = """
mutation($input: UpdateMeetingInput!) {
  updateMeeting(input: $input) { meeting { title place status } errors { field code message } }
}
"""
CANCEL = """
mutation($input: CancelMeetingInput!) {
  cancelMeeting(input: $input) { meeting { status cancelReason } errors { field code message } }
}
"""
ATTEND = """
mutation($input: RecordAttendanceInput!) {
  recordAttendance(input: $input) {
    meeting { status attendance { status member { fullName } } }
    errors { field code message }
  }
}
"""
PUBLISH = """
mutation($input: PublishNoticeInput!) {
  publishNotice(input: $input) {
    notice { title kind branch { name } }
    errors { field code message }
  }
}
"""
COMMENT = """
mutation($input: CommentOnDraftResolutionInput!) {
  commentOnDraftResolution(input: $input) {
    comment { body author { fullName } } errors { field code message }
  }
}
"""
BRANCH_A = encode_id("Branch", world.YM_BRANCH_A)
BRANCH_B = encode_id("Branch", world.YM_BRANCH_B)
UPCOMING_A = encode_id("Meeting", world.YM_UPCOMING_A)
PAST_A = encode_id("Meeting", world.YM_PAST_A)


def secretary_a(token):
    return token(Role.BRANCH_SECRETARY, tenant=world.YEN_MO, subject=str(world.YM_SECRETARY_A))


def meeting_input(branch=BRANCH_A, **overrides):
    values = {
        "branchId": branch,
        "title": "Sinh hoạt chuyên đề",
        "startsAt": "2026-12-20T01:00:00+00:00",
        "endsAt": "2026-12-20T03:00:00+00:00",
        "place": "Hội trường xã",
        "agenda": "Học tập Nghị quyết",
    }
    return values | overrides


async def test_secretary_schedules_meeting_for_own_branch(client_for, token):
    # given
    client = client_for(secretary_a(token))
    # when
    status, body = await gql(client, SCHEDULE, {"input": meeting_input()})
    _, listed = await gql(client, "{ meetings { title } }")
    # then
    assert status == 200
    assert body["data"]["scheduleMeeting"] == {
        "meeting": {
            "title": "Sinh hoạt chuyên đề",
            "place": "Hội trường xã",
            "startsAt": "2026-12-20T01:00:00+00:00",
            "status": "SCHEDULED",
            "branch": {"name": "Chi bộ thôn 1"},
        },
        "errors": [],
    }
    assert {"title": "Sinh hoạt chuyên đề"} in listed["data"]["meetings"]


async def test_secretary_cannot_schedule_for_another_branch(client_for, token):
    # given
    client = client_for(secretary_a(token))
    # when
    _, body = await gql(client, SCHEDULE, {"input": meeting_input(BRANCH_B)})
    # then
    assert body["data"]["scheduleMeeting"] == {
        "meeting": None,
        "errors": [
            {
                "field": "branchId",
                "code": "FORBIDDEN",
                "message": "You may only manage your own branch.",
            }
        ],
    }


async def test_schedule_rejects_bad_times_and_long_text(client_for, token):
    # given
    client = client_for(secretary_a(token))
    backwards = meeting_input(endsAt="2026-12-20T00:00:00+00:00")
    too_long = meeting_input(title="x" * 201)
    naive = meeting_input(startsAt="2026-12-20T01:00:00", endsAt="2026-12-20T03:00:00")
    # when
    results = [await gql(client, SCHEDULE, {"input": i}) for i in (backwards, too_long, naive)]
    # then
    errors = [body["data"]["scheduleMeeting"]["errors"][0] for _, body in results]
    assert errors == [
        {"field": "endsAt", "code": "INVALID_INPUT", "message": "endsAt must be after startsAt."},
        {
            "field": "title",
            "code": "INVALID_INPUT",
            "message": "title is 201 characters long; at most 200 are allowed.",
        },
        {"field": "startsAt", "code": "INVALID_INPUT", "message": "Times must carry a UTC offset."},
    ]


async def test_schedule_with_foreign_branch_id_is_not_found(client_for, token):
    # given: Kim Son's real branch id, from a Yen Mo tenant admin
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    kim_son_branch = encode_id("Branch", world.KS_BRANCH)
    # when
    _, body = await gql(client, SCHEDULE, {"input": meeting_input(kim_son_branch)})
    # then
    assert body["data"]["scheduleMeeting"]["errors"] == [
        {"field": "branchId", "code": "NOT_FOUND", "message": "Branch not found."}
    ]


async def test_schedule_with_malformed_id_is_invalid_id(client_for, token):
    # given
    client = client_for(secretary_a(token))
    # when
    _, body = await gql(client, SCHEDULE, {"input": meeting_input("garbage")})
    # then
    assert body["data"]["scheduleMeeting"]["errors"] == [
        {"field": "branchId", "code": "INVALID_ID", "message": "'garbage' is not a Branch ID."}
    ]


async def test_vietnamese_text_round_trips_as_nfc(client_for, token):
    # given: the title arrives decomposed (NFD), as some keyboards send it
    client = client_for(secretary_a(token))
    nfc_title = "Hội nghị Đảng viên tiêu biểu — Yên Mô"
    nfd_title = unicodedata.normalize("NFD", nfc_title)
    # when
    _, nfc_body = await gql(client, SCHEDULE, {"input": meeting_input(title=nfc_title)})
    _, nfd_body = await gql(client, SCHEDULE, {"input": meeting_input(title=nfd_title)})
    # then
    assert nfc_body["data"]["scheduleMeeting"]["meeting"]["title"].encode() == nfc_title.encode()
    assert nfd_body["data"]["scheduleMeeting"]["meeting"]["title"].encode() == nfc_title.encode()


async def test_member_may_not_schedule(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    # when
    _, body = await gql(client, SCHEDULE, {"input": meeting_input()})
    # then
    assert body["data"] is None
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow manage meetings."


async def test_update_meeting_changes_fields(client_for, token):
    # given
    client = client_for(secretary_a(token))
    # when
    _, body = await gql(client, UPDATE, {"input": {"id": UPCOMING_A, "place": "Nhà văn hóa mới"}})
    # then
    assert body["data"]["updateMeeting"] == {
        "meeting": {
            "title": "Sinh hoạt chi bộ tháng 12",
            "place": "Nhà văn hóa mới",
            "status": "SCHEDULED",
        },
        "errors": [],
    }


async def test_update_held_meeting_is_conflict(client_for, token):
    # given
    client = client_for(secretary_a(token))
    # when
    _, body = await gql(client, UPDATE, {"input": {"id": PAST_A, "title": "Sửa"}})
    # then
    assert body["data"]["updateMeeting"]["errors"] == [
        {"field": "id", "code": "CONFLICT", "message": "A held meeting cannot be changed."}
    ]


async def test_cancel_meeting_then_cancel_again_is_conflict(client_for, token):
    # given
    client = client_for(secretary_a(token))
    variables = {"input": {"id": UPCOMING_A, "reason": "Trùng lịch họp huyện"}}
    # when
    _, first = await gql(client, CANCEL, variables)
    _, second = await gql(client, CANCEL, variables)
    # then
    assert first["data"]["cancelMeeting"] == {
        "meeting": {"status": "CANCELLED", "cancelReason": "Trùng lịch họp huyện"},
        "errors": [],
    }
    assert second["data"]["cancelMeeting"]["errors"] == [
        {"field": "id", "code": "CONFLICT", "message": "A cancelled meeting cannot be cancelled."}
    ]


async def test_record_attendance_for_held_meeting(client_for, token):
    # given
    client = client_for(secretary_a(token))
    marks = [
        {"memberId": encode_id("Member", world.YM_MEMBER_A), "status": "EXCUSED"},
        {"memberId": encode_id("Member", world.YM_MEMBER_A2), "status": "PRESENT"},
    ]
    # when
    _, body = await gql(client, ATTEND, {"input": {"meetingId": PAST_A, "marks": marks}})
    # then
    assert body["data"]["recordAttendance"]["errors"] == []
    assert sorted(
        (a["member"]["fullName"], a["status"])
        for a in body["data"]["recordAttendance"]["meeting"]["attendance"]
    ) == [("Lê Đức Cường", "PRESENT"), ("Trần Thị Bình", "EXCUSED")]


async def test_attendance_with_member_of_other_branch_writes_nothing(client_for, token):
    # given: one valid mark and one member from branch B
    client = client_for(secretary_a(token))
    marks = [
        {"memberId": encode_id("Member", world.YM_MEMBER_A2), "status": "PRESENT"},
        {"memberId": encode_id("Member", world.YM_MEMBER_B), "status": "PRESENT"},
    ]
    # when
    _, body = await gql(client, ATTEND, {"input": {"meetingId": PAST_A, "marks": marks}})
    _, after = await gql(client, "{ meetings(when: PAST) { attendance { member { fullName } } } }")
    # then
    assert body["data"]["recordAttendance"]["errors"] == [
        {
            "field": "marks",
            "code": "INVALID_INPUT",
            "message": "1 of the marked members are not in this meeting's branch.",
        }
    ]
    assert after["data"]["meetings"][0]["attendance"] == [{"member": {"fullName": "Trần Thị Bình"}}]


async def test_attendance_before_meeting_starts_is_conflict(client_for, token):
    # given
    client = client_for(secretary_a(token))
    marks = [{"memberId": encode_id("Member", world.YM_MEMBER_A), "status": "PRESENT"}]
    # when
    _, body = await gql(client, ATTEND, {"input": {"meetingId": UPCOMING_A, "marks": marks}})
    # then
    assert body["data"]["recordAttendance"]["errors"] == [
        {
            "field": "meetingId",
            "code": "CONFLICT",
            "message": "Attendance can be recorded once the meeting has started.",
        }
    ]


async def test_publish_notice_to_own_branch_and_tenant_wide_needs_admin(client_for, token):
    # given
    client = client_for(secretary_a(token))
    notice = {"kind": "PARTY_TASK", "title": "Họp chi bộ", "body": "Nội dung"}
    # when
    _, branch = await gql(client, PUBLISH, {"input": notice | {"branchId": BRANCH_A}})
    _, tenant_wide = await gql(client, PUBLISH, {"input": notice})
    # then
    assert branch["data"]["publishNotice"] == {
        "notice": {
            "title": "Họp chi bộ",
            "kind": "PARTY_TASK",
            "branch": {"name": "Chi bộ thôn 1"},
        },
        "errors": [],
    }
    assert tenant_wide["data"]["publishNotice"]["errors"] == [
        {
            "field": "branchId",
            "code": "FORBIDDEN",
            "message": "Only tenant admins publish to the whole tenant.",
        }
    ]


async def test_tenant_admin_publishes_tenant_wide(client_for, token):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO))
    notice = {"kind": "GOVERNMENT_TASK", "title": "Phòng chống bão", "body": "Toàn huyện"}
    # when
    _, body = await gql(client, PUBLISH, {"input": notice})
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_B)))
    _, seen = await gql(member, "{ notices { title } }")
    # then
    assert body["data"]["publishNotice"]["errors"] == []
    assert {"title": "Phòng chống bão"} in seen["data"]["notices"]


async def test_comment_on_open_draft(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    draft = encode_id("DraftResolution", world.YM_DRAFT_A)
    # when
    _, body = await gql(client, COMMENT, {"input": {"resolutionId": draft, "body": "Tán thành"}})
    # then
    assert body["data"]["commentOnDraftResolution"] == {
        "comment": {"body": "Tán thành", "author": {"fullName": "Trần Thị Bình"}},
        "errors": [],
    }


async def test_comment_on_closed_or_other_branch_draft_is_refused(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_B)))
    closed = encode_id("DraftResolution", world.YM_CLOSED_DRAFT_A)
    kim_son = encode_id("DraftResolution", world.KS_DRAFT)
    own_a = encode_id("DraftResolution", world.YM_DRAFT_A)
    # when
    answers = [
        (await gql(client, COMMENT, {"input": {"resolutionId": d, "body": "Ý kiến"}}))[1]
        for d in (closed, kim_son, own_a)
    ]
    # then
    assert [a["data"]["commentOnDraftResolution"]["errors"][0]["code"] for a in answers] == [
        "FORBIDDEN",
        "NOT_FOUND",
        "FORBIDDEN",
    ]


async def test_comment_body_empty_is_invalid(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    draft = encode_id("DraftResolution", world.YM_DRAFT_A)
    # when
    _, body = await gql(client, COMMENT, {"input": {"resolutionId": draft, "body": "   "}})
    # then
    assert body["data"]["commentOnDraftResolution"]["errors"] == [
        {"field": "body", "code": "INVALID_INPUT", "message": "body must not be empty."}
    ]
