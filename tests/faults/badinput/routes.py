"""Every HTTP endpoint of the app, read from ``app.routes``: a new route is probed unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
# What a path parameter is filled with: a plausible value, then garbage.
PARAMETER_VALUES = ("handbook", "no-such-flag", "%00", "%ED%A0%80", "%FF%FE", "x" * 300, "a/b/..")
_PARAMETER = re.compile(r"\{[^}]+\}")
TENANT_PREFIXES = ("", "/t/yen-mo", "/t/no-such-tenant", "/t/%00", "/t/%FF")


@dataclass(frozen=True)
class Endpoint:
    template: str  # as routed, e.g. /ofrep/v1/evaluate/flags/{key:path}
    methods: frozenset[str] | None  # None: the endpoint takes any method itself

    @property
    def takes_json(self) -> bool:
        return self.methods is None or "POST" in self.methods

    def paths(self) -> list[str]:
        """The template with each parameter filled, a plausible value first."""
        if not _PARAMETER.search(self.template):
            return [self.template]
        return [_PARAMETER.sub(value, self.template) for value in PARAMETER_VALUES]

    def path(self) -> str:
        return self.paths()[0]


def endpoints(routes: Sequence[BaseRoute]) -> list[Endpoint]:
    """Every HTTP route and mount, mounts walked; a static mount is probed below its root."""
    return list(dict.fromkeys(_walk(routes, "")))


def _walk(routes: Sequence[BaseRoute], prefix: str) -> Iterator[Endpoint]:
    for route in routes:
        if isinstance(route, Route):
            yield Endpoint(prefix + route.path, _methods(route))
        elif isinstance(route, Mount):
            inner: Any = route.routes
            if inner:
                yield from _walk(inner, prefix + route.path)
            else:
                yield Endpoint(prefix + route.path + "/probe.js", None)
                yield Endpoint(prefix + route.path + "/", None)
        elif isinstance(route, WebSocketRoute):
            yield Endpoint(prefix + route.path, None)  # plain HTTP to a WebSocket path


def _methods(route: Route) -> frozenset[str] | None:
    return frozenset(route.methods) if route.methods else None
