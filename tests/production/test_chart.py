"""The chart's production values deliver the configuration the profile ran with.

``rendered_environment(helm/pilotgraph/ci/production-values.yaml)`` is compared with the
``PILOTGRAPH_*`` variables the gateway of this suite was started with:

- **keys**: every variable the profile set is rendered by the chart; the secrets
  (:data:`SECRETS`) are delivered from the release's Secret (a ``secretKeyRef``), whose values no
  chart can know;
- **values**: equal, except where they are addresses (:data:`ADDRESSES`: where PostgreSQL, Redis,
  the identity provider, the collector and the metrics listener are, which a test on one machine
  must choose itself) and secrets. To compare the effective configuration, the chart's addresses
  and secrets are replaced by the profile's, and both environments are read by ``Settings``: any
  other variable the chart sets beyond the profile's must restate the gateway's default.
- the trusted-documents manifest named in ``PILOTGRAPH_EDGE`` is a file the chart mounts, and the
  container runs ``serve`` with the profile's worker count.
"""

from __future__ import annotations

import json
import os

import pytest

from gateway.settings import Settings
from tests.helm.render import gateway_container, mounted_files, render_chart, rendered_environment
from tests.production.conftest import WORKERS, Profile

VALUES = "helm/pilotgraph/ci/production-values.yaml"
SECRETS = {
    "PILOTGRAPH_DATABASE_URL",
    "PILOTGRAPH_INSTALL_TOKEN_KEY",
    "PILOTGRAPH_REDIS_URL",
    "PILOTGRAPH_ROUTER_TOKEN",
}
ADDRESSES = {
    "PILOTGRAPH_JWKS_URL",
    "PILOTGRAPH_JWT_ISSUER",
    "PILOTGRAPH_OIDC_ISSUER",
    "PILOTGRAPH_OTLP_ENDPOINT",
    "PILOTGRAPH_METRICS_PORT",
    "PILOTGRAPH_METRICS_HOST",
    "PILOTGRAPH_BASE_DOMAIN",  # the profile routes tenants by path (/t/{tenant}), on loopback
}
MANIFEST_KEY = "trusted_manifest"  # inside PILOTGRAPH_EDGE: where the mounted manifest is


def _secret_sourced(name: str) -> bool:
    entries = gateway_container(render_chart(VALUES)).get("env", [])
    return any(e["name"] == name and "secretKeyRef" in e.get("valueFrom", {}) for e in entries)


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    with monkeypatch.context() as patch:
        for name in [k for k in os.environ if k.startswith("PILOTGRAPH_")]:
            patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        return Settings().model_dump()


def _with_profile_addresses(chart: dict[str, str], profile: dict[str, str]) -> dict[str, str]:
    """The chart's environment with the profile's addresses and secrets in their place."""
    local = {k: v for k, v in chart.items() if k not in ADDRESSES | SECRETS}
    local |= {k: v for k, v in profile.items() if k in ADDRESSES | SECRETS}
    if "PILOTGRAPH_EDGE" in local:
        edge = json.loads(local["PILOTGRAPH_EDGE"])
        edge[MANIFEST_KEY] = json.loads(profile["PILOTGRAPH_EDGE"])[MANIFEST_KEY]
        local["PILOTGRAPH_EDGE"] = json.dumps(edge)
    return local


def test_the_chart_renders_every_variable_the_profile_ran_with(profile: Profile) -> None:
    # given
    chart = rendered_environment(VALUES)
    # then
    missing = sorted(k for k in profile.env if k not in chart and k not in SECRETS)
    assert missing == []
    assert sorted(k for k in SECRETS if not _secret_sourced(k)) == []


def test_the_charts_values_are_the_profiles_but_for_addresses_and_secrets(
    profile: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    chart = _with_profile_addresses(rendered_environment(VALUES), profile.env)
    # when
    charted, ran = _settings(chart, monkeypatch), _settings(profile.env, monkeypatch)
    # then
    differing = {k: (charted[k], ran[k]) for k in ran if charted[k] != ran[k]}
    assert differing == {}


def test_the_manifest_is_mounted_and_the_workers_are_the_profiles(profile: Profile) -> None:
    # given
    chart = rendered_environment(VALUES)
    container = gateway_container(render_chart(VALUES))
    # then
    manifest = json.loads(chart["PILOTGRAPH_EDGE"])[MANIFEST_KEY]
    assert manifest in mounted_files(VALUES)
    args = container.get("args", [])
    assert args[:1] == ["serve"]
    assert args[args.index("--workers") + 1] == str(WORKERS)
