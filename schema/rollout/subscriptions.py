"""``featuresChanged``: push the member's evaluations whenever a flag change alters them."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from rollout.evaluation import EMPTY
from schema.context import Context
from schema.fields import subscription
from schema.permissions import Permission, requires
from schema.rollout.features import features_context, province_of
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
        who = await features_context(info.context)
        province_id = province_of(info.context, who.tenant)
        with store.subscribe() as changes:
            snapshot, last = store.snapshot_for(province_id), None
            while True:
                current = evaluate_all(snapshot, who)
                if current != last:  # another province's change alters nothing here
                    yield current
                    last = current
                snapshot = (await changes.get()).get(province_id or "", EMPTY)
