"""Through a real router: Hive Gateway over the composed supergraph of both subgraphs.

Both subgraphs run as their own processes on the full demo (SQLite), the router forwards the
caller's Authorization and adds its X-Router-Token; the subgraphs enforce tenancy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.auth import issue_development_token
from gateway.settings import Settings
from schema.root import sdl
from tenants.types import PROVINCE_ROLES, Role
from tests.federation import tools

pytestmark = pytest.mark.slow

ROUTER_TOKEN = "end-to-end-router-token-0123456789"
NHO_QUAN = """
{
  tenant(slug: "nho-quan") {
    name
    memberCount
    memberDevelopment(year: 2023) { plan admitted achievementRate }
  }
}
"""
PROVINCE = """
{
  provinceMemberDevelopment(province: "ninh-binh", year: 2023) {
    plan admitted achievementRate
    committees { tenant { slug name } admitted }
  }
}
"""
KIM_SON = '{ tenant(slug: "kim-son") { name memberDevelopment(year: 2023) { admitted } } }'
OWN_TENANT = "{ tenant { slug memberCount memberDevelopment(year: 2023) { admitted } } }"
SERVICE = "{ _service { sdl } }"


@dataclass(frozen=True)
class Federation:
    router: str
    pilotgraph: str
    member_development: str


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(PILOTGRAPH_ENVIRONMENT="development", PILOTGRAPH_ROUTER_TOKEN=ROUTER_TOKEN, **extra)
    return env


def _run(args: list[str], *, cwd: Path, env: dict[str, str]) -> None:
    import subprocess

    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True, timeout=600)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    tools.require_toolchain()
    work = tmp_path_factory.mktemp("federation")
    ports = {name: tools.free_port() for name in ("pilotgraph", "md", "router")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    pg_env = _env(
        PILOTGRAPH_DATABASE_URL=f"sqlite+aiosqlite:///{work}/pilotgraph.db",
        PILOTGRAPH_PORT=str(ports["pilotgraph"]),
        PILOTGRAPH_HOST="127.0.0.1",
    )
    md_env = _env(MEMBER_DEVELOPMENT_DATABASE_URL=f"sqlite+aiosqlite:///{work}/md.db")
    cli = [str(Path(sys.executable).parent / "pilotgraph")]
    _run([*cli, "db", "upgrade"], cwd=tools.ROOT, env=pg_env)
    _run([*cli, "demo", "load"], cwd=tools.ROOT, env=pg_env)
    md = [str(tools.SUBGRAPH_PYTHON), "-m", "member_development"]
    _run([*md, "demo"], cwd=tools.SUBGRAPH, env=md_env)
    (work / "pilotgraph.graphql").write_text(sdl())
    (work / "md.graphql").write_text(tools.member_development_sdl())
    composed = tools.compose(
        work / "supergraph.graphql",
        {
            "pilotgraph": (f"{urls['pilotgraph']}/graphql", work / "pilotgraph.graphql"),
            "member_development": (f"{urls['md']}/graphql", work / "md.graphql"),
        },
    )
    assert composed.errors == [], composed.errors
    processes = [
        tools.start([*cli, "serve"], cwd=tools.ROOT, env=pg_env, log=work / "pilotgraph.log"),
        tools.start(
            [*md, "serve", "--port", str(ports["md"])],
            cwd=tools.SUBGRAPH,
            env=md_env,
            log=work / "md.log",
        ),
        tools.start(
            [
                str(tools.HIVE_GATEWAY),
                "supergraph",
                str(work / "supergraph.graphql"),
                "--host",
                "127.0.0.1",
                "--port",
                str(ports["router"]),
            ],
            cwd=tools.FEDERATION,
            env=_env(SUPERGRAPH_PATH=str(work / "supergraph.graphql")),
            log=work / "router.log",
        ),
    ]
    try:
        tools.wait_until_up(f"{urls['pilotgraph']}/healthz", processes[0], work / "pilotgraph.log")
        tools.wait_until_up(f"{urls['md']}/healthz", processes[1], work / "md.log")
        tools.wait_until_up(f"{urls['router']}/healthcheck", processes[2], work / "router.log")
        yield Federation(
            router=f"{urls['router']}/graphql",
            pilotgraph=f"{urls['pilotgraph']}/graphql",
            member_development=f"{urls['md']}/graphql",
        )
    finally:
        for process in processes:
            tools.stop(process)


def _token(role: Role, tenant: str | None = None) -> str:
    province = "ninh-binh" if role in PROVINCE_ROLES else None  # province roles name theirs
    return issue_development_token(
        Settings(), subject="someone", roles=[role], tenant=tenant, province=province
    )


def _post(url: str, query: str, token: str | None = None, **headers: str) -> dict[str, Any]:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(url, json={"query": query}, headers=headers, timeout=30)
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def test_a_province_admin_reads_nho_quan_across_both_subgraphs(federation):
    # given
    token = _token(Role.PROVINCE_ADMIN)
    # when
    body = _post(federation.router, NHO_QUAN, token)
    # then
    assert body == {
        "data": {
            "tenant": {
                "name": "Đảng bộ huyện Nho Quan",
                "memberCount": 9600,
                "memberDevelopment": {"plan": 293, "admitted": 320, "achievementRate": 109.22},
            }
        }
    }


def test_a_province_admin_reads_the_provinces_2023_figures_with_committee_names(federation):
    # given
    token = _token(Role.PROVINCE_ADMIN)
    # when
    body = _post(federation.router, PROVINCE, token)
    # then
    figures = body["data"]["provinceMemberDevelopment"]
    assert (figures["plan"], figures["admitted"], figures["achievementRate"]) == (
        2253,
        2360,
        104.75,
    )
    assert len(figures["committees"]) == 12
    assert {
        "tenant": {"slug": "nho-quan", "name": "Đảng bộ huyện Nho Quan"},
        "admitted": 320,
    } in figures["committees"]


def test_a_yen_mo_member_cannot_read_kim_son_through_the_router(federation):
    # given
    token = _token(Role.MEMBER, tenant="yen-mo")
    # when
    body = _post(federation.router, KIM_SON, token)
    # then
    assert body["data"] is None
    assert _codes(body) == ["FORBIDDEN_TENANT"]
    assert body["errors"][0]["message"] == "Your role does not cover tenant 'kim-son'."


def test_a_yen_mo_member_reads_its_own_figures_but_not_the_provinces(federation):
    # given
    token = _token(Role.MEMBER, tenant="yen-mo")
    # when
    own = _post(federation.router, OWN_TENANT, token)
    province = _post(federation.router, PROVINCE, token)
    # then
    assert own == {
        "data": {
            "tenant": {
                "slug": "yen-mo",
                "memberCount": 6014,
                "memberDevelopment": {"admitted": 189},
            }
        }
    }
    assert province["data"] == {"provinceMemberDevelopment": None}
    assert _codes(province) == ["FORBIDDEN"]


def test_a_bad_token_is_refused_through_the_router(federation):
    # given
    token = _token(Role.PROVINCE_ADMIN) + "x"
    # when
    body = _post(federation.router, NHO_QUAN, token)
    # then
    assert body["data"] is None
    assert _codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["extensions"]["serviceName"] == "pilotgraph"


def test_the_subgraphs_refuse_router_fields_without_the_router_token(federation):
    # given: a client that bypasses the router, with and without the router's token
    # when
    pilotgraph = _post(federation.pilotgraph, SERVICE)
    member_development = _post(federation.member_development, SERVICE)
    as_router = _post(federation.pilotgraph, SERVICE, **{"X-Router-Token": ROUTER_TOKEN})
    # then
    assert _codes(pilotgraph) == ["ROUTER_CREDENTIAL_REQUIRED"]
    assert _codes(member_development) == ["ROUTER_CREDENTIAL_REQUIRED"]
    assert '@key(fields: "slug")' in as_router["data"]["_service"]["sdl"]
