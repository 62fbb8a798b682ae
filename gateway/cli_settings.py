"""The settings every CLI command reads: a bad environment exits with code 2 and says why.

A module of its own so that ``gateway.cli`` and the sub-apps it mounts (``cli_rollout``,
``cli_metrics``) share it without importing each other.
"""

from __future__ import annotations

import typer

from gateway.settings import Settings, SettingsError, get_settings


def settings_or_exit() -> Settings:
    """The gateway's settings; on a missing or invalid setting, print it in red and exit 2."""
    try:
        return get_settings()
    except SettingsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
