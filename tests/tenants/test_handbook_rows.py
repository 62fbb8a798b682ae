"""The hot reads' plain rows match their tables, column for column, and search binds literally."""

from __future__ import annotations

import dataclasses

import pytest

from db.sessions import make_sessionmaker, scope_session
from tenants import rows as tenant_rows
from tenants.handbook import rows, statements
from tenants.handbook.service import MemberFilter, MemberPage, members_page
from tests.world import YEN_MO


@pytest.mark.parametrize(
    ("row_type", "table"),
    [
        (rows.MemberRow, rows.MEMBERS),
        (rows.MeetingRow, rows.MEETINGS),
        (rows.NoticeRow, rows.NOTICES),
        (tenant_rows.BranchRow, tenant_rows.BRANCHES),
    ],
    ids=["members", "meetings", "notices", "branches"],
)
def test_a_row_type_has_its_tables_columns_in_order(row_type, table):
    # given: rows are built positionally from ``select(*table.c)``
    # when
    fields = [field.name for field in dataclasses.fields(row_type)]
    # then
    assert fields == [column.name for column in table.columns]


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("Nguyễn", "%Nguyễn%"),
        ("50%", "%50/%%"),
        ("a_b", "%a/_b%"),
        ("a/b", "%a//b%"),
        ("/%_", "%///%/_%"),
    ],
)
def test_search_text_is_matched_literally(text, pattern):
    # when / then: what ``contains(text, autoescape=True)`` binds, with ``/`` as escape
    assert statements.contains_pattern(text) == pattern


async def _search(connection, text: str, after=None) -> MemberPage:
    maker = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    async with scope_session(maker(), YEN_MO) as session:
        return await members_page(
            session=session,
            tenant_id=YEN_MO,
            filters=MemberFilter(search=text),
            first=1,
            after=after,
        )


@pytest.mark.parametrize("wildcard", ["%", "_", "/"])
async def test_a_like_wildcard_in_search_matches_only_itself(connection, wildcard):
    # when: no member's name holds these characters
    page = await _search(connection, wildcard)
    # then
    assert (list(page.rows), page.has_next, page.total) == ([], False, 0)


async def test_a_page_past_the_end_still_counts_the_filter(connection):
    # given: the first of the members named "Nguyễn", by name
    first = await _search(connection, "Nguyễn")
    last = first
    while last.has_next:
        cursor = (last.rows[-1].full_name, last.rows[-1].id)
        last = await _search(connection, "Nguyễn", after=cursor)
    # when: a page after the last one
    past = await _search(connection, "Nguyễn", after=(last.rows[-1].full_name, last.rows[-1].id))
    # then: no row, and the total asked for apart
    assert first.total >= 1
    assert (list(past.rows), past.has_next, past.total) == ([], False, first.total)
