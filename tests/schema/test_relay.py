"""A global ID has one spelling: the one the server writes; any other is INVALID_ID."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schema.relay import (
    InvalidId,
    canonical_uuid,
    decode_cursor,
    decode_id,
    encode_cursor,
    encode_id,
)
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql

BRANCH = "query($id: ID!) { branch(id: $id) { name } }"
ID = world.YM_BRANCH_A
CANONICAL = encode_id("Branch", ID)


def b64(text: str) -> str:
    """``text`` as unpadded URL-safe base64: the server's encoding of any payload."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def non_canonical(value: str) -> str:
    return f"'{value[:80]}' is not a Branch ID as the API writes it: send IDs unchanged."


VARIANTS = [
    CANONICAL + "=",
    CANONICAL + "==",
    CANONICAL + "===",
    base64.b64encode(f"Branch:{ID}".encode()).decode(),
    " " + CANONICAL,
    CANONICAL + "\n",
    CANONICAL[:10] + " " + CANONICAL[10:],
    CANONICAL[:10] + "\t" + CANONICAL[10:],
    b64(f"Branch:{{{ID}}}"),
    b64(f"Branch:urn:uuid:{ID}"),
    b64(f"Branch:{str(ID).upper()}"),
    b64(f"Branch:{ID.hex}"),
]


@pytest.mark.parametrize("value", VARIANTS)
def test_another_spelling_of_an_id_is_refused(value):
    # when
    with pytest.raises(InvalidId) as refused:
        decode_id("Branch", value)
    # then
    assert refused.value.code == "INVALID_ID"
    assert refused.value.message == non_canonical(value)


def test_a_trailing_character_with_unused_bits_set_is_refused():
    # given: the last character carries bits the decoder drops; flipping them keeps the bytes
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(CANONICAL[-1])
    twin = CANONICAL[:-1] + alphabet[last | 1 if last % 2 == 0 else last - 1]
    # when / then
    with pytest.raises(InvalidId, match="as the API writes it"):
        decode_id("Branch", twin)


def test_the_canonical_id_is_accepted():
    assert decode_id("Branch", CANONICAL) == ID


async def test_a_padded_id_is_invalid_id_over_graphql(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    # when
    status, body = await gql(client, BRANCH, {"id": CANONICAL + "=="})
    # then
    assert status == 200
    assert error_codes(body) == ["INVALID_ID"]
    assert body["errors"][0]["message"] == non_canonical(CANONICAL + "==")


# -- any other string is refused -----------------------------------------------------------

SPELLINGS = st.sampled_from(
    [
        str,
        lambda u: str(u).upper(),
        lambda u: f"{{{u}}}",
        lambda u: f"urn:uuid:{u}",
        lambda u: u.hex,
    ]
)


@st.composite
def near_misses(draw: st.DrawFn) -> tuple[str, bool]:
    """A canonical ID, respelled, re-padded, re-typed or with characters added or removed;
    and whether the result is still the canonical ID."""
    value = draw(st.uuids())
    type_name = draw(st.sampled_from(["Branch", "branch", "Member", "BRANCH"]))
    text = draw(st.sampled_from([b64, lambda t: base64.b64encode(t.encode()).decode()]))(
        f"{type_name}:{draw(SPELLINGS)(value)}"
    )
    at = draw(st.integers(min_value=0, max_value=len(text)))
    insert = draw(st.sampled_from(["", "", "=", " ", "\n", "+", "/", "-", "_", "A", "é"]))
    cut = draw(st.integers(min_value=0, max_value=1))
    result = text[:at] + insert + text[at + cut :]
    return result, result == encode_id("Branch", value)


def decoded_or_refusal(value: str) -> object:
    try:
        return decode_id("Branch", value)
    except InvalidId as exc:
        return exc


@settings(max_examples=1000, deadline=None)
@given(value=st.one_of(near_misses().map(lambda case: case[0]), st.text(max_size=80)))
def test_only_the_canonical_spelling_decodes(value):
    # when
    outcome = decoded_or_refusal(value)
    # then: a UUID only for its canonical ID; otherwise INVALID_ID with a message
    if isinstance(outcome, InvalidId):
        assert (outcome.code, bool(outcome.message)) == ("INVALID_ID", True)
    else:
        assert encode_id("Branch", outcome) == value


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=near_misses())
async def test_non_canonical_ids_over_graphql_are_invalid_id_never_5xx(client_for, token, case):
    # given
    value, canonical = case
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    # when
    status, body = await gql(client, BRANCH, {"id": value})
    # then
    assert status == 200, body
    codes = error_codes(body)
    assert codes == ([] if canonical else ["INVALID_ID"]), (value, body)


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda u: str(u).upper(), id="upper-case"),
        pytest.param(lambda u: "{" + str(u) + "}", id="braced"),
        pytest.param(lambda u: u.urn, id="urn"),
        pytest.param(lambda u: u.hex, id="no-hyphens"),
        pytest.param(lambda u: f" {u}", id="whitespace"),
    ],
)
def test_a_raw_uuid_has_one_spelling(spelling):
    # given
    value = uuid.UUID("8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f")
    # when / then
    assert canonical_uuid(str(value)) == value
    assert canonical_uuid(spelling(value)) is None


def test_a_cursor_has_one_spelling():
    # given
    member_id = uuid.UUID("8d7f0c1e-6a3b-4c2d-9e8f-0a1b2c3d4e5f")
    cursor = encode_cursor("Nguyễn Văn An", member_id)
    respelled = base64.urlsafe_b64encode(
        f"{str(member_id).upper()}:Nguyễn Văn An".encode()
    ).decode()
    # when / then
    assert decode_cursor(cursor) == ("Nguyễn Văn An", member_id)
    with pytest.raises(InvalidId) as refused:
        decode_cursor(respelled)
    assert (refused.value.code, refused.value.message) == (
        "INVALID_ID",
        "The 'after' cursor is malformed.",
    )
