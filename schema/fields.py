"""``@field``, ``@mutation`` and ``@subscription``: strawberry's decorators with options, typed.

Strawberry types ``strawberry.field(description=...)`` as ``Any``, because the same overload serves
``x: int = strawberry.field(...)``; strict mypy then calls every resolver it decorates untyped
(strawberry-graphql/strawberry#1929). These hand the resolver straight to strawberry, whose
resolver overloads are typed. A bare ``@strawberry.field`` is typed already and needs none of these.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]
Decorator = Callable[[Resolver], StrawberryField]


def field(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.field(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.field(resolver, description=description, extensions=extensions)

    return decorate


def mutation(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.mutation(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(resolver, description=description, extensions=extensions)

    return decorate


def subscription(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.subscription(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.subscription(resolver, description=description, extensions=extensions)

    return decorate
