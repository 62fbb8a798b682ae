"""``featuresChanged``: push the member's evaluations whenever a flag change alters them."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from rollout.evaluation import EvaluationContext, Snapshot, evaluate
from rollout.registry import REGISTRY
from schema.context import Context
from schema.permissions import Permission, requires
from schema.rollout.gating import full_evaluation_context
from schema.rollout.types import FeatureEvaluation


def _subscription(
    *, description: str, extensions: list[FieldExtension]
) -> Callable[[Callable[..., Any]], StrawberryField]:
    """``@strawberry.subscription(...)``, typed for mypy (see ``schema.fields``)."""

    def decorate(resolver: Callable[..., Any]) -> StrawberryField:
        return strawberry.subscription(resolver, description=description, extensions=extensions)

    return decorate


def evaluate_all(snapshot: Snapshot, who: EvaluationContext) -> list[FeatureEvaluation]:
    """Every product flag for ``who``, in registry order."""
    return [
        FeatureEvaluation.from_evaluation(evaluate(snapshot, key.value, who)) for key in REGISTRY
    ]


@strawberry.type
class RolloutSubscription:
    @_subscription(
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
