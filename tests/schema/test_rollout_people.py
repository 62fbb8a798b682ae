"""``member_name``: the member directory is asked only for a viewer who may read it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from schema.rollout.people import member_name
from tenants.identity import Principal
from tenants.registry import TenantInfo
from tenants.types import Role

KIM_SON = TenantInfo(
    "kim-son", "Kim Sơn", "district", "ninh-binh", "Ninh Bình", "Asia/Ho_Chi_Minh", None
)
MEMBER_ID = uuid.UUID("00000000-0000-4000-8000-000000002001")


@dataclass
class Row:
    full_name: str


@dataclass
class Loader:
    asked: list[uuid.UUID] = field(default_factory=list)

    async def load(self, member_id: uuid.UUID) -> Row:
        self.asked.append(member_id)
        return Row("Bùi Văn Sơn")


@dataclass
class Loaders:
    member_by_id: Loader = field(default_factory=Loader)


@dataclass
class FakeContext:
    principal: Principal | None
    loaders: Loaders = field(default_factory=Loaders)
    registry: Any = None

    def __post_init__(self) -> None:
        self.registry = {KIM_SON.id: KIM_SON}

    def loaders_for(self, tenant_id: str) -> Loaders:
        assert tenant_id == KIM_SON.id
        return self.loaders


async def test_a_province_admin_of_the_province_gets_the_name():
    # given
    context = FakeContext(Principal("a", frozenset({Role.PROVINCE_ADMIN}), province="ninh-binh"))
    # when
    name = await member_name(context, "kim-son", str(MEMBER_ID))  # type: ignore[arg-type]
    # then
    assert (name, context.loaders.member_by_id.asked) == ("Bùi Văn Sơn", [MEMBER_ID])


@pytest.mark.parametrize(
    "principal",
    [
        # another province's admin: does not cover Kim Sơn
        Principal("b", frozenset({Role.PROVINCE_ADMIN}), province="ha-nam"),
        # a plain member of Kim Sơn: covers it, but does not read member details
        Principal("c", frozenset({Role.MEMBER}), tenant="kim-son"),
        None,
    ],
)
async def test_a_viewer_who_may_not_read_the_directory_gets_no_name_and_asks_nothing(principal):
    # given
    context = FakeContext(principal)
    # when
    name = await member_name(context, "kim-son", str(MEMBER_ID))  # type: ignore[arg-type]
    # then
    assert (name, context.loaders.member_by_id.asked) == (None, [])
