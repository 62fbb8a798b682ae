"""Pure evaluation: order, reasons, sticky buckets, monotonic ramps, distribution."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollout.evaluation import (
    BRANCH,
    BUCKETS,
    EvaluationContext,
    FlagConfig,
    Reason,
    Rule,
    bucket,
    evaluate,
    make_snapshot,
)
from rollout.flag_catalogue import FlagKey

KEY = FlagKey.NOTICES.value
VARIANTS = MappingProxyType({"on": True, "off": False})


def config(**overrides: object) -> FlagConfig:
    base: dict[str, object] = {
        "key": KEY,
        "kind": "boolean",
        "variants": VARIANTS,
        "default_variant": "off",
        "rollout_variant": "on",
        "version": 3,
    }
    base.update(overrides)
    return FlagConfig(**base)  # type: ignore[arg-type]


def ctx(tenant: str = "yen-mo", member: str | None = "m-1", **kw: object) -> EvaluationContext:
    return EvaluationContext(tenant=tenant, member=member, **kw)  # type: ignore[arg-type]


def test_unconfigured_registry_flag_is_static_on():
    # given
    snapshot = make_snapshot({})
    # when
    result = evaluate(snapshot, KEY, ctx())
    # then
    assert (result.value, result.variant, result.reason) == (True, "on", Reason.STATIC)


def test_unknown_flag_is_an_error():
    # when
    result = evaluate(make_snapshot({}), "nope", ctx())
    # then
    assert result.reason is Reason.ERROR
    assert result.error_code == "FLAG_NOT_FOUND"
    assert result.value is None


def test_kill_switch_beats_override_rules_and_rollout():
    # given
    snapshot = make_snapshot(
        {
            KEY: config(
                state="killed",
                overrides=MappingProxyType({"yen-mo": "on"}),
                rollouts=MappingProxyType({"yen-mo": BUCKETS}),
            )
        }
    )
    # when
    result = evaluate(snapshot, KEY, ctx())
    # then
    assert (result.value, result.reason) == (False, Reason.DISABLED)


def test_override_beats_rules():
    # given
    rule = Rule((("tenant", frozenset({"yen-mo"})),), "on")
    snapshot = make_snapshot(
        {KEY: config(overrides=MappingProxyType({"yen-mo": "off"}), rules=(rule,))}
    )
    # when
    result = evaluate(snapshot, KEY, ctx())
    # then
    assert (result.value, result.variant, result.reason) == (False, "off", Reason.TARGETING_MATCH)


def test_rule_matches_every_attribute_it_names():
    # given: secretaries of branch b-1 only
    rule = Rule((("branch", frozenset({"b-1"})), ("role", frozenset({"branch_secretary"}))), "on")
    snapshot = make_snapshot({KEY: config(rules=(rule,))})
    # when
    secretary = evaluate(snapshot, KEY, ctx(roles=frozenset({"branch_secretary"}), branch="b-1"))
    member = evaluate(snapshot, KEY, ctx(roles=frozenset({"member"}), branch="b-1"))
    # then
    assert (secretary.value, secretary.reason) == (True, Reason.TARGETING_MATCH)
    assert (member.value, member.reason) == (False, Reason.DEFAULT)


def test_rollout_is_per_tenant_and_reports_split():
    # given
    snapshot = make_snapshot({KEY: config(rollouts=MappingProxyType({"yen-mo": BUCKETS}))})
    # when
    inside = evaluate(snapshot, KEY, ctx("yen-mo"))
    elsewhere = evaluate(snapshot, KEY, ctx("kim-son"))
    # then
    assert (inside.value, inside.reason) == (True, Reason.SPLIT)
    assert (elsewhere.value, elsewhere.reason) == (False, Reason.DEFAULT)


def test_partial_rollout_without_member_is_a_targeting_key_error():
    # given
    snapshot = make_snapshot({KEY: config(rollouts=MappingProxyType({"yen-mo": 5000}))})
    # when
    result = evaluate(snapshot, KEY, ctx(member=None))
    # then
    assert (result.value, result.reason, result.error_code) == (
        False,
        Reason.ERROR,
        "TARGETING_KEY_MISSING",
    )


# Buckets of ``handbook.notices`` computed once with the murmur3 reference below (and agreeing
# with the mmh3 package): unsigned MurmurHash3_x86_32, seed 0, of the UTF-8 of "flag:member",
# modulo 10,000. A changed formula, seed, separator or encoding moves them.
PINNED_BUCKETS = {
    "member-42": 3822,
    "member-1": 7101,
    "a": 7241,
    "Nguyễn Văn A": 4772,
    "00000000-0000-0000-0000-000000000001": 9992,
}
# Test vectors of MurmurHash3_x86_32 (data, seed, hash) as published with the reference
# implementation's verification (SMHasher) and quoted on the algorithm's Wikipedia page.
MURMUR3_VECTORS = [
    (b"", 0, 0x00000000),
    (b"", 1, 0x514E28B7),
    (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\xff\xff\xff\xff", 0, 0x76293B50),
    (b"!Ce\x87", 0, 0xF55B516B),
    (b"!Ce\x87", 0x5082EDEE, 0x2362F9DE),
    (b"!Ce", 0, 0x7E4A8634),
    (b"!C", 0, 0xA0F7B07A),
    (b"!", 0, 0x72661CF4),
    (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"aaaa", 0x9747B28C, 0x5A97808A),
    (b"Hello, world!", 0x9747B28C, 0x24884CBA),
    (b"The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]


def murmur3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 written out from the reference C, independent of the code under test."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF

    def mixed(k: int) -> int:
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        return (k * c2) & mask

    h, whole = seed & mask, len(data) // 4 * 4
    for i in range(0, whole, 4):
        h ^= mixed(int.from_bytes(data[i : i + 4], "little"))
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    if data[whole:]:
        h ^= mixed(int.from_bytes(data[whole:], "little"))
    h ^= len(data)
    for shift, factor in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
        h = ((h ^ (h >> shift)) * factor) & mask
    return h ^ (h >> 16)


@pytest.mark.parametrize(("data", "seed", "expected"), MURMUR3_VECTORS)
def test_the_murmur3_reference_gives_the_published_vectors(data, seed, expected):
    assert murmur3_32(data, seed) == expected


@pytest.mark.parametrize(("member", "expected"), sorted(PINNED_BUCKETS.items()))
def test_bucket_is_pinned_for_known_members(member, expected):
    assert bucket(KEY, member) == expected


@given(member=st.text(min_size=1, max_size=40))
def test_bucket_is_the_reference_murmur3_of_flag_and_member(member):
    expected = murmur3_32(f"{KEY}:{member}".encode()) % BUCKETS
    assert bucket(KEY, member) == expected
    assert 0 <= bucket(KEY, member) < BUCKETS


@given(
    member=st.text(min_size=1, max_size=40),
    low=st.integers(min_value=0, max_value=BUCKETS),
    high=st.integers(min_value=0, max_value=BUCKETS),
)
def test_raising_the_percentage_only_adds_members(member, low, high):
    # given
    low, high = sorted((low, high))
    before = make_snapshot({KEY: config(rollouts=MappingProxyType({"yen-mo": low}))})
    after = make_snapshot({KEY: config(rollouts=MappingProxyType({"yen-mo": high}))})
    # when
    was_on = evaluate(before, KEY, ctx(member=member)).value
    is_on = evaluate(after, KEY, ctx(member=member)).value
    # then: nobody who had it loses it
    assert not was_on or is_on


def test_distribution_within_one_point_over_100k_members():
    # given
    members = [f"member-{n}" for n in range(100_000)]
    for percentage in (1, 10, 25, 50, 75, 99.5):
        snapshot = make_snapshot(
            {KEY: config(rollouts=MappingProxyType({"yen-mo": int(percentage * 100)}))}
        )
        # when
        on = sum(evaluate(snapshot, KEY, ctx(member=m)).value is True for m in members)
        # then
        assert abs(on / 1000 - percentage) <= 1.0, percentage


def test_etag_follows_versions():
    # given
    one = make_snapshot({KEY: config(version=3)})
    same = make_snapshot({KEY: config(version=3)})
    other = make_snapshot({KEY: config(version=4)})
    # then
    assert one.etag == same.etag != other.etag


ATTRIBUTES = ("tenant", "role", "branch", "member")
VALUES = st.sampled_from(["yen-mo", "kim-son", "member", "b-1", "b-2", "m-1", "m-2"])
RULES = st.lists(
    st.builds(
        Rule,
        st.lists(
            st.tuples(st.sampled_from(ATTRIBUTES), st.frozensets(VALUES, min_size=1, max_size=3)),
            min_size=1,
            max_size=3,
            unique_by=lambda condition: condition[0],
        ).map(tuple),
        st.sampled_from(["on", "off"]),
    ),
    max_size=4,
)
CONFIGS = st.builds(
    config,
    default_variant=st.sampled_from(["on", "off"]),
    state=st.sampled_from(["active", "active", "killed"]),
    rules=RULES.map(tuple),
    overrides=st.dictionaries(
        st.sampled_from(["yen-mo", "kim-son"]), st.sampled_from(["on", "off"])
    ).map(MappingProxyType),
    rollouts=st.dictionaries(st.sampled_from(["yen-mo", "kim-son"]), st.integers(0, BUCKETS)).map(
        MappingProxyType
    ),
)
CONTEXTS = st.builds(
    EvaluationContext,
    tenant=st.sampled_from(["yen-mo", "kim-son"]),
    member=st.sampled_from(["m-1", "m-2"]),
    roles=st.frozensets(st.sampled_from(["member", "branch_secretary"]), max_size=2),
    branch=st.sampled_from([None, "b-1", "b-2"]),
)


def _passes_a_branch_rule(flag: FlagConfig, who: EvaluationContext) -> bool:
    """Whether evaluation, without the branch, goes past a rule on branch before deciding."""
    if flag.state != "active" or who.tenant in flag.overrides:
        return False
    for rule in flag.rules:
        if rule.matches(who):
            return False
        if any(attr == BRANCH for attr, _ in rule.conditions):
            return True
    return False


@given(flag=CONFIGS, who=CONTEXTS)
def test_the_fallback_is_evaluation_as_if_the_branch_were_absent(flag, who):
    # given: the branch could not be read (whatever value the caller had)
    snapshot = make_snapshot({KEY: flag})
    unreadable = replace(who, unavailable=frozenset({BRANCH}))
    # when
    fallback = evaluate(snapshot, KEY, unreadable)
    absent = evaluate(snapshot, KEY, replace(who, branch=None))
    readable = evaluate(snapshot, KEY, who)
    # then: rules on branch do not match; the result says so exactly when one could have
    assert (fallback.value, fallback.variant, fallback.reason, fallback.error_code) == (
        absent.value,
        absent.variant,
        absent.reason,
        absent.error_code,
    )
    assert fallback.stale is _passes_a_branch_rule(flag, replace(who, branch=None))
    assert fallback.unavailable == (frozenset({BRANCH}) if fallback.stale else frozenset())
    assert not readable.stale
    assert not absent.stale
