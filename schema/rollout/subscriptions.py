"""``featuresChanged``: push the member's evaluations whenever a flag change alters them."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.fields import subscription
from schema.permissions import Permission, requires
from schema.rollout.gating import full_evaluation_context
from schema.rollout.types import FeatureEvaluation, evaluate_all


@strawberry.type
class RolloutSubscription:
    @subscription(
        extensions=requires(Permission.READ_HANDBOOK),
        description="The member's evaluations now, then again each time a flag change alters them.",
    )
    async def features_changed(
        self, info: Info[Context, None]
    ) -> AsyncGenerator[list[FeatureEvaluation], None]:
        store = info.context.flags
        who = await full_evaluation_context(info.context)
        with store.subscribe() as changes:
            snapshot, last = store.snapshot, None
            while True:
                current = evaluate_all(snapshot, who)
                if current != last:
                    yield current
                    last = current
                snapshot = await changes.get()
