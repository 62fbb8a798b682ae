"""What the planner plans, what it leaves to the schema, and where it never runs."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.edge.documents import Edge
from gateway.edge.ratelimit import RateGate
from planner.operation import Unplanned, read_operation
from planner.plans import Planner, plan
from schema.root import schema
from tests.conftest import make_settings
from tests.planner.conftest import MANIFEST

HANDBOOK_APP_PLANNED = {
    "Home",
    "Meetings",
    "Notices",
    "Documents",
    "Members",
    "DraftResolutions",
}


def test_the_handbook_apps_reads_are_planned_and_the_rest_fall_back():
    # when
    planner = Planner.for_documents(schema._schema, MANIFEST)
    # then: every manifest query of the handbook's reads is planned; every mutation and
    # console document runs on the schema
    assert {p.name for p in planner.plans.values()} == HANDBOOK_APP_PLANNED
    assert len(planner.plans) + len(planner.unplanned) == len(MANIFEST)
    reasons = {text.split("{")[0].split("(")[0].strip(): r for text, r in planner.unplanned.items()}
    assert reasons["query TenantNames"] == "the root field 'tenants'"
    assert reasons["mutation CommentOnDraftResolution"] == "a mutation"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{ me { fullName isReligiousBeliever } }", "the field Member.isReligiousBeliever"),
        ("{ me { fullName nickname } }", "the document does not validate"),
        ("{ branches { name } }", "the root field 'branches'"),
        ("{ notices(kind: GENERAL) { title } }", "the arguments ['kind'] of 'notices'"),
        ("{ me { ...F } } fragment F on Member { fullName }", "one operation and no fragments"),
        ("{ me @include(if: true) { fullName } }", "a directive on 'me'"),
        ("{ me { branch { members { totalCount } } } }", "the field Branch.members"),
        ("{ me { branch { meetings { title } } } }", "the field Branch.meetings"),
        ('{ members(search: "An") { totalCount } }', "the arguments ['search'] of 'members'"),
        (
            "{ members { edges { node { isReligiousBeliever } } } }",
            "the field Member.isReligiousBeliever",
        ),
        ('{ members(branchId: "x") { totalCount } }', "the arguments ['branchId'] of 'members'"),
        (
            "{ members { edges { ...E } } } fragment E on MemberEdge { cursor }",
            "one operation and no fragments",
        ),
    ],
)
def test_an_unknown_field_or_shape_leaves_the_operation_to_the_schema(document, reason):
    # when
    with pytest.raises(Unplanned) as refused:
        plan(schema._schema, document)
    # then
    assert str(refused.value) == reason


def test_aliases_and_typename_are_planned():
    # when
    _, roots = read_operation(parse("{ mine: me { __typename who: fullName } }"))
    # then
    assert [(r.key, r.name) for r in roots] == [("mine", "me")]
    assert [(f.key, f.name) for f in roots[0].fields] == [
        ("__typename", "__typename"),
        ("who", "fullName"),
    ]


def test_a_connections_relay_fields_are_planned_with_aliases_and_typename():
    # when
    _, roots = read_operation(
        parse(
            "{ page: members(first: 2) { __typename n: totalCount"
            " edges { __typename at: cursor who: node { fullName } }"
            " info: pageInfo { __typename more: hasNextPage endCursor } } }"
        )
    )
    # then
    (page,) = roots
    assert [(f.key, f.name) for f in page.fields] == [
        ("__typename", "__typename"),
        ("n", "totalCount"),
        ("edges", "edges"),
        ("info", "pageInfo"),
    ]
    edge = page.fields[2]
    assert [(f.key, f.name) for f in edge.fields] == [
        ("__typename", "__typename"),
        ("at", "cursor"),
        ("who", "node"),
    ]
    assert [(f.key, f.name) for f in edge.fields[2].fields] == [("fullName", "fullName")]


def test_sqlite_and_the_setting_turned_off_have_no_planner(database):
    # given
    settings = make_settings(database)
    off = make_settings(database, planned_operations=False)
    # when
    edge = Edge(schema, settings, RateGate(settings))
    edge_off = Edge(schema, off, RateGate(off))
    # then: PostgreSQL plans the manifest; SQLite, or the setting off, runs all on the schema
    assert edge_off.planner is None
    if database.backend == "sqlite":
        assert edge.planner is None
    else:
        assert edge.planner is not None
        assert len(edge.planner.plans) == len(HANDBOOK_APP_PLANNED)
