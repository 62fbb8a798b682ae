"""Every generated query, as every caller, aimed at every foreign tenant (writes: test_writes)."""

from __future__ import annotations

from tests.security import checks, principals
from tests.security.checks import Finding
from tests.security.operations import Operation, operations
from tests.security.probes import aimed, attempt, authorised, foreign, gather, graphql_paths
from tests.security.transport import Request

WAYS = ("home", "path", "header")


def jobs(arena, caller, ops: list[Operation], slug: str, ways=WAYS, landed=None):
    """Attempts of ``ops`` as ``caller`` on every GraphQL route, naming ``slug`` each way."""
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
            findings += await gather(jobs(arena, caller, ops, slug))
    # then
    assert not findings, checks.report(findings)
