"""Tokens with claims of every type and shape: never a 5xx, never an uncoded error, and never
data beyond what well-typed claims would grant (malformed claims grant nothing)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from tenants.types import Role
from tests.security import principals, world
from tests.security.checks import Finding
from tests.security.fuzzing import hold
from tests.security.operations import operations
from tests.security.principals import Caller
from tests.security.probes import attempt
from tests.security.transport import Request

MISSING = object()
SLUGS = [t.slug for t in world.TENANTS]
# Reads that pick a tenant through tenancy (path, header) or an argument; rollout reads are
# province configuration, probed per caller by test_isolation.
PROBED = ("tenant", "branches", "members", "notices", "documents", "adoption", "retention")
EXAMPLES = 120

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
provinces = st.one_of(
    st.sampled_from([*world.PROVINCES, "", "unknown-province", "NINH-BINH"]),
    st.lists(st.sampled_from(list(world.PROVINCES)), max_size=3),
    junk,
)
tenants = st.one_of(
    st.sampled_from([*SLUGS, "", "unknown"]), st.lists(st.sampled_from(SLUGS), max_size=2), junk
)
roles = st.one_of(
    st.lists(st.sampled_from([*(r.value for r in Role), "root", "PROVINCE_ADMIN", ""]), max_size=3),
    st.sampled_from([r.value for r in Role]),
    junk,
)


def _times() -> st.SearchStrategy[object]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return st.one_of(
        st.just(now),
        st.just(str(now)),
        st.just(now + 3600),
        st.just(str(now + 3600)),
        st.floats(allow_nan=False, allow_infinity=False),
        junk,
    )


def claims() -> st.SearchStrategy[dict]:
    """A real caller's claims with one to three of them replaced, removed, or added."""
    values = {
        "sub": st.one_of(st.text(max_size=20), junk),
        "roles": roles,
        "tenant": tenants,
        "province": provinces,
        "exp": _times(),
        "nbf": _times(),
        "iat": _times(),
    }
    change = st.one_of(
        *(st.tuples(st.just(k), st.one_of(v, st.just(MISSING))) for k, v in values.items()),
        st.tuples(st.text(min_size=1, max_size=6), junk),
    )
    now = int(dt.datetime.now(dt.UTC).timestamp())
    fresh = {"iat": now, "exp": now + 3600}
    base = st.sampled_from([{**c.claims, **fresh} for c in principals.callers()])
    return st.tuples(base, st.lists(change, min_size=1, max_size=3)).map(_changed)


def _changed(pair: tuple[dict, list[tuple[str, object]]]) -> dict:
    claims = dict(pair[0])
    for key, value in pair[1]:
        claims.pop(key, None)
        if value is not MISSING:
            claims[key] = value
    return claims


def _requests(arena, token: str, slug: str, way: int) -> list[tuple[str, Request]]:
    """Reads aimed at ``slug`` one ``way``: its path, the header, or arguments from home."""
    auth = {"Authorization": f"Bearer {token}"}
    ops = [op for op in operations("query", arena.target(slug)) if op.field in PROBED]
    ways = [(f"/t/{slug}/graphql", {}), ("/graphql", {"X-Tenant": slug}), ("/graphql", {})]
    path, extra = ways[way]
    return [
        (f"claims {op.field}", Request("POST", path, {**auth, **extra}, {"query": op.text}))
        for op in ops
    ]


async def _check(arena, drawn: tuple[dict, str]) -> list[Finding]:
    claims, slug, way = drawn
    caller = Caller(f"fuzzed {claims!r}"[:300], claims, principals.cover_of(claims), None)
    token = principals.sign_exactly(arena.settings, claims)
    found = []
    for operation, request in _requests(arena, token, slug, way):
        found += await attempt(arena, caller, operation, request)
    return found


async def test_no_claims_reach_beyond_what_they_grant(arena):
    # given: claims of every type and shape, aimed at every tenant
    drawn = st.tuples(claims(), st.sampled_from(SLUGS), st.integers(min_value=0, max_value=2))
    # when / then
    await hold(drawn, lambda value: _check(arena, value), EXAMPLES)
