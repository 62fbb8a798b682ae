"""Entity references a federation router resolves (``_entities``): the same isolation as queries.

A reference is looked up in the request's tenant only (the tenant the forwarded token selects) and
then checked against the caller's branch scope; anything else answers ``NOT_FOUND``, so a reference
to another tenant's member resolves to null with an error, never to data, and never tells whether
it exists.
"""

from __future__ import annotations

import uuid

from strawberry.types import Info

from schema.context import Context
from schema.errors import PilotGraphError
from schema.relay import InvalidId, decode_id
from schema.tenants.access import require_handbook_reader
from tenants.handbook import models
from tenants.handbook import service as handbook_service
from tenants.handbook.rows import MemberRow
from tenants.rows import BranchRow as Branch


def _not_found(type_name: str, id_: str) -> PilotGraphError:
    return PilotGraphError("NOT_FOUND", f"{type_name} '{id_[:80]}' was not found.")


def _decoded(type_name: str, id_: str) -> uuid.UUID:
    try:
        return decode_id(type_name, id_)
    except InvalidId as exc:
        raise PilotGraphError(exc.code, exc.message) from exc


async def _readable(
    info: Info[Context, None], type_name: str, id_: str, branch_id: uuid.UUID | None
) -> None:
    actor = await info.context.actor()
    if branch_id is None or not actor.reads_branch(branch_id):
        raise _not_found(type_name, id_)


async def member_or_raise(info: Info[Context, None], id_: str) -> MemberRow:
    """The referenced member, if the caller may read it."""
    require_handbook_reader(info)
    row: MemberRow | None = await info.context.loaders.member_by_id.load(_decoded("Member", id_))
    await _readable(info, "Member", id_, row.branch_id if row else None)
    assert row is not None  # _readable refuses a missing row
    return row


async def branch_or_raise(info: Info[Context, None], id_: str) -> Branch:
    """The referenced branch, if the caller may read it."""
    require_handbook_reader(info)
    row: Branch | None = await info.context.loaders.branch_by_id.load(_decoded("Branch", id_))
    await _readable(info, "Branch", id_, row.id if row else None)
    assert row is not None
    return row


async def meeting_or_raise(info: Info[Context, None], id_: str) -> models.Meeting:
    """The referenced meeting, if the caller may read its branch."""
    require_handbook_reader(info)
    row: models.Meeting | None = await info.context.run(
        handbook_service.get_meeting, meeting_id=_decoded("Meeting", id_)
    )
    await _readable(info, "Meeting", id_, row.branch_id if row else None)
    assert row is not None
    return row
