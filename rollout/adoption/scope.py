"""The explicit province path for reads across tenants.

Row-level security admits one tenant's rows per transaction (``app.tenant_id``). A province
read instead sets ``app.province_id`` for the current transaction; migration 0003's read-only
``province_read`` policies then admit the rows of that province's tenants in the adoption rollups
and ``members``. Only adoption's province reads call :func:`enter_province`, after the caller has
checked that the principal may read the province; nothing can be written through it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.adoption.dialect import is_postgres

PROVINCE_SETTING = "app.province_id"


async def enter_province(session: AsyncSession, province_id: str) -> None:
    """Let the current transaction read the adoption rollups of ``province_id``'s tenants."""
    if is_postgres(session):
        await session.execute(
            text("SELECT set_config(:name, :province, true)"),
            {"name": PROVINCE_SETTING, "province": province_id},
        )
