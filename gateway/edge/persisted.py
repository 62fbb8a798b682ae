"""Persisted operations: Apollo's automatic persisted queries and trusted documents.

APQ: a client sends ``extensions.persistedQuery = {version: 1, sha256Hash}``; an unknown hash
without a query answers ``PERSISTED_QUERY_NOT_FOUND`` and the client retries with the query,
which registers it once the edge has accepted it (:meth:`PersistedOperations.register`), in an LRU
cache bounded by bytes and count, per replica: it holds public documents, no tenant data.

Trusted documents: only operations listed in a manifest run, by hash or by identical text;
anything else answers ``OPERATION_NOT_ALLOWED``. The one exception is the federation router, once
it has proved itself with the configured router token: it writes its own subgraph documents and
enforces the federated manifest toward clients itself. See docs/TRUSTED_DOCUMENTS.md.

A manifest's hash runs in every mode, so a client that sends only hashes (the console) works
the same in development: outside ``trusted`` mode without a configured manifest, the edge knows
the repository's committed one (``clients/trusted-documents/manifest.json``) when it is there.
"""

from __future__ import annotations

from typing import Any

from gateway.edge.config import EdgeSettings, PersistedMode
from gateway.edge.http_spec import EdgeRefusal, Params
from gateway.edge.manifest import CLIENTS_MANIFEST, load_manifest, sha256
from schema.bounded import ByteBoundedLRU, text_bytes


class PersistedRefused(EdgeRefusal):
    """A persisted-operation refusal: a GraphQL request error (400 or 200 by media type)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(400, code, message)


class PersistedOperations:
    """Turns request parameters into the document to run, per the configured mode."""

    def __init__(self, settings: EdgeSettings) -> None:
        self.mode = settings.persisted
        self.manifest = _manifest_for(settings)
        if self.mode is PersistedMode.TRUSTED and not self.manifest:
            raise ValueError("persisted mode 'trusted' needs edge.trusted_manifest")
        bounds = settings.apq_cache
        self.cache: ByteBoundedLRU[str, str] = ByteBoundedLRU(
            bounds.max_bytes, bounds.max_entry_bytes, settings.apq_cache_size
        )

    def document(self, params: Params, *, verified_router: bool = False) -> str | None:
        """The document text to run (``None``: no query at all); nothing is registered yet.

        ``verified_router``: the caller proved to be the federation router with a configured
        router token; in trusted mode its own documents run, a hash it sends is still looked up.
        """
        requested = _requested_hash(params.extensions)
        if self.mode is PersistedMode.TRUSTED:
            if verified_router and requested is None:
                return params.query
            return self._trusted(params.query, requested)
        if requested is None:
            return params.query
        if self.mode is PersistedMode.OFF:
            if requested in self.manifest:  # a manifest's hash runs in every mode
                return self._trusted(params.query, requested)
            raise PersistedRefused(
                "PERSISTED_QUERY_NOT_SUPPORTED", "Persisted queries are not supported here."
            )
        if params.query is None:
            return self._lookup(requested)
        if sha256(params.query) != requested:
            raise PersistedRefused(
                "PERSISTED_QUERY_HASH_MISMATCH", "The sha256Hash does not match the query."
            )
        return params.query

    def _trusted(self, query: str | None, requested: str | None) -> str:
        if requested is not None:
            known = self.manifest.get(requested)
            if known is None:
                raise PersistedRefused("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            if query is not None and query != known:
                raise PersistedRefused(
                    "PERSISTED_QUERY_HASH_MISMATCH", "The sha256Hash does not match the query."
                )
            return known
        if query is not None and sha256(query) in self.manifest:
            return query
        raise PersistedRefused(
            "OPERATION_NOT_ALLOWED", "Only operations from the trusted-documents manifest may run."
        )

    def register(self, params: Params, query: str) -> None:
        """APQ: remember a hash sent with its query, once the edge has accepted the document."""
        requested = _requested_hash(params.extensions)
        if self.mode is PersistedMode.APQ and requested is not None and params.query is not None:
            self.cache.put(requested, query, text_bytes(requested, query))

    def _lookup(self, requested: str) -> str:
        known = self.manifest.get(requested) or self.cache.get(requested)
        if known is None:
            raise PersistedRefused("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
        return known


def _manifest_for(settings: EdgeSettings) -> dict[str, str]:
    """The configured manifest; else, outside trusted mode, the committed one if present."""
    if settings.trusted_manifest:
        return load_manifest(settings.trusted_manifest)
    if settings.persisted is not PersistedMode.TRUSTED and CLIENTS_MANIFEST.is_file():
        return load_manifest(CLIENTS_MANIFEST)
    return {}


def _requested_hash(extensions: dict[str, Any]) -> str | None:
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedRefused("BAD_REQUEST", "persistedQuery must be {version: 1, sha256Hash}.")
    requested = persisted.get("sha256Hash")
    if not isinstance(requested, str) or len(requested) != 64:
        raise PersistedRefused("BAD_REQUEST", "persistedQuery.sha256Hash must be a sha256 hex.")
    return requested.lower()
