"""The metrics port of a two-worker gateway: one scrape sums both workers, counters only grow.

N requests go out on fresh connections (so both workers serve them) while the port is scraped
between batches; every scrape must read at least the previous one, and the last the baseline
plus exactly N.
"""

from __future__ import annotations

import asyncio
import hashlib

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.production.conftest import TENANT, Profile, bearer
from tests.production.database import ROOT

HOME = (ROOT / "clients" / "trusted-documents" / "handbook-app" / "Home.graphql").read_text()
REQUESTS = 40
BATCH = 5
OPERATIONS = "pilotgraph_graphql_operations"


async def _scrape(profile: Profile) -> dict[str, list[tuple[dict[str, str], float]]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{profile.metrics_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(response.text)
    }


def _homes(scrape: dict[str, list[tuple[dict[str, str], float]]]) -> float:
    """Home operations of Yen Mo, every outcome, summed over both workers."""
    return sum(
        value
        for labels, value in scrape.get(OPERATIONS, [])
        if labels.get("operation") == "Home" and labels.get("tenant") == TENANT
    )


async def _home(profile: Profile, token: str) -> int:
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": _sha256(HOME)}}}
    async with httpx.AsyncClient(base_url=profile.url, timeout=30) as fresh:
        response = await fresh.post("/graphql", json=body, headers=bearer(token))
    return response.status_code


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_counters_sum_both_workers_and_never_go_down(profile: Profile) -> None:
    # given
    token = profile.realm.access_token("member")
    baseline = _homes(await _scrape(profile))
    seen = [baseline]
    # when
    for _ in range(REQUESTS // BATCH):
        statuses = await asyncio.gather(*(_home(profile, token) for _ in range(BATCH)))
        assert set(statuses) == {200}
        seen.append(_homes(await _scrape(profile)))
    # then
    assert seen == sorted(seen), f"a counter went down between scrapes: {seen}"
    assert seen[-1] - baseline == REQUESTS, seen


async def test_build_info_and_both_workers_pools_are_exported(profile: Profile) -> None:
    # when
    scrape = await _scrape(profile)
    # then
    (build,) = scrape["pilotgraph_build_info"]
    assert build[1] == 1
    assert set(build[0]) >= {"version", "python"}
    pool = {labels["state"]: value for labels, value in scrape["pilotgraph_db_pool_connections"]}
    assert pool["size"] == 2 * 10, pool  # two live workers, pool size 10 each
