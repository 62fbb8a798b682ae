"""Erasure of a member's personal data on request (Decree 13/2023), in one transaction.

Personal fields and comments: :mod:`tenants.handbook.erasure`. The app's data: the member's
events, and every event of their devices, are kept but anonymised: the member id becomes one
fresh random UUID, each device id a fresh random ``erased-…`` name, and install tokens are
cleared; the rollups that name the member (active days and months, first login) or a device
(first install) take the same replacements, and so do the member's stays in the tenant (so their
first login keeps meeting their stays). No table keeps the mapping, so nothing links the
replacements back to the person; and since every count is over the same rows as before, every KPI
of every period stays the same, and a rollup rebuild from the events gives them again.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adoption.models import (
    AdoptionActivation,
    AdoptionEvent,
    AdoptionInstall,
    AdoptionMemberDay,
    AdoptionMemberMonth,
)
from tenants.handbook import erasure
from tenants.handbook.erasure import Erasure

MEMBER_ROLLUPS = (AdoptionMemberDay, AdoptionMemberMonth, AdoptionActivation)


async def erase_member(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID, actor: str, now: dt.datetime
) -> Erasure:
    """Erase the member's personal data and anonymise their events and devices; raises
    ``NotFound`` or ``AlreadyErased`` (tenants' errors) before writing anything."""
    await erasure.erase_personal_fields(session=session, tenant_id=tenant_id, member_id=member_id)
    pseudonym = uuid.uuid4()
    events, devices = await _anonymise_activity(session, tenant_id, member_id, pseudonym)
    await erasure.rekey_stays(
        session=session, tenant_id=tenant_id, member_id=member_id, pseudonym=pseudonym
    )
    return await erasure.record(
        session=session,
        tenant_id=tenant_id,
        member_id=member_id,
        actor=actor,
        now=now,
        events=events,
        devices=devices,
    )


async def _anonymise_activity(
    session: AsyncSession, tenant_id: str, member_id: uuid.UUID, pseudonym: uuid.UUID
) -> tuple[int, int]:
    """(events, devices) of the member, anonymised in place."""
    devices = list(
        await session.scalars(
            select(AdoptionEvent.device_id)
            .where(AdoptionEvent.tenant_id == tenant_id, AdoptionEvent.member_id == member_id)
            .distinct()
        )
    )
    events = await _update(
        session,
        AdoptionEvent,
        tenant_id,
        AdoptionEvent.member_id == member_id,
        member_id=pseudonym,
        install_token=None,
    )
    for model in MEMBER_ROLLUPS:
        await _update(session, model, tenant_id, model.member_id == member_id, member_id=pseudonym)
    for device in devices:
        renamed = f"erased-{uuid.uuid4().hex}"
        await _update(
            session,
            AdoptionEvent,
            tenant_id,
            AdoptionEvent.device_id == device,
            device_id=renamed,
            install_token=None,
        )
        await _update(
            session,
            AdoptionInstall,
            tenant_id,
            AdoptionInstall.device_id == device,
            device_id=renamed,
        )
    return events, len(devices)


async def _update(
    session: AsyncSession, model: Any, tenant_id: str, condition: Any, **values: Any
) -> int:
    result = await session.execute(
        update(model)
        .where(model.tenant_id == tenant_id, condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
