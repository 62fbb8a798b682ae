"""A federated query through Hive Gateway, in front of the production gateway.

The router holds the federated trusted documents (``clients/trusted-documents-federated``, checked
here against the supergraph composed from both subgraphs) and runs only those, by hash; the
production gateway, in trusted mode, runs the router's own subgraph queries because they carry
the router token, and refuses the same ad hoc document from anyone else.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import httpx
import pytest

from gateway.edge.manifest import load_manifest, sha256
from schema.root import sdl
from tests.federation import tools
from tests.production.conftest import PROVINCE, Profile, bearer
from tests.production.database import ROOT
from tools.trusted_documents import manifest_text

FEDERATED = ROOT / "clients" / "trusted-documents-federated"
AD_HOC = '{ tenant(slug: "nho-quan") { name memberDevelopment(year: 2023) { admitted } } }'
NOT_ALLOWED = "Only operations from the trusted-documents manifest may run."


def _subgraph_env(profile: Profile, database: Path) -> dict[str, str]:
    """The gateway's own token and router settings: both subgraphs verify the realm's tokens."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PILOTGRAPH_")}
    shared = (
        "PILOTGRAPH_ENVIRONMENT",
        "PILOTGRAPH_JWKS_URL",
        "PILOTGRAPH_JWT_ISSUER",
        "PILOTGRAPH_JWT_AUDIENCE",
        "PILOTGRAPH_CLAIM_ROLES",
        "PILOTGRAPH_ROUTER_TOKEN",
    )
    return (
        inherited
        | {name: profile.env[name] for name in shared}
        | {"MEMBER_DEVELOPMENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    )


def _supergraph(work: Path, pilotgraph: str, member_development: str) -> Path:
    (work / "pilotgraph.graphql").write_text(sdl())
    (work / "md.graphql").write_text(tools.member_development_sdl())
    composed = tools.compose(
        work / "supergraph.graphql",
        {
            "pilotgraph": (pilotgraph, work / "pilotgraph.graphql"),
            "member_development": (member_development, work / "md.graphql"),
        },
    )
    assert composed.errors == [], composed.errors
    return work / "supergraph.graphql"


@dataclass(frozen=True)
class Router:
    url: str
    supergraph: Path


def _hive_gateway(supergraph: Path, port: int, env: dict[str, str], log: Path) -> Popen[bytes]:
    """Hive Gateway on ``port`` over ``supergraph``, configured by federation/gateway.config.mjs."""
    args = [str(tools.HIVE_GATEWAY), "supergraph", str(supergraph), "--host", "127.0.0.1"]
    return tools.start([*args, "--port", str(port)], cwd=tools.FEDERATION, env=env, log=log)


@pytest.fixture(scope="module")
def router(profile: Profile, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Router]:
    """Hive Gateway with the federated manifest over the gateway and member development."""
    tools.require_toolchain()
    work = tmp_path_factory.mktemp("federation")
    md_port, router_port = tools.free_port(), tools.free_port()
    md_env = _subgraph_env(profile, work / "md.db")
    md = [str(tools.SUBGRAPH_PYTHON), "-m", "member_development"]
    subprocess.run([*md, "demo"], cwd=tools.SUBGRAPH, env=md_env, check=True, timeout=120)
    md_url = f"http://127.0.0.1:{md_port}"
    supergraph = _supergraph(work, f"{profile.url}/graphql", f"{md_url}/graphql")
    manifest = work / "manifest.json"
    manifest.write_text(manifest_text(str(FEDERATED), supergraph.read_text()))
    router_env = md_env | {"ROUTER_TRUSTED_DOCUMENTS": str(manifest)}
    md_args = [*md, "serve", "--port", str(md_port)]
    processes = [
        tools.start(md_args, cwd=tools.SUBGRAPH, env=md_env, log=work / "md.log"),
        _hive_gateway(supergraph, router_port, router_env, work / "router.log"),
    ]
    try:
        tools.wait_until_up(f"{md_url}/healthz", processes[0], work / "md.log")
        url = f"http://127.0.0.1:{router_port}"
        tools.wait_until_up(f"{url}/healthcheck", processes[1], work / "router.log")
        yield Router(f"{url}/graphql", supergraph)
    finally:
        for process in processes:
            tools.stop(process)


def _document(name: str) -> str:
    return (FEDERATED / f"{name}.graphql").read_text(encoding="utf-8").strip() + "\n"


def _by_hash(url: str, name: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(_document(name))}}
    body = {"variables": variables, "extensions": extensions}
    response = httpx.post(url, json=body, headers=bearer(token), timeout=30)
    result: dict[str, Any] = response.json()
    return result


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_the_committed_federated_manifest_is_current_against_the_supergraph(router):
    # when
    rebuilt = manifest_text(str(FEDERATED), router.supergraph.read_text())
    # then: every document validates against the composed supergraph, and the file is current
    assert (FEDERATED / "manifest.json").read_text(encoding="utf-8") == rebuilt
    assert len(load_manifest(FEDERATED / "manifest.json")) == 2


def test_a_federated_query_by_hash_answers_from_both_subgraphs(router, profile):
    # given
    token = profile.realm.access_token("province-admin")
    # when
    body = _by_hash(
        router.url, "TenantMemberDevelopment", {"slug": "nho-quan", "year": 2023}, token
    )
    # then
    assert body == {
        "data": {
            "tenant": {
                "slug": "nho-quan",
                "name": "Đảng bộ huyện Nho Quan",
                "memberCount": body["data"]["tenant"]["memberCount"],  # the profile's demo
                "memberDevelopment": {"plan": 293, "admitted": 320, "achievementRate": 109.22},
            }
        }
    }
    assert body["data"]["tenant"]["memberCount"] > 0


def test_the_province_document_by_hash_names_the_committees(router, profile):
    # given
    token = profile.realm.access_token("province-admin")
    # when
    body = _by_hash(
        router.url, "ProvinceMemberDevelopment", {"province": PROVINCE, "year": 2023}, token
    )
    # then
    figures = body["data"]["provinceMemberDevelopment"]
    assert (figures["plan"], figures["admitted"]) == (2253, 2360)
    assert {
        "tenant": {"slug": "nho-quan", "name": "Đảng bộ huyện Nho Quan"},
        "admitted": 320,
    } in figures["committees"]


def test_an_ad_hoc_document_to_the_router_is_refused(router, profile):
    # given
    token = profile.realm.access_token("province-admin")
    # when
    response = httpx.post(router.url, json={"query": AD_HOC}, headers=bearer(token), timeout=30)
    # then
    body = response.json()
    assert "data" not in body or body["data"] is None
    assert _codes(body) == ["OPERATION_NOT_ALLOWED"]
    assert body["errors"][0]["message"] == NOT_ALLOWED
    assert "serviceName" not in body["errors"][0]["extensions"]  # the router's, not a subgraph's


def test_an_unknown_hash_to_the_router_is_not_found(router, profile):
    # given
    token = profile.realm.access_token("province-admin")
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(AD_HOC)}}
    # when
    response = httpx.post(
        router.url, json={"extensions": extensions}, headers=bearer(token), timeout=30
    )
    # then
    assert _codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize("router_token", [None, "guess"])
def test_the_ad_hoc_document_straight_to_the_gateway_is_refused(router, profile, router_token):
    # given: what the router would send, without its credential
    headers = bearer(profile.realm.access_token("province-admin"))
    if router_token is not None:
        headers["X-Router-Token"] = router_token
    # when
    response = httpx.post(
        f"{profile.url}/graphql", json={"query": AD_HOC}, headers=headers, timeout=30
    )
    # then
    assert _codes(response.json()) == ["OPERATION_NOT_ALLOWED"]
    assert response.json()["errors"][0]["message"] == NOT_ALLOWED
