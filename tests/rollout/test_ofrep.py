"""OFREP over HTTP: single and bulk evaluation, ETag/304, and the spec's errors."""

from __future__ import annotations

import pytest

from gateway.ofrep import OFREP_REASONS
from rollout import flags
from rollout.evaluation import Reason
from rollout.flag_catalogue import FlagKey
from rollout.models import FlagState
from tenants.types import Role
from tests import world

ONE = "/ofrep/v1/evaluate/flags/{key}"
BULK = "/ofrep/v1/evaluate/flags"
MEMBER = str(world.YM_MEMBER_A)


@pytest.fixture
def member(token, client_for):
    return client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=MEMBER))


async def test_a_flag_for_the_signed_in_member(member):
    # when: the Python provider sends an empty context when it has none
    response = await member.post(ONE.format(key="handbook.notices"), json={"context": {}})
    # then
    assert response.status_code == 200
    assert response.json() == {
        "key": "handbook.notices",
        "value": True,
        "reason": "STATIC",
        "variant": "on",
        "metadata": {"version": 1},
    }


async def test_a_matching_targeting_key_is_accepted(member):
    # when
    response = await member.post(
        ONE.format(key="handbook"), json={"context": {"targetingKey": MEMBER}}
    )
    # then
    assert (response.status_code, response.json()["value"]) == (200, True)


async def test_unknown_flag_is_404(member):
    # when
    response = await member.post(ONE.format(key="handbook.chat"), json={"context": {}})
    # then
    assert response.status_code == 404
    assert response.json() == {
        "key": "handbook.chat",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "There is no flag 'handbook.chat'.",
    }


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        (b"{nope", "PARSE_ERROR", "The body is not JSON."),
        (b'{"context": [1]}', "INVALID_CONTEXT", "context must be a JSON object."),
        (
            b'{"context": {"targetingKey": "someone-else"}}',
            "INVALID_CONTEXT",
            "targetingKey must be the signed-in member or absent.",
        ),
    ],
)
async def test_bad_requests_are_400(member, body, code, details):
    # when
    response = await member.post(
        ONE.format(key="handbook"), content=body, headers={"Content-Type": "application/json"}
    )
    # then
    assert response.status_code == 400
    assert response.json() == {"key": "handbook", "errorCode": code, "errorDetails": details}


async def test_without_a_token_is_401(client_for):
    # when
    response = await client_for().post(ONE.format(key="handbook"), json={"context": {}})
    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_bulk_has_every_flag_and_an_etag(member):
    # when
    response = await member.post(BULK, json={"context": {}})
    # then
    assert response.status_code == 200
    assert [f["key"] for f in response.json()["flags"]] == sorted(k.value for k in FlagKey)
    assert response.headers["ETag"].startswith('"')


async def test_bulk_304_until_the_configuration_changes(gateway, member):
    # given
    etag = (await member.post(BULK, json={"context": {}})).headers["ETag"]
    # when
    unchanged = await member.post(BULK, json={"context": {}}, headers={"If-None-Match": etag})
    async with gateway.sessionmaker() as session:
        await flags.update(
            session=session,
            province_id="ninh-binh",
            key=FlagKey.NOTICES.value,
            expected_version=1,
            actor="ops",
            reason="incident",
            now=world.NOW,
            state=FlagState.KILLED,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)
    changed = await member.post(BULK, json={"context": {}}, headers={"If-None-Match": etag})
    # then
    assert (unchanged.status_code, unchanged.headers["ETag"]) == (304, etag)
    assert changed.status_code == 200
    notices = next(f for f in changed.json()["flags"] if f["key"] == "handbook.notices")
    assert (notices["value"], notices["reason"]) == (False, "DISABLED")


async def test_the_etag_covers_the_context(member, token, client_for):
    # given: another member of the same tenant, same configuration
    other = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_B)))
    etag = (await member.post(BULK, json={"context": {}})).headers["ETag"]
    # when
    response = await other.post(BULK, json={"context": {}}, headers={"If-None-Match": etag})
    # then
    assert response.status_code == 200
    assert response.headers["ETag"] != etag


# OFREP's reason enum (open-feature/protocol service/openapi.yaml, evaluationSuccess.reason).
SPEC_REASONS = {"STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "UNKNOWN"}
NOTICES = FlagKey.NOTICES.value


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_maps_into_ofreps_enum(reason):
    # when
    answered = OFREP_REASONS[reason]
    # then
    assert answered in SPEC_REASONS


async def test_a_default_answer_says_unknown_not_static(gateway, member):
    # given: the flag targets another tenant, so a Yen Mo member falls through to the default
    async with gateway.sessionmaker() as session:
        await flags.set_override(
            session=session,
            province_id="ninh-binh",
            key=NOTICES,
            tenant_id=world.KIM_SON,
            variant="off",
            actor="ops",
            reason="district asked",
            now=world.NOW,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)
    # when
    one = await member.post(ONE.format(key=NOTICES), json={"context": {}})
    bulk = await member.post(BULK, json={"context": {}})
    # then
    assert (one.json()["value"], one.json()["reason"]) == (True, "UNKNOWN")
    assert {f["reason"] for f in bulk.json()["flags"]} <= SPEC_REASONS
    notices = next(f for f in bulk.json()["flags"] if f["key"] == NOTICES)
    assert notices["reason"] == "UNKNOWN"


@pytest.mark.parametrize(
    "header",
    ["W/{etag}", '"other", {etag}', '"other",W/{etag}', "*", " * "],
    ids=["weak", "in-a-list", "weak-in-a-list", "any", "any-with-spaces"],
)
async def test_bulk_304_for_a_weak_listed_or_any_tag(member, header):
    # given
    etag = (await member.post(BULK, json={"context": {}})).headers["ETag"]
    # when
    response = await member.post(
        BULK, json={"context": {}}, headers={"If-None-Match": header.format(etag=etag)}
    )
    # then
    assert (response.status_code, response.headers["ETag"]) == (304, etag)
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "header",
    ['"other"', 'W/"other"', "{bare}", '"*"'],
    ids=["other", "weak-other", "unquoted", "quoted-star"],
)
async def test_bulk_200_when_no_tag_matches(member, header):
    # given
    etag = (await member.post(BULK, json={"context": {}})).headers["ETag"]
    # when
    response = await member.post(
        BULK, json={"context": {}}, headers={"If-None-Match": header.format(bare=etag.strip('"'))}
    )
    # then
    assert response.status_code == 200
    assert response.headers["ETag"] == etag


async def test_evaluations_are_never_stored_by_a_cache(member):
    # when
    one = await member.post(ONE.format(key="handbook"), json={"context": {}})
    bulk = await member.post(BULK, json={"context": {}})
    # then
    assert one.headers["cache-control"] == bulk.headers["cache-control"] == "no-store"
