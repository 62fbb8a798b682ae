"""The chart's router holds the federated trusted documents when the gateway runs trusted mode."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helm.render import RenderError, render_chart

FEDERATION = "helm/pilotgraph/ci/federation-values.yaml"
FEDERATED_MANIFEST = "clients/trusted-documents-federated/manifest.json"
MOUNTED = "/etc/router/trusted-documents/manifest.json"
# The federation scenario with the gateway in trusted mode, as in production.
TRUSTED = ("config.persistedOperations=trusted", "trustedDocuments.existingConfigMap=gateway-docs")


def _router(manifests: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [
        m
        for m in manifests
        if m["kind"] == kind
        and m["metadata"]["labels"].get("app.kubernetes.io/component") == "router"
    ]
    assert len(found) == 1, f"expected one router {kind}, found {len(found)}"
    return found[0]


def _mounted_manifest(manifests: list[dict[str, Any]]) -> tuple[dict[str, str], str]:
    """The router's ROUTER_TRUSTED_DOCUMENTS and the ConfigMap mounted where it points."""
    pod = _router(manifests, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "trusted-documents")
    volume = next(v for v in pod["volumes"] if v["name"] == "trusted-documents")
    assert f"{mount['mountPath']}/{volume['configMap']['items'][0]['path']}" == MOUNTED
    return env, volume["configMap"]["name"]


def test_a_trusted_gateways_router_mounts_the_published_federated_manifest():
    # when
    env, config_map = _mounted_manifest(
        render_chart(
            FEDERATION,
            *TRUSTED,
            "router.trustedDocuments.existingConfigMap=pilotgraph-trusted-documents-federated",
        )
    )
    # then
    assert env["ROUTER_TRUSTED_DOCUMENTS"] == MOUNTED
    assert config_map == "pilotgraph-trusted-documents-federated"


def test_a_manifest_given_with_set_file_is_in_the_routers_config_map():
    # when
    manifests = render_chart(
        FEDERATION, set_files=(f"router.trustedDocuments.manifest={FEDERATED_MANIFEST}",)
    )
    # then
    env, config_map = _mounted_manifest(manifests)
    data = _router(manifests, "ConfigMap")["data"]
    assert config_map == _router(manifests, "ConfigMap")["metadata"]["name"]
    assert '"apollo-persisted-query-manifest"' in data["manifest.json"]
    assert "allowArbitraryDocuments: false" in data["gateway.config.mjs"]
    assert env["ROUTER_TRUSTED_DOCUMENTS"] == MOUNTED


def test_without_trusted_mode_the_router_takes_any_document():
    # when
    pod = _router(render_chart(FEDERATION), "Deployment")["spec"]["template"]["spec"]
    # then
    assert [e["name"] for e in pod["containers"][0]["env"]] == ["PILOTGRAPH_ROUTER_TOKEN"]
    assert "trusted-documents" not in {v["name"] for v in pod["volumes"]}


def test_a_trusted_gateway_behind_a_router_without_the_manifest_does_not_render():
    # when / then
    with pytest.raises(RenderError, match=r"router\.trustedDocuments\.manifest .* is required"):
        render_chart(FEDERATION, *TRUSTED)
