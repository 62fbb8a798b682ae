"""``pilotgraph credentials create | list | revoke`` on a committed database (both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway.cli import app as cli_app
from gateway.settings import get_settings
from tenants.credentials import service
from tenants.credentials.models import ServiceCredential
from tests import databases, world
from tests.world import load_world

runner = CliRunner()


@pytest.fixture
async def fresh(database, tmp_path) -> AsyncIterator[databases.TestDatabase]:
    """A database of the same backend that the CLI commits to."""
    if database.backend == "postgresql":
        db = await databases.create_postgres()
    else:
        db = await databases.create_sqlite(tmp_path)
    engine = make_engine(db.app_url)
    await load_world(make_sessionmaker(engine))
    await engine.dispose()
    yield db
    if db.backend == "postgresql":
        await databases.drop_postgres(db)


def _rows(url: str) -> int:
    async def count() -> int:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                return int(
                    await session.scalar(select(func.count()).select_from(ServiceCredential)) or 0
                )
        finally:
            await engine.dispose()

    return asyncio.run(count())


@pytest.fixture
def cli(fresh, monkeypatch):
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", fresh.app_url)
    get_settings.cache_clear()
    yield fresh
    get_settings.cache_clear()


def test_create_list_revoke(cli) -> None:
    # when
    created = runner.invoke(
        cli_app,
        [
            "credentials",
            "create",
            "--name",
            "portal",
            "--tenant",
            world.YEN_MO,
            "--province",
            world.PROVINCE,
            "--expires-at",
            "2099-01-01T00:00:00+07:00",
        ],
    )
    key = created.stdout.strip()
    parts = service.split_key(key)
    listed = runner.invoke(cli_app, ["credentials", "list", "--province", world.PROVINCE])
    assert parts is not None, created.output
    revoked = runner.invoke(
        cli_app, ["credentials", "revoke", parts[0], "--province", world.PROVINCE]
    )
    again = runner.invoke(cli_app, ["credentials", "list", "--province", world.PROVINCE])
    # then
    assert created.exit_code == 0
    assert listed.stdout.startswith(f"{parts[0]}\t{world.YEN_MO}\tportal\t")
    assert parts[1] not in listed.stdout
    assert revoked.exit_code == 0
    assert again.stdout.split("\t")[5] != "-"  # revoked at


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--name", ""], "INVALID_CREDENTIAL_INPUT"),
        (["--name", "p", "--expires-at", "2020-01-01T00:00:00+07:00"], "INVALID_CREDENTIAL_INPUT"),
        (["--name", "p", "--expires-at", "next week"], "INVALID_CREDENTIAL_INPUT"),
        (["--name", "p", "--tenant", "no-such"], "TENANT_NOT_FOUND"),
        (["--name", "p", "--tenant", world.DUY_TIEN], "TENANT_NOT_FOUND"),
        (["--name", "p", "--province", "nowhere"], "PROVINCE_NOT_FOUND"),
    ],
)
def test_bad_input_exits_1_with_its_code_and_writes_nothing(cli, args, code) -> None:
    province = [] if "--province" in args else ["--province", world.PROVINCE]
    result = runner.invoke(cli_app, ["credentials", "create", *args, *province])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{code}: ")
    assert _rows(cli.app_url) == 0


def test_revoking_an_unknown_id_is_refused(cli) -> None:
    result = runner.invoke(
        cli_app, ["credentials", "revoke", "0123456789ab", "--province", world.PROVINCE]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("CREDENTIAL_NOT_FOUND: ")
