"""The adoption access policy (adoption/access.py): pure decisions over a principal and tenants."""

from __future__ import annotations

import pytest

from adoption.access import province_for, target_for
from adoption.read_model import Target
from tenants.identity import Principal
from tenants.permissions import Refused
from tenants.registry import TenantInfo
from tenants.types import Role


def _tenant(slug: str, province: str) -> TenantInfo:
    return TenantInfo(slug, slug, "district", province, province, "Asia/Ho_Chi_Minh", None)


class FakeTenants:
    def __init__(self, *tenants: TenantInfo) -> None:
        self._by_slug = {t.id: t for t in tenants}

    def get(self, slug: str) -> TenantInfo | None:
        return self._by_slug.get(slug)

    def all(self) -> list[TenantInfo]:
        return sorted(self._by_slug.values(), key=lambda t: t.id)


YEN_MO, KIM_SON, DUY_TIEN = (
    _tenant("yen-mo", "ninh-binh"),
    _tenant("kim-son", "ninh-binh"),
    _tenant("duy-tien", "ha-nam"),
)
TWO_PROVINCES = FakeTenants(YEN_MO, KIM_SON, DUY_TIEN)
PROVINCE_ADMIN = Principal("pa", frozenset({Role.PROVINCE_ADMIN}), province="ninh-binh")
YEN_MO_ADMIN = Principal("ta", frozenset({Role.TENANT_ADMIN}), tenant="yen-mo")
YEN_MO_MEMBER = Principal("m", frozenset({Role.MEMBER}), tenant="yen-mo")


def _target(principal: Principal | None, slug: str | None, request_tenant=None):
    return target_for(
        principal=principal, registry=TWO_PROVINCES, request_tenant=request_tenant, slug=slug
    )


def test_a_province_admin_reads_every_tenant_of_their_province_and_no_other():
    # when
    target = _target(PROVINCE_ADMIN, None)
    # then
    assert target == Target(("kim-son", "yen-mo"), "ninh-binh")


def test_a_province_admin_reads_one_of_their_tenants_through_the_province_path():
    # when / then
    assert _target(PROVINCE_ADMIN, "kim-son") == Target(("kim-son",), "ninh-binh")


def test_a_tenant_admin_reads_their_own_tenant_in_its_own_scope():
    # when / then
    assert _target(YEN_MO_ADMIN, "yen-mo") == Target(("yen-mo",), None)


@pytest.mark.parametrize(
    ("principal", "slug", "refused"),
    [
        (None, "yen-mo", Refused("UNAUTHENTICATED", "Sign in: this field needs a bearer token.")),
        (
            YEN_MO_MEMBER,
            "yen-mo",
            Refused("FORBIDDEN", "Your role does not allow read adoption."),
        ),
        (
            YEN_MO_ADMIN,
            None,
            Refused("FORBIDDEN", "Your role does not allow read province adoption."),
        ),
        (
            YEN_MO_ADMIN,
            "kim-son",
            Refused("FORBIDDEN_TENANT", "Your role does not cover tenant 'kim-son'."),
        ),
        (
            PROVINCE_ADMIN,
            "duy-tien",
            Refused("FORBIDDEN_TENANT", "Your role does not cover tenant 'duy-tien'."),
        ),
        (
            PROVINCE_ADMIN,
            "nowhere",
            Refused("TENANT_NOT_FOUND", "Tenant 'nowhere' does not exist."),
        ),
    ],
)
def test_the_policy_refuses_with_a_code_and_a_message(principal, slug, refused):
    # when / then
    assert _target(principal, slug) == refused


def test_a_province_wide_read_without_a_province_needs_one_when_there_are_several():
    # given: an auditor whose token names no province, on no tenant
    auditor = Principal("a", frozenset({Role.AUDITOR}))
    # when
    province = province_for(principal=auditor, registry=TWO_PROVINCES, request_tenant=None)
    # then
    assert province == Refused("PROVINCE_REQUIRED", "Choose a province: your token names none.")


def test_a_province_wide_read_falls_back_to_the_request_tenant_then_the_only_province():
    # given
    auditor = Principal("a", frozenset({Role.AUDITOR}))
    # when
    by_request = province_for(principal=auditor, registry=TWO_PROVINCES, request_tenant=DUY_TIEN)
    only = province_for(principal=auditor, registry=FakeTenants(YEN_MO), request_tenant=None)
    # then
    assert (by_request, only) == ("ha-nam", "ninh-binh")
