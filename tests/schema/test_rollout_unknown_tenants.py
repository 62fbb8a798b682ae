"""Every rollout mutation that names a tenant answers an unknown one with a coded user error.

The mutations are found in the schema (an argument or input field called ``tenant``/``tenants``),
so a new one that names a tenant fails here until it is covered.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLInputObjectType, GraphQLNamedType, get_named_type

from rollout import flags
from schema.rollout.mutations import RolloutMutation
from schema.root import schema
from tests import world
from tests.graphql import gql

DOCUMENTS = {
    "setFlagOverride": """
mutation($tenant: String!) {
  setFlagOverride(flag: "handbook.notices", tenant: $tenant, variant: "on", reason: "ask") {
    key version errors { code message }
  }
}
""",
    "createRolloutPlan": """
mutation($tenant: String!) {
  createRolloutPlan(flag: "handbook", waves: [{name: "pilot", tenants: [$tenant]}]) {
    applied status errors { code message }
  }
}
""",
}
UNKNOWN = [
    "no-such-tenant",
    "YEN-MO",  # slugs are exact
    "x" * 100,  # longer than any slug column
    world.DUY_TIEN,  # another province's: answered as one that does not exist
]


def _names_a_tenant(named: GraphQLNamedType, seen: set[str]) -> bool:
    if not isinstance(named, GraphQLInputObjectType) or named.name in seen:
        return False
    seen.add(named.name)
    return any(
        name in ("tenant", "tenants") or _names_a_tenant(get_named_type(field.type), seen)
        for name, field in named.fields.items()
    )


def _tenant_mutations() -> set[str]:
    fields = RolloutMutation.__strawberry_definition__.fields  # type: ignore[attr-defined]
    rollout = {
        f.graphql_name or schema.config.name_converter.apply_naming_config(f.python_name)
        for f in fields
    }
    mutation = schema._schema.mutation_type
    assert mutation is not None
    found = set()
    for name, field in mutation.fields.items():
        if name not in rollout:
            continue
        for arg_name, arg in field.args.items():
            if arg_name in ("tenant", "tenants") or _names_a_tenant(
                get_named_type(arg.type), set()
            ):
                found.add(name)
    return found


def test_every_rollout_mutation_naming_a_tenant_is_covered():
    assert _tenant_mutations() == set(DOCUMENTS)


@pytest.mark.parametrize("tenant", UNKNOWN, ids=lambda t: t[:20])
@pytest.mark.parametrize("mutation", sorted(DOCUMENTS))
async def test_an_unknown_tenant_is_invalid_input(gateway, admin, mutation, tenant):
    # when
    status, body = await gql(admin, DOCUMENTS[mutation], {"tenant": tenant})
    # then
    assert status == 200
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][mutation]
    assert payload["errors"] == [
        {"code": "INVALID_INPUT", "message": f"Unknown tenants: {tenant}."}
    ]


async def test_a_tenant_gone_before_the_write_is_invalid_input(gateway, admin, monkeypatch):
    # given: the tenant vanishes between the service's check and the write
    async def checked(**_: Any) -> None:
        return None

    monkeypatch.setattr(flags, "check_tenants", checked)
    # when
    status, body = await gql(admin, DOCUMENTS["setFlagOverride"], {"tenant": "no-such-tenant"})
    # then
    assert status == 200
    assert "errors" not in body, body
    assert body["data"]["setFlagOverride"]["errors"] == [
        {
            "code": "INVALID_INPUT",
            "message": "The change names a tenant, flag or plan that does not exist (any more).",
        }
    ]
