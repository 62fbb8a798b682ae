"""Database, load and shutdown settings are validated at start, with a message naming the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.settings import Settings, SettingsError, get_settings, load_settings

REFUSED = [
    ("PILOTGRAPH_DATABASE_POOL_SIZE", "0", "greater than or equal to 1"),
    ("PILOTGRAPH_DATABASE_POOL_SIZE", "-3", "greater than or equal to 1"),
    ("PILOTGRAPH_MAX_IN_FLIGHT", "0", "greater than or equal to 1"),
    ("PILOTGRAPH_MAX_IN_FLIGHT", "many", "valid integer"),
    ("PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S", "0", "greater than 0"),
    ("PILOTGRAPH_DATABASE_CONNECT_TIMEOUT_S", "0", "greater than 0"),
    ("PILOTGRAPH_SHUTDOWN_TIMEOUT_S", "0", "greater than 0"),
]


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/settings.db")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(("key", "value", "reason"), REFUSED)
def test_an_invalid_value_is_refused_naming_the_key(monkeypatch, key, value, reason):
    # given
    monkeypatch.setenv(key, value)
    # when / then
    with pytest.raises(SettingsError, match=f"{key}: .*{reason}"):
        load_settings()


def test_a_command_timeout_not_above_the_statement_timeout_is_refused(monkeypatch):
    # given: the client would give up before the server cancels
    monkeypatch.setenv("PILOTGRAPH_DATABASE_STATEMENT_TIMEOUT_MS", "10000")
    monkeypatch.setenv("PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S", "10")
    # when / then
    with pytest.raises(
        SettingsError,
        match=(
            r"PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S \(10\) must be greater than"
            r" PILOTGRAPH_DATABASE_STATEMENT_TIMEOUT_MS \(10000 ms\)"
        ),
    ):
        load_settings()


def test_the_defaults_are_valid_and_documented_values():
    # given / when
    settings = load_settings()
    # then
    assert settings.database_command_timeout_s == 15.0
    assert settings.database_statement_timeout_ms == 10_000
    assert settings.max_in_flight is None
    assert settings.in_flight_limit == 20
    assert settings.shutdown_timeout_s == 20.0


@given(
    statement_ms=st.integers(min_value=1, max_value=120_000),
    command_s=st.floats(min_value=0.001, max_value=200, allow_nan=False),
)
def test_the_command_timeout_must_exceed_any_statement_timeout(statement_ms, command_s):
    # when
    try:
        Settings(database_statement_timeout_ms=statement_ms, database_command_timeout_s=command_s)
        accepted = True
    except ValueError:
        accepted = False
    # then
    assert accepted == (command_s > statement_ms / 1000)


def test_no_statement_timeout_leaves_any_command_timeout_valid():
    # given / when
    settings = Settings(database_statement_timeout_ms=0, database_command_timeout_s=1)
    # then
    assert settings.database_command_timeout_s == 1
