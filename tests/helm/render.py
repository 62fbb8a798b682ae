"""Render the chart offline and read back what the gateway container runs with.

Importable by any suite that must run the gateway the way a values file deploys it:

    from tests.helm.render import rendered_environment
    env = rendered_environment("helm/pilotgraph/ci/production-values.yaml")

helm comes from tools/fetch_helm.py (fetched once per machine into .cache/bin/helm).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "pilotgraph"
KUBE_VERSION = "1.30.0"
RELEASE = "pg"
NAMESPACE = "pilot"

Manifest = dict[str, Any]


class RenderError(RuntimeError):
    """helm could not be obtained, or refused to render the chart."""


@cache
def helm_binary() -> Path:
    """The helm binary, fetched once per machine by tools/fetch_helm.py."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "fetch_helm.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        raise RenderError(f"tools/fetch_helm.py could not obtain helm:\n{result.stderr}")
    return Path(lines[-1])


@cache
def helm_env() -> dict[str, str]:
    """The environment helm runs in: its config, cache and data kept out of $HOME."""
    home = Path(tempfile.mkdtemp(prefix="pilotgraph-helm-"))
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        env[var] = str(home / var.lower())
    return env


def values_path(values_file: str | Path) -> Path:
    """A values file as given, or relative to the repository root."""
    path = Path(values_file)
    return path if path.is_absolute() or path.exists() else ROOT / path


def template_args(
    values_file: str | Path, *sets: str, set_files: tuple[str, ...] = ()
) -> list[str]:
    """`helm template` arguments for a values file, --set pairs and --set-file pairs."""
    overrides = [arg for pair in sets for arg in ("--set", pair)]
    files = [arg for pair in set_files for arg in ("--set-file", pair)]
    return [
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        KUBE_VERSION,
        "-f",
        str(values_path(values_file)),
        *overrides,
        *files,
    ]


@cache
def render_chart(
    values_file: str | Path, *sets: str, set_files: tuple[str, ...] = ()
) -> list[Manifest]:
    """The manifests `helm template` renders for a values file (and --set / --set-file pairs)."""
    result = subprocess.run(
        [str(helm_binary()), *template_args(values_file, *sets, set_files=set_files)],
        capture_output=True,
        text=True,
        check=False,
        env=helm_env(),
    )
    if result.returncode != 0:
        raise RenderError(f"helm template failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def gateway_deployment(manifests: list[Manifest]) -> Manifest:
    """The gateway's Deployment (component "gateway"), never the router's."""
    found = [
        m
        for m in manifests
        if m["kind"] == "Deployment"
        and m["metadata"]["labels"].get("app.kubernetes.io/component") == "gateway"
    ]
    if len(found) != 1:
        raise RenderError(f"expected one gateway Deployment, found {len(found)}")
    return found[0]


def gateway_container(manifests: list[Manifest]) -> Manifest:
    """The gateway container of the gateway's Deployment."""
    containers = gateway_deployment(manifests)["spec"]["template"]["spec"]["containers"]
    container: Manifest = next(c for c in containers if c["name"] == "gateway")
    return container


def secret_placeholder(ref: Manifest) -> str:
    """How a variable taken from a Secret shows: the chart cannot know its value."""
    return f"secretKeyRef:{ref['name']}/{ref['key']}"


def _config_maps(manifests: list[Manifest]) -> dict[str, dict[str, str]]:
    return {m["metadata"]["name"]: m.get("data", {}) for m in manifests if m["kind"] == "ConfigMap"}


def _from_sources(container: Manifest, config_maps: dict[str, dict[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" not in source:
            raise RenderError(f"envFrom source the chart does not render: {source}")
        name = source["configMapRef"]["name"]
        if name not in config_maps:
            raise RenderError(f"envFrom names ConfigMap {name}, which the chart does not render")
        prefix = source.get("prefix", "")
        env.update({prefix + key: value for key, value in config_maps[name].items()})
    return env


def _from_entry(entry: Manifest, config_maps: dict[str, dict[str, str]]) -> str | None:
    if "value" in entry:
        return str(entry["value"])
    source = entry.get("valueFrom", {})
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return None if ref.get("optional") else secret_placeholder(ref)
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return config_maps.get(ref["name"], {}).get(ref["key"])
    raise RenderError(f"env entry the chart does not render: {entry}")


def rendered_environment(
    values_file: str | Path, *sets: str, set_files: tuple[str, ...] = ()
) -> dict[str, str]:
    """The gateway container's environment as rendered for a values file.

    The ConfigMap it takes with envFrom, then its own env entries (which win, as in Kubernetes).
    A variable from a Secret has the value ``secretKeyRef:<secret>/<key>``; optional Secret keys
    (the chart cannot tell whether the Secret holds them) are left out.
    """
    manifests = render_chart(values_file, *sets, set_files=set_files)
    config_maps = _config_maps(manifests)
    container = gateway_container(manifests)
    env = _from_sources(container, config_maps)
    for entry in container.get("env", []):
        value = _from_entry(entry, config_maps)
        if value is None:
            env.pop(entry["name"], None)
        else:
            env[entry["name"]] = value
    return env


def mounted_files(
    values_file: str | Path, *sets: str, set_files: tuple[str, ...] = ()
) -> dict[str, str]:
    """Files mounted from ConfigMaps into the gateway container: path -> "<configmap>/<key>"."""
    manifests = render_chart(values_file, *sets, set_files=set_files)
    pod = gateway_deployment(manifests)["spec"]["template"]["spec"]
    sources = {v["name"]: v["configMap"] for v in pod.get("volumes", []) if "configMap" in v}
    files: dict[str, str] = {}
    for mount in gateway_container(manifests).get("volumeMounts", []):
        source = sources.get(mount["name"])
        if source is None:
            continue
        key = mount.get("subPath")
        if key is not None:
            files[mount["mountPath"]] = f"{source['name']}/{key}"
            continue
        for item in source.get("items", []):
            files[f"{mount['mountPath']}/{item['path']}"] = f"{source['name']}/{item['key']}"
    return files
