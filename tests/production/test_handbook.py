"""Every handbook-app trusted document, sent by hash as the app sends it, as a member and as a
branch secretary: 200, no errors, every root field answered.

The documents are read from ``clients/trusted-documents/handbook-app/``, so a new one is tested
as soon as it is added; one that needs variables the table below does not give fails the test.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from tests.production.conftest import MANIFEST, Profile, bearer
from tests.production.database import ROOT

HANDBOOK = ROOT / "clients" / "trusted-documents" / "handbook-app"
DOCUMENTS = sorted(HANDBOOK.glob("*.graphql"))
DRAFTS = (HANDBOOK / "DraftResolutions.graphql").read_text()
TEXTS = {path: path.read_text() for path in DOCUMENTS}

Variables = Callable[[httpx.AsyncClient, str], Awaitable[dict[str, Any]]]


async def _fixed(values: dict[str, Any]) -> dict[str, Any]:
    return values


async def _open_draft(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    """Comment on the caller's branch's open draft resolution, found as the app finds it."""
    answer = await persisted(client, token, DRAFTS)
    drafts = answer.json()["data"]["me"]["branch"]["draftResolutions"]
    open_draft = next(d for d in drafts if d["status"] == "OPEN")
    return {"input": {"resolutionId": open_draft["id"], "body": "Tôi nhất trí với dự thảo."}}


VARIABLES: dict[str, Variables] = {
    "CommentOnDraftResolution": _open_draft,
    "Documents": lambda c, t: _fixed({"first": 5, "search": "NQ"}),
    "Meetings": lambda c, t: _fixed({"when": "UPCOMING", "first": 5}),
    "Members": lambda c, t: _fixed({"first": 50}),
    "Notices": lambda c, t: _fixed({"first": 5}),
}


def _operation(text: str) -> OperationDefinitionNode:
    (operation,) = parse(text).definitions
    assert isinstance(operation, OperationDefinitionNode)
    return operation


async def persisted(
    client: httpx.AsyncClient, token: str, text: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    """POST the document by its SHA-256 only, as the app's generated code does."""
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": _sha256(text)}}
    body = {"variables": variables or {}, "extensions": extensions}
    return await client.post("/graphql", json=body, headers=bearer(token))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_every_handbook_document_is_in_the_manifest() -> None:
    # given
    manifest = {op["id"] for op in json.loads(MANIFEST.read_text())["operations"]}
    # then
    assert len(DOCUMENTS) >= 6
    assert {p.name: _sha256(TEXTS[p]) in manifest for p in DOCUMENTS} == {
        p.name: True for p in DOCUMENTS
    }


@pytest.mark.parametrize("user", ["member", "secretary"])
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.stem)
async def test_a_handbook_document_runs_by_hash(
    profile: Profile, client: httpx.AsyncClient, document: Path, user: str
) -> None:
    # given
    text = TEXTS[document]
    operation = _operation(text)
    token = profile.realm.access_token(user)
    name = operation.name.value if operation.name else ""
    make = VARIABLES.get(name)
    assert make or not operation.variable_definitions, f"{name} needs variables: add to VARIABLES"
    variables = await make(client, token) if make else {}
    # when
    response = await persisted(client, token, text, variables)
    # then
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    fields = [s.alias or s.name for s in operation.selection_set.selections]  # type: ignore[attr-defined]
    assert {f.value: body["data"][f.value] is not None for f in fields} == {
        f.value: True for f in fields
    }, body
    for payload in body["data"].values():
        if isinstance(payload, dict) and "errors" in payload:
            assert payload["errors"] == [], payload
