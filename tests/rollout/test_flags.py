"""Flag writes on both databases: versions, overrides, rules, audit rows, snapshot."""

from __future__ import annotations

import pytest

from rollout import audit, flags, snapshot
from rollout.errors import FlagNotFound, UnknownVariant, VersionConflict
from rollout.evaluation import EvaluationContext, Reason, evaluate
from rollout.flag_catalogue import FlagKey
from rollout.models import FlagState
from tests.world import KIM_SON, NOW, YEN_MO

KEY = FlagKey.NOTICES.value
ADMIN = "province-admin-1"


async def test_ensure_creates_a_registry_flag_serving_what_it_served(session):
    # when: unconfigured, the registry serves "on"; the new row keeps that
    flag = await flags.ensure(
        session=session, province_id="ninh-binh", key=KEY, actor=ADMIN, now=NOW
    )
    await session.commit()
    # then
    assert (flag.default_variant, flag.state, flag.version) == ("on", "active", 1)
    rows = await audit.query(session=session, province_ids=["ninh-binh"], flag_key=KEY)
    assert [(r.action, r.actor, r.before) for r in rows] == [("flag.create", ADMIN, None)]
    assert rows[0].after == {
        "description": flag.description,
        "default_variant": "on",
        "state": "active",
        "version": 1,
    }


async def test_ensure_refuses_a_flag_outside_the_registry(session):
    # when / then
    with pytest.raises(FlagNotFound) as raised:
        await flags.ensure(
            session=session, province_id="ninh-binh", key="handbook.chat", actor=ADMIN, now=NOW
        )
    assert raised.value.code == "FLAG_NOT_FOUND"
    assert raised.value.message == "There is no flag 'handbook.chat'."


async def test_stale_update_is_a_version_conflict(session):
    # given
    await flags.ensure(session=session, province_id="ninh-binh", key=KEY, actor=ADMIN, now=NOW)
    await flags.update(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        expected_version=1,
        actor=ADMIN,
        reason="first",
        now=NOW,
        description="Notices.",
    )
    # when / then
    with pytest.raises(VersionConflict) as raised:
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=KEY,
            expected_version=1,
            actor="other",
            reason="late",
            now=NOW,
            state=FlagState.KILLED,
        )
    assert raised.value.code == "VERSION_CONFLICT"
    assert raised.value.message == (
        "The flag 'handbook.notices' changed meanwhile: you edited version 1, it is now at 2."
    )


async def test_kill_switch_update_is_audited_and_evaluated(session):
    # given
    await flags.ensure(session=session, province_id="ninh-binh", key=KEY, actor=ADMIN, now=NOW)
    # when
    await flags.update(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        expected_version=1,
        actor=ADMIN,
        reason="incident 12",
        now=NOW,
        state=FlagState.KILLED,
    )
    await session.commit()
    current = (await snapshot.load(session=session))["ninh-binh"]
    # then
    result = evaluate(current, KEY, EvaluationContext(tenant=YEN_MO, member="m"))
    assert (result.value, result.reason, result.version) == (False, Reason.DISABLED, 2)
    [row] = await audit.query(
        session=session, province_ids=["ninh-binh"], flag_key=KEY, action="flag.update"
    )
    assert (row.before["state"], row.after["state"], row.reason) == (
        "active",
        "killed",
        "incident 12",
    )


async def test_override_and_rules_reach_the_snapshot(session):
    # given
    await flags.ensure(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        actor=ADMIN,
        now=NOW,
        default_variant="off",
    )
    # when
    await flags.set_override(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        tenant_id=KIM_SON,
        variant="on",
        actor=ADMIN,
        reason="district asked",
        now=NOW,
    )
    await flags.set_rules(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        rules=[({"role": ["branch_secretary"]}, "on")],
        expected_version=2,
        actor=ADMIN,
        reason="secretaries first",
        now=NOW,
    )
    await session.commit()
    current = (await snapshot.load(session=session))["ninh-binh"]
    # then
    kim_son = evaluate(current, KEY, EvaluationContext(tenant=KIM_SON, member="m"))
    secretary = evaluate(
        current,
        KEY,
        EvaluationContext(tenant=YEN_MO, member="s", roles=frozenset({"branch_secretary"})),
    )
    member = evaluate(current, KEY, EvaluationContext(tenant=YEN_MO, member="m"))
    assert (kim_son.value, kim_son.reason) == (True, Reason.TARGETING_MATCH)
    assert (secretary.value, secretary.reason) == (True, Reason.TARGETING_MATCH)
    assert (member.value, member.reason) == (False, Reason.DEFAULT)
    rows = await audit.query(session=session, province_ids=["ninh-binh"], tenant_id=KIM_SON)
    assert [(r.action, r.after, r.reason) for r in rows] == [
        ("flag.override", {"variant": "on"}, "district asked")
    ]


async def test_override_with_an_unknown_variant_is_refused(session):
    # when / then
    with pytest.raises(UnknownVariant) as raised:
        await flags.set_override(
            session=session,
            province_id="ninh-binh",
            key=KEY,
            tenant_id=KIM_SON,
            variant="blue",
            actor=ADMIN,
            reason="",
            now=NOW,
        )
    assert raised.value.message == (
        "The flag 'handbook.notices' has no variant 'blue' (it has off, on)."
    )


async def test_store_keeps_the_last_snapshot_when_the_database_fails(session):
    # given
    await flags.ensure(
        session=session,
        province_id="ninh-binh",
        key=KEY,
        actor=ADMIN,
        now=NOW,
        default_variant="off",
    )
    await session.commit()
    store = snapshot.FlagStore()
    await store.reload_from(session)
    good = store.snapshot_for("ninh-binh")

    def broken() -> object:
        raise OSError("database unreachable")

    # when
    kept = (await store.reload(broken))["ninh-binh"]  # type: ignore[arg-type]
    # then
    assert kept is good
    assert evaluate(kept, KEY, EvaluationContext(tenant=YEN_MO, member="m")).value is False
