"""Parsed and validated documents, cached by their text and bounded in bytes.

The edge parses a document to check its limits and strawberry parses it again to run it; both go
through :data:`DOCUMENTS`. A fresh parse waits in a small hand-off area (a few entries) and enters
the cache only once it validates against the schema, so a document the edge or validation refuses
never takes a place there. A cached document skips validation too (for the same schema and rules).

A parsed document keeps its text, its token list (comments included) and its AST alive: about
500 bytes per token, measured with ``tracemalloc`` on graphql-core 3.3. Entries are charged that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from schema.bounded import ByteBoundedLRU, text_bytes

TOKEN_BYTES = 500
HANDOFF_ENTRIES = 8
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_ENTRY_BYTES = 1024 * 1024


def document_bytes(query: str, document: DocumentNode, ceiling: int) -> int:
    """Memory ``document`` keeps alive (its text twice, its tokens), counted up to ``ceiling``."""
    size = text_bytes(query, query)
    token = document.loc.start_token if document.loc else None
    while token is not None and size <= ceiling:
        size += TOKEN_BYTES
        token = token.next
    return size


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    validated: set[Hashable] = field(default_factory=set)


class DocumentCache:
    """Documents that validated, by text; plus a hand-off area for the edge's fresh parses."""

    def __init__(
        self, max_bytes: int = DEFAULT_MAX_BYTES, max_entry_bytes: int = DEFAULT_MAX_ENTRY_BYTES
    ) -> None:
        self.valid: ByteBoundedLRU[str, _Entry] = ByteBoundedLRU(max_bytes, max_entry_bytes)
        self.handoff: ByteBoundedLRU[str, tuple[DocumentNode, int]] = ByteBoundedLRU(
            HANDOFF_ENTRIES * max_entry_bytes, max_entry_bytes, HANDOFF_ENTRIES
        )

    def resize(self, max_bytes: int, max_entry_bytes: int) -> None:
        """New bounds (from the edge settings); entries beyond them are evicted now."""
        self.valid.resize(max_bytes, max_entry_bytes)
        self.handoff.resize(HANDOFF_ENTRIES * max_entry_bytes, max_entry_bytes, HANDOFF_ENTRIES)

    @property
    def total_bytes(self) -> int:
        """Bytes charged to both areas."""
        return self.valid.total_bytes + self.handoff.total_bytes

    def parse(self, query: str) -> DocumentNode:
        """The parsed document; raises ``GraphQLError`` on a syntax error (not cached)."""
        entry = self.valid.get(query)
        if entry is not None:
            return entry.document
        handed = self.handoff.get(query)
        if handed is not None:
            return handed[0]
        document = parse(query)
        size = document_bytes(query, document, self.valid.max_entry_bytes)
        self.handoff.put(query, (document, size), size)
        return document

    def is_valid(self, query: str, document: DocumentNode, key: Hashable) -> bool:
        """Whether ``document`` (parsed from ``query``) already validated under ``key``."""
        entry = self.valid.get(query)
        return entry is not None and entry.document is document and key in entry.validated

    def admit(self, query: str, document: DocumentNode, key: Hashable) -> None:
        """Keep ``document``: it validated under ``key`` (a schema and its rules)."""
        entry = self.valid.get(query)
        if entry is not None and entry.document is document:
            entry.validated.add(key)
            return
        handed = self.handoff.pop(query)
        size = (
            handed[1]
            if handed is not None and handed[0] is document
            else document_bytes(query, document, self.valid.max_entry_bytes)
        )
        self.valid.put(query, _Entry(document, {key}), size)


DOCUMENTS = DocumentCache()


def parse_document(query: str) -> DocumentNode:
    """Parse through the shared document cache (the edge and strawberry parse once)."""
    return DOCUMENTS.parse(query)


class CachedDocuments(SchemaExtension):
    """Parse and validate through :data:`DOCUMENTS`; syntax errors are left to strawberry's parse.

    Strawberry's own ``ParserCache``/``ValidationCache`` bound entries by count only, so a few
    hundred distinct large documents could hold gigabytes.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and not context.parse_options:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = DOCUMENTS.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, query = context.graphql_document, context.query
        key = (context.schema._schema, tuple(context.validation_rules))
        if document is not None and query and DOCUMENTS.is_valid(query, document, key):
            context.pre_execution_errors = []
        yield
        if document is not None and query and context.pre_execution_errors == []:
            DOCUMENTS.admit(query, document, key)
