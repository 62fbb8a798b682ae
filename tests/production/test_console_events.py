"""The console's live stream (``/admin/api/events``) on both workers: a console that connects
after every earlier one went away (a reload, a closed tab) still hears of each rollout change.

Streams are opened in fours on fresh connections, so both workers hold some.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx

from tests.production.conftest import Profile, bearer
from tests.production.database import ROOT

CONSOLE = ROOT / "clients" / "trusted-documents" / "console"
PAUSE = (CONSOLE / "PauseRollout.graphql").read_text()
RESUME = (CONSOLE / "ResumeRollout.graphql").read_text()
ROLLOUT = (CONSOLE / "Rollout.graphql").read_text()
STREAMS = 4
SETTLE_S = 2.0
READ_TIMEOUT = httpx.Timeout(10.0, read=60.0)  # heartbeats come every 15 s


async def _listen(profile: Profile, token: str, heard: list[str]) -> None:
    async with (
        httpx.AsyncClient(base_url=profile.url, timeout=READ_TIMEOUT) as client,
        client.stream("GET", "/admin/api/events", headers=bearer(token)) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                heard.append(line.removeprefix("data: "))


def _by_hash(text: str, variables: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {
        "variables": variables,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}},
    }


async def _run(profile: Profile, token: str, text: str) -> dict[str, Any]:
    """A plan action as the console sends it: with the plan version it last read."""
    async with httpx.AsyncClient(base_url=profile.url, timeout=60) as client:
        state = await client.post(
            "/graphql", json=_by_hash(ROLLOUT, {"flag": "handbook"}), headers=bearer(token)
        )
        variables = {
            "flag": "handbook",
            "reason": "Live stream check",
            "expectedVersion": state.json()["data"]["rollout"]["version"],
        }
        response = await client.post(
            "/graphql", json=_by_hash(text, variables), headers=bearer(token)
        )
    result: dict[str, Any] = response.json()["data"]["result"]
    return result


def _open(profile: Profile, token: str, count: int) -> list[tuple[asyncio.Task[None], list[str]]]:
    streams = []
    for _ in range(count):
        heard: list[str] = []
        streams.append((asyncio.create_task(_listen(profile, token, heard)), heard))
    return streams


async def _close(streams: list[tuple[asyncio.Task[None], list[str]]]) -> None:
    for task, _ in streams:
        task.cancel()
    await asyncio.gather(*(task for task, _ in streams), return_exceptions=True)


async def test_a_console_that_reconnects_hears_every_change(profile: Profile) -> None:
    # given consoles that connected, then all went away
    token = profile.realm.access_token("province-admin")
    earlier = _open(profile, token, STREAMS)
    await asyncio.sleep(SETTLE_S)
    await _close(earlier)
    await asyncio.sleep(0.5)
    # when new consoles connect and the rollout changes
    later = _open(profile, token, STREAMS)
    await asyncio.sleep(SETTLE_S)
    paused = await _run(profile, token, PAUSE)
    resumed = await _run(profile, token, RESUME)
    await asyncio.sleep(SETTLE_S)
    await _close(later)
    # then every new console heard of it
    assert (paused["errors"], resumed["errors"]) == ([], [])
    assert [sum('"handbook"' in data for data in heard) for _, heard in later] == [2] * STREAMS
