"""The rollout admin surface: every action's permission, payload errors and audit row."""

from __future__ import annotations

import pytest

from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.plan_world import ADMIN, HOA_LU, KEY, SECOND_ADMIN

ROLLOUT = """
query($flag: String!) {
  rollout(flag: $flag) {
    flag status wave step
    tenants { tenant wave percentage since state }
    waves { position name tenants ramp gate { passed sustainDays
      results { tenant metric minimum current daysHeld passed } } }
  }
}
"""
STEP_FIELDS = "applied status wave step approvalId errors { code message }"
START = f"mutation($flag: String!) {{ startRollout(flag: $flag) {{ {STEP_FIELDS} }} }}"
ADVANCE = f"""
mutation($flag: String!, $reason: String) {{
  advanceRollout(flag: $flag, overrideReason: $reason) {{ {STEP_FIELDS} }}
}}
"""
PAUSE = f"""
mutation($flag: String!) {{ pauseRollout(flag: $flag, reason: "holiday") {{ {STEP_FIELDS} }} }}
"""
RESUME = f"""
mutation($flag: String!) {{ resumeRollout(flag: $flag, reason: "back") {{ {STEP_FIELDS} }} }}
"""
ROLLBACK = f"""
mutation($flag: String!) {{
  rollbackRollout(flag: $flag, reason: "complaints") {{ {STEP_FIELDS} }}
}}
"""
APPROVE = f"mutation($id: ID!) {{ approveRolloutStep(approvalId: $id) {{ {STEP_FIELDS} }} }}"
RAMP = """
mutation($flag: String!, $percentage: Float!) {
  setTenantRamp(flag: $flag, percentage: $percentage, reason: "slower") {
    percentage errors { code message }
  }
}
"""
SCHEDULE = """
mutation($flag: String!, $at: DateTime!) {
  scheduleRolloutStep(flag: $flag, action: ADVANCE, runAt: $at, reason: "Monday") {
    runAt errors { code message }
  }
}
"""
AUDIT = """
query($flag: String, $actor: String, $action: String) {
  rolloutAudit(flag: $flag, actor: $actor, action: $action) {
    actor action flag tenant before after reason
  }
}
"""
CREATE = """
mutation($flag: String!, $waves: [WaveInput!]!) {
  createRolloutPlan(flag: $flag, waves: $waves) { applied status wave errors { code message } }
}
"""
OVERRIDE = """
mutation($tenant: String!, $variant: String) {
  setFlagOverride(flag: "handbook.notices", tenant: $tenant, variant: $variant, reason: "ask") {
    key version errors { code message }
  }
}
"""
FEATURES = "{ features { key enabled reason } }"


async def step(client, document, **variables):
    status, body = await gql(client, document, {"flag": KEY, **variables})
    assert status == 200, body
    return next(iter(body["data"].values()))


async def test_start_turns_yen_mo_on_for_its_members(plan, admin, token, client_for):
    # given
    member = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    kim_son = client_for(token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER)))
    _, before = await gql(member, FEATURES)
    # when
    started = await step(admin, START)
    _, after = await gql(member, FEATURES)
    _, elsewhere = await gql(kim_son, "{ branches { name } }")
    # then
    assert before["data"]["features"][0] == {
        "key": "handbook",
        "enabled": False,
        "reason": "STATIC",
    }
    assert started == {
        "applied": True,
        "status": "running",
        "wave": 0,
        "step": 0,
        "approvalId": None,
        "errors": [],
    }
    assert after["data"]["features"][0] == {"key": "handbook", "enabled": True, "reason": "SPLIT"}
    assert error_codes(elsewhere) == ["FEATURE_DISABLED"]


async def test_rollout_shows_tenants_waves_and_gates(plan, admin):
    # given
    await step(admin, START)
    await step(admin, ADVANCE)
    # when
    status, body = await gql(admin, ROLLOUT, {"flag": KEY})
    # then
    assert status == 200
    rollout = body["data"]["rollout"]
    assert (rollout["status"], rollout["wave"], rollout["step"]) == ("running", 1, 0)
    assert rollout["tenants"][:2] == [
        {
            "tenant": world.YEN_MO,
            "wave": 0,
            "percentage": 100.0,
            "since": "2026-11-25T03:00:00+00:00",
            "state": "on",
        },
        {
            "tenant": world.KIM_SON,
            "wave": 1,
            "percentage": 50.0,
            "since": "2026-11-25T03:00:00+00:00",
            "state": "partial",
        },
    ]
    assert rollout["tenants"][2]["state"] == "off"
    wave_1 = rollout["waves"][1]
    assert (wave_1["name"], wave_1["ramp"], wave_1["gate"]["passed"]) == (
        "wave 1",
        [50.0, 100.0],
        True,
    )
    assert wave_1["gate"]["results"][0] == {
        "tenant": world.YEN_MO,
        "metric": "activation_rate",
        "minimum": 0.9,
        "current": 0.95,
        "daysHeld": 14,
        "passed": True,
    }
    assert rollout["waves"][0]["gate"] is None


async def test_failing_gate_is_a_payload_error_until_overridden(plan, admin):
    # given
    await step(admin, START)
    plan.kpis.passed, plan.kpis.current = False, 0.5
    # when
    refused = await step(admin, ADVANCE)
    overridden = await step(admin, ADVANCE, reason="Kim Son asked")
    # then
    assert refused["applied"] is False
    assert refused["errors"] == [
        {
            "code": "GATE_FAILED",
            "message": "The gate of wave 'wave 1' fails (yen-mo activation_rate 50% < 90%; "
            "yen-mo monthly_active_rate 50% < 80%); override it with a written reason.",
        }
    ]
    assert (overridden["applied"], overridden["wave"]) == (True, 1)
    _, audit = await gql(admin, AUDIT, {"flag": KEY, "action": "plan.advance"})
    assert audit["data"]["rolloutAudit"] == [
        {
            "actor": ADMIN,
            "action": "plan.advance",
            "flag": KEY,
            "tenant": None,
            "before": {"status": "running", "wave": 0, "step": 0},
            "after": {"status": "running", "wave": 1, "step": 0, "gate_overridden": True},
            "reason": "Kim Son asked",
        }
    ]


@pytest.mark.parametrize(
    "respell",
    [
        pytest.param(lambda i: "{" + i + "}", id="braced"),
        pytest.param(lambda i: i.upper(), id="upper-case"),
        pytest.param(lambda i: "urn:uuid:" + i, id="urn"),
    ],
)
async def test_an_approval_id_has_one_spelling(plan, admin, second_admin, respell):
    # given: a pending last-wave step
    for document in (START, ADVANCE, ADVANCE):
        await step(admin, document)
    requested = await step(admin, ADVANCE)
    # when: the second admin sends another spelling of its id
    approved = await step(second_admin, APPROVE, id=respell(requested["approvalId"]))
    # then: it names no approval, and the step stays pending
    assert (approved["applied"], approved["wave"], approved["errors"]) == (
        False,
        None,
        [{"code": "APPROVAL_NOT_FOUND", "message": "There is no pending approval with this id."}],
    )


async def test_last_wave_needs_a_second_admin(plan, admin, second_admin):
    # given: Kim Son at 100%
    for document in (START, ADVANCE, ADVANCE):
        await step(admin, document)
    # when
    requested = await step(admin, ADVANCE)
    self_approved = await step(admin, APPROVE, id=requested["approvalId"])
    approved = await step(second_admin, APPROVE, id=requested["approvalId"])
    # then
    assert (requested["applied"], requested["wave"]) == (False, 1)
    assert self_approved["errors"] == [
        {
            "code": "SELF_APPROVAL",
            "message": "A second province admin must approve: the requester cannot.",
        }
    ]
    assert approved == {
        "applied": True,
        "status": "completed",
        "wave": 2,
        "step": 0,
        "approvalId": None,
        "errors": [],
    }
    _, audit = await gql(second_admin, AUDIT, {"flag": KEY, "actor": SECOND_ADMIN})
    assert [r["action"] for r in audit["data"]["rolloutAudit"]] == ["plan.approve"]


async def test_pause_resume_rollback_are_audited(plan, admin):
    # given
    await step(admin, START)
    # when
    paused = await step(admin, PAUSE)
    refused = await step(admin, ADVANCE)
    resumed = await step(admin, RESUME)
    rolled_back = await step(admin, ROLLBACK)
    # then
    assert paused["status"] == "paused"
    assert refused["errors"] == [
        {
            "code": "INVALID_TRANSITION",
            "message": "Cannot advance the plan of 'handbook': it is paused.",
        }
    ]
    assert resumed["status"] == "running"
    assert (rolled_back["status"], rolled_back["wave"]) == ("draft", -1)
    _, audit = await gql(admin, AUDIT, {"flag": KEY})
    assert [(r["action"], r["reason"]) for r in audit["data"]["rolloutAudit"][:4]] == [
        ("plan.rollback", "complaints"),
        ("plan.resume", "back"),
        ("plan.pause", "holiday"),
        ("plan.start", ""),
    ]


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(START, id="start"),
        pytest.param(ADVANCE, id="advance"),
        pytest.param(PAUSE, id="pause"),
        pytest.param(RESUME, id="resume"),
        pytest.param(ROLLBACK, id="rollback"),
        pytest.param(SCHEDULE, id="schedule"),
        pytest.param(APPROVE, id="approve"),
        pytest.param(CREATE, id="create"),
        pytest.param(OVERRIDE, id="override"),
    ],
)
@pytest.mark.parametrize("role", [Role.MEMBER, Role.TENANT_ADMIN, Role.AUDITOR])
async def test_only_province_admins_act(plan, token, client_for, document, role):
    # given
    client = client_for(token(role, tenant=world.YEN_MO, subject="someone"))
    variables = {
        "flag": KEY,
        "at": "2026-12-01T00:00:00Z",
        "id": "x",
        "waves": [],
        "tenant": world.YEN_MO,
    }
    # when
    _, body = await gql(client, document, variables)
    # then
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow manage rollout."


@pytest.mark.parametrize(
    "document", [pytest.param(ROLLOUT, id="rollout"), pytest.param(AUDIT, id="audit")]
)
@pytest.mark.parametrize("role", [Role.MEMBER, Role.TENANT_ADMIN])
async def test_only_province_roles_read_the_rollout(plan, token, client_for, document, role):
    # given
    client = client_for(token(role, tenant=world.YEN_MO, subject="someone"))
    # when
    _, body = await gql(client, document, {"flag": KEY})
    # then
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == "Your role does not allow read rollout."


async def test_auditor_reads_rollout_and_audit_but_cannot_act(plan, admin, token, client_for):
    # given
    await step(admin, START)
    auditor = client_for(token(Role.AUDITOR, subject="inspector"))
    # when
    _, state = await gql(auditor, ROLLOUT, {"flag": KEY})
    _, audit = await gql(auditor, AUDIT, {"flag": KEY})
    _, act = await gql(auditor, PAUSE, {"flag": KEY})
    # then
    assert state["data"]["rollout"]["tenants"]
    assert audit["data"]["rolloutAudit"][0]["action"] == "plan.start"
    assert error_codes(act) == ["FORBIDDEN"]


async def test_tenant_admin_ramps_own_tenant_within_the_plan(plan, admin, token, client_for):
    # given: Kim Son's wave at 50%
    await step(admin, START)
    await step(admin, ADVANCE)
    kim_son_admin = client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON, subject="ks-admin"))
    hoa_lu_admin = client_for(token(Role.TENANT_ADMIN, tenant=world.YEN_MO, subject="ym-admin"))
    # when
    lowered = await step(kim_son_admin, RAMP, percentage=25.0)
    too_high = await step(kim_son_admin, RAMP, percentage=75.0)
    # then
    assert lowered == {"percentage": 25.0, "errors": []}
    assert too_high["errors"] == [
        {
            "code": "OUT_OF_BOUNDS",
            "message": "The plan allows kim-son between 0% and 50% of 'handbook' now; "
            "75% is outside that.",
        }
    ]
    _, body = await gql(admin, ROLLOUT, {"flag": KEY})
    assert body["data"]["rollout"]["tenants"][1]["percentage"] == 25.0
    _, audit = await gql(admin, AUDIT, {"flag": KEY, "action": "tenant.ramp"})
    assert audit["data"]["rolloutAudit"][0]["tenant"] == world.KIM_SON
    assert (await step(hoa_lu_admin, RAMP, percentage=100.0))["errors"] == []


async def test_schedule_is_refused_in_the_past(plan, admin):
    # when
    body = await step(admin, SCHEDULE, at="2026-11-24T00:00:00Z")
    ok = await step(admin, SCHEDULE, at="2026-11-30T00:00:00Z")
    # then
    assert body["errors"] == [
        {
            "code": "INVALID_TRANSITION",
            "message": "Schedule a step in the future; run it now instead.",
        }
    ]
    assert ok == {"runAt": "2026-11-30T00:00:00+00:00", "errors": []}


async def test_unknown_plan_is_a_payload_error(gateway, admin):
    # when
    started = await step(admin, START)
    # then
    assert started["errors"] == [
        {"code": "PLAN_NOT_FOUND", "message": "The flag 'handbook' has no rollout plan."}
    ]
    _ = HOA_LU


async def test_create_a_plan_through_graphql(admin):
    # given
    waves = [
        {"name": "pilot", "tenants": [world.YEN_MO]},
        {
            "name": "next",
            "tenants": [world.KIM_SON],
            "ramp": [50, 100],
            "sustainDays": 14,
            "gate": [{"metric": "ACTIVATION_RATE", "minimum": 0.9}],
        },
    ]
    # when
    created = await step(admin, CREATE, waves=waves)
    again = await step(admin, CREATE, waves=waves)
    unknown = await step(
        admin, CREATE, flag="handbook.notices", waves=[{"name": "x", "tenants": ["atlantis"]}]
    )
    # then
    assert created == {"applied": True, "status": "draft", "wave": -1, "errors": []}
    assert again["errors"] == [
        {"code": "INVALID_INPUT", "message": "The flag 'handbook' already has a rollout plan."}
    ]
    assert unknown["errors"] == [{"code": "INVALID_INPUT", "message": "Unknown tenants: atlantis."}]


async def test_override_through_graphql_is_audited(admin, token, client_for):
    # given
    member = client_for(token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER)))
    # when
    _, body = await gql(admin, OVERRIDE, {"tenant": world.KIM_SON, "variant": "off"})
    _, notices = await gql(member, "{ notices { title } }")
    _, cleared = await gql(admin, OVERRIDE, {"tenant": world.KIM_SON, "variant": None})
    _, again = await gql(member, "{ notices { title } }")
    # then
    assert body["data"]["setFlagOverride"] == {
        "key": "handbook.notices",
        "version": 2,
        "errors": [],
    }
    assert error_codes(notices) == ["FEATURE_DISABLED"]
    assert cleared["data"]["setFlagOverride"]["version"] == 3
    assert "errors" not in again
    _, audit = await gql(admin, AUDIT, {"flag": "handbook.notices", "action": "flag.override"})
    assert [(r["tenant"], r["before"], r["after"]) for r in audit["data"]["rolloutAudit"]] == [
        (world.KIM_SON, {"variant": "off"}, None),
        (world.KIM_SON, None, {"variant": "off"}),
    ]


RULES = """
mutation($rules: [FlagRuleInput!]!, $version: Int!) {
  setFlagRules(flag: "handbook.notices", rules: $rules, expectedVersion: $version,
               reason: "members read notices on paper this month") {
    key version errors { code message }
  }
}
"""
MEMBERS_OFF = [
    {
        "conditions": [
            {"attribute": "ROLE", "values": ["member"]},
            {"attribute": "TENANT", "values": [world.KIM_SON]},
        ],
        "variant": "off",
    }
]


async def test_rules_through_graphql_target_by_attribute_and_are_audited(admin, token, client_for):
    # given
    member = client_for(token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER)))
    ks_admin = client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON, subject="ks-admin"))
    # when
    _, body = await gql(admin, RULES, {"rules": MEMBERS_OFF, "version": 1})
    _, member_notices = await gql(member, "{ notices { title } }")
    _, admin_notices = await gql(ks_admin, "{ notices { title } }")
    _, stale = await gql(admin, RULES, {"rules": [], "version": 1})
    # then
    assert body["data"]["setFlagRules"] == {"key": "handbook.notices", "version": 2, "errors": []}
    assert error_codes(member_notices) == ["FEATURE_DISABLED"]
    assert "errors" not in admin_notices
    assert stale["data"]["setFlagRules"]["errors"][0]["code"] == "VERSION_CONFLICT"
    _, audit = await gql(admin, AUDIT, {"flag": "handbook.notices", "action": "flag.rules"})
    assert audit["data"]["rolloutAudit"][0]["after"] == {
        "rules": [
            {
                "conditions": {"role": ["member"], "tenant": [world.KIM_SON]},
                "variant": "off",
            }
        ]
    }
    assert audit["data"]["rolloutAudit"][0]["reason"] == "members read notices on paper this month"


async def test_rule_with_unknown_variant_is_refused(admin):
    # given
    rules = [{"conditions": [{"attribute": "ROLE", "values": ["member"]}], "variant": "maybe"}]
    # when
    _, body = await gql(admin, RULES, {"rules": rules, "version": 1})
    # then
    assert body["data"]["setFlagRules"]["errors"] == [
        {
            "code": "INVALID_INPUT",
            "message": "The flag 'handbook.notices' has no variant 'maybe' (it has off, on).",
        }
    ]


PENDING = """
query($flag: String!) {
  rollout(flag: $flag) {
    pendingApprovals { id action requestedBy reason request }
    scheduledSteps { action runAt requestedBy reason }
  }
}
"""


async def test_rollout_lists_pending_approvals_and_scheduled_steps(plan, admin, second_admin):
    # given: Kim Son at 100%, the last wave asked for; a step scheduled for Monday
    for document in (START, ADVANCE, ADVANCE):
        await step(admin, document)
    requested = await step(admin, ADVANCE)
    await step(admin, SCHEDULE, at="2026-11-30T00:00:00Z")
    # when
    waiting = await step(second_admin, PENDING)
    await step(second_admin, APPROVE, id=requested["approvalId"])
    after = await step(second_admin, PENDING)
    # then
    assert waiting["pendingApprovals"] == [
        {
            "id": requested["approvalId"],
            "action": "advance",
            "requestedBy": ADMIN,
            "reason": "",
            "request": {"from": [1, 1], "to": [2, 0], "override_reason": None},
        }
    ]
    assert waiting["scheduledSteps"] == [
        {
            "action": "advance",
            "runAt": "2026-11-30T00:00:00+00:00",
            "requestedBy": ADMIN,
            "reason": "Monday",
        }
    ]
    assert after["pendingApprovals"] == []
    assert after["scheduledSteps"] == waiting["scheduledSteps"]
