"""``GET /``: what this gateway is, and where to go from here.

A browser (``Accept`` naming ``text/html``) gets a small page in Vietnamese and English; any other
client gets the same links as coded JSON (``code: LANDING``), as every answer of the edge is coded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from importlib.metadata import version
from pathlib import Path
from string import Template
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

VERSION = version("pilotgraph")
# Nothing to run, nothing to send: the page only links and takes its styles from the gateway.
LANDING_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
DOCS = ("README.md", "docs/DEPLOY.md", "docs/EDGE.md", "docs/ERRORS.md", "docs/SECURITY.md")
SUMMARY = (
    "A multi-tenant GraphQL gateway that rolls a pilot application out across a province, "
    "district by district, deciding each step from measured adoption; its first pilot is the "
    "electronic party-member handbook."
)
_TEMPLATES = Path(__file__).parent / "templates"
_PAGE = Template((_TEMPLATES / "landing.html").read_text("utf-8"))
_GRAPHIQL_ON = (
    '<li><a href="/graphql">/graphql</a> — GraphiQL: thử truy vấn GraphQL trong trình duyệt · '
    '<span lang="en">try GraphQL queries in the browser</span></li>'
)
_GRAPHIQL_OFF = (
    "<li><code>POST /graphql</code> — điểm cuối GraphQL (GraphiQL đang tắt ở đây) · "
    '<span lang="en">the GraphQL endpoint (GraphiQL is turned off here)</span></li>'
)


def links(*, graphiql: bool) -> dict[str, str | None]:
    """Where a newcomer goes next; ``graphiql`` is ``None`` while GraphiQL is off."""
    return {
        "admin": "/admin/",
        "graphql": "/graphql",
        "graphiql": "/graphql" if graphiql else None,
        "healthz": "/healthz",
        "readyz": "/readyz",
    }


def _json(*, graphiql: bool) -> JSONResponse:
    body: dict[str, Any] = {
        "code": "LANDING",
        "name": "PilotGraph",
        "version": VERSION,
        "description": SUMMARY,
        "links": links(graphiql=graphiql),
        "docs": list(DOCS),
    }
    return JSONResponse(body, headers={"vary": "Accept"})


def _html(*, graphiql: bool) -> HTMLResponse:
    docs = ", ".join(f"<code>{escape(doc)}</code>" for doc in DOCS)
    page = _PAGE.substitute(
        version=escape(VERSION),
        graphql=_GRAPHIQL_ON if graphiql else _GRAPHIQL_OFF,
        docs=docs,
    )
    headers = {"content-security-policy": LANDING_CSP, "cache-control": "no-cache"}
    return HTMLResponse(page, headers=headers | {"vary": "Accept"})


def landing_endpoint(*, graphiql: bool) -> Callable[[Request], Awaitable[Response]]:
    """``GET /``: the page for browsers, its links as JSON for anyone else."""

    async def landing(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return _html(graphiql=graphiql)
        return _json(graphiql=graphiql)

    return landing
