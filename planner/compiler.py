"""The one SQL statement that builds an operation's whole ``data`` object as JSON text.

Every root field becomes a correlated subquery: an object with ``json_build_object`` over its
row, a list with ``json_agg`` ordered by the row number its service's order gives (the order
``json_agg`` sees is otherwise unspecified), a relation a subquery on the same tenant. The
parameters are ``$1`` tenant, ``$2`` member (null without one), ``$3`` the request's time, then
the root fields' arguments in order (:attr:`Statement.slots`).
"""

# ruff: noqa: S608  (the SQL is built from the schema's mapping only; every input is a parameter)
from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.mapping import (
    CASTS,
    CONNECTIONS,
    OBJECTS,
    ROOTS,
    Connection,
    Root,
    Rows,
    ToMany,
    ToOne,
)
from planner.operation import TYPENAME, Selected
from planner.sql import literal

FIXED_PARAMETERS = 3  # $1 tenant, $2 member, $3 now


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    slots: tuple[tuple[str, str], ...]  # (root field's response key, argument) of $4, $5, …


class _Writer:
    def __init__(self) -> None:
        self.slots: list[tuple[str, str]] = []
        self.aliases = itertools.count(1)

    def alias(self) -> str:
        return f"t{next(self.aliases)}"

    def binder(self, key: str) -> Any:
        def bind(argument: str) -> str:
            if (key, argument) not in self.slots:
                self.slots.append((key, argument))
            number = self.slots.index((key, argument)) + FIXED_PARAMETERS + 1
            return f"${number}::{CASTS[argument]}"

        return bind

    def object(self, type_name: str, alias: str, fields: tuple[Selected, ...]) -> str:
        mapped = OBJECTS[type_name].fields
        pairs = []
        for selected in fields:
            field = mapped.get(selected.name)
            if selected.name == TYPENAME or field is None:
                value = literal(type_name)
            elif isinstance(field, ToOne):
                value = self.to_one(field, alias, selected.fields)
            elif isinstance(field, ToMany):
                value = self.to_many(field, alias, selected.fields)
            else:
                value = field(alias)
            pairs.append(f"{literal(selected.key)}, {value}")
        return f"json_build_object({', '.join(pairs)})"

    def to_one(self, relation: ToOne, parent: str, fields: tuple[Selected, ...]) -> str:
        alias = self.alias()
        table = OBJECTS[relation.type_name].table
        body = self.object(relation.type_name, alias, fields)
        return (
            f"(SELECT {body} FROM {table} {alias} WHERE {alias}.tenant_id = {parent}.tenant_id"
            f" AND {alias}.id = {parent}.{relation.foreign_key})"
        )

    def to_many(self, relation: ToMany, parent: str, fields: tuple[Selected, ...]) -> str:
        alias = self.alias()
        table = OBJECTS[relation.type_name].table
        body = self.object(relation.type_name, alias, fields)
        order = relation.order.format(t=alias)
        ranked = (
            f"SELECT {body} AS j, row_number() OVER (ORDER BY {order}) AS n FROM {table} {alias}"
            f" WHERE {alias}.tenant_id = {parent}.tenant_id"
            f" AND {alias}.{relation.foreign_key} = {parent}.id"
        )
        return f"COALESCE((SELECT json_agg(s.j ORDER BY s.n) FROM ({ranked}) s), '[]'::json)"

    def root(self, selected: Selected, static: Mapping[str, Any], whole: bool) -> str:
        root: Root = ROOTS[selected.name]
        alias = self.alias()
        rows = root.rows(static, whole, self.binder(selected.key))
        if root.type_name in CONNECTIONS:
            return self.connection(CONNECTIONS[root.type_name], root, rows, selected.fields)
        where = " AND ".join([f"{alias}.tenant_id = $1", *(w.format(t=alias) for w in rows.where)])
        source = f"FROM {OBJECTS[root.type_name].table} {alias} WHERE {where}"
        body = self.object(root.type_name, alias, selected.fields)
        if not root.many:
            return f"(SELECT {body} {source})"
        order = (rows.order or f"{alias}.id").format(t=alias)
        limit = f" LIMIT {rows.limit}" if rows.limit else ""
        ranked = f"SELECT {body} AS j, row_number() OVER (ORDER BY {order}) AS n {source}"
        listed = f"SELECT json_agg(s.j ORDER BY s.n) FROM ({ranked} ORDER BY {order}{limit}) s"
        return f"COALESCE(({listed}), '[]'::json)"

    def connection(
        self, connection: Connection, root: Root, rows: Rows, fields: tuple[Selected, ...]
    ) -> str:
        """One aggregate over the page's rows and one more: edges, page info and the total.

        The page reads ``first + 1`` rows after the cursor in the service's order (the extra
        row only tells ``hasNextPage``), each with its cursor ``c``, its row number ``n`` and
        the nodes the edges select; the total counts the rows without the cursor."""
        alias, table = self.alias(), OBJECTS[connection.node].table
        where = [f"{alias}.tenant_id = $1", *(w.format(t=alias) for w in rows.where)]
        order, first = (rows.order or "{t}.id").format(t=alias), rows.limit or "NULL"
        columns = [f"{connection.cursor(alias)} AS c", f"row_number() OVER (ORDER BY {order}) AS n"]
        pairs = []
        for i, part in enumerate(fields):
            value = literal(root.type_name)
            if part.name == "totalCount":
                value = f"(SELECT count(*) FROM {table} {alias} WHERE {' AND '.join(where)})"
            elif part.name == "edges":
                edge = self.edge(connection, alias, part.fields, f"e{i}", columns)
                value = (
                    f"COALESCE(json_agg({edge} ORDER BY p.n) FILTER (WHERE p.n <= {first}), '[]')"
                )
            elif part.name == "pageInfo":
                value = self.page_info(part.fields, first)
            pairs.append(f"{literal(part.key)}, {value}")
        page = " AND ".join([*where, *(w.format(t=alias) for w in rows.after)])
        source = f"SELECT {', '.join(columns)} FROM {table} {alias} WHERE {page}"
        rows_sql = f"{source} ORDER BY {order} LIMIT {first} + 1"
        return f"(SELECT json_build_object({', '.join(pairs)}) FROM ({rows_sql}) p)"

    def edge(
        self,
        connection: Connection,
        alias: str,
        fields: tuple[Selected, ...],
        name: str,
        columns: list[str],
    ) -> str:
        """An edge built over the page's row ``p``: each node it selects becomes a column."""
        pairs = []
        for k, part in enumerate(fields):
            value = literal(connection.edge)
            if part.name == "cursor":
                value = "p.c"
            elif part.name == "node":
                columns.append(f"{self.object(connection.node, alias, part.fields)} AS {name}_{k}")
                value = f"p.{name}_{k}"
            pairs.append(f"{literal(part.key)}, {value}")
        return f"json_build_object({', '.join(pairs)})"

    @staticmethod
    def page_info(fields: tuple[Selected, ...], first: str) -> str:
        pairs = []
        for part in fields:
            value = literal("PageInfo")
            if part.name == "hasNextPage":
                value = f"count(*) > {first}"
            elif part.name == "endCursor":
                value = f"(array_agg(p.c ORDER BY p.n DESC) FILTER (WHERE p.n <= {first}))[1]"
            pairs.append(f"{literal(part.key)}, {value}")
        return f"json_build_object({', '.join(pairs)})"


def compile_statement(
    roots: tuple[Selected, ...], static: Mapping[str, Mapping[str, Any]], whole: bool
) -> Statement:
    """The statement answering ``roots``; ``static`` holds each root's variant-choosing values,
    ``whole`` whether the caller reads the whole tenant (else their own branch)."""
    writer = _Writer()
    pairs = [f"{literal(s.key)}, {writer.root(s, static.get(s.key, {}), whole)}" for s in roots]
    # Names the fixed parameters' types, which a statement that does not use them still takes.
    fixed = "(SELECT $1::text, $2::uuid, $3::timestamptz) AS p"
    sql = f"SELECT json_build_object({', '.join(pairs)})::text FROM {fixed}"
    return Statement(sql, tuple(writer.slots))
