"""Run a Hypothesis property whose check is async, against the app on the test's event loop.

Hypothesis drives a worker thread; each example's check is handed to the loop and awaited
there, so the app and its database engine stay on the loop they were made on, and Hypothesis
still shrinks a failing example.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security import checks
from tests.security.checks import Finding

EXAMPLE_TIMEOUT_S = 60


async def hold(
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], Awaitable[list[Finding]]],
    examples: int,
) -> None:
    """Assert ``check`` finds nothing for ``examples`` generated values (deterministic)."""
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def prop(value: Any) -> None:
        found = asyncio.run_coroutine_threadsafe(check(value), loop).result(EXAMPLE_TIMEOUT_S)
        assert not found, checks.report(found)

    await asyncio.to_thread(prop)
