"""What the planner knows of the schema, declared: each type's fields and each root field.

An object type maps to a table; each field to an expression of its row (:mod:`planner.sql`) or
to a relation (:class:`ToOne`). A root field names its permission and flag (as its resolver's
``requires`` and ``gated`` do), the arguments it plans, how they are checked, and the rows it
answers (filter and order as the service it calls). A field missing here leaves any operation
that selects it to the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from planner import sql
from rollout.flag_catalogue import FlagKey
from schema.handbook.types import check_first, check_search
from schema.relay import InvalidId, decode_cursor
from tenants.handbook.models import MeetingStatus, MemberStatus, NoticeKind, ResolutionStatus
from tenants.handbook.service import When
from tenants.permissions import Permission

Bind = Callable[[str], str]  # a root argument's name → its SQL parameter


@dataclass(frozen=True, slots=True)
class ToOne:
    """A row this row's ``foreign_key`` points at (same tenant); null when the key is null."""

    type_name: str
    foreign_key: str


@dataclass(frozen=True, slots=True)
class ToMany:
    """The rows (same tenant) whose ``foreign_key`` points at this row, in ``order`` (``{t}`` is
    their alias), as the loader the schema's field reads them through orders them."""

    type_name: str
    foreign_key: str
    order: str


Field = sql.Expr | ToOne | ToMany


@dataclass(frozen=True, slots=True)
class ObjectMap:
    table: str
    fields: Mapping[str, Field]


OBJECTS: Mapping[str, ObjectMap] = {
    "Member": ObjectMap(
        "members",
        {
            "id": sql.global_id("Member"),
            "fullName": sql.column("full_name"),
            "birthYear": sql.column("birth_year"),
            "joinedOn": sql.date("joined_on"),
            "position": sql.column("position"),
            "status": sql.enum("status", MemberStatus),
            "branch": ToOne("Branch", "branch_id"),
        },
    ),
    "Branch": ObjectMap(
        "branches",
        {
            "id": sql.global_id("Branch"),
            "name": sql.column("name"),
            # service.drafts_by_branches: latest closing first
            "draftResolutions": ToMany(
                "DraftResolution", "branch_id", "{t}.closes_at DESC, {t}.id"
            ),
        },
    ),
    "DraftResolution": ObjectMap(
        "draft_resolutions",
        {
            "id": sql.global_id("DraftResolution"),
            "title": sql.column("title"),
            "body": sql.column("body"),
            "status": sql.enum("status", ResolutionStatus),
            "closesAt": sql.timestamp("closes_at"),
            # service.comments_by_resolutions: oldest first
            "comments": ToMany("ResolutionComment", "resolution_id", "{t}.created_at, {t}.id"),
        },
    ),
    "ResolutionComment": ObjectMap(
        "resolution_comments",
        {
            "id": sql.global_id("ResolutionComment"),
            "body": sql.column("body"),
            "createdAt": sql.timestamp("created_at"),
            "author": ToOne("Member", "author_id"),
        },
    ),
    "Meeting": ObjectMap(
        "meetings",
        {
            "id": sql.global_id("Meeting"),
            "title": sql.column("title"),
            "startsAt": sql.timestamp("starts_at"),
            "endsAt": sql.timestamp("ends_at"),
            "place": sql.column("place"),
            "agenda": sql.column("agenda"),
            "status": sql.enum("status", MeetingStatus),
            "cancelReason": sql.column("cancel_reason"),
            "branch": ToOne("Branch", "branch_id"),
        },
    ),
    "Notice": ObjectMap(
        "notices",
        {
            "id": sql.global_id("Notice"),
            "kind": sql.enum("kind", NoticeKind),
            "title": sql.column("title"),
            "body": sql.column("body"),
            "publishedAt": sql.timestamp("published_at"),
            "branch": ToOne("Branch", "branch_id"),
        },
    ),
    "Document": ObjectMap(
        "documents",
        {
            "id": sql.global_id("Document"),
            "number": sql.column("number"),
            "title": sql.column("title"),
            "issuedOn": sql.date("issued_on"),
            "summary": sql.column("summary"),
        },
    ),
}


@dataclass(frozen=True, slots=True)
class Connection:
    """A Relay connection of ``node`` rows: ``totalCount``, ``edges { cursor node }`` and
    ``pageInfo { hasNextPage endCursor }``, each edge's cursor spelled by ``cursor``."""

    node: str
    edge: str
    cursor: sql.Expr


# Connections by the schema's type name; a root field answering one pages its rows.
CONNECTIONS: Mapping[str, Connection] = {
    # schema.relay.encode_cursor: the id, a colon and the name, padded URL-safe base64
    "MemberConnection": Connection("Member", "MemberEdge", sql.cursor("id", "full_name")),
}

# The branch of the signed-in member ($1 tenant, $2 member), as the handbook's Actor reads it.
OWN_BRANCH = "(SELECT m.branch_id FROM members m WHERE m.tenant_id = $1 AND m.id = $2)"


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows a root field answers: conditions (``{t}`` is the alias), order and limit."""

    where: tuple[str, ...]
    order: str | None = None
    limit: str | None = None
    after: tuple[str, ...] = ()  # a connection's page only: where the cursor resumes


@dataclass(frozen=True, slots=True)
class Root:
    type_name: str
    many: bool
    permission: Permission
    flag: FlagKey
    check: Callable[[dict[str, Any]], dict[str, Any]]  # the resolver's checks; raises on error
    rows: Callable[[Mapping[str, Any], bool, Bind], Rows]  # (static args, whole tenant, bind)
    static: tuple[str, ...] = ()  # arguments whose value chooses the statement, not a parameter


def _me(_static: Mapping[str, Any], _whole: bool, _bind: Bind) -> Rows:
    return Rows(("{t}.id = $2",))


def _meetings(static: Mapping[str, Any], whole: bool, bind: Bind) -> Rows:
    where = [] if whole else [f"{{t}}.branch_id = {OWN_BRANCH}"]
    when = When(static["when"])
    if when is When.UPCOMING:
        return Rows((*where, "{t}.ends_at >= $3"), "{t}.starts_at, {t}.id", bind("first"))
    if when is When.PAST:
        where.append("{t}.ends_at < $3")
    return Rows(tuple(where), "{t}.starts_at DESC, {t}.id", bind("first"))


def _notices(_static: Mapping[str, Any], whole: bool, bind: Bind) -> Rows:
    where = () if whole else (f"({{t}}.branch_id IS NULL OR {{t}}.branch_id = {OWN_BRANCH})",)
    return Rows(where, "{t}.published_at DESC, {t}.id", bind("first"))


def _documents(_static: Mapping[str, Any], _whole: bool, bind: Bind) -> Rows:
    search = bind("search")
    found = f"({search} IS NULL OR strpos({{t}}.number, {search}) > 0"
    return Rows(
        (f"{found} OR strpos({{t}}.title, {search}) > 0)",),
        "{t}.issued_on DESC, {t}.id",
        bind("first"),
    )


def _members(static: Mapping[str, Any], whole: bool, bind: Bind) -> Rows:
    where = () if whole else (f"{{t}}.branch_id = {OWN_BRANCH}",)
    after: tuple[str, ...] = ()
    if static["resumes"]:
        after = (f"({{t}}.full_name, {{t}}.id) > ({bind('after_name')}, {bind('after_id')})",)
    return Rows(where, "{t}.full_name, {t}.id", bind("first"), after)


def _paged(args: dict[str, Any]) -> dict[str, Any]:
    return {**args, "first": check_first(args["first"])}


def _searched(args: dict[str, Any]) -> dict[str, Any]:
    search = check_search(args.get("search"))
    if search is not None and "\x00" in search:  # PostgreSQL text holds no NUL: an error
        raise ValueError("NUL in search text")
    return {**_paged(args), "search": search}


def _resumed(args: dict[str, Any]) -> dict[str, Any]:
    checked = _paged(args)
    if not args.get("after"):  # as the resolver: an empty cursor starts at the beginning
        return {**checked, "resumes": False}
    try:
        name, member_id = decode_cursor(args["after"])
    except InvalidId as exc:  # the schema answers INVALID_ID
        raise ValueError(exc.message) from exc
    if "\x00" in name:  # PostgreSQL text holds no NUL: an error
        raise ValueError("NUL in the cursor")
    return {**checked, "resumes": True, "after_name": name, "after_id": member_id}


ROOTS: Mapping[str, Root] = {
    "me": Root("Member", False, Permission.READ_HANDBOOK, FlagKey.HANDBOOK, dict, _me),
    "meetings": Root(
        "Meeting", True, Permission.READ_HANDBOOK, FlagKey.MEETINGS, _paged, _meetings, ("when",)
    ),
    "notices": Root("Notice", True, Permission.READ_HANDBOOK, FlagKey.NOTICES, _paged, _notices),
    "documents": Root(
        "Document", True, Permission.READ_HANDBOOK, FlagKey.HANDBOOK, _searched, _documents
    ),
    "members": Root(
        "MemberConnection",
        True,
        Permission.READ_HANDBOOK,
        FlagKey.HANDBOOK,
        _resumed,
        _members,
        ("resumes",),
    ),
}
# The arguments each root field plans; any other argument leaves the operation to the schema.
ARGUMENTS: Mapping[str, frozenset[str]] = {
    "me": frozenset(),
    "meetings": frozenset({"when", "first"}),
    "notices": frozenset({"first"}),
    "documents": frozenset({"first", "search"}),
    "members": frozenset({"first", "after"}),
}
# How a root argument is typed as a statement parameter.
CASTS: Mapping[str, str] = {
    "first": "int",
    "search": "text",
    "after_name": "text",
    "after_id": "uuid",
}
