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
    # RS256/ES256 tokens from the identity provider's JWKS (Keycloak), as PilotGraph verifies them.
    jwks_url: str | None = None
    # Where the claims are: comma-separated dotted paths, the first one present wins (PilotGraph's
    # PILOTGRAPH_CLAIM_* variables and defaults, docs/DEPLOY.md).
    claim_roles: str = "realm_access.roles,roles"
    claim_tenant: str = "tenant"
    claim_province: str = "province"

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings; production refuses the development secret (unless a JWKS verifies)."""
    env = os.environ if env is None else env
    settings = Settings(
        database_url=env.get("MEMBER_DEVELOPMENT_DATABASE_URL", DEFAULT_DATABASE_URL),
        environment=env.get("PILOTGRAPH_ENVIRONMENT", "development"),
        jwt_secret=env.get("PILOTGRAPH_JWT_SECRET", DEVELOPMENT_JWT_SECRET),
        jwt_issuer=env.get("PILOTGRAPH_JWT_ISSUER", "pilotgraph-dev"),
        jwt_audience=env.get("PILOTGRAPH_JWT_AUDIENCE", "pilotgraph"),
        router_token=env.get("PILOTGRAPH_ROUTER_TOKEN") or None,
        jwks_url=env.get("PILOTGRAPH_JWKS_URL") or None,
        claim_roles=env.get("PILOTGRAPH_CLAIM_ROLES") or Settings.claim_roles,
        claim_tenant=env.get("PILOTGRAPH_CLAIM_TENANT") or Settings.claim_tenant,
        claim_province=env.get("PILOTGRAPH_CLAIM_PROVINCE") or Settings.claim_province,
    )
    if settings.jwks_url is not None:
        return settings  # no shared secret is used at all
    if settings.is_production and settings.jwt_secret == DEVELOPMENT_JWT_SECRET:
        raise SettingsError("PILOTGRAPH_JWT_SECRET must be set (not the development one)")
    return settings
