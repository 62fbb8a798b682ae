"""Every generated mutation, as every caller, with a foreign tenant's real IDs, slugs and flags,
over HTTP and WebSocket: no foreign row changes (row checksums), no foreign datum answers.

Last in the suite on purpose: a write that leaks (a flag killed in another province) changes
what later attempts see; province roles go last for the same reason.
"""

from __future__ import annotations

from tests.security import checks, principals
from tests.security.checks import Finding
from tests.security.operations import CHOICES, Operation, operations
from tests.security.probes import aimed, foreign, gather
from tests.security.test_isolation import jobs
from tests.security.test_websocket import session, ws_callers


def _last_reaching_province(callers: list[principals.Caller]) -> list[principals.Caller]:
    return sorted(
        callers, key=lambda c: bool(set(c.claims["roles"]) & {"province_admin", "auditor"})
    )


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
        attempts = jobs(arena, caller, _mutations(arena, slug), slug, ("home", "path"), landed)
        findings += await gather(attempts)
    written = checks.foreign_writes(before, await arena.checksums(), caller.cover)
    if written:
        detail = f"changed {', '.join(written)}; reported success: {'; '.join(landed)[:1500]}"
        findings.append(Finding("write", caller.name, "mutations", "its mutation batch", detail))
    await arena.refresh()
    return findings


async def test_no_mutation_writes_or_reads_a_foreign_tenant(arena):
    # given: every caller, every mutation with a foreign tenant's real ids, slugs and flags
    findings: list[Finding] = []
    for caller in _last_reaching_province(principals.callers()):
        # when
        findings += await _mutate(arena, caller)
    # then: nothing of theirs in the answers, and their rows unchanged
    assert not findings, checks.report(findings)


async def _over_ws(arena, caller) -> list[Finding]:
    before = await arena.checksums()
    findings = []
    for slug in foreign(caller, arena.truth.province_of):
        way, path, headers = aimed("/graphql", slug)[0]
        findings += await session(
            arena, caller, way, path, headers, operations("mutation", arena.target(slug))
        )
    written = checks.foreign_writes(before, await arena.checksums(), caller.cover)
    if written:
        findings.append(Finding("write", caller.name, "ws mutations", "", ", ".join(written)))
    await arena.refresh()
    return findings


async def test_no_websocket_mutation_writes_a_foreign_tenant(arena):
    # given: every role of both provinces, over graphql-transport-ws
    findings: list[Finding] = []
    for caller in _last_reaching_province(ws_callers()):
        # when
        findings += await _over_ws(arena, caller)
    # then
    assert not findings, checks.report(findings)
