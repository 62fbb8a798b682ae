"""The 2023 figures the demo reproduces, computed from candidate rows."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from member_development import service
from member_development.models import Stage

# The provincial report's over-target committees: percentage over plan, one decimal.
OVER_TARGET = {
    "nho-quan": "9.2",
    "hoa-lu": "10.9",
    "ninh-binh-city": "3.1",
    "yen-mo": "7.4",
    "kim-son": "3.6",
    "police": "56.3",
}


async def _figures(sessionmaker, slug, year=2023):
    async with sessionmaker() as session:
        return await service.figures(session=session, tenant_id=slug, year=year)


async def test_nho_quan_admitted_320_for_a_plan_of_293(sessionmaker):
    # when
    figures = await _figures(sessionmaker, "nho-quan")
    # then
    assert (figures.plan, figures.admitted) == (293, 320)
    assert figures.achievement_rate == Decimal("109.22")


@pytest.mark.parametrize(("slug", "over"), OVER_TARGET.items())
async def test_over_target_committees_match_the_report(sessionmaker, slug, over):
    # when
    figures = await _figures(sessionmaker, slug)
    # then
    over_plan = (figures.achievement_rate - 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert str(over_plan) == over


async def test_the_province_admitted_2360_at_104_75_percent(sessionmaker):
    # when
    async with sessionmaker() as session:
        total, each = await service.province_figures(
            session=session, province_id="ninh-binh", year=2023
        )
    # then
    assert (total.admitted, total.plan, total.achievement_rate) == (2360, 2253, Decimal("104.75"))
    assert total.members_at_start == 75_180
    assert len(each) == 12
    over = {slug for slug, figures in each if figures.admitted > figures.plan}
    assert over == set(OVER_TARGET)


async def test_the_plan_defaults_to_three_percent_of_members(sessionmaker):
    # when: the police committee keeps the default plan
    police = await _figures(sessionmaker, "police")
    # then
    assert police.members_at_start == 3_200
    assert police.plan == service.default_plan(3_200) == 96
    assert police.meets_three_percent_rule is True


async def test_kim_son_beat_its_plan_but_not_the_three_percent_rule(sessionmaker):
    # when
    kim_son = await _figures(sessionmaker, "kim-son")
    # then: ~200 a year, 20+ of them religious believers
    assert (kim_son.admitted, kim_son.religious_believers) == (200, 22)
    assert kim_son.achievement_rate > 100
    assert kim_son.meets_three_percent_rule is False  # 200 < 3% of 9,300


async def test_kim_sons_supplementary_class_completed_56_of_56(sessionmaker):
    # when
    async with sessionmaker() as session:
        classes = await service.supplementary_classes(
            session=session, tenant_id="kim-son", year=2023
        )
    # then
    assert [(c.enrolled, c.completed) for c in classes] == [(56, 56)]


async def test_candidates_are_listed_per_stage_within_the_tenant(sessionmaker):
    # when
    async with sessionmaker() as session:
        rows, total = await service.candidates(
            session=session, tenant_id="kim-son", year=2023, stage=Stage.EDUCATION_MET, first=5
        )
    # then
    assert total == 16
    assert len(rows) == 5
    assert {row.tenant_id for row in rows} == {"kim-son"}
    assert [row.full_name for row in rows] == sorted(row.full_name for row in rows)


async def test_a_year_without_a_plan_has_no_figures(sessionmaker):
    # when / then
    assert await _figures(sessionmaker, "nho-quan", year=2019) is None
