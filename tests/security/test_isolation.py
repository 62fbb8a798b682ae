"""Every generated query and mutation, as every caller, aimed at every foreign tenant."""

from __future__ import annotations

from tests.security import checks, principals
from tests.security.checks import Finding
from tests.security.operations import CHOICES, Operation, operations
from tests.security.probes import aimed, attempt, authorised, foreign, gather, graphql_paths
from tests.security.transport import Request

WAYS = ("home", "path", "header")


def _jobs(arena, caller, ops: list[Operation], slug: str, ways=WAYS, landed=None):
    for path in graphql_paths(arena.app):
        for way, url, headers in aimed(path, slug):
            if way not in ways:
                continue
            for op in ops:
                request = Request(
                    "POST", url, authorised(arena, caller, headers), {"query": op.text}
                )
                yield attempt(arena, caller, f"{op.kind} {op.field} via {way}", request, landed)


async def test_no_query_reads_a_foreign_tenant(arena):
    # given: every caller, every foreign tenant, every query field
    findings: list[Finding] = []
    for caller in principals.callers():
        for slug in foreign(caller, arena.truth.province_of):
            ops = operations("query", arena.target(slug))
            # when
            findings += await gather(_jobs(arena, caller, ops, slug))
    # then
    assert not findings, checks.report(findings)


def _mutations(arena, slug: str) -> list[Operation]:
    """Every mutation aimed at ``slug``: its flags and enum values varied, IDs global and raw."""
    ops = operations("mutation", arena.target(slug), CHOICES)
    known = {op.text for op in ops}
    raw = operations("mutation", arena.target(slug, raw_ids=True))
    return ops + [op for op in raw if op.text not in known]


async def _mutate(arena, caller) -> list[Finding]:
    before = await arena.checksums()
    findings, landed = [], []
    for slug in foreign(caller, arena.truth.province_of):
        jobs = _jobs(arena, caller, _mutations(arena, slug), slug, ("home", "path"), landed)
        findings += await gather(jobs)
    written = checks.foreign_writes(before, await arena.checksums(), caller.cover)
    if written:
        detail = f"changed {', '.join(written)}; reported success: {'; '.join(landed)[:1500]}"
        findings.append(Finding("write", caller.name, "mutations", "its mutation batch", detail))
    await arena.refresh()
    return findings


async def test_no_mutation_writes_or_reads_a_foreign_tenant(arena):
    # given: every caller, every mutation with a foreign tenant's real ids, slugs and flags
    findings: list[Finding] = []
    for caller in principals.callers():
        # when
        findings += await _mutate(arena, caller)
    # then: nothing of theirs in the answers, and their rows unchanged
    assert not findings, checks.report(findings)
