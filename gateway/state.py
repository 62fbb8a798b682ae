"""What the running gateway holds for its lifetime, and what each request carries."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adoption.install_tokens import InstallTokenKey
from adoption.kpi_source import AdoptionKpis
from db.clock import Clock, utc_now
from db.sessions import make_sessionmaker
from gateway.auth import TokenVerifier
from gateway.member_branches import MemberBranches
from gateway.service_keys import ServiceKeys
from gateway.settings import Settings
from rollout.guardrail import Policy
from rollout.kpi import KpiSource
from rollout.snapshot import FlagStore
from rollout.webhooks.delivery import RetryPolicy
from rollout.webhooks.urls import OwnOrigins
from tenants.identity import Principal
from tenants.registry import TenantInfo, TenantRegistry


def kpi_source() -> KpiSource:
    """Adoption's KPIs as rollout reads them: the one place the two domains meet."""
    return AdoptionKpis()


def guardrail_policy(settings: Settings) -> Policy:
    """The deployment's guardrail settings (``PILOTGRAPH_GUARDRAIL_*``), for the server and CLI."""
    return Policy(settings.guardrail_drop, settings.guardrail_min_active)


def webhook_origins(settings: Settings) -> OwnOrigins:
    """Where this gateway answers: a webhook may not point there."""
    hosts = [h.strip().lower() for h in settings.public_hosts.split(",") if h.strip()]
    if settings.base_domain:
        hosts.append(settings.base_domain.lower())
    return OwnOrigins(hosts=hosts, listeners=[(settings.host.lower(), settings.port)])


def webhook_policy(settings: Settings) -> RetryPolicy:
    """The deployment's webhook retries (``PILOTGRAPH_WEBHOOK_*``)."""
    return RetryPolicy(
        first_s=settings.webhook_backoff_s,
        cap_s=settings.webhook_backoff_cap_s,
        max_attempts=settings.webhook_max_attempts,
        timeout_s=settings.webhook_timeout_s,
    )


@dataclass
class GatewayState:
    """Process-wide: one engine, one registry snapshot, one verifier."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    registry: TenantRegistry
    verifier: TokenVerifier
    kpis: KpiSource  # what rollout's gates and guardrail read: adoption's, see kpi_source()
    clock: Clock = field(default=utc_now)
    flags: FlagStore = field(default_factory=FlagStore)
    branches: MemberBranches = field(default_factory=MemberBranches)  # for OFREP's branch rules
    service_keys: ServiceKeys = field(default_factory=ServiceKeys)  # OFREP's machine clients
    # The listeners' reloads run on this engine when given: on PostgreSQL without a pool, each
    # on a fresh connection. After a restart or a network cut the request pool may still hold
    # dead connections, and a replica must not wait on one (the command timeout) to hear
    # another's change.
    reload_engine: AsyncEngine | None = None

    def reloads(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for the listeners' reloads (``sessionmaker`` when there is no reload engine)."""
        if self.reload_engine is None:
            return self.sessionmaker
        return make_sessionmaker(self.reload_engine)

    @property
    def serves_pooled(self) -> bool:
        """Requests' sessions take pooled connections of ``engine`` (a served app), rather than
        sharing one connection's transaction (a test's)."""
        return self.sessionmaker.kw.get("bind") is self.engine

    @property
    def guardrail(self) -> Policy:
        """The deployment's guardrail settings."""
        return guardrail_policy(self.settings)

    @property
    def webhook_origins(self) -> OwnOrigins:
        """Where this gateway answers: a webhook may not point there."""
        return webhook_origins(self.settings)

    @property
    def install_key(self) -> InstallTokenKey:
        """The key that signs and checks install tokens, with their lifetime."""
        settings = self.settings
        return InstallTokenKey(settings.install_token_secret, settings.install_token_ttl)


@dataclass(frozen=True, slots=True)
class RequestScope:
    """Per request: the verified principal (if any) and the tenant it acts on (if any)."""

    principal: Principal | None
    tenant: TenantInfo | None


SCOPE_KEY = "pilotgraph_scope"
