"""OFREP over HTTP: single and bulk evaluation, ETag/304, and the spec's errors."""

from __future__ import annotations

import pytest

from rollout import flags
from rollout.models import FlagState
from rollout.registry import FlagKey
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
        "key": "handbook.notices", "value": True, "reason": "STATIC", "variant": "on",
        "metadata": {"version": 0},
    }  # fmt: skip


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
        "key": "handbook.chat", "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "There is no flag 'handbook.chat'.",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        (b"{nope", "PARSE_ERROR", "The body is not JSON."),
        (b'{"context": [1]}', "INVALID_CONTEXT", "context must be a JSON object."),
        (b'{"context": {"targetingKey": "someone-else"}}', "INVALID_CONTEXT",
         "targetingKey must be the signed-in member or absent."),
    ],
)  # fmt: skip
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
