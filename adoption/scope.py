"""The explicit province path for reads across tenants.

Row-level security admits one tenant's rows per transaction (``app.tenant_id``). A province
read instead sets ``app.province_id`` for the current transaction; migration 0003's read-only
``province_read`` policies then admit the rows of that province's tenants in the adoption rollups
and ``members``. Only adoption's province reads call :func:`enter_province`, after the caller has
checked that the principal may read the province; nothing can be written through it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import is_postgres
from tenants.read_model import provinces_of

PROVINCE_SETTING = "app.province_id"


async def enter_province(session: AsyncSession, province_id: str) -> None:
    """Let the current transaction read the adoption rollups of ``province_id``'s tenants."""
    if is_postgres(session):
        await session.execute(
            text("SELECT set_config(:name, :province, true)"),
            {"name": PROVINCE_SETTING, "province": province_id},
        )


async def by_province(
    session: AsyncSession, tenant_ids: Sequence[str]
) -> dict[str | None, list[str]]:
    """The tenants grouped by province, in the given order (None: not a known tenant)."""
    province_of = await provinces_of(session=session, tenant_ids=tenant_ids)
    grouped: dict[str | None, list[str]] = defaultdict(list)
    for tenant_id in tenant_ids:
        grouped[province_of.get(tenant_id)].append(tenant_id)
    return grouped
