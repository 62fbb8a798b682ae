"""One error model: domain errors share a base, their codes feed ``ErrorCode`` and the docs,
and every mutation payload reports them as ``UserError``."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType

import gateway.app  # noqa: F401  # imports every module that defines a domain error
from adoption import errors as adoption_errors
from adoption.errors import AdoptionError
from db.errors import DomainError
from rollout.errors import PlanNotFound, RolloutError
from schema.context import Context
from schema.errors import ErrorCode, PilotGraphError, UserError, domain_errors
from schema.root import schema, sdl
from tenants.errors import NotFound, TenantRequired, TenantsError
from tenants.types import Role
from tests import world
from tests.graphql import error_codes, gql
from tests.rollout.plan_world import ADMIN, KEY

ROOT = Path(__file__).resolve().parents[2]
ROOTS = (DomainError, TenantsError, RolloutError, AdoptionError)
# A code several errors share on purpose: "this input breaks a rule", the field says which.
GENERIC_CODES = frozenset({"INVALID_INPUT"})
TENANT_REQUIRED = (
    "Choose a tenant: use the /t/{tenant}/ path, the tenant's host or the X-Tenant header."
)

NO_PLAN = "The flag 'handbook' has no rollout plan."
START_WITH_FIELDS = """
mutation($flag: String!) { startRollout(flag: $flag) { errors { field code message } } }
"""


def _every_error_class() -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls not in ROOTS:
            found.append(cls)
    return found


def _documented_codes() -> set[str]:
    text = (ROOT / "docs" / "ERRORS.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_the_domain_roots_derive_from_one_base_and_share_its_constructor():
    # when
    roots = (TenantsError, RolloutError, AdoptionError)
    # then
    assert all(issubclass(root, DomainError) for root in roots)
    assert [root for root in roots if "__init__" in vars(root)] == []
    error = RolloutError("The rollout refused.", field="flag")
    assert (error.code, error.message, error.field) == (
        "ROLLOUT_ERROR",
        "The rollout refused.",
        "flag",
    )


def test_every_domain_error_declares_its_own_code():
    # when
    inherited = [cls.__qualname__ for cls in _every_error_class() if "code" not in vars(cls)]
    # then
    assert len(_every_error_class()) > 20
    assert inherited == []


def test_every_domain_error_code_names_one_kind_of_error():
    # given
    by_code: dict[str, list[str]] = defaultdict(list)
    for cls in _every_error_class():
        by_code[cls.code].append(f"{cls.__module__}.{cls.__qualname__}")
    # when
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    # then
    assert set(shared) <= GENERIC_CODES, shared


def test_every_domain_error_code_is_documented():
    # when
    missing = sorted({cls.code for cls in _every_error_class()} - _documented_codes())
    # then
    assert missing == [], f"add rows to docs/ERRORS.md for {missing}"


def test_error_code_enum_is_derived_from_the_error_classes():
    # when
    enum_codes = {member.value for member in ErrorCode}
    # then
    assert enum_codes == {cls.code for cls in domain_errors()}
    assert {"NOT_FOUND", "INVALID_ID", "FLAG_NOT_FOUND", "PLAN_NOT_FOUND", "SELF_APPROVAL"} <= (
        enum_codes
    )


def test_user_error_carries_the_domain_errors_field_code_and_message():
    # when
    error = UserError.from_domain(NotFound("Meeting", field="meetingId"))
    # then
    assert (error.field, error.code.value, error.message) == (
        "meetingId",
        "NOT_FOUND",
        "Meeting not found.",
    )


def _payload_errors() -> dict[str, str]:
    """Each mutation's payload ``errors`` type, or ``missing``."""
    mutation = schema._schema.mutation_type
    assert mutation is not None
    found: dict[str, str] = {}
    for name, field in mutation.fields.items():
        payload = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        assert isinstance(payload, GraphQLObjectType), name
        errors = payload.fields.get("errors")
        found[name] = "missing" if errors is None else str(errors.type)
    return found


def test_every_mutation_payloads_errors_are_user_errors():
    # when
    payloads = _payload_errors()
    # then
    assert len(payloads) >= 20
    assert {"trackEvents", "startRollout", "scheduleMeeting"} <= set(payloads)
    assert {name: kind for name, kind in payloads.items() if kind != "[UserError!]!"} == {}
    assert "RolloutUserError" not in sdl()


def test_a_flag_without_plan_is_one_error_everywhere():
    # when
    error = PlanNotFound("handbook")
    # then
    assert (error.code, error.message) == (
        "PLAN_NOT_FOUND",
        "The flag 'handbook' has no rollout plan.",
    )
    assert not hasattr(adoption_errors, "FlagPlanNotFound")
    assert not hasattr(adoption_errors, "UnknownTenant")


async def test_rollout_payload_errors_have_a_field(gateway, token, client_for):
    # given: no plan for the flag
    admin = client_for(token(Role.PROVINCE_ADMIN, subject=ADMIN))
    document = (
        "mutation($flag: String!) { startRollout(flag: $flag) { errors { field code message } } }"
    )
    # when
    status, body = await gql(admin, document, {"flag": KEY})
    # then
    assert status == 200, body
    assert body["data"]["startRollout"]["errors"] == [
        {
            "field": None,
            "code": "PLAN_NOT_FOUND",
            "message": "The flag 'handbook' has no rollout plan.",
        }
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/events", []),
        ("POST", "/v1/install-tokens", {"deviceId": "phone-1"}),
    ],
)
async def test_tenant_required_has_one_message_on_rest(client_for, method, path, body):
    # when
    answer = await client_for().request(method, path, json=body)
    # then
    assert answer.status_code == 400
    assert answer.json() == {
        "errors": [{"message": TENANT_REQUIRED, "extensions": {"code": "TENANT_REQUIRED"}}]
    }


async def test_tenant_required_has_the_same_message_in_graphql(client_for, token):
    # given
    client = client_for(token(Role.PROVINCE_ADMIN))
    # when
    _, body = await gql(client, "{ tenant { slug } }")
    # then
    assert error_codes(body) == ["TENANT_REQUIRED"]
    assert body["errors"][0]["message"] == TENANT_REQUIRED == TenantRequired().message


def test_a_context_without_tenant_refuses_with_the_same_message(gateway):
    # given
    context = Context(
        request=None,
        response=None,
        session=gateway.sessionmaker(),
        principal=None,
        tenant=None,
        registry=gateway.registry,
        now=world.NOW,
        install_key=gateway.install_key,
        kpis=gateway.kpis,
    )
    # when / then
    with pytest.raises(PilotGraphError, match=re.escape(TENANT_REQUIRED)) as raised:
        _ = context.tenant_id
    assert raised.value.extensions == {"code": "TENANT_REQUIRED"}
