"""Trusted-documents manifests: hash → document, each hash checked against its body."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

# The manifest of the repository's own clients (the handbook app and the console), committed
# and kept current by `tools/trusted_documents.py check` and the console's build.
CLIENTS_MANIFEST = (
    Path(__file__).resolve().parents[2] / "clients" / "trusted-documents" / "manifest.json"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_manifest(path: str | Path) -> dict[str, str]:
    """Hash → document, from an Apollo persisted-query manifest or a plain ``{hash: body}`` map.

    Every hash is checked against its body, so a tampered manifest fails at start-up.
    """
    raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(raw, dict) and isinstance(raw.get("operations"), list):
        pairs = [(op["id"], op["body"]) for op in raw["operations"]]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ValueError(f"{path}: a manifest is a JSON object")
    for key, body in pairs:
        if not isinstance(body, str) or sha256(body) != key:
            raise ValueError(f"{path}: the hash {key} does not match its document")
    return dict(pairs)


def build_manifest(operations: dict[str, str]) -> dict[str, Any]:
    """An Apollo persisted-query manifest for ``{operation name: document}``."""
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256(body), "name": name, "type": _kind(body), "body": body}
            for name, body in sorted(operations.items())
        ],
    }


def documents_in(directory: str | Path) -> dict[str, str]:
    """``{operation name: document}`` from the ``*.graphql`` files under ``directory``.

    One operation per file, named after it, so a client build can list exactly what it sends.
    """
    found: dict[str, str] = {}
    for path in sorted(Path(directory).rglob("*.graphql")):
        body = path.read_text(encoding="utf-8").strip() + "\n"
        if path.stem in found:
            raise ValueError(f"{path}: operation {path.stem} is defined twice")
        found[path.stem] = body
    return found


def _kind(body: str) -> str:
    head = body.lstrip().split(maxsplit=1)[0] if body.strip() else "query"
    return head if head in ("query", "mutation", "subscription") else "query"
