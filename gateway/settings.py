"""Typed settings, read once from the environment (prefix ``PILOTGRAPH_``)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache
from typing import Any, Self

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.claims import ClaimPaths, parse_paths
from gateway.edge.config import EdgeSettings, RateLimit
from gateway.observability.endpoint import otlp_traces_url

DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./var/pilotgraph.db"
# Long enough for HS256 (RFC 7518 asks for >= 256 bits); refused in production.
DEVELOPMENT_JWT_SECRET = "pilotgraph-development-secret-do-not-use-in-production"  # noqa: S105 - public dev default
# HMAC-SHA256 keys shorter than the hash give less than its 256 bits of security.
MIN_INSTALL_TOKEN_KEY_BYTES = 32
# Labels the development install-token key derived from the JWT key: one secret, two uses.
DEVELOPMENT_INSTALL_KEY_LABEL = b"pilotgraph/install-token-key/v1"
# HS256 keys shorter than the hash (RFC 7518 §3.2) can be brute-forced offline from one token.
MIN_HS256_SECRET_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _development(data: dict[str, Any]) -> bool:
    return data.get("environment") is not Environment.PRODUCTION


class Settings(BaseSettings):
    """Everything the gateway reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="PILOTGRAPH_", extra="ignore", frozen=True, populate_by_name=True
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_SQLITE_URL),
        validation_alias=AliasChoices("PILOTGRAPH_DATABASE_URL", "DATABASE_URL"),
    )
    database_admin_url: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1)
    database_connect_timeout_s: float = Field(default=5.0, gt=0)
    database_statement_timeout_ms: int = Field(default=10_000, ge=0)
    # Client-side bound on one statement, above the statement timeout: it only fires when the
    # connection died silently (the server would have cancelled first).
    database_command_timeout_s: float = Field(default=15.0, gt=0)
    # Trusted documents answered by one planned SQL statement on PostgreSQL (docs/PERFORMANCE.md,
    # "Planned trusted documents"); off, every operation runs on the schema (benches compare both).
    planned_operations: bool = True
    # Planned requests answered by the planned lane (gateway/lane.py) without the generic request
    # stack; off, they take the stack (and the planned statement) like any other operation.
    planned_lane: bool = True
    # Requests one worker serves at once; the excess is answered 503 OVERLOADED at once. None:
    # the connections the pool may open (pool size plus as many overflowing).
    max_in_flight: int | None = Field(default=None, ge=1)
    # uvicorn's grace for requests in flight after SIGTERM; shutdown then takes a few seconds more.
    shutdown_timeout_s: float = Field(default=20.0, gt=0)

    jwt_secret: SecretStr | None = None
    jwks_url: str | None = None
    jwks_cache_s: int = Field(default=300, ge=0)
    # An unknown kid refetches the JWKS at most this often
    # (a flood of bogus kids cannot hammer the IdP).
    jwks_refresh_cooldown_s: float = Field(default=30.0, ge=0)
    jwt_issuer: str = "pilotgraph-dev"
    jwt_audience: str = "pilotgraph"
    jwt_leeway_s: int = Field(default=30, ge=0)
    # Where a token carries the claims PilotGraph reads: comma-separated dotted paths, the first
    # present one decides (gateway.claims). The defaults read Keycloak's realm roles and the user
    # attributes its protocol mappers add (docs/DEPLOY.md), and the flat claims of other issuers.
    claim_roles: str = "realm_access.roles,roles"
    claim_tenant: str = "tenant"
    claim_province: str = "province"
    claim_member_id: str = "member_id,sub"
    dev_token_ttl_h: int = Field(default=12, ge=1)
    # Shared secret a federation router sends as X-Router-Token to reach _service/_entities.
    router_token: SecretStr | None = None
    # The admin console's OpenID Connect login (authorization code + PKCE), when an issuer is set;
    # its access tokens must verify like any other (jwks_url, jwt_issuer, jwt_audience).
    oidc_issuer: str | None = None
    oidc_client_id: str = "pilotgraph-console"
    oidc_scope: str = "openid profile"

    base_domain: str | None = None
    path_tenants: bool = True
    # GraphiQL on GET /graphql: on in development, off in production unless set explicitly.
    graphiql: bool = Field(default_factory=_development)
    host: str = "127.0.0.1"
    port: int = 8000
    # Prometheus metrics of every worker, on a listener of their own that the ingress never
    # routes to (`pilotgraph serve` only); 0 turns it off.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    log_level: str = "info"
    log_json: bool = False
    # The collector's OTLP/HTTP base URL (``http://otel-collector:4318``, ``/v1/traces`` is
    # appended) or its full traces URL; falls back to the standard OTEL_EXPORTER_OTLP_* variables.
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "PILOTGRAPH_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ),
    )
    service_name: str = "pilotgraph"
    # The edge (limits, rate limits, persisted operations, CORS): JSON in PILOTGRAPH_EDGE.
    edge: EdgeSettings = EdgeSettings()
    # Shared rate-limit buckets for several replicas, e.g. redis://127.0.0.1:6379/0.
    redis_url: SecretStr | None = None
    # The adoption guardrail pauses a running plan when a started wave's weekly active members
    # fell by more than this fraction (0.3 = 30%); a plan may set its own; 0 turns it off.
    guardrail_drop: float = Field(default=0.3, ge=0, lt=1)
    # Waves with fewer active members than this in the earlier week are not judged.
    guardrail_min_active: int = Field(default=20, ge=1)
    guardrail_interval_s: float = Field(default=900.0, gt=0)
    # Raw events older than this many months are removed (whole months; rollups stay). The
    # bounds are adoption.expiry's: above ingest's 90-day window, at most ten years.
    event_retention_months: int = Field(default=13, ge=4, le=120)
    # How often each replica runs retention (one at a time: an advisory lock); 0 turns it off.
    event_retention_interval_s: float = Field(default=6 * 3600.0, ge=0)
    # Webhooks: how often each replica looks for events to post, and how it retries.
    webhook_poll_s: float = Field(default=5.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    webhook_backoff_s: float = Field(default=30.0, gt=0)
    webhook_backoff_cap_s: float = Field(default=3600.0, gt=0)
    # Host names the gateway is reached by (comma-separated), besides PILOTGRAPH_BASE_DOMAIN:
    # a webhook may not point at any of them.
    public_hosts: str = ""
    # HMAC-SHA256 key signing install tokens (>= 32 bytes); required in production. In
    # development it is derived from the HS256 key (or the development one) when unset.
    install_token_key: SecretStr | None = None
    install_token_ttl_h: int = Field(default=7 * 24, ge=1)
    # POST /v1/install-tokens per client address and per tenant, while rate limits are on.
    install_token_rate: RateLimit = RateLimit(per_second=1 / 30, burst=20)
    install_token_tenant_rate: RateLimit = RateLimit(per_second=0.1, burst=60)

    @field_validator("claim_roles", "claim_tenant", "claim_province", "claim_member_id")
    @classmethod
    def _claim_paths_are_dotted(cls, value: str) -> str:
        parse_paths(value)
        return value

    _otlp_endpoint_is_http = field_validator("otlp_endpoint")(otlp_traces_url)

    @model_validator(mode="after")
    def _command_timeout_above_statement_timeout(self) -> Self:
        statement_s = self.database_statement_timeout_ms / 1000
        if statement_s and self.database_command_timeout_s <= statement_s:
            raise ValueError(
                f"PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S ({self.database_command_timeout_s:g})"
                " must be greater than PILOTGRAPH_DATABASE_STATEMENT_TIMEOUT_MS"
                f" ({self.database_statement_timeout_ms} ms), so that the server cancels a slow"
                " statement first"
            )
        return self

    @model_validator(mode="after")
    def _production_needs_real_keys(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            if self.jwt_secret is None and self.jwks_url is None:
                raise ValueError(
                    "PILOTGRAPH_JWT_SECRET or PILOTGRAPH_JWKS_URL must be set in production"
                )
            if self.jwt_secret is not None and (
                self.jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
            ):
                raise ValueError("PILOTGRAPH_JWT_SECRET must not be the development secret")
            self._secret_long_enough()
        return self

    @model_validator(mode="after")
    def _install_token_key_is_strong(self) -> Self:
        key = self.install_token_key
        if key is None and self.environment is Environment.PRODUCTION:
            raise ValueError(
                "PILOTGRAPH_INSTALL_TOKEN_KEY must be set in production"
                f" (at least {MIN_INSTALL_TOKEN_KEY_BYTES} bytes, e.g. `openssl rand -base64 48`)"
            )
        if key is not None and len(key.get_secret_value().encode()) < MIN_INSTALL_TOKEN_KEY_BYTES:
            raise ValueError(
                f"PILOTGRAPH_INSTALL_TOKEN_KEY must be at least {MIN_INSTALL_TOKEN_KEY_BYTES} bytes"
            )
        return self

    def _secret_long_enough(self) -> None:
        secret = self.jwt_secret
        if secret is not None and len(secret.get_secret_value().encode()) < MIN_HS256_SECRET_BYTES:
            raise ValueError(
                f"PILOTGRAPH_JWT_SECRET must be at least {MIN_HS256_SECRET_BYTES} bytes"
                " in production"
            )

    @property
    def claim_paths(self) -> ClaimPaths:
        """Where the claims PilotGraph reads sit in a token."""
        return ClaimPaths(
            roles=parse_paths(self.claim_roles),
            tenant=parse_paths(self.claim_tenant),
            province=parse_paths(self.claim_province),
            member_id=parse_paths(self.claim_member_id),
        )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def hs256_secret(self) -> str | None:
        """The shared HS256 secret: configured, or the development one outside production."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.jwks_url is None and not self.is_production:
            return DEVELOPMENT_JWT_SECRET
        return None

    @property
    def install_token_secret(self) -> bytes:
        """The install-token HMAC key: configured, or in development derived from the HS256 key."""
        if self.install_token_key is not None:
            return self.install_token_key.get_secret_value().encode()
        seed = (self.hs256_secret or DEVELOPMENT_JWT_SECRET).encode()
        return hmac.digest(seed, DEVELOPMENT_INSTALL_KEY_LABEL, hashlib.sha256)

    @property
    def install_token_ttl(self) -> dt.timedelta:
        """How long an install token is accepted after issue."""
        return dt.timedelta(hours=self.install_token_ttl_h)

    @property
    def rate_limits_on(self) -> bool:
        """Whether rate limits apply: as configured, else on in production only."""
        enabled = self.edge.rate_limits_enabled
        return self.is_production if enabled is None else enabled

    @property
    def in_flight_limit(self) -> int:
        """Requests one worker serves at once (``PILOTGRAPH_MAX_IN_FLIGHT``, or as many as the
        pool's connections, overflow included: a request holds one at most, and a worker is
        CPU-bound long before that, so more in flight would only queue and add latency)."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        return 2 * self.database_pool_size

    @property
    def db_url(self) -> str:
        return self.database_url.get_secret_value()

    @property
    def db_admin_url(self) -> str:
        admin = self.database_admin_url
        return admin.get_secret_value() if admin is not None else self.db_url


def _variable(loc: tuple[int | str, ...]) -> str:
    """The variable an error is about; a field read under an alias is named by that alias."""
    name = "_".join(str(p) for p in loc).upper() or "SETTINGS"
    return name if name.startswith(("PILOTGRAPH_", "OTEL_")) else f"PILOTGRAPH_{name}"


def load_settings() -> Settings:
    """Read the settings, turning validation failures into one message naming the keys."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid configuration: {problems}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
