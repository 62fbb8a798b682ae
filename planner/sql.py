"""SQL expressions that spell a row's column the way the schema serialises it.

Each builder returns an :data:`Expr`: given the alias of the row's table, the SQL expression of
the field's JSON value. They match strawberry's output byte for byte: global IDs as
:func:`schema.relay.encode_id`, ``DateTime`` as ``datetime.isoformat()`` in UTC, ``Date`` as
``date.isoformat()``, enums by member name.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

Expr = Callable[[str], str]


def column(name: str) -> Expr:
    """The column as it is: text, integers, booleans (and null)."""
    return lambda alias: f"{alias}.{name}"


def global_id(type_name: str, name: str = "id") -> Expr:
    """URL-safe unpadded base64 of ``Type:uuid``; ``encode`` wraps lines, which are dropped."""
    return lambda alias: (
        f"rtrim(translate(encode(convert_to('{type_name}:' || {alias}.{name}::text, 'UTF8'),"
        " 'base64'), E'+/\\n', '-_'), '=')"
    )


def cursor(*names: str) -> Expr:
    """Padded URL-safe base64 of the columns joined by colons, as
    :func:`schema.relay.encode_cursor` writes a member cursor (``encode`` wraps lines)."""

    def spell(alias: str) -> str:
        joined = " || ':' || ".join(f"{alias}.{name}::text" for name in names)
        return f"translate(encode(convert_to({joined}, 'UTF8'), 'base64'), E'+/\\n', '-_')"

    return spell


def timestamp(name: str) -> Expr:
    """``isoformat()`` of the UTC instant: microseconds only when there are any."""

    def spell(alias: str) -> str:
        utc = f"({alias}.{name} AT TIME ZONE 'UTC')"
        fraction = (
            f"CASE WHEN date_part('microseconds', {alias}.{name})::bigint % 1000000 = 0"
            f" THEN '' ELSE to_char({utc}, '.US') END"
        )
        return f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || {fraction} || '+00:00')"

    return spell


def date(name: str) -> Expr:
    return lambda alias: f"to_char({alias}.{name}, 'YYYY-MM-DD')"


def enum(name: str, kind: type[Enum]) -> Expr:
    """A stored enum value answered by its GraphQL name (the member's name)."""
    cases = " ".join(f"WHEN '{member.value}' THEN '{member.name}'" for member in kind)
    return lambda alias: f"(CASE {alias}.{name} {cases} END)"


def literal(text: str) -> str:
    """A SQL string literal (the planner only quotes names from the schema, never input)."""
    return "'" + text.replace("'", "''") + "'"
