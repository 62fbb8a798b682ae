"""Ground truth read from the database as its owner: every tenant's data, and row checksums.

Which tables count is read from the ORM metadata, so a new tenant-owned table is covered
without a change here. A row belongs to the tenants named by, in order: its ``tenant_id``,
its ``province_id`` (every tenant of the province), its plan (``plan_id``, or the plan's own
id) or its flag (``flag_key``, or the flag's own ``key``) through the plan's waves.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

import gateway.app  # noqa: F401 - imports every domain's models into the metadata
from db.base import Base

# Columns whose values identify or describe a tenant's data (besides ids).
TEXT_COLUMNS = frozenset(
    {
        "name",
        "full_name",
        "title",
        "number",
        "body",
        "summary",
        "place",
        "agenda",
        "slug",
        "device_id",
        "reason",
    }
)
MIN_DATUM = 6

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Truth:
    """What each tenant owns: identifying strings, ids per table, plan flags."""

    province_of: dict[str, str]
    owners: dict[str, frozenset[str]]  # datum → tenants it belongs to
    ids: dict[str, dict[str, list[uuid.UUID]]]  # tenant → table → ids
    flags: dict[str, list[str]]  # tenant → flag keys of plans naming it
    versions: dict[str, int]  # flag → its version now


def tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if _attributable(t)]


def _attributable(table: Table) -> bool:
    columns = set(table.c.keys())
    return bool(columns & {"tenant_id", "province_id", "plan_id", "flag_key"}) or table.name in (
        "tenants",
        "rollout_plans",
        "flags",
    )


async def read_rows(conn: AsyncConnection) -> Rows:
    rows: Rows = {}
    for table in tables():
        result = await conn.execute(select(table))
        rows[table.name] = [dict(r._mapping) for r in result]
    return rows


class Owners:
    """Who owns a row, from the tenants, plans and waves read at the same time."""

    def __init__(self, rows: Rows) -> None:
        self.province = {r["id"]: r["province_id"] for r in rows["tenants"]}
        self.plan_tenants: dict[Any, set[str]] = defaultdict(set)
        for r in rows.get("rollout_wave_tenants", []):
            self.plan_tenants[r["plan_id"]].add(r["tenant_id"])
        self.flag_plan = {r["flag_key"]: r["id"] for r in rows.get("rollout_plans", [])}

    def of(self, table: str, row: dict[str, Any]) -> set[str]:
        if table == "tenants":
            return {row["id"]}
        if row.get("tenant_id"):
            return {row["tenant_id"]}
        if row.get("province_id"):
            return {t for t, p in self.province.items() if p == row["province_id"]}
        plan = row.get("plan_id") or (row.get("id") if table == "rollout_plans" else None)
        flag = row.get("flag_key") or (row.get("key") if table == "flags" else None)
        if plan is None and flag is not None:
            plan = self.flag_plan.get(flag)
        return set(self.plan_tenants.get(plan, ()))


def _data(table: str, row: dict[str, Any]) -> Iterable[str]:
    for column, value in row.items():
        wanted = column == "id" or column.endswith("_id") or column in TEXT_COLUMNS
        if wanted and isinstance(value, str | uuid.UUID) and len(str(value)) >= MIN_DATUM:
            yield str(value)


def truth_from(rows: Rows, provinces: dict[str, str]) -> Truth:
    owners = Owners(rows)
    found: dict[str, set[str]] = defaultdict(set)
    ids: dict[str, dict[str, list[uuid.UUID]]] = defaultdict(lambda: defaultdict(list))
    for table, table_rows in rows.items():
        for row in table_rows:
            who = owners.of(table, row)
            for datum in _data(table, row):
                found[datum] |= who
            if isinstance(row.get("id"), uuid.UUID) and len(who) == 1:
                ids[next(iter(who))][table].append(row["id"])
    for province, name in provinces.items():
        found[province] |= {t for t, p in owners.province.items() if p == province}
        found[name] |= found[province]
    flags: dict[str, list[str]] = defaultdict(list)
    for flag, plan in owners.flag_plan.items():
        for tenant in owners.plan_tenants.get(plan, ()):
            flags[tenant].append(flag)
    owned = {d: frozenset(w) for d, w in found.items() if w}
    versions = {r["key"]: r["version"] for r in rows.get("flags", [])}
    ids_by_tenant = {t: dict(v) for t, v in ids.items()}
    return Truth(dict(owners.province), owned, ids_by_tenant, dict(flags), versions)


def checksums(rows: Rows) -> dict[tuple[str, str], str]:
    """(table, owners) → digest of the rows those tenants own together (owners comma-joined)."""
    owners = Owners(rows)
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for table, table_rows in rows.items():
        for row in table_rows:
            text = repr(sorted((k, str(v)) for k, v in row.items()))
            grouped[(table, ",".join(sorted(owners.of(table, row))))].append(text)
    return {
        key: hashlib.md5("\n".join(sorted(texts)).encode()).hexdigest()  # noqa: S324 - a checksum
        for key, texts in grouped.items()
        if key[1]
    }
