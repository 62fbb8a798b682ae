"""Settings, read once from the environment.

The JWT and router settings share PilotGraph's variable names, so one environment configures both
subgraphs: they verify the same tokens and trust the same router.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/member_development.db"
# PilotGraph's public development secret (gateway/settings.py); refused in production.
DEVELOPMENT_JWT_SECRET = "pilotgraph-development-secret-do-not-use-in-production"  # noqa: S105


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"
    jwt_secret: str = field(default=DEVELOPMENT_JWT_SECRET, repr=False)
    jwt_issuer: str = "pilotgraph-dev"
    jwt_audience: str = "pilotgraph"
    jwt_leeway_s: int = 30
    router_token: str | None = field(default=None, repr=False)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings; production refuses the development secret."""
    env = os.environ if env is None else env
    settings = Settings(
        database_url=env.get("MEMBER_DEVELOPMENT_DATABASE_URL", DEFAULT_DATABASE_URL),
        environment=env.get("PILOTGRAPH_ENVIRONMENT", "development"),
        jwt_secret=env.get("PILOTGRAPH_JWT_SECRET", DEVELOPMENT_JWT_SECRET),
        jwt_issuer=env.get("PILOTGRAPH_JWT_ISSUER", "pilotgraph-dev"),
        jwt_audience=env.get("PILOTGRAPH_JWT_AUDIENCE", "pilotgraph"),
        router_token=env.get("PILOTGRAPH_ROUTER_TOKEN") or None,
    )
    if settings.is_production and settings.jwt_secret == DEVELOPMENT_JWT_SECRET:
        raise SettingsError("PILOTGRAPH_JWT_SECRET must be set (not the development one)")
    return settings
