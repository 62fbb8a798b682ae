"""Send probes, check each answer, and say what was found; and pick a sample that covers all."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from tests.faults.badinput.checks import Answer, Finding, Probe, problems

TIMEOUT_S = 10


@dataclass
class Tally:
    """What a run sent and found."""

    deliberate: frozenset[str] = frozenset()  # codes a 5xx may carry in this run
    findings: list[Finding] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())

    def summary(self, label: str) -> str:
        top = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))
        return (
            f"bad input ({label}): {self.requests} requests of {len(self.kinds)} kinds, "
            f"{len(self.findings)} uncoded or failed answers; statuses {top}"
        )


async def send(client: httpx.AsyncClient, probe: Probe, tally: Tally) -> None:
    """Send one probe; an exception escaping the app is a finding too (a 500 for a client)."""
    tally.kinds[probe.kind] += 1
    try:
        response = await asyncio.wait_for(
            client.request(
                probe.method, probe.path, headers=list(probe.headers), content=probe.content
            ),
            TIMEOUT_S,
        )
    except TimeoutError:
        tally.findings.append(Finding(probe.kind, probe.describe(), f"no answer in {TIMEOUT_S} s"))
        return
    except httpx.LocalProtocolError:
        tally.kinds[probe.kind] -= 1  # the client library refuses to send it at all
        return
    except Exception as exc:  # whatever escapes the app is what the generator looks for
        tally.findings.append(Finding(probe.kind, probe.describe(), f"escaped: {exc!r:.300}"))
        tally.statuses[500] += 1
        return
    tally.statuses[response.status_code] += 1
    answer = Answer(
        response.status_code, response.headers.get("content-type", ""), response.content
    )
    for problem in problems(probe.method, answer, tally.deliberate):
        tally.findings.append(Finding(probe.kind, probe.describe(), problem))


async def run(client: httpx.AsyncClient, probes: Iterable[Probe], tally: Tally) -> Tally:
    for probe in probes:
        await send(client, probe, tally)
    return tally


def sample(probes: list[Probe], size: int, seed: int = 13) -> list[Probe]:
    """``size`` probes (or all): the first of each kind and of each (method, path), then random."""
    if len(probes) <= size:
        return probes
    chosen: dict[int, Probe] = {}
    seen: set[object] = set()
    for index, probe in enumerate(probes):
        for key in (probe.kind, (probe.method, probe.path)):
            if key not in seen:
                seen.add(key)
                chosen[index] = probe
    rest = [i for i in range(len(probes)) if i not in chosen]
    extra = random.Random(seed).sample(rest, max(0, min(len(rest), size - len(chosen))))
    return [probes[i] for i in sorted([*chosen, *extra])]
