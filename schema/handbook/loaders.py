"""Per-request DataLoaders for the handbook, one set per tenant read (``Context.loaders_for``).

One statement per kind of thing, whatever the fan-out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from tenants import service as tenants_service
from tenants.handbook import service
from tenants.handbook.models import (
    Attendance,
    DraftResolution,
    Meeting,
    Member,
    ResolutionComment,
)
from tenants.handbook.rows import MemberRow
from tenants.handbook.service import When
from tenants.models import Organisation
from tenants.rows import BranchRow as Branch

K = TypeVar("K")
V = TypeVar("V")
Run = Callable[..., Awaitable[Any]]
Fetch = Callable[[list[K]], Awaitable[Mapping[K, V]]]
BranchPage = tuple[uuid.UUID, int]  # a branch and how many of its members
BranchWhen = tuple[uuid.UUID, When]


def _loader(fetch: Fetch[K, V], default: Any) -> DataLoader[K, V]:
    async def load(keys: list[K]) -> Sequence[V]:
        found = await fetch(keys)
        return [found.get(key, default() if callable(default) else default) for key in keys]

    return DataLoader(load_fn=load)


@dataclass
class HandbookLoaders:
    """Named ``<Things>By<Key>Loader`` as the style guide asks; built per request and tenant."""

    branch_by_id: DataLoader[uuid.UUID, Branch | None]
    organisation_by_id: DataLoader[uuid.UUID, Organisation | None]
    member_by_id: DataLoader[uuid.UUID, MemberRow | None]
    members_by_branch: DataLoader[BranchPage, list[Member]]
    member_count_by_branch: DataLoader[uuid.UUID, int]
    meetings_by_branch: DataLoader[BranchWhen, list[Meeting]]
    attendance_by_meeting: DataLoader[uuid.UUID, list[Attendance]]
    drafts_by_branch: DataLoader[uuid.UUID, list[DraftResolution]]
    comments_by_resolution: DataLoader[uuid.UUID, list[ResolutionComment]]


def build_loaders(run: Run, now: dt.datetime) -> HandbookLoaders:
    """Loaders whose fetches go through ``run`` (which adds the session and one tenant)."""
    return HandbookLoaders(
        branch_by_id=_loader(_branches(run), None),
        organisation_by_id=_loader(
            lambda ids: run(tenants_service.organisations_by_ids, ids=ids), None
        ),
        member_by_id=_loader(lambda ids: run(service.members_by_ids, ids=ids), None),
        members_by_branch=_loader(_members_by_branch(run), list),
        member_count_by_branch=_loader(
            lambda ids: run(service.count_members_by_branches, branch_ids=ids), 0
        ),
        meetings_by_branch=_loader(_meetings_by_branch(run, now), list),
        attendance_by_meeting=_loader(
            lambda ids: run(service.attendance_by_meetings, meeting_ids=ids), list
        ),
        drafts_by_branch=_loader(lambda ids: run(service.drafts_by_branches, branch_ids=ids), list),
        comments_by_resolution=_loader(
            lambda ids: run(service.comments_by_resolutions, resolution_ids=ids), list
        ),
    )


def _branches(run: Run) -> Fetch[uuid.UUID, Branch]:
    async def branches(ids: list[uuid.UUID]) -> dict[uuid.UUID, Branch]:
        rows = await run(tenants_service.list_branches, branch_ids=ids)
        return {row.id: row for row in rows}

    return branches


def _members_by_branch(run: Run) -> Fetch[BranchPage, list[Member]]:
    """One statement per distinct page size asked for."""

    async def members_by_branch(keys: list[BranchPage]) -> dict[BranchPage, list[Member]]:
        found: dict[BranchPage, list[Member]] = {}
        for first in {first for _, first in keys}:
            ids = [branch_id for branch_id, f in keys if f == first]
            grouped = await run(service.members_by_branches, branch_ids=ids, first=first)
            found |= {(branch_id, first): grouped.get(branch_id, []) for branch_id in ids}
        return found

    return members_by_branch


def _meetings_by_branch(run: Run, now: dt.datetime) -> Fetch[BranchWhen, list[Meeting]]:
    """One statement per distinct ``when`` asked for."""

    async def meetings_by_branch(keys: list[BranchWhen]) -> dict[BranchWhen, list[Meeting]]:
        found: dict[BranchWhen, list[Meeting]] = {}
        for when in {when for _, when in keys}:
            ids = [branch_id for branch_id, w in keys if w == when]
            grouped = await run(service.meetings_by_branches, branch_ids=ids, when=when, now=now)
            found |= {(branch_id, when): grouped.get(branch_id, []) for branch_id in ids}
        return found

    return meetings_by_branch
