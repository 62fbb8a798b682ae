"""The served app freezes start-up's objects and raises the GC thresholds once started."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from gateway.gc_tuning import THRESHOLDS, freeze_after_start


async def test_the_collector_is_tuned_once_the_lifespan_has_started():
    # given: an app whose own start-up records what the collector looked like then
    seen: list[tuple[int, tuple[int, int, int]]] = []

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        seen.append((gc.get_freeze_count(), gc.get_threshold()))
        yield

    app = freeze_after_start(Starlette(lifespan=lifespan))
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        # when
        async with app.router.lifespan_context(app):
            tuned = (gc.get_freeze_count(), gc.get_threshold())
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
    # then: untouched during the app's start-up, tuned right after it
    assert seen == [(0, before)]
    assert tuned[0] > 0
    assert tuned[1] == THRESHOLDS
