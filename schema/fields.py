"""``@field``, ``@mutation`` and ``@subscription``: strawberry's decorators with options, typed.

Strawberry types ``strawberry.field(description=...)`` as ``Any``, because the same overload serves
``x: int = strawberry.field(...)``; strict mypy then calls every resolver it decorates untyped
(strawberry-graphql/strawberry#1929). These hand the resolver straight to strawberry, whose
resolver overloads are typed. A bare ``@strawberry.field`` is typed already and needs none of these.

They also order the field's extensions: the permission check runs before any other extension,
whatever order the field lists them in (see :func:`permission_first`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

Resolver = Callable[..., Any]
Decorator = Callable[[Resolver], StrawberryField]


def permission_first(extensions: list[FieldExtension] | None) -> list[FieldExtension] | None:
    """``extensions`` reordered so that the permission check runs first.

    Strawberry runs a field's last extension first (each wraps those before it). A feature gate
    running before the permission would answer an anonymous caller FEATURE_DISABLED or
    UNAUTHENTICATED depending on the flag, telling anyone the tenant's rollout state.
    """
    if extensions is None:
        return None
    return sorted(extensions, key=lambda extension: isinstance(extension, PermissionExtension))


def field(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.field(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.field(
            resolver, description=description, extensions=permission_first(extensions)
        )

    return decorate


def mutation(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.mutation(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(
            resolver, description=description, extensions=permission_first(extensions)
        )

    return decorate


def subscription(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Decorator:
    """``@strawberry.subscription(description=..., extensions=...)``."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.subscription(
            resolver, description=description, extensions=permission_first(extensions)
        )

    return decorate
