"""One question about the backend, asked of whatever the code holds: ``is_postgres``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from db.dialect import is_postgres
from db.sessions import make_sessionmaker

DRIVERS = {
    "postgresql": ["", "+asyncpg", "+psycopg", "+psycopg2"],
    "sqlite": ["", "+aiosqlite", "+pysqlite"],
}


@given(
    backend=st.sampled_from(sorted(DRIVERS)),
    data=st.data(),
    host=st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True),
    name=st.from_regex(r"[a-z_][a-z0-9_]{0,20}", fullmatch=True),
)
def test_a_url_is_postgres_exactly_when_its_backend_is(backend, data, host, name):
    # given: a URL of either backend, through any of its drivers, as text and parsed
    driver = data.draw(st.sampled_from(DRIVERS[backend]))
    text = (
        f"{backend}{driver}://app:secret@{host}:5432/{name}"
        if backend == "postgresql"
        else f"{backend}{driver}:///var/{name}.db"
    )
    # when
    answers = {is_postgres(text), is_postgres(make_url(text))}
    # then
    assert answers == {backend == "postgresql"}


async def test_every_kind_of_bind_gives_the_same_answer(database, app_engine: AsyncEngine):
    # given: the backend under test, and everything code may hold of it
    expected = database.backend == "postgresql"
    # when
    async with app_engine.connect() as connection, make_sessionmaker(app_engine)() as session:
        answers = {
            "url text": is_postgres(database.app_url),
            "url": is_postgres(app_engine.url),
            "dialect": is_postgres(app_engine.dialect),
            "async engine": is_postgres(app_engine),
            "engine": is_postgres(app_engine.sync_engine),
            "async connection": is_postgres(connection),
            "connection": is_postgres(connection.sync_connection),
            "async session": is_postgres(session),
            "session": is_postgres(session.sync_session),
        }
    # then
    assert answers == dict.fromkeys(answers, expected)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+asyncpg://pilotgraph@db:5432/pilotgraph", True),
        ("postgresql://pilotgraph@db/pilotgraph", True),
        ("sqlite+aiosqlite:///./var/pilotgraph.db", False),
        ("sqlite+aiosqlite:///:memory:", False),
    ],
)
def test_the_configured_urls_are_told_apart(url, expected):
    # when / then
    assert is_postgres(url) is expected
