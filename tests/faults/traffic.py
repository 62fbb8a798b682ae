"""Concurrent client traffic against gateways A and B, every answer recorded.

Five kinds of clients run until told to stop: members sending events (each with a fresh id, a
batch resent with the same ids until acknowledged, as the app does), members reading their
home, members evaluating flags over OFREP and over GraphQL ``features``, and one province admin
pausing and resuming the rollout plan and editing a flag's rules. ``fault`` names what is being
done to the database, so answers are counted per fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tenants.types import Role
from tests import world
from tests.faults.checks import NO_ANSWER, Answer, parse_body
from tests.faults.conftest import FRESH_MEMBERS, Gateway, Outage
from tests.rollout.plan_world import ADMIN, KEY

HANG_BOUND_S = 20.0  # a client gives up after this; counted as a failure
BATCH = 5
HOME = """
query Home { me { fullName position } notices { title publishedAt }
             meetings { title startsAt } }
"""
FEATURES = "{ features { key enabled variant reason } }"
STEP_FIELDS = "applied status errors { code message }"
PAUSE = f"""
mutation($flag: String!) {{ pauseRollout(flag: $flag, reason: "fault") {{ {STEP_FIELDS} }} }}
"""
RESUME = f"""
mutation($flag: String!) {{ resumeRollout(flag: $flag, reason: "fault") {{ {STEP_FIELDS} }} }}
"""
RULES_FLAG = "handbook.resolution-comments"
RULES = """
mutation($variant: String!, $version: Int!) {
  setFlagRules(
    flag: "handbook.resolution-comments", expectedVersion: $version, reason: "fault",
    rules: [{conditions: [{attribute: TENANT, values: ["hoa-lu"]}], variant: $variant}]
  ) {
    version errors { code message }
  }
}
"""
CURRENT_VERSION = re.compile(r"now at (\d+)")
OVERRIDE = """
mutation($variant: String!) {
  setFlagOverride(flag: "handbook.meetings", tenant: "kim-son", variant: $variant,
                  reason: "convergence") { version errors { code message } }
}
"""
# Members whose OFREP answers may need their branch read (handbook.notices has a branch rule).
OFREP_MEMBERS = [(world.YEN_MO, m[0]) for m in world.MEMBERS[world.YEN_MO]] + [
    (world.KIM_SON, m[0]) for m in world.MEMBERS[world.KIM_SON]
]


def _set_event() -> asyncio.Event:
    event = asyncio.Event()
    event.set()
    return event


@dataclass
class Traffic:
    outage: Outage
    client: httpx.AsyncClient
    fault: str = "baseline"
    answers: list[Answer] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    mutations_applied: Counter[str] = field(default_factory=Counter)
    mutations_sent: Counter[str] = field(default_factory=Counter)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    running: asyncio.Event = field(default_factory=_set_event)  # cleared to hold the load
    rules_version: int = 1  # the version a new flag row starts at
    rules_acknowledged: list[int] = field(default_factory=list)
    rules_unacknowledged: int = 0
    fresh: list[uuid.UUID] = field(default_factory=lambda: list(FRESH_MEMBERS))

    async def call(
        self, kind: str, gateway: Gateway, path: str, token: str, body: Any
    ) -> tuple[Answer, Any]:
        """POST ``body`` as JSON; the recorded answer and the parsed body (None unless JSON)."""
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            response = await self.client.post(
                f"{gateway.url}{path}", json=body, headers=headers, timeout=HANG_BOUND_S
            )
        except httpx.TimeoutException:
            error = f"none within {HANG_BOUND_S:.0f} s"
            return self._record(kind, gateway, started, NO_ANSWER, error=error), None
        except httpx.TransportError as exc:
            error = type(exc).__name__
            return self._record(kind, gateway, started, NO_ANSWER, error=error), None
        parsed, codes = parse_body(response.content, response.headers.get("content-type", ""))
        answer = self._record(
            kind,
            gateway,
            started,
            response.status_code,
            codes=codes,
            retry_after=response.headers.get("retry-after"),
            excerpt=response.text[:200],
        )
        return answer, parsed

    def _record(
        self, kind: str, gateway: Gateway, started: float, status: int, **rest: Any
    ) -> Answer:
        codes = rest.pop("codes", ())
        latency = time.monotonic() - started
        answer = Answer(kind, gateway.name, self.fault, status, codes, latency, **rest)
        self.answers.append(answer)
        return answer

    def gateways(self) -> itertools.cycle[Gateway]:
        return itertools.cycle((self.outage.a, self.outage.b))

    async def stopped(self) -> bool:
        """Whether to stop; while the load is held, waits until it resumes or stops."""
        if not self.running.is_set():
            stop = asyncio.create_task(self.stopping.wait())
            resume = asyncio.create_task(self.running.wait())
            await asyncio.wait((stop, resume), return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            resume.cancel()
        return self.stopping.is_set()

    async def pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def ingest(self, worker: int) -> None:
        """Batches of session starts from one member's device, resent until acknowledged."""
        token = self.outage.token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
        batch: list[dict[str, str]] = []
        for gateway in self.gateways():
            if await self.stopped():
                return
            if not batch:
                batch = [self._event(worker) for _ in range(BATCH)]
                self.sent.update(e["id"] for e in batch)
            answer, body = await self.call("events", gateway, "/v1/events", token, batch)
            if answer.status == 200 and isinstance(body, dict):
                for result in body.get("results", ()):
                    if result.get("status") in ("accepted", "duplicate"):
                        self.acknowledged.add(batch[result["index"]]["id"])
                batch = []
            await self.pause(0.05 if answer.status == 200 else 0.5)

    @staticmethod
    def _event(worker: int) -> dict[str, str]:
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        return {
            "id": str(uuid.uuid4()),
            "type": "session_started",
            "timestamp": now,
            "deviceId": f"fault-device-{worker}",
        }

    async def read(self, worker: int) -> None:
        """A member's home screen, again and again."""
        tenant, member = OFREP_MEMBERS[worker % len(OFREP_MEMBERS)]
        token = self.outage.token(Role.MEMBER, tenant=tenant, subject=str(member))
        for gateway in self.gateways():
            if await self.stopped():
                return
            await self.call("graphql", gateway, "/graphql", token, {"query": HOME})
            await self.pause(0.05)

    def _member(self, worker: int, n: int) -> tuple[str, str]:
        """One request in four a member never asked about (branch not cached), else a known one."""
        if n // 2 % 4 == 0 and self.fresh:  # n counts requests to A and B in turn
            return world.YEN_MO, str(self.fresh.pop())
        tenant, member = OFREP_MEMBERS[(worker + n) % len(OFREP_MEMBERS)]
        return tenant, str(member)

    async def evaluate(self, worker: int) -> None:
        """OFREP: one flag with a branch rule, and now and then every flag."""
        for n, gateway in enumerate(self.gateways()):
            if await self.stopped():
                return
            tenant, member = self._member(worker, n)
            token = self.outage.token(Role.MEMBER, tenant=tenant, subject=member)
            path = "/ofrep/v1/evaluate/flags" + ("" if n // 2 % 4 == 2 else "/handbook.notices")
            await self.call("ofrep", gateway, path, token, {"context": {}})
            await self.pause(0.05)

    async def features(self, worker: int) -> None:
        """GraphQL ``features``: flags for the signed-in member, over GraphQL."""
        for n, gateway in enumerate(self.gateways()):
            if await self.stopped():
                return
            tenant, member = self._member(worker, n)
            token = self.outage.token(Role.MEMBER, tenant=tenant, subject=member)
            await self.call("features", gateway, "/graphql", token, {"query": FEATURES})
            await self.pause(0.1)

    async def mutate(self) -> None:
        """The province admin pauses and resumes the plan and edits a flag's rules (with the
        version it last saw), through A and B in turn."""
        token = self.outage.token(Role.PROVINCE_ADMIN, subject=ADMIN)
        action = "pause"
        for n, gateway in enumerate(self.gateways()):
            if await self.stopped():
                return
            if n // 2 % 2:  # a step through A, one through B, then rules through each
                await self._edit_rules(gateway, token, n)
            else:
                action = await self._step(gateway, token, action)
            await self.pause(0.2)

    async def _step(self, gateway: Gateway, token: str, action: str) -> str:
        """Pause or resume; the action to try next."""
        document = PAUSE if action == "pause" else RESUME
        self.mutations_sent[action] += 1
        body = {"query": document, "variables": {"flag": KEY}}
        answer, parsed = await self.call("mutation", gateway, "/graphql", token, body)
        payload = _payload(parsed)
        if answer.status != 200 or payload is None:
            return action
        if payload.get("errors"):  # e.g. a pause that was applied but not acknowledged
            return "resume" if action == "pause" else "pause"
        self.mutations_applied[action] += bool(payload.get("applied"))
        return "resume" if payload.get("status") == "paused" else "pause"

    async def _edit_rules(self, gateway: Gateway, token: str, n: int) -> None:
        """``setFlagRules`` with the expected version; a conflict tells the current one."""
        variables = {"variant": ("on", "off")[n // 4 % 2], "version": self.rules_version}
        body = {"query": RULES, "variables": variables}
        answer, parsed = await self.call("mutation", gateway, "/graphql", token, body)
        payload = _payload(parsed)
        if answer.status != 200 or payload is None:
            self.rules_unacknowledged += 1
            return
        for error in payload.get("errors") or ():
            if found := CURRENT_VERSION.search(error.get("message", "")):
                self.rules_version = int(found[1])
        if not payload.get("errors") and isinstance(payload.get("version"), int):
            self.rules_version = payload["version"]
            self.rules_acknowledged.append(payload["version"])

    async def change_flag(self, variant: str, gateway: Gateway) -> int | None:
        """One override through ``gateway``: the flag's new version once acknowledged."""
        token = self.outage.token(Role.PROVINCE_ADMIN, subject=ADMIN)
        body = {"query": OVERRIDE, "variables": {"variant": variant}}
        answer, parsed = await self.call("convergence", gateway, "/graphql", token, body)
        payload = _payload(parsed)
        if answer.status == 200 and payload is not None and not payload.get("errors"):
            version = payload.get("version")
            return version if isinstance(version, int) else None
        return None

    async def served_version(self, gateway: Gateway) -> int | None:
        """The version of ``handbook.meetings`` that ``gateway`` serves to a Kim Son member."""
        token = self.outage.token(Role.MEMBER, tenant=world.KIM_SON, subject=str(world.KS_MEMBER))
        path = "/ofrep/v1/evaluate/flags/handbook.meetings"
        answer, body = await self.call("convergence", gateway, path, token, {"context": {}})
        if answer.status != 200 or not isinstance(body, dict):
            return None
        version = body.get("metadata", {}).get("version")
        return version if isinstance(version, int) else None


def _payload(body: Any) -> dict[str, Any] | None:
    """The first field of a GraphQL answer's data, when it is an object."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not data:
        return None
    payload = next(iter(data.values()))
    return payload if isinstance(payload, dict) else None
