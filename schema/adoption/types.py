"""Adoption's GraphQL types: KPI points, wave series, retention cohorts, ingest answers."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from adoption import series
from adoption.read_model import WaveSeries
from adoption.retention import Cohort
from adoption.service import EventOutcome, IngestResult
from schema.errors import UserError


@strawberry.enum(description="How a KPI time series is cut: local days, ISO weeks or months.")
class Granularity(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    def to_domain(self) -> series.Granularity:
        return series.Granularity(self.value)


@strawberry.type(description="Adoption KPIs over one period (local days; `end` inclusive).")
class AdoptionPoint:
    start: dt.date
    end: dt.date
    members: int = strawberry.field(description="Members at the period's last day.")
    installs: int = strawberry.field(description="Distinct devices installed up to `end`.")
    activated_members: int = strawberry.field(description="Members who ever logged in, to `end`.")
    activation_rate: float | None = strawberry.field(description="Activated / members.")
    new_installs: int
    new_activations: int
    active_members: int = strawberry.field(
        description="Distinct members with a login or session in the period (exact)."
    )
    uses: int = strawberry.field(description="Sessions started in the period.")
    stickiness: float | None = strawberry.field(description="Mean daily active / active.")

    @classmethod
    def from_domain(cls, point: series.AdoptionPoint) -> AdoptionPoint:
        return cls(
            start=point.start,
            end=point.end,
            members=point.members,
            installs=point.installs,
            activated_members=point.activated_members,
            activation_rate=point.activation_rate,
            new_installs=point.new_installs,
            new_activations=point.new_activations,
            active_members=point.active_members,
            uses=point.uses,
            stickiness=point.stickiness,
        )


@strawberry.type(description="A KPI series for one tenant or the whole province.")
class AdoptionReport:
    tenants: list[str]
    granularity: Granularity
    points: list[AdoptionPoint]

    @classmethod
    def of_tenant(
        cls, tenant_id: str, granularity: Granularity, points: list[series.AdoptionPoint]
    ) -> AdoptionReport:
        return cls(
            tenants=[tenant_id],
            granularity=granularity,
            points=[AdoptionPoint.from_domain(p) for p in points],
        )


@strawberry.type(description="A KPI series for the tenants of one wave of a flag's plan.")
class WaveAdoption:
    position: int
    name: str
    tenants: list[str]
    points: list[AdoptionPoint]

    @classmethod
    def from_domain(cls, wave: WaveSeries) -> WaveAdoption:
        points = [AdoptionPoint.from_domain(p) for p in wave.points]
        return cls(
            position=wave.position, name=wave.name, tenants=list(wave.tenant_ids), points=points
        )


@strawberry.type(description="Members first activated in `month`, and how many were active later.")
class RetentionCohort:
    month: dt.date
    activated: int
    active: list[int] = strawberry.field(description="active[k]: active k months later.")
    rates: list[float] = strawberry.field(description="rates[k] = active[k] / activated.")

    @classmethod
    def from_domain(cls, cohort: Cohort) -> RetentionCohort:
        return cls(
            month=cohort.month,
            activated=cohort.activated,
            active=list(cohort.active),
            rates=list(cohort.rates),
        )


@strawberry.input(description="One event from the handbook app.")
class EventInput:
    id: str = strawberry.field(description="Client-generated UUID; a retry reuses it.")
    type: str = strawberry.field(
        description="app_installed, login, session_started or screen_viewed."
    )
    timestamp: str = strawberry.field(description="ISO 8601 with a UTC offset.")
    device_id: str
    install_token: str | None = strawberry.field(
        default=None,
        description="From POST /v1/install-tokens for this device on this tenant; checked when "
        "sent (INSTALL_TOKEN_INVALID, INSTALL_TOKEN_EXPIRED).",
    )
    screen: str | None = None

    def to_body(self) -> dict[str, str]:
        body = {
            "id": self.id,
            "type": self.type,
            "timestamp": self.timestamp,
            "deviceId": self.device_id,
        }
        if self.install_token is not None:
            body["installToken"] = self.install_token
        if self.screen is not None:
            body["screen"] = self.screen
        return body


@strawberry.type(description="What became of one event of the batch, by its index.")
class EventResult:
    index: int
    accepted: bool
    duplicate: bool = strawberry.field(description="Accepted before: stored and counted once.")
    code: str | None
    message: str | None

    @classmethod
    def from_domain(cls, outcome: EventOutcome) -> EventResult:
        return cls(
            index=outcome.index,
            accepted=outcome.accepted,
            duplicate=outcome.duplicate,
            code=outcome.code,
            message=outcome.message,
        )


@strawberry.type
class TrackEventsPayload:
    accepted: int = 0
    refused: int = 0
    results: list[EventResult] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the whole batch was refused (nothing stored)."
    )

    @classmethod
    def from_domain(cls, result: IngestResult) -> TrackEventsPayload:
        return cls(
            accepted=result.accepted,
            refused=result.refused,
            results=[EventResult.from_domain(o) for o in result.outcomes],
        )
