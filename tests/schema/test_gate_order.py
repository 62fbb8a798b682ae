"""Authentication and permission come before any feature gate: anonymous probes learn nothing.

The cases are generated from the schema: every Query and Mutation field carrying a feature gate.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLInputType,
    GraphQLOutputType,
    get_named_type,
    is_composite_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
)
from strawberry.permission import PermissionExtension

from rollout import flags
from rollout.flag_catalogue import FlagKey
from schema.rollout.features import FeatureGate
from schema.root import schema
from tenants.types import Role
from tests import world
from tests.graphql import gql

SCALARS = {
    "Int": "1",
    "Float": "1.0",
    "Boolean": "true",
    "Date": '"2026-12-01"',
    "DateTime": '"2026-12-01T08:00:00+07:00"',
    "JSON": "{}",
}
ROOTS = {"Query": "query", "Mutation": "mutation"}


def _gated_fields() -> list[tuple[str, str, FlagKey]]:
    """(root type, GraphQL field name, flag) for every gated root field."""
    found = []
    for root in ROOTS:
        definition = schema.get_type_by_name(root)
        for field in definition.fields:  # type: ignore[union-attr]
            gates = [e for e in field.extensions if isinstance(e, FeatureGate)]
            if gates:
                name = schema.config.name_converter.get_graphql_name(field)
                found.append((root, name, gates[0].key))
    return found


GATED = _gated_fields()
MUTATIONS = [(root, name, key) for root, name, key in GATED if root == "Mutation"]


def literal(type_: GraphQLInputType) -> str:
    """A literal of ``type_`` that coerces (its required fields only)."""
    if is_non_null_type(type_):
        return literal(type_.of_type)  # type: ignore[union-attr]
    if is_list_type(type_):
        return f"[{literal(type_.of_type)}]"  # type: ignore[union-attr]
    if is_enum_type(type_):
        return next(iter(type_.values))  # type: ignore[union-attr]
    if is_input_object_type(type_):
        fields = type_.fields.items()  # type: ignore[union-attr]
        required = [f"{n}: {literal(f.type)}" for n, f in fields if is_non_null_type(f.type)]
        return "{" + ", ".join(required) + "}"
    return SCALARS.get(type_.name, '"x"')  # type: ignore[union-attr]


def document(root: str, name: str) -> str:
    """The smallest operation that reaches ``root.name``."""
    graphql_type = schema._schema.get_type(root)
    field: GraphQLField = graphql_type.fields[name]  # type: ignore[union-attr]
    arguments = field.args.items()
    required = [f"{a}: {literal(arg.type)}" for a, arg in arguments if is_non_null_type(arg.type)]
    written = f"({', '.join(required)})" if required else ""
    returned: GraphQLOutputType = get_named_type(field.type)  # type: ignore[assignment]
    selection = " { __typename }" if is_composite_type(returned) else ""
    return f"{ROOTS[root]} {{ {name}{written}{selection} }}"


async def flag_off_in_yen_mo(gateway: Any, key: FlagKey) -> None:
    async with gateway.sessionmaker() as session:
        await flags.set_override(
            session=session,
            province_id="ninh-binh",
            key=key.value,
            tenant_id=world.YEN_MO,
            variant="off",
            actor="province-admin-1",
            reason="probe",
            now=world.NOW,
        )
        await session.commit()
    await gateway.flags.reload(gateway.sessionmaker)


def test_the_schema_has_gated_fields_on_both_roots():
    assert {root for root, _, _ in GATED} == set(ROOTS)


@pytest.mark.parametrize(("root", "name", "key"), GATED, ids=[f"{r}.{n}" for r, n, _ in GATED])
async def test_anonymous_answer_does_not_depend_on_the_flag(gateway, client_for, root, name, key):
    # given: an anonymous caller on Yen Mo
    client = client_for()
    operation = document(root, name)
    # when: the field's flag on, then off
    on = await gql(client, operation, path=f"/t/{world.YEN_MO}/graphql")
    await flag_off_in_yen_mo(gateway, key)
    off = await gql(client, operation, path=f"/t/{world.YEN_MO}/graphql")
    # then: the same answer, which is the authentication's
    assert on == off
    status, body = off
    assert status == 200
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(("root", "name", "key"), MUTATIONS, ids=[n for _, n, _ in MUTATIONS])
async def test_a_role_without_the_permission_is_forbidden_whatever_the_flag(
    gateway, client_for, token, root, name, key
):
    # given: an auditor of the province, who may read the handbook but change nothing
    client = client_for(token(Role.AUDITOR))
    operation = document(root, name)
    # when
    on = await gql(client, operation, path=f"/t/{world.YEN_MO}/graphql")
    await flag_off_in_yen_mo(gateway, key)
    off = await gql(client, operation, path=f"/t/{world.YEN_MO}/graphql")
    # then: refused by permission, flag on or off
    assert on == off
    assert [e["extensions"]["code"] for e in off[1]["errors"]] == ["FORBIDDEN"]


def test_every_gated_field_checks_its_permission_first():
    # Strawberry runs the last extension first: the permission must come after every gate.
    for root in ROOTS:
        for field in schema.get_type_by_name(root).fields:  # type: ignore[union-attr]
            if any(isinstance(e, FeatureGate) for e in field.extensions):
                assert isinstance(field.extensions[-1], PermissionExtension), field.python_name
