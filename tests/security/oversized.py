"""Documents just over each of the edge's query limits, built from the schema."""

from __future__ import annotations

import functools

from graphql import GraphQLObjectType, get_named_type, is_leaf_type

from gateway.edge.config import QueryLimits
from tests.security.operations import _required, graphql_schema, root_fields, selection


def _free(fields: dict) -> list[tuple[str, object]]:
    """Fields callable without arguments."""
    return [
        (n, f)
        for n, f in fields.items()
        if not any(_required(a.type, a.default_value) for a in f.args.values())
    ]


@functools.cache
def _chain(type_name: str, depth: int) -> tuple[str, ...] | None:
    """Object fields nesting ``depth`` deep from ``type_name`` (ending on a leaf), if any."""
    type_ = graphql_schema().type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    for name, field in _free(type_.fields):
        named = get_named_type(field.type)
        if depth == 1 and is_leaf_type(named):
            return (name,)
        if depth > 1 and isinstance(named, GraphQLObjectType):
            rest = _chain(named.name, depth - 1)
            if rest is not None:
                return (name, *rest)
    return None


def _deep(depth: int) -> str:
    chain = _chain(graphql_schema().query_type.name, depth)
    assert chain is not None, f"no path {depth} deep in the schema"
    return "query { " + " { ".join(chain) + " }" * (len(chain) - 1) + " }"


def _cheap_root() -> str:
    name, field = next((n, f) for n, f in _free(root_fields("query")) if not n.startswith("_"))
    return f"{name} {selection(field.type, 3)}".strip()


def oversized(limits: QueryLimits) -> dict[str, str]:
    """One document per limit, each over it by a little."""
    root = _cheap_root()
    aliases = " ".join(f"a{i}: {root}" for i in range(limits.max_aliases + 1))
    roots = " ".join(f"r{i}: {root}" for i in range(limits.max_root_fields + 1))
    tokens = " ".join(["__typename"] * (limits.max_tokens + 1))
    return {
        "depth": _deep(limits.max_depth + 1),
        "aliases": f"query {{ {aliases} }}",
        "root fields": f"query {{ {roots} }}",
        "tokens": f"query {{ {tokens} }}",
    }
