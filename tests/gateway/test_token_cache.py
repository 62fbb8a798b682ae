"""Verified tokens are cached: served again without a signature check, never past their expiry,
never when refused, never for a token one byte different, and bounded by count and bytes."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway import auth
from gateway.auth import AuthError, TokenVerifier
from gateway.claims import Claims
from gateway.settings import DEVELOPMENT_JWT_SECRET
from gateway.token_cache import MAX_HOLD_S, TokenCache, entry_bytes
from tenants.identity import Principal
from tenants.types import Role


def _claims(**overrides):
    now = int(time.time())
    base = {
        "sub": "m1",
        "roles": ["member"],
        "tenant": "yen-mo",
        "iss": "pilotgraph-dev",
        "aud": "pilotgraph",
        "exp": now + 3600,
    }
    return {k: v for k, v in (base | overrides).items() if v is not None}


def _hs(payload, secret=DEVELOPMENT_JWT_SECRET):
    return jwt.encode(payload, secret, algorithm="HS256")


def _entry(exp: float) -> tuple[Claims, Principal]:
    claims = Claims(sub="m1", member_id="m1", roles=["member"], exp=exp, tenant="yen-mo")
    return claims, Principal(subject="m1", roles=frozenset({Role.MEMBER}), tenant="yen-mo")


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def no_decoding(monkeypatch):
    """After this, any signature check fails the test: what passes came from the cache."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("the token was decoded again")

    def start():
        monkeypatch.setattr(auth.jwt, "decode", refuse)

    return start


async def test_a_token_seen_again_is_served_from_the_cache(gateway, no_decoding):
    # given: a token verified once
    verifier = TokenVerifier(gateway.settings, gateway.registry)
    token = _hs(_claims())
    first = await verifier.verify(token)
    no_decoding()
    # when
    again = await verifier.verify(token)
    # then
    assert again == first
    assert (again.subject, again.tenant, again.roles) == ("m1", "yen-mo", frozenset({Role.MEMBER}))


@pytest.mark.parametrize("where", ["header", "payload", "signature"])
async def test_a_token_one_byte_different_is_verified_anew(gateway, where):
    # given: a token verified and cached
    verifier = TokenVerifier(gateway.settings, gateway.registry)
    token = _hs(_claims())
    await verifier.verify(token)
    # when: one byte of one part changed (a base64url letter for another)
    header, payload, signature = token.split(".")
    parts = {"header": header, "payload": payload, "signature": signature}
    text = parts[where]
    index = 5 if where != "signature" else 10
    parts[where] = text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]
    changed = ".".join(parts.values())
    # then: it is checked, and refused
    assert changed != token
    with pytest.raises(AuthError) as refused:
        await verifier.verify(changed)
    assert refused.value.code == "UNAUTHENTICATED"
    assert refused.value.message.startswith(
        ("The bearer token was refused", "The bearer token is malformed")
    )


async def test_a_refused_token_is_not_cached(gateway):
    # given
    cache = TokenCache()
    verifier = TokenVerifier(gateway.settings, gateway.registry, cache)
    unknown_tenant = _hs(_claims(tenant="atlantis"))
    bad_signature = _hs(_claims(), secret="another-secret-that-is-long-enough-for-hs256!!")
    # when / then: each refused, twice, and nothing kept
    for token, message in [
        (unknown_tenant, "The tenant claim names no known tenant."),
        (bad_signature, "The bearer token was refused: Signature verification failed."),
    ]:
        for _ in range(2):
            with pytest.raises(AuthError) as refused:
                await verifier.verify(token)
            assert refused.value.message == message
    assert len(cache) == 0


async def test_a_cached_token_expires_as_any_other(gateway, monkeypatch):
    # given: a token valid for one more minute, verified and cached
    cache = TokenCache()
    verifier = TokenVerifier(gateway.settings, gateway.registry, cache)
    now = time.time()
    token = _hs(_claims(exp=int(now) + 60))
    await verifier.verify(token)
    assert len(cache) == 1
    # when: past its expiry and the leeway (30 s)
    monkeypatch.setattr(time, "time", lambda: now + 60 + gateway.settings.jwt_leeway_s + 1)
    # then: the entry is gone, and the token refused as expired
    with pytest.raises(AuthError) as refused:
        await verifier.verify(token)
    assert refused.value.message == "The bearer token has expired."
    assert len(cache) == 0


async def test_a_token_not_valid_yet_is_not_cached_until_it_is(gateway, monkeypatch):
    # given: nbf two minutes ahead, beyond the 30 s leeway
    cache = TokenCache()
    verifier = TokenVerifier(gateway.settings, gateway.registry, cache)
    now = time.time()
    token = _hs(_claims(nbf=int(now) + 120))
    # when / then: refused and not cached, then accepted once its time has come
    with pytest.raises(AuthError, match=r"not valid yet \(nbf\)"):
        await verifier.verify(token)
    assert len(cache) == 0
    monkeypatch.setattr(time, "time", lambda: now + 121)
    assert (await verifier.verify(token)).subject == "m1"
    assert len(cache) == 1


def test_an_entry_is_dropped_at_the_tokens_exp():
    # given
    clock = _Clock(1_000.0)
    cache = TokenCache(clock=clock)
    cache.put("t", *_entry(exp=1_060.0))
    # when / then: served before exp, never at or after it
    clock.now = 1_059.9
    assert cache.get("t") is not None
    clock.now = 1_060.0
    assert cache.get("t") is None
    assert len(cache) == 0
    assert cache.size_bytes == 0


def test_an_entry_is_held_at_most_max_hold():
    # given: a token valid for a day
    clock = _Clock(1_000.0)
    cache = TokenCache(clock=clock)
    cache.put("t", *_entry(exp=1_000.0 + 86_400))
    # when / then
    clock.now = 1_000.0 + MAX_HOLD_S - 1
    assert cache.get("t") is not None
    clock.now = 1_000.0 + MAX_HOLD_S
    assert cache.get("t") is None


def test_an_entry_is_held_at_most_hold_s():
    # given: a cache holding entries 5 s (a JWKS cached that long)
    clock = _Clock(1_000.0)
    cache = TokenCache(hold_s=5, clock=clock)
    cache.put("t", *_entry(exp=1_000.0 + 86_400))
    # when / then
    clock.now = 1_004.9
    assert cache.get("t") is not None
    clock.now = 1_005.0
    assert cache.get("t") is None


def test_an_expired_token_is_not_kept():
    # given
    clock = _Clock(2_000.0)
    cache = TokenCache(clock=clock)
    # when: accepted within the leeway, but already past exp
    cache.put("t", *_entry(exp=1_990.0))
    # then
    assert len(cache) == 0


def test_the_cache_is_bounded_by_bytes():
    # given: room for three tokens of 1,000 bytes
    tokens = [f"{i}".ljust(1_000, "x") for i in range(5)]
    cost = entry_bytes(tokens[0])
    cache = TokenCache(max_bytes=3 * cost, clock=_Clock(0.0))
    # when
    for token in tokens:
        cache.put(token, *_entry(exp=100.0))
    # then: the oldest two went first
    assert len(cache) == 3
    assert cache.size_bytes == 3 * cost
    assert [cache.get(t) is not None for t in tokens] == [False, False, True, True, True]


def test_a_token_too_large_is_never_kept():
    # given
    cache = TokenCache(max_entry_bytes=4_096, clock=_Clock(0.0))
    # when
    cache.put("y" * 4_096, *_entry(exp=100.0))
    cache.put("small", *_entry(exp=100.0))
    # then
    assert cache.get("y" * 4_096) is None
    assert cache.get("small") is not None
    assert len(cache) == 1


def test_the_cache_is_bounded_by_count():
    # given
    cache = TokenCache(max_entries=2, clock=_Clock(0.0))
    # when
    for token in ("a", "b", "c"):
        cache.put(token, *_entry(exp=100.0))
    # then
    assert len(cache) == 2
    assert cache.get("a") is None
    assert cache.get("c") is not None
    assert cache.size_bytes == 2 * entry_bytes("a")
