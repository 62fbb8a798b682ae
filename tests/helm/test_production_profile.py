"""The chart's production settings: edge, persisted operations, trusted documents, OIDC, claims.

Each test renders the chart (tests/helm/render.py) and, where it says so, loads the gateway's own
Settings from what was rendered: a value the chart spells differently from the gateway fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from gateway.edge.config import PersistedMode
from gateway.settings import Settings
from tests.helm.render import (
    KUBE_VERSION,
    ROOT,
    RenderError,
    gateway_container,
    gateway_deployment,
    mounted_files,
    render_chart,
    rendered_environment,
)

PRODUCTION = "helm/pilotgraph/ci/production-values.yaml"
DEFAULT = "helm/pilotgraph/ci/default-values.yaml"
MANIFEST = ROOT / "clients" / "trusted-documents" / "manifest.json"
SET_MANIFEST = (f"trustedDocuments.manifest={MANIFEST}",)
KEYCLOAK = "https://sso.example/realms/ninh-binh"
# What the operator's Secret pilotgraph-env holds, for loading the settings.
SECRET_VALUES = {
    "PILOTGRAPH_DATABASE_URL": "postgresql+asyncpg://pilotgraph_app:pw@db/pilotgraph",
    "PILOTGRAPH_INSTALL_TOKEN_KEY": "k" * 48,
    "PILOTGRAPH_REDIS_URL": "redis://redis:6379/0",
    "PILOTGRAPH_ROUTER_TOKEN": "r" * 32,
}


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The gateway's settings under a rendered environment, the Secret's values filled in and the
    mounted manifest read from the repository's copy."""
    for name, value in env.items():
        if value.startswith("secretKeyRef:"):
            value = SECRET_VALUES[name]
        monkeypatch.setenv(name, value)
    edge = json.loads(env.get("PILOTGRAPH_EDGE", "{}"))
    if "trusted_manifest" in edge:
        monkeypatch.setenv(
            "PILOTGRAPH_EDGE", json.dumps(edge | {"trusted_manifest": str(MANIFEST)})
        )
    return Settings()


def volumes(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pod = gateway_deployment(manifests)["spec"]["template"]["spec"]
    return {v["name"]: v for v in pod["volumes"]}


def test_production_profile_renders_exactly_the_production_environment() -> None:
    # given the production profile
    # when the gateway container's environment is rendered
    env = rendered_environment(PRODUCTION)

    # then it carries these settings, and nothing else
    assert set(env) == {
        "PILOTGRAPH_ENVIRONMENT",
        "PILOTGRAPH_PUBLIC_HOSTS",
        "PILOTGRAPH_EVENT_RETENTION_MONTHS",
        "PILOTGRAPH_EVENT_RETENTION_INTERVAL_S",
        "PILOTGRAPH_BASE_DOMAIN",
        "PILOTGRAPH_JWKS_URL",
        "PILOTGRAPH_JWT_ISSUER",
        "PILOTGRAPH_JWT_AUDIENCE",
        "PILOTGRAPH_OIDC_ISSUER",
        "PILOTGRAPH_OIDC_CLIENT_ID",
        "PILOTGRAPH_OIDC_SCOPE",
        "PILOTGRAPH_CLAIM_ROLES",
        "PILOTGRAPH_EDGE",
        "PILOTGRAPH_GRAPHIQL",
        "PILOTGRAPH_LOG_JSON",
        "PILOTGRAPH_OTLP_ENDPOINT",
        "PILOTGRAPH_METRICS_PORT",
        "PILOTGRAPH_METRICS_HOST",
        "PILOTGRAPH_GUARDRAIL_DROP",
        "PILOTGRAPH_GUARDRAIL_MIN_ACTIVE",
        "PILOTGRAPH_GUARDRAIL_INTERVAL_S",
        "PILOTGRAPH_DATABASE_POOL_SIZE",
        "PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S",
        "PILOTGRAPH_SHUTDOWN_TIMEOUT_S",
        "PILOTGRAPH_DATABASE_URL",
        "PILOTGRAPH_INSTALL_TOKEN_KEY",
        "PILOTGRAPH_REDIS_URL",
        "PILOTGRAPH_ROUTER_TOKEN",  # the federation router's credential
    }
    assert env["PILOTGRAPH_REDIS_URL"] == "secretKeyRef:pilotgraph-env/PILOTGRAPH_REDIS_URL"
    assert env["PILOTGRAPH_ROUTER_TOKEN"] == "secretKeyRef:pilotgraph-env/PILOTGRAPH_ROUTER_TOKEN"
    assert env["PILOTGRAPH_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_production_profile_is_what_the_gateway_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the production profile's rendered environment
    env = rendered_environment(PRODUCTION)

    # when the gateway loads its settings from it
    settings = settings_from(env, monkeypatch)

    # then production, Keycloak tokens and sign-in, trusted documents only, rate limits on
    assert settings.is_production
    assert settings.jwks_url == f"{KEYCLOAK}/protocol/openid-connect/certs"
    assert (settings.jwt_issuer, settings.jwt_audience) == (KEYCLOAK, "pilotgraph")
    assert (settings.oidc_issuer, settings.oidc_client_id) == (KEYCLOAK, "pilotgraph-console")
    assert settings.oidc_scope == "openid profile"
    assert settings.edge.persisted is PersistedMode.TRUSTED
    assert settings.rate_limits_on
    assert settings.redis_url is not None
    assert (settings.metrics_host, settings.metrics_port) == ("0.0.0.0", 9464)  # noqa: S104 - reads the chart


def test_production_mounts_the_manifest_where_the_edge_reads_it() -> None:
    # given the production profile, whose manifest ConfigMap the release pipeline publishes
    manifests = render_chart(PRODUCTION)

    # when the edge's manifest path and the container's mounted files are read
    edge = json.loads(rendered_environment(PRODUCTION)["PILOTGRAPH_EDGE"])
    files = mounted_files(PRODUCTION)

    # then the path is the mounted key of that ConfigMap, read-only, and the chart makes none
    assert files == {edge["trusted_manifest"]: "pilotgraph-trusted-documents/manifest.json"}
    mount = next(
        m for m in gateway_container(manifests)["volumeMounts"] if m["name"] == "trusted-documents"
    )
    assert mount["readOnly"] is True
    assert not any(m["metadata"]["name"].endswith("trusted-documents") for m in manifests)


def test_a_manifest_given_with_set_file_becomes_a_configmap_that_rolls_the_pods(
    tmp_path: Path,
) -> None:
    # given the default profile in trusted mode, with the committed manifest and with one less
    trusted = "config.persistedOperations=trusted"
    manifests = render_chart(DEFAULT, trusted, set_files=SET_MANIFEST)
    smaller = json.loads(MANIFEST.read_text())
    smaller["operations"].pop()
    (tmp_path / "manifest.json").write_text(json.dumps(smaller))
    other = render_chart(
        DEFAULT, trusted, set_files=(f"trustedDocuments.manifest={tmp_path / 'manifest.json'}",)
    )

    # when the chart's ConfigMap and the pod annotations are read
    config_map = next(
        m for m in manifests if m["metadata"]["name"] == "pg-pilotgraph-trusted-documents"
    )

    def checksum(rendered: list[dict[str, Any]]) -> str:
        annotations = gateway_deployment(rendered)["spec"]["template"]["metadata"]["annotations"]
        value: str = annotations["checksum/trusted-documents"]
        return value

    # then it holds the manifest byte for byte, is mounted, is valid, and a new one rolls the pods
    assert config_map["data"]["manifest.json"] == MANIFEST.read_text().rstrip("\n")
    assert (
        volumes(manifests)["trusted-documents"]["configMap"]["name"]
        == config_map["metadata"]["name"]
    )
    kubernetes_validate.validate(config_map, KUBE_VERSION, strict=True)
    kubernetes_validate.validate(gateway_deployment(manifests), KUBE_VERSION, strict=True)
    assert checksum(manifests) != checksum(other)


def test_trusted_mode_without_a_manifest_is_refused() -> None:
    # when the chart is rendered in trusted mode without a manifest
    with pytest.raises(RenderError) as refused:
        render_chart(DEFAULT, "config.persistedOperations=trusted")

    # then helm says what is missing and how to give it
    assert 'config.persistedOperations "trusted" needs a manifest' in str(refused.value)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("config.edge.persisted=off",), "config.edge.persisted is set by the chart"),
        (
            ("config.extra.PILOTGRAPH_ENVIRONMENT=development",),
            "config.extra.PILOTGRAPH_ENVIRONMENT is a setting the chart renders",
        ),
        (("config.extra.LOG_LEVEL=debug",), "invalid propertyName 'LOG_LEVEL'"),
        (("config.persistedOperations=trusting",), "/config/persistedOperations"),
        (("config.oidc.issuer=sso.example",), "/config/oidc/issuer"),
        (("secrets.existingSecretKeys[0]=PILOTGRAPH_DATABASE_URL",), "/secrets/existingSecretKeys"),
        (
            ("trustedDocuments.existingConfigMap=published",),
            "set manifest or existingConfigMap, not both",
        ),
    ],
    ids=[
        "edge-persisted-beside-the-chart",
        "extra-overriding-a-chart-value",
        "extra-without-prefix",
        "unknown-persisted-mode",
        "oidc-issuer-not-a-url",
        "required-key-listed-as-optional",
        "manifest-and-existing-configmap",
    ],
)
def test_conflicting_or_mistaken_values_are_named(sets: tuple[str, ...], message: str) -> None:
    # when the chart is rendered with one mistaken value
    with pytest.raises(RenderError) as refused:
        render_chart(DEFAULT, *sets, set_files=SET_MANIFEST)

    # then helm refuses and names it
    assert message in str(refused.value)


def test_edge_object_and_extra_settings_reach_the_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the default profile with edge limits, APQ and a claim path set as values
    sets = (
        "config.edge.max_batch=5",
        "config.edge.cors_origins[0]=https://app.example",
        "config.persistedOperations=apq",
        "config.extra.PILOTGRAPH_CLAIM_TENANT=attributes.tenant",
        "secrets.jwtSecret=" + "s" * 40,
    )

    # when the gateway loads its settings from the rendered environment
    env = rendered_environment(DEFAULT, *sets)
    monkeypatch.setenv("PILOTGRAPH_JWT_SECRET", "s" * 40)
    monkeypatch.setenv("PILOTGRAPH_INSTALL_TOKEN_KEY", "k" * 48)
    settings = settings_from(
        {k: v for k, v in env.items() if not v.startswith("secretKeyRef:")}, monkeypatch
    )

    # then the edge runs with them, as JSON, and the extra setting is passed through as given
    assert json.loads(env["PILOTGRAPH_EDGE"]) == {
        "max_batch": 5,
        "cors_origins": ["https://app.example"],
        "persisted": "apq",
    }
    assert settings.edge.max_batch == 5
    assert settings.edge.cors_origins == ("https://app.example",)
    assert settings.edge.persisted is PersistedMode.APQ
    assert env["PILOTGRAPH_CLAIM_TENANT"] == "attributes.tenant"


def test_no_edge_settings_leave_pilotgraph_edge_unset() -> None:
    # when the default profile is rendered
    env = rendered_environment(DEFAULT)

    # then the gateway's own edge defaults apply, and no OIDC sign-in is configured
    assert "PILOTGRAPH_EDGE" not in env
    assert not any(name.startswith("PILOTGRAPH_OIDC_") for name in env)


def test_migrations_job_gets_no_edge_settings() -> None:
    # given the production profile, whose edge names a manifest mounted only in the gateway pods
    manifests = render_chart(PRODUCTION)

    # when the migrations Job's environment is read
    job = next(m for m in manifests if m["kind"] == "Job")
    names = {e["name"] for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}

    # then `db upgrade` does not load a manifest it cannot read, but has the rest
    assert "PILOTGRAPH_EDGE" not in names
    assert {
        "PILOTGRAPH_ENVIRONMENT",
        "PILOTGRAPH_CLAIM_ROLES",
        "PILOTGRAPH_DATABASE_ADMIN_URL",
    } <= names


def secret_refs(values: str, *sets: str) -> dict[str, bool]:
    """The gateway's Secret-sourced variables: name -> optional."""
    env = gateway_container(render_chart(values, *sets))["env"]
    return {
        e["name"]: bool(e["valueFrom"]["secretKeyRef"].get("optional"))
        for e in env
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def test_secret_keys_the_release_needs_are_required_references() -> None:
    # given the production profile (existing Secret, Redis and the router token declared) and the
    # default profile (chart-made Secret with a JWT secret and an install-token key, no Redis)
    production = secret_refs(PRODUCTION)
    default = secret_refs(DEFAULT)

    # then a needed key is required (the pod does not start without it), an undeclared key of an
    # existing Secret is optional, and a chart-made Secret is referenced only for what it holds
    assert production == {
        "PILOTGRAPH_DATABASE_URL": False,
        "PILOTGRAPH_INSTALL_TOKEN_KEY": False,
        "PILOTGRAPH_REDIS_URL": False,
        "PILOTGRAPH_JWT_SECRET": True,
        "PILOTGRAPH_ROUTER_TOKEN": False,
    }
    assert default == {
        "PILOTGRAPH_DATABASE_URL": False,
        "PILOTGRAPH_JWT_SECRET": False,
        "PILOTGRAPH_INSTALL_TOKEN_KEY": False,
    }


def test_one_worker_by_default() -> None:
    # when the chart's defaults are rendered
    args = gateway_container(render_chart(DEFAULT))["args"]

    # then `serve` runs one worker (docs/DEPLOY.md: scale pods before workers)
    assert args[args.index("--workers") + 1] == "1"
    assert (
        Path(ROOT / "helm" / "pilotgraph" / "values.yaml").read_text().count("\nworkers: 1\n") == 1
    )


def test_scrape_annotations_only_on_the_metrics_service_when_asked() -> None:
    # given the default profile, and the same with scrape annotations on
    def services(*sets: str) -> dict[str, dict[str, Any]]:
        rendered = render_chart(DEFAULT, *sets)
        return {m["metadata"]["name"]: m for m in rendered if m["kind"] == "Service"}

    plain, annotated = services(), services("metrics.scrapeAnnotations=true")

    # then they are off by default, and when on they name the metrics port, never the API Service
    assert "annotations" not in plain["pg-pilotgraph-metrics"]["metadata"]
    assert annotated["pg-pilotgraph-metrics"]["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9464",
        "prometheus.io/path": "/metrics",
    }
    assert "annotations" not in annotated["pg-pilotgraph"]["metadata"]
