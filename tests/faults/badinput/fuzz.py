"""Hypothesis-generated JSON values, sent in the shapes each JSON endpoint reads.

Hypothesis drives a worker thread; each example's requests run on the test's event loop (the
app and its engine live there). Deterministic (``derandomize``), so a run is repeatable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.faults.badinput.checks import Probe
from tests.faults.badinput.routes import Endpoint
from tests.faults.badinput.run import Tally, send

EXAMPLE_TIMEOUT_S = 60
_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
# Where a value goes in a body: as the whole body, or in the place each endpoint reads.
SHELLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("body", lambda v: v),
    ("query", lambda v: {"query": v}),
    ("variables", lambda v: {"query": "query($a: String) { __typename }", "variables": {"a": v}}),
    ("context", lambda v: {"context": v}),
    ("event", lambda v: [v]),
    ("event-field", lambda v: [{"type": "login", "deviceId": v, "id": v, "timestamp": v}]),
    ("device", lambda v: {"deviceId": v}),
]


def _body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


async def fuzz(
    client: httpx.AsyncClient,
    endpoints: list[Endpoint],
    headers: tuple[tuple[str, str], ...],
    tally: Tally,
    examples: int,
) -> None:
    """Send ``examples`` generated values, in every shell, to every endpoint that takes JSON."""
    loop = asyncio.get_running_loop()
    paths = ["/t/yen-mo" + e.path() for e in endpoints if e.takes_json]

    async def each(value: Any) -> None:
        for shell, wrap in SHELLS:
            body = _body(wrap(value))
            for path in paths:
                probe = Probe(f"hypothesis-json-{shell}", "POST", path, headers, body)
                await send(client, probe, tally)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(JSON_VALUES)
    def prop(value: Any) -> None:
        asyncio.run_coroutine_threadsafe(each(value), loop).result(EXAMPLE_TIMEOUT_S)

    await asyncio.to_thread(prop)
