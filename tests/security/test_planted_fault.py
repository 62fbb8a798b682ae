"""The suite can fail: with the tenant-cover check planted open, its checker reports leaks."""

from __future__ import annotations

from tenants.identity import Principal
from tests.security import principals
from tests.security.operations import operations
from tests.security.probes import attempt, authorised, foreign
from tests.security.transport import Request


async def _probe_foreign_reads(arena) -> list:
    member = next(c for c in principals.callers() if c.name == "member@yen-mo")
    findings = []
    for slug in foreign(member, arena.truth.province_of):
        for op in operations("query", arena.target(slug)):
            if op.field in ("tenant", "notices", "documents"):
                request = Request(
                    "POST", f"/t/{slug}/graphql", authorised(arena, member, {}), {"query": op.text}
                )
                findings += await attempt(arena, member, f"planted {op.field}", request)
    return findings


async def test_the_checker_reports_leaks_when_every_tenant_is_covered(arena, monkeypatch):
    # given: a fault planted in the one cover check every transport relies on
    assert await _probe_foreign_reads(arena) == []
    monkeypatch.setattr(Principal, "covers", lambda _self, _tenant: True)
    # when
    findings = await _probe_foreign_reads(arena)
    # then: the suite sees the other tenants' data
    assert {f.kind for f in findings} == {"leak"}
    assert {f.operation for f in findings} == {
        "planted tenant",
        "planted notices",
        "planted documents",
    }
