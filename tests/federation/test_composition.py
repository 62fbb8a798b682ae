"""PilotGraph and member development compose into a supergraph with no error and no hint."""

from __future__ import annotations

from schema.root import sdl
from tests.federation import tools


def test_the_subgraphs_compose_cleanly(tmp_path):
    # given: both subgraphs' SDL as the running code prints it
    tools.require_toolchain()
    pilotgraph = tmp_path / "pilotgraph.graphql"
    pilotgraph.write_text(sdl())
    member_development = tmp_path / "member_development.graphql"
    member_development.write_text(tools.member_development_sdl())
    supergraph = tmp_path / "supergraph.graphql"
    # when
    result = tools.compose(
        supergraph,
        {
            "pilotgraph": ("http://127.0.0.1:8000/graphql", pilotgraph),
            "member_development": ("http://127.0.0.1:8001/graphql", member_development),
        },
    )
    # then
    assert result.errors == []
    assert result.hints == []
    assert result.returncode == 0
    text = supergraph.read_text()
    assert 'join__type(graph: PILOTGRAPH, key: "slug")' in text
    assert 'join__type(graph: MEMBER_DEVELOPMENT, key: "slug")' in text
    assert "memberDevelopment(year: Int!): MemberDevelopment" in text


def test_a_conflicting_subgraph_fails_composition(tmp_path):
    # given: a subgraph that redefines Tenant.slug with another type
    tools.require_toolchain()
    pilotgraph = tmp_path / "pilotgraph.graphql"
    pilotgraph.write_text(sdl())
    rogue = tmp_path / "rogue.graphql"
    rogue.write_text(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])\n'
        'type Tenant @key(fields: "slug") { slug: Int! }\n'
        "type Query { rogue: Tenant }\n"
    )
    # when
    result = tools.compose(
        tmp_path / "supergraph.graphql",
        {"pilotgraph": ("http://a/graphql", pilotgraph), "rogue": ("http://b/graphql", rogue)},
    )
    # then
    assert result.returncode == 1
    assert "FIELD_TYPE_MISMATCH" in {error["code"] for error in result.errors}
