"""The console's page is public; its sign-in check lets only admins and auditors in."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from gateway.console.routes import DIST
from tenants.models import Province
from tenants.types import Role
from tests import world

needs_build = pytest.mark.skipif(
    not (DIST / "index.html").is_file(), reason="console not built (npm run build --prefix console)"
)


@needs_build
async def test_the_console_page_loads_without_a_token(client_for):
    # given
    client = client_for()
    # when
    response = await client.get("/admin/")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<script type="module" src="/admin/assets/main.js">' in response.text


@needs_build
async def test_the_chart_library_is_served_by_the_gateway(client_for):
    # given
    client = client_for()
    # when
    response = await client.get("/admin/assets/vendor/chart.umd.min.js")
    # then
    assert response.status_code == 200
    assert "Chart" in response.text


async def test_sign_in_without_a_token_is_unauthenticated(client_for):
    # given
    client = client_for()
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["errors"][0]["message"] == "Sign in with a token."


async def test_sign_in_with_a_bad_token_is_unauthenticated(client_for):
    # given
    client = client_for(token="not-a-jwt")
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.BRANCH_SECRETARY])
async def test_a_member_is_refused_the_console(client_for, token, role):
    # given
    client = client_for(token=token(role, tenant="yen-mo"))
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CONSOLE_FORBIDDEN"
    assert error["message"] == "The console is for province admins, tenant admins and auditors."


async def test_a_province_admin_may_manage_the_rollout(client_for, token):
    # given
    client = client_for(token=token(Role.PROVINCE_ADMIN, subject="admin@province"))
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 200
    assert response.json() == {
        "subject": "admin@province",
        "roles": ["province_admin"],
        "tenant": None,
        "canManageRollout": True,
        "readsProvince": True,
        "adjustsTenantRamp": False,
        "name": None,
        "timeZone": "Asia/Ho_Chi_Minh",
    }


async def test_a_tenant_admin_reads_their_own_tenant_only(client_for, token):
    # given
    client = client_for(token=token(Role.TENANT_ADMIN, tenant="kim-son", subject="admin@kim-son"))
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 200
    body = response.json()
    assert (
        body["tenant"],
        body["canManageRollout"],
        body["readsProvince"],
        body["adjustsTenantRamp"],
    ) == ("kim-son", False, False, True)


@pytest.mark.parametrize(
    ("subject", "name", "shown"),
    [
        (str(world.KS_MEMBER), None, "Bùi Văn Sơn"),  # their own member record
        (str(world.KS_MEMBER), "Chị Sơn", "Chị Sơn"),  # the token's name first
        (str(world.YM_MEMBER_A), None, None),  # a member of another tenant: not theirs to read
        ("admin@kim-son", None, None),
    ],
)
async def test_the_session_names_the_signed_in_person(client_for, token, subject, name, shown):
    # given
    client = client_for(token(Role.TENANT_ADMIN, tenant=world.KIM_SON, subject=subject, name=name))
    # when
    response = await client.get("/admin/api/session")
    # then
    assert response.status_code == 200
    assert (response.json()["subject"], response.json()["name"]) == (subject, shown)


@pytest.mark.parametrize(
    ("role", "tenant"),
    [(Role.PROVINCE_ADMIN, None), (Role.AUDITOR, None), (Role.TENANT_ADMIN, world.DUY_TIEN)],
)
async def test_the_session_gives_the_zone_of_the_admins_province(
    gateway, client_for, token, role, tenant
):
    # given: Hà Nam keeps its days in another zone than Ninh Bình's
    async with gateway.sessionmaker() as db:
        await db.execute(
            update(Province)
            .where(Province.id == world.OTHER_PROVINCE)
            .values(timezone="Asia/Bangkok")
        )
        await db.commit()
    await gateway.registry.reload(gateway.sessionmaker)
    admin = client_for(token=token(role, tenant=tenant, province=world.OTHER_PROVINCE))
    neighbour = client_for(token=token(role, tenant=world.KIM_SON if tenant else None))
    # when
    zones = [(await c.get("/admin/api/session")).json()["timeZone"] for c in (admin, neighbour)]
    # then
    assert zones == ["Asia/Bangkok", "Asia/Ho_Chi_Minh"]


async def test_an_auditor_reads_the_province_without_acting(client_for, token):
    # given
    client = client_for(token=token(Role.AUDITOR))
    # when
    response = await client.get("/admin/api/session")
    # then
    body = response.json()
    assert (body["canManageRollout"], body["readsProvince"], body["adjustsTenantRamp"]) == (
        False,
        True,
        False,
    )


async def test_the_live_stream_refuses_a_member(client_for, token):
    # given
    client = client_for(token=token(Role.MEMBER, tenant="yen-mo"))
    # when
    response = await client.get("/admin/api/events")
    # then
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "CONSOLE_FORBIDDEN"


async def test_the_live_stream_needs_a_token(client_for):
    # given
    client = client_for()
    # when
    response = await client.get("/admin/api/events")
    # then
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Sign in with a token."


async def test_without_an_issuer_the_oidc_callback_is_not_found(client_for):
    # given
    client = client_for()
    body = {"code": "c", "codeVerifier": "v", "redirectUri": "http://testserver/admin/"}
    # when
    response = await client.post("/admin/api/oidc/token", json=body)
    # then
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["message"]) == (
        "OIDC_NOT_CONFIGURED",
        "No OpenID Connect issuer is set.",
    )


async def test_a_malformed_oidc_callback_is_bad_input(client_for, settings, gateway):
    # given an issuer configured (never reached: the body is checked first)
    gateway.settings = settings.model_copy(update={"oidc_issuer": "http://127.0.0.1:9"})
    client = client_for()
    # when
    response = await client.post("/admin/api/oidc/token", content=b"not json")
    # then
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["extensions"]["code"], error["message"]) == (
        "BAD_USER_INPUT",
        "Send code, codeVerifier and redirectUri.",
    )
