"""Documents generated from the live schema: every root field, its nested objects, its arguments.

Arguments that can name a tenant's data (``ID``s, ``slug``/``tenant``/``flag``/``search``) are
filled with the real values of one FOREIGN target tenant; other required arguments get a
plausible value of their type. A field added to the schema is walked without a change here.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from schema.relay import encode_id
from schema.root import schema as strawberry_schema

MAX_DEPTH = 3
TARGET_STRINGS = frozenset({"slug", "slugs", "tenant", "tenants", "flag", "search"})
# Optional arguments worth setting: they make a write land instead of stopping short.
NAMED: dict[str, Any] = {"variant": "on", "percentage": 50.0, "drop": 0.2}
CHOICES = 2
SCALARS: dict[str, Any] = {
    "Int": 5,
    "Float": 0.5,
    "Boolean": False,
    "Date": "2026-11-01",
    "DateTime": "2026-12-01T00:00:00+00:00",
    "JSON": {},
    "String": "probe",
}


@dataclass(frozen=True)
class Target:
    """One tenant's real identifiers, to put in arguments."""

    slug: str
    flags: tuple[str, ...]
    ids: dict[str, list[uuid.UUID]] = field(hash=False)
    search: str = ""
    versions: dict[str, int] = field(default_factory=dict, hash=False)  # flag → version
    raw_ids: bool = False  # IDs as bare UUIDs instead of global IDs
    pick: int = 0  # which choice, where an argument has several (flags, enum values)

    @property
    def flag(self) -> str:
        return self.flags[self.pick % len(self.flags)] if self.flags else "handbook"


@dataclass(frozen=True)
class Operation:
    kind: str  # query, mutation, subscription
    field: str
    text: str


class Enum(str):
    """An enum value: printed bare."""


def graphql_schema() -> GraphQLSchema:
    return strawberry_schema._schema


def literal(value: Any) -> str:
    """A GraphQL literal for a Python value."""
    if isinstance(value, Enum):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _table_for(type_name: str, target: Target) -> str | None:
    snake = _snake(type_name)
    last = snake.rsplit("_", 1)[-1]
    for table in (snake + "s", snake + "es"):
        if table in target.ids:
            return table
    return next((t for t in target.ids if t.endswith(f"_{last}s") or t == f"{last}s"), None)


def _id_type(hint: str) -> str | None:
    types = [
        n
        for n, t in graphql_schema().type_map.items()
        if isinstance(t, GraphQLObjectType) and "id" in t.fields and not n.startswith("_")
    ]
    hint = hint.lower()
    inside = [n for n in types if n.lower() in hint]
    ending = [n for n in types if n.lower().endswith(hint)]
    return max(inside, key=len) if inside else (min(ending, key=len) if ending else None)


def id_value(name: str, parent: str, target: Target) -> str:
    """A real ID of the target tenant, of the type the argument's name points at."""
    hint = parent.removesuffix("Input") if name == "id" else name.removesuffix("Id")
    type_name = _id_type(hint)
    table = _table_for(type_name, target) if type_name else None
    ids = target.ids.get(table or "") or next(iter(target.ids.values()), [uuid.uuid4()])
    if target.raw_ids or type_name is None:
        return str(ids[0])
    return str(encode_id(type_name, ids[0]))


def _string(name: str, target: Target) -> str:
    if name == "flag":
        return target.flag
    if name == "search":
        return target.search
    return target.slug if name in TARGET_STRINGS else SCALARS["String"]


def _representations(target: Target) -> list[dict[str, str]]:
    reps = []
    for type_name, type_ in graphql_schema().type_map.items():
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("_"):
            if "id" in type_.fields and _table_for(type_name, target):
                reps.append({"__typename": type_name, "id": id_value("id", type_name, target)})
            if "slug" in type_.fields:
                reps.append({"__typename": type_name, "slug": target.slug})
    return reps


def value(name: str, parent: str, type_: Any, target: Target) -> Any:
    """A value for an argument or input field, naming the target's data where it can."""
    if isinstance(type_, GraphQLNonNull):
        return value(name, parent, type_.of_type, target)
    if isinstance(type_, GraphQLList):
        if get_named_type(type_).name == "_Any":
            return _representations(target)
        return [value(name, parent, type_.of_type, target)]
    if isinstance(type_, GraphQLEnumType):
        values = list(type_.values)
        return Enum(values[target.pick % len(values)])
    if isinstance(type_, GraphQLInputObjectType):
        return {
            n: value(n, type_.name, f.type, target)
            for n, f in type_.fields.items()
            if _wanted(n, f.type, f.default_value)
        }
    if name == "expectedVersion":
        return target.versions.get(target.flag, 1)
    if name in NAMED:
        return NAMED[name]
    if type_.name == "ID":
        return id_value(name, parent, target)
    if type_.name == "String":
        return _string(name, target)
    return SCALARS.get(type_.name, "probe")


def _required(type_: Any, default: Any) -> bool:
    return isinstance(type_, GraphQLNonNull) and default is Undefined


def _wanted(name: str, type_: Any, default: Any) -> bool:
    """Required, or able to name a tenant's data."""
    targeted = name in TARGET_STRINGS or name in NAMED
    return _required(type_, default) or targeted or get_named_type(type_).name == "ID"


def arguments(field_name: str, definition: GraphQLField, target: Target) -> str:
    args = {
        n: value(n, field_name, a.type, target)
        for n, a in definition.args.items()
        if _wanted(n, a.type, a.default_value)
    }
    return "(" + ", ".join(f"{k}: {literal(v)}" for k, v in args.items()) + ")" if args else ""


def selection(type_: Any, depth: int = 1) -> str:
    """Every scalar leaf, and nested objects down to ``MAX_DEPTH``."""
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if isinstance(named, GraphQLUnionType):
        parts = ["__typename", *(f"... on {m.name} {selection(m, depth)}" for m in named.types)]
        return "{ " + " ".join(parts) + " }"
    parts = []
    for name, child in named.fields.items():
        if any(_required(a.type, a.default_value) for a in child.args.values()):
            continue
        if is_leaf_type(get_named_type(child.type)):
            parts.append(name)
        elif depth < MAX_DEPTH:
            parts.append(f"{name} {selection(child.type, depth + 1)}")
    return "{ " + " ".join(parts or ["__typename"]) + " }"


def root_fields(kind: str) -> dict[str, GraphQLField]:
    root = {
        "query": graphql_schema().query_type,
        "mutation": graphql_schema().mutation_type,
        "subscription": graphql_schema().subscription_type,
    }[kind]
    return dict(root.fields) if root else {}


def operations(kind: str, target: Target, choices: int = 1) -> list[Operation]:
    """Documents per root field of ``kind`` aimed at ``target``: up to ``choices`` variants each."""
    found: dict[str, Operation] = {}
    for pick in range(choices):
        aimed = replace(target, pick=pick)
        for name, f in root_fields(kind).items():
            text = f"{kind} {{ {name}{arguments(name, f, aimed)} {selection(f.type)} }}"
            found.setdefault(text, Operation(kind, name, text))
    return list(found.values())
