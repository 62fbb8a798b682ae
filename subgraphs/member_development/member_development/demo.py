"""The Ninh Binh demo: 2023 plans and candidates that reproduce the provincial report.

Province: 2,360 admitted = 104.75% of plan. Over target: Nho Quan 320 (+9.2%), Hoa Lu +10.9%,
Ninh Binh city +3.1%, Yen Mo +7.4%, Kim Son +3.6% (about 200 a year, 20+ religious believers),
Provincial Police +56.3%. How each plan is derived is in docs/FEDERATION.md; the rates are
never stored, they are computed from the candidate rows.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from member_development.models import Candidate, Stage, TenantRecord, YearPlan

PROVINCE_ID = "ninh-binh"
YEAR = 2023
KIM_SON_CLASS = "Lớp bổ túc văn hóa THCS xã Kim Chính"


@dataclass(frozen=True, slots=True)
class DemoPlan:
    slug: str
    members: int  # at the start of 2023, as in PilotGraph's demo province
    planned: int | None  # None: the 3% default
    admitted: int
    believers: int


PLANS: tuple[DemoPlan, ...] = (
    DemoPlan("ninh-binh-city", 9_800, None, 303, 9),  # 3% = 294; 303 / 294 = 103.06%
    DemoPlan("tam-diep-city", 4_100, 134, 131, 4),
    DemoPlan("nho-quan", 9_600, 293, 320, 10),  # 320 / 1.092 = 293.04
    DemoPlan("gia-vien", 7_900, 257, 251, 8),
    DemoPlan("hoa-lu", 6_300, 192, 213, 6),  # 213 / 192 = 110.94%
    DemoPlan("yen-khanh", 8_400, 274, 267, 8),
    DemoPlan("kim-son", 9_300, 193, 200, 22),  # ~200 a year, 20+ believers; 200 / 193 = 103.63%
    DemoPlan("yen-mo", 6_014, 176, 189, 6),  # 189 / 176 = 107.39%
    DemoPlan("police", 3_200, None, 150, 0),  # 3% = 96; 150 / 96 = 156.25%
    DemoPlan("military", 2_900, 94, 92, 0),
    DemoPlan("agencies", 4_700, 153, 150, 3),
    DemoPlan("enterprises", 2_966, 97, 94, 2),
)

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đinh", "Ngô")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hồng")
GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hương",
    "Khánh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Yến",
)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _candidates(plan: DemoPlan, rng: random.Random) -> list[Candidate]:
    """Admitted members (the first ``believers`` religious), then a pipeline still on its way."""
    stages = [Stage.ADMITTED] * plan.admitted
    stages += [Stage.EDUCATION_MET] * (plan.admitted // 12)
    stages += [Stage.POLITICAL_THEORY] * (plan.admitted // 10)
    stages += [Stage.IDENTIFIED] * (plan.admitted // 8)
    rows = [
        Candidate(
            tenant_id=plan.slug,
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            year=YEAR,
            full_name=_name(rng),
            stage=stage.value,
            is_religious_believer=index < plan.believers,
            supplementary_class=None,
            class_completed=False,
        )
        for index, stage in enumerate(stages)
    ]
    if plan.slug == "kim-son":
        _kim_son_class(rows)
    return rows


def _kim_son_class(rows: list[Candidate]) -> None:
    """Kim Son's junior-high supplementary class: 56 enrolled, 56 completed (40 admitted since)."""
    admitted = [row for row in rows if row.stage == Stage.ADMITTED.value][-40:]
    waiting = [row for row in rows if row.stage == Stage.EDUCATION_MET.value][:16]
    for row in admitted + waiting:
        row.supplementary_class, row.class_completed = KIM_SON_CLASS, True


async def load(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Load the demo once; False when it is already there."""
    async with sessionmaker() as session, session.begin():
        if await session.scalar(select(func.count()).select_from(TenantRecord)):
            return False
        rng = random.Random(YEAR)
        session.add_all(TenantRecord(slug=p.slug, province_id=PROVINCE_ID) for p in PLANS)
        await session.flush()
        for plan in PLANS:
            session.add(
                YearPlan(
                    tenant_id=plan.slug,
                    year=YEAR,
                    members_at_start=plan.members,
                    planned=plan.planned,
                )
            )
            session.add_all(_candidates(plan, rng))
    return True
