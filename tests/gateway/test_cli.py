"""The ``pilotgraph`` command: tokens, refusals in production, settings that fail fast."""

from __future__ import annotations

import jwt
import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.settings import (
    DEVELOPMENT_JWT_SECRET,
    Settings,
    SettingsError,
    get_settings,
    load_settings,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    for key in (
        "PILOTGRAPH_ENVIRONMENT",
        "PILOTGRAPH_JWT_SECRET",
        "PILOTGRAPH_JWKS_URL",
        "PILOTGRAPH_INSTALL_TOKEN_KEY",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PILOTGRAPH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _claims(token: str) -> dict:
    return jwt.decode(token, DEVELOPMENT_JWT_SECRET, algorithms=["HS256"], audience="pilotgraph")


def test_token_for_a_given_member():
    # when
    result = runner.invoke(
        app,
        [
            "token",
            "--tenant",
            "yen-mo",
            "--role",
            "member",
            "--member",
            "00000000-0000-0000-0000-000000000007",
        ],
    )
    # then
    assert result.exit_code == 0, result.output
    claims = _claims(result.output.strip())
    assert claims["sub"] == "00000000-0000-0000-0000-000000000007"
    assert claims["tenant"] == "yen-mo"
    assert claims["roles"] == ["member"]


def test_province_admin_token_names_its_province():
    # when
    result = runner.invoke(app, ["token", "--role", "province_admin"])
    other = runner.invoke(app, ["token", "--role", "auditor", "--province", "ha-nam"])
    # then
    assert result.exit_code == 0, result.output
    claims = _claims(result.output.strip())
    assert "tenant" not in claims
    assert (claims["roles"], claims["province"]) == (["province_admin"], "ninh-binh")
    assert _claims(other.output.strip())["province"] == "ha-nam"


def test_member_token_needs_a_tenant():
    # when
    result = runner.invoke(app, ["token", "--role", "member"])
    # then
    assert result.exit_code == 2
    assert "--tenant is required for role member" in result.output


def test_token_refused_in_production(monkeypatch):
    # given
    monkeypatch.setenv("PILOTGRAPH_ENVIRONMENT", "production")
    monkeypatch.setenv("PILOTGRAPH_JWT_SECRET", "a-production-secret-that-is-long-enough-1234")
    monkeypatch.setenv("PILOTGRAPH_INSTALL_TOKEN_KEY", "an-install-token-key-that-is-long-enough")
    # when
    result = runner.invoke(app, ["token", "--role", "province_admin"])
    # then
    assert result.exit_code == 1
    assert "refused: development tokens are not issued in production" in result.output


def test_production_without_keys_fails_naming_the_setting(monkeypatch):
    # given
    monkeypatch.setenv("PILOTGRAPH_ENVIRONMENT", "production")
    # when / then
    with pytest.raises(SettingsError, match="PILOTGRAPH_JWT_SECRET or PILOTGRAPH_JWKS_URL"):
        load_settings()


def test_production_without_an_install_token_key_fails_naming_it(monkeypatch):
    # given
    monkeypatch.setenv("PILOTGRAPH_ENVIRONMENT", "production")
    monkeypatch.setenv("PILOTGRAPH_JWT_SECRET", "a-production-secret-that-is-long-enough-1234")
    # when / then
    with pytest.raises(
        SettingsError, match="PILOTGRAPH_INSTALL_TOKEN_KEY must be set in production"
    ):
        load_settings()


def test_a_short_install_token_key_is_refused_in_any_environment(monkeypatch):
    # given 31 bytes
    monkeypatch.setenv("PILOTGRAPH_INSTALL_TOKEN_KEY", "k" * 31)
    # when / then
    with pytest.raises(
        SettingsError, match="PILOTGRAPH_INSTALL_TOKEN_KEY must be at least 32 bytes"
    ):
        load_settings()


def test_development_derives_the_install_token_key_from_the_jwt_key():
    # given
    default, same = Settings(), Settings()
    other = Settings(jwt_secret="another-development-secret-of-32-bytes")
    configured = Settings(install_token_key="i" * 32)
    # when / then: stable across replicas and restarts, distinct from the JWT key itself
    assert default.install_token_secret == same.install_token_secret
    assert default.install_token_secret != DEVELOPMENT_JWT_SECRET.encode()
    assert other.install_token_secret != default.install_token_secret
    assert configured.install_token_secret == b"i" * 32
    assert "i" * 32 not in repr(configured)


@pytest.mark.parametrize("secret", ["short", "é" * 15, "x" * 31])
def test_production_refuses_an_hs256_secret_under_32_bytes(monkeypatch, secret):
    # given
    monkeypatch.setenv("PILOTGRAPH_ENVIRONMENT", "production")
    monkeypatch.setenv("PILOTGRAPH_INSTALL_TOKEN_KEY", "i" * 32)
    monkeypatch.setenv("PILOTGRAPH_JWT_SECRET", secret)
    # when / then
    with pytest.raises(SettingsError, match="PILOTGRAPH_JWT_SECRET must be at least 32 bytes"):
        load_settings()
    monkeypatch.setenv("PILOTGRAPH_JWT_SECRET", "x" * 32)
    assert load_settings().is_production


def test_invalid_value_names_the_key(monkeypatch):
    # given
    monkeypatch.setenv("PILOTGRAPH_DATABASE_POOL_SIZE", "zero")
    # when / then
    with pytest.raises(SettingsError, match="PILOTGRAPH_DATABASE_POOL_SIZE"):
        load_settings()


def test_secrets_are_masked_in_repr():
    # given
    settings = Settings(
        database_url="postgresql+asyncpg://app:s3cret@db/pilotgraph", jwt_secret="x" * 40
    )
    # when
    text = repr(settings)
    # then
    assert "s3cret" not in text
    assert "x" * 40 not in text


def test_schema_export_writes_sdl(tmp_path):
    # given
    target = tmp_path / "schema.graphql"
    # when
    result = runner.invoke(app, ["schema", "export", "--path", str(target)])
    # then
    assert result.exit_code == 0, result.output
    assert "type Query" in target.read_text(encoding="utf-8")
