"""``schema/schema.graphql`` is what the code serves; regenerate with ``make schema``."""

from __future__ import annotations

from pathlib import Path

from schema.root import sdl

EXPORTED = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"


def test_exported_schema_matches_code():
    # given
    exported = EXPORTED.read_text(encoding="utf-8")
    # when
    current = sdl()
    # then
    assert exported == current, "schema/schema.graphql drifted: run `make schema`"


def test_schema_is_a_federation_2_subgraph():
    # given / when
    current = sdl()
    # then
    assert "_service: _Service!" in current
    assert "scheduleMeeting(input: ScheduleMeetingInput!): MeetingPayload!" in current
