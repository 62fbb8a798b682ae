"""Attempts: send one request as a caller, and judge the answer against the ground truth."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Iterator
from typing import Any

from starlette.routing import Mount, Route

from gateway.view import GraphQLView
from tests.security import checks, transport
from tests.security.checks import Answer, Finding
from tests.security.principals import Caller
from tests.security.transport import Request

CONCURRENCY = 8


def judge(
    arena: Any, caller: Caller, operation: str, request: Request, answer: Answer
) -> list[Finding]:
    """Leaks of data outside the caller's cover, 5xx and uncoded errors."""
    shown = f"{answer.transport}: {request.describe()}"
    found = [Finding("uncoded", caller.name, operation, shown, p) for p in checks.uncoded(answer)]
    leaked = checks.leaks(answer, arena.truth.owners, caller.cover, request.sent())
    if leaked:
        found.append(Finding("leak", caller.name, operation, shown, ", ".join(leaked[:6])))
    return found


def authorised(arena: Any, caller: Caller | None, headers: dict[str, str]) -> dict[str, str]:
    if caller is None or not caller.claims:
        return headers
    return {**headers, "Authorization": f"Bearer {arena.token(caller)}"}


async def attempt(
    arena: Any,
    caller: Caller,
    operation: str,
    request: Request,
    landed: list[str] | None = None,
    streamed: bool = False,
) -> list[Finding]:
    """One HTTP attempt, judged; a mutation that reports success is noted in ``landed``."""
    if streamed:
        answer = await transport.send_streamed(arena.app, request)
    else:
        answer = await transport.send(arena.client, request)
    if landed is not None and _accepted(request, answer):
        landed.append(f"{operation}: {request.describe()}")
    return judge(arena, caller, operation, request, answer)


def _accepted(request: Request, answer: Answer) -> bool:
    """A write reported done: a GraphQL payload without errors, or a 2xx POST elsewhere."""
    if request.path.endswith("/graphql"):
        return checks.applied(answer)
    return request.method == "POST" and 200 <= answer.status < 300


async def gather(jobs: Iterable[Awaitable[list[Finding]]]) -> list[Finding]:
    """Run attempts a few at a time; all their findings."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(job: Awaitable[list[Finding]]) -> list[Finding]:
        async with gate:
            return await job

    results = await asyncio.gather(*(one(job) for job in jobs))
    return [f for found in results for f in found]


def routes(app: Any, prefix: str = "") -> Iterator[tuple[str, Route]]:
    """Every HTTP route of the app, mounts walked: (full path, route)."""
    for route in app.routes:
        if isinstance(route, Mount):
            yield from routes(route, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route


def graphql_paths(app: Any) -> list[str]:
    return sorted({p for p, r in routes(app) if isinstance(r.endpoint, GraphQLView)})


def aimed(path: str, slug: str) -> list[tuple[str, str, dict[str, str]]]:
    """The ways a request names a tenant: none (home), a path prefix, the X-Tenant header."""
    return [
        ("home", path, {}),
        ("path", f"/t/{slug}{path}", {}),
        ("header", path, {"X-Tenant": slug}),
    ]


def foreign(caller: Caller, tenants: Iterable[str]) -> list[str]:
    return sorted(t for t in tenants if t not in caller.cover)
