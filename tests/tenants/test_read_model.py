"""The narrow tenants reads rollout and adoption make: one query each, one province at a time."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text

from db.sessions import make_sessionmaker
from tenants.read_model import (
    TenantZone,
    all_tenants,
    province_tenant_count,
    province_tenants,
    province_tenants_among,
    provinces_of,
)
from tests.world import DUY_TIEN, KIM_SON, OTHER_PROVINCE, PROVINCE, YEN_MO

PROVINCE_OF = {YEN_MO: PROVINCE, KIM_SON: PROVINCE, DUY_TIEN: OTHER_PROVINCE}
NAMED = (YEN_MO, KIM_SON, DUY_TIEN, "no-such-tenant")
# Every set of slugs a caller could name: the province's, another province's, unknown ones.
SUBSETS = [
    set(chosen) for size in range(len(NAMED) + 1) for chosen in itertools.combinations(NAMED, size)
]


@pytest.fixture
async def session(connection):
    """A session whose savepoint is open already, so only the reads themselves are counted."""
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with maker() as session:
        await session.execute(text("SELECT 1"))
        yield session


@pytest.mark.parametrize(
    ("province_id", "expected"),
    [(PROVINCE, [KIM_SON, YEN_MO]), (OTHER_PROVINCE, [DUY_TIEN]), ("no-such-province", [])],
)
async def test_province_tenants_are_the_provinces_own_in_slug_order(
    session, statements, province_id, expected
):
    # given
    statements.count = 0
    # when
    slugs = await province_tenants(session=session, province_id=province_id)
    count = await province_tenant_count(session=session, province_id=province_id)
    # then
    assert slugs == expected
    assert count == len(expected)
    assert statements.count == 2


async def test_province_tenants_among_keeps_only_the_provinces_own_tenants(session, statements):
    # given: every subset of known, foreign and unknown slugs, for both provinces
    for named, province_id in itertools.product(SUBSETS, (PROVINCE, OTHER_PROVINCE)):
        statements.count = 0
        # when
        kept = await province_tenants_among(
            session=session, province_id=province_id, tenant_ids=named
        )
        # then
        assert kept == {slug for slug in named if PROVINCE_OF.get(slug) == province_id}
        assert statements.count == 1


async def test_provinces_of_names_the_province_of_each_known_tenant(session, statements):
    # given: every subset of known and unknown slugs
    for named in SUBSETS:
        statements.count = 0
        # when
        found = await provinces_of(session=session, tenant_ids=named)
        # then
        assert found == {slug: PROVINCE_OF[slug] for slug in named if slug in PROVINCE_OF}
        assert statements.count == 1


async def test_all_tenants_carry_their_provinces_time_zone(session, statements):
    # given
    statements.count = 0
    # when
    tenants = await all_tenants(session=session)
    # then
    assert tenants == [
        TenantZone(DUY_TIEN, "Asia/Ho_Chi_Minh"),
        TenantZone(KIM_SON, "Asia/Ho_Chi_Minh"),
        TenantZone(YEN_MO, "Asia/Ho_Chi_Minh"),
    ]
    assert statements.count == 1
