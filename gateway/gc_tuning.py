"""The cyclic garbage collector tuned for serving: start-up's objects frozen, collections rarer.

After start-up (schema, app, registry, flag snapshot) a worker holds a few hundred thousand
long-lived objects; every full collection would walk them again. ``gc.freeze()`` moves them to
the permanent generation, and a higher first threshold lets the short-lived objects of a request
(mostly acyclic, freed by reference counting) not trigger a collection each few hundred
allocations. Measured in ``docs/PERFORMANCE.md`` ("Generic path").
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette

THRESHOLDS = (50_000, 20, 20)


def tune_after_start() -> None:
    """Collect once, freeze what survived start-up and raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def freeze_after_start(app: Starlette) -> Starlette:
    """Make ``app``'s lifespan call :func:`tune_after_start` once its start-up is done.

    Only the served app does this (``gateway.app.serve_app``): a test process builds many
    apps, and frozen objects are never collected.
    """
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(served: Starlette) -> AsyncIterator[None]:
        async with started(served):
            tune_after_start()
            yield

    app.router.lifespan_context = lifespan
    return app
