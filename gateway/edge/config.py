"""The edge's settings, nested under ``Settings.edge`` (env ``PILOTGRAPH_EDGE`` as JSON).

Limits are per role: a principal gets, per dimension, the most generous limit among its roles;
a request without a verified principal gets the ``anonymous`` entry. Roles not listed use
``default``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from adoption.events import MAX_BYTES as EVENTS_MAX_BYTES
from gateway.edge.manifest import load_manifest

ANONYMOUS = "anonymous"
DEFAULT = "default"

M = TypeVar("M", bound=BaseModel)


class QueryLimits(BaseModel):
    """How big a document one request may run, checked before execution."""

    model_config = ConfigDict(frozen=True)

    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=30, ge=0)
    max_tokens: int = Field(default=4_000, ge=1)
    # Characters: lexing is ~0.15 µs a character in Python, so a 1 MB literal is refused unread.
    max_length: int = Field(default=100_000, ge=1)
    max_root_fields: int = Field(default=20, ge=1)
    # A field costs 1; a list field multiplies its subtree by its first/limit/last argument.
    max_cost: int = Field(default=50_000, ge=1)


class RateLimit(BaseModel):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    model_config = ConfigDict(frozen=True)

    per_second: float = Field(default=50.0, gt=0)
    burst: int = Field(default=200, ge=1)


class CacheBounds(BaseModel):
    """A cache clients can fill: its total bytes and the largest entry it keeps."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(ge=0)
    max_entry_bytes: int = Field(ge=0)


MIB = 1024 * 1024
# Documented limits of their own: event ingest 1 MiB (1,000 events), install tokens 1 KiB (a
# device id); every other body uses max_body_bytes.
PATH_BODY_BYTES = {"/v1/events": EVENTS_MAX_BYTES, "/v1/install-tokens": 1_024}


class PersistedMode(StrEnum):
    OFF = "off"
    # Automatic persisted queries (Apollo APQ): hashes register on first use.
    APQ = "apq"
    # Only operations in the trusted-documents manifest run.
    TRUSTED = "trusted"


class EdgeSettings(BaseModel):
    """Everything the edge enforces; defaults are generous enough for development."""

    model_config = ConfigDict(frozen=True)

    query_limits: dict[str, QueryLimits] = Field(
        default_factory=lambda: {DEFAULT: QueryLimits(), ANONYMOUS: QueryLimits()}
    )
    assumed_list_size: int = Field(default=20, ge=1)
    # Every request body, by Content-Length or while streaming; per path suffix where listed.
    max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    path_body_bytes: dict[str, int] = Field(default_factory=lambda: dict(PATH_BODY_BYTES))
    # 0 turns operation batching off; otherwise the most operations one request may carry.
    max_batch: int = Field(default=0, ge=0)
    # A request still running after this answers 503 instead of holding the client.
    request_timeout_s: float = Field(default=30.0, gt=0)

    # None: on in production, off in development (load tests and demos run unthrottled).
    rate_limits_enabled: bool | None = None
    # Per principal (verified subject, else client address), keyed by role; and per tenant.
    rate_limits: dict[str, RateLimit] = Field(
        default_factory=lambda: {DEFAULT: RateLimit(), ANONYMOUS: RateLimit()}
    )
    tenant_rate_limit: RateLimit = RateLimit(per_second=500.0, burst=1_000)

    persisted: PersistedMode = PersistedMode.APQ
    apq_cache_size: int = Field(default=5_000, ge=1)
    # Caches of client documents, bounded by (estimated) bytes; refused documents are never kept.
    apq_cache: CacheBounds = CacheBounds(max_bytes=32 * MIB, max_entry_bytes=256 * 1024)
    token_cache: CacheBounds = CacheBounds(max_bytes=4 * MIB, max_entry_bytes=64 * 1024)
    document_cache: CacheBounds = CacheBounds(max_bytes=64 * MIB, max_entry_bytes=MIB)
    trusted_manifest: str | None = None

    # Introspection is always on in development; in production only for these roles.
    introspection_roles: frozenset[str] = frozenset({"province_admin", "tenant_admin"})

    # GET operations need a header a browser cannot send cross-site without a CORS preflight.
    csrf_require_preflight: bool = True
    cors_origins: tuple[str, ...] = ()
    cors_max_age_s: int = Field(default=600, ge=0)
    security_headers: bool = True

    @model_validator(mode="after")
    def _manifest_is_sound(self) -> Self:
        if self.trusted_manifest is not None:
            load_manifest(self.trusted_manifest)  # fail at start-up, naming the bad entry
        elif self.persisted is PersistedMode.TRUSTED:
            raise ValueError("persisted 'trusted' needs trusted_manifest")
        return self

    def body_limit_for(self, path: str) -> int:
        """The most bytes a request body to ``path`` may carry."""
        for suffix, limit in self.path_body_bytes.items():
            if path.endswith(suffix):
                return limit
        return self.max_body_bytes

    def limits_for(self, roles: frozenset[str] | None) -> QueryLimits:
        """The most generous limits among ``roles`` (``None``: not signed in)."""
        return _most_generous(self.query_limits, roles, QueryLimits)

    def rate_for(self, roles: frozenset[str] | None) -> RateLimit:
        """The most generous rate among ``roles`` (``None``: not signed in)."""
        return _most_generous(self.rate_limits, roles, RateLimit)


def _most_generous(table: dict[str, M], roles: frozenset[str] | None, model: type[M]) -> M:
    if roles is None:
        return table.get(ANONYMOUS) or table.get(DEFAULT) or model()
    chosen = [table.get(role) or table.get(DEFAULT) or model() for role in roles] or [
        table.get(DEFAULT) or model()
    ]
    if len(chosen) == 1:
        return chosen[0]
    merged = {
        name: max(getattr(entry, name) for entry in chosen) for name in type(chosen[0]).model_fields
    }
    return model(**merged)
