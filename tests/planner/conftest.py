"""Two apps over the same test transaction: one answers trusted documents with the planner,
the other runs every operation on the schema; feature states set on the flag store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import httpx
import pytest

import planner.execute
from gateway.app import create_app
from gateway.edge.manifest import CLIENTS_MANIFEST, load_manifest
from rollout.evaluation import FlagConfig, make_snapshot
from rollout.flag_catalogue import FlagKey
from tests import world
from tests.conftest import make_settings
from tests.graphql import asgi_client
from tests.planner.world import Caller, load_more

MANIFEST = load_manifest(CLIENTS_MANIFEST)  # hash → document
BY_NAME = {text.split("(")[0].split("{")[0].split()[-1]: text for text in MANIFEST.values()}
VARIANTS = MappingProxyType({"on": True, "off": False})


def flag(key: FlagKey, default: str, **rest: Any) -> FlagConfig:
    return FlagConfig(
        key=key.value,
        kind="boolean",
        variants=VARIANTS,
        default_variant=default,
        rollout_variant="on",
        version=2,
        **rest,
    )


# Each feature state as the flag store serves it, per province.
FEATURE_STATES: dict[str, dict[str, list[FlagConfig]]] = {
    "on": {},
    "off": {
        world.PROVINCE: [flag(FlagKey.NOTICES, "off"), flag(FlagKey.MEETINGS, "off")],
        world.OTHER_PROVINCE: [flag(FlagKey.HANDBOOK, "off")],
    },
    "partial-ramp": {
        world.PROVINCE: [
            flag(FlagKey.MEETINGS, "off", rollouts=MappingProxyType({world.YEN_MO: 5000})),
            flag(FlagKey.HANDBOOK, "off", overrides=MappingProxyType({world.YEN_MO: "on"})),
        ],
        world.OTHER_PROVINCE: [
            flag(FlagKey.NOTICES, "off", rollouts=MappingProxyType({world.DUY_TIEN: 5000}))
        ],
    },
}


def set_feature_state(gateway: Any, state: str) -> None:
    """Serve ``state``'s flag configuration, as a reload from the database would."""
    configs = FEATURE_STATES[state]
    gateway.flags.snapshots = MappingProxyType(
        {province: make_snapshot({c.key: c for c in flags}) for province, flags in configs.items()}
    )


@dataclass
class Paths:
    """The planned and the generic app, and how many statements the planner ran."""

    planned: Any
    generic: Any
    planned_statements: int = 0

    def client(self, app: Any, caller: Caller, token: Callable[..., str]) -> httpx.AsyncClient:
        headers = {"X-Tenant": caller.acting_on} if caller.acting_on else None
        if caller.name == "anonymous":
            return asgi_client(app, None, {"X-Tenant": world.YEN_MO})
        signed = token(
            caller.role, tenant=caller.tenant, subject=caller.subject, province=caller.province
        )
        return asgi_client(app, signed, headers)


@pytest.fixture
def postgres_only(database: Any) -> None:
    if database.backend != "postgresql":
        pytest.skip(
            "the planner answers on PostgreSQL only: on SQLite every operation runs on the schema"
        )


@pytest.fixture
async def paths(postgres_only, gateway, database, monkeypatch) -> AsyncIterator[Paths]:
    await load_more(gateway.sessionmaker)
    planned = create_app(make_settings(database, planned_operations=True), state=gateway)
    generic = create_app(make_settings(database, planned_operations=False), state=gateway)
    found = Paths(planned, generic)
    fetch = planner.execute.fetch_data

    async def counted(**kwargs: Any) -> str:
        found.planned_statements += 1
        return await fetch(**kwargs)

    monkeypatch.setattr(planner.execute, "fetch_data", counted)
    yield found
    set_feature_state(gateway, "on")
