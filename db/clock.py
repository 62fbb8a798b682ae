"""The one source of "now": timezone-aware UTC, as every timestamp column stores it.

Services take ``now`` (or a :data:`Clock`) as an argument so tests can pin it; only the edges
(the gateway's state, the CLI, the rollout runtime) call :func:`utc_now`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC (a naive one is refused by ``UtcDateTime``)."""
    return dt.datetime.now(dt.UTC)
