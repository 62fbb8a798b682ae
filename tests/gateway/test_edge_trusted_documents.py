"""The committed trusted-documents manifest: valid, current, and what production would run."""

from __future__ import annotations

from pathlib import Path

from gateway.edge.config import PersistedMode
from gateway.edge.manifest import load_manifest, sha256
from tenants.types import Role
from tests import world
from tools.trusted_documents import manifest_text

CLIENTS = Path(__file__).resolve().parents[2] / "clients" / "trusted-documents"
MANIFEST = CLIENTS / "manifest.json"


def test_the_committed_manifest_is_current_and_every_operation_validates():
    # when
    rebuilt = manifest_text(str(CLIENTS))
    # then: `python tools/trusted_documents.py build ...` was run after the last change
    assert MANIFEST.read_text(encoding="utf-8") == rebuilt
    assert len(load_manifest(MANIFEST)) >= 10


async def test_the_handbook_home_screen_runs_in_trusted_mode(edge_client, token):
    # given
    manifest = load_manifest(MANIFEST)
    home = next(body for body in manifest.values() if body.startswith("query Home"))
    client = edge_client(
        token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)),
        persisted=PersistedMode.TRUSTED,
        trusted_manifest=str(MANIFEST),
    )
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256(home)}}
    # when
    response = await client.post("/graphql", json={"extensions": persisted})
    ad_hoc = await client.post("/graphql", json={"query": "{ me { fullName } }"})
    # then
    assert response.status_code == 200
    assert response.json()["data"]["me"]["fullName"] == "Trần Thị Bình"
    assert ad_hoc.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_ALLOWED"
