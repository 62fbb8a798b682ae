"""GraphiQL on ``GET /graphql`` (``Accept: text/html``), served whole by the gateway.

The React and GraphiQL bundles are copied from npm into the console's build
(``console/build.mjs`` → ``graphiql/``), like Chart.js; the page and its start script are ours.
No CDN: a provincial network without internet access still gets a working GraphiQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from gateway.console.routes import DIST
from gateway.responses import error_response

GRAPHIQL_DIST = DIST / "graphiql"
GRAPHIQL_ASSETS = "/assets/graphiql"
# Scripts and styles from the gateway only, no inline script; GraphiQL's fonts are data: URLs.
GRAPHIQL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)
NOT_BUILT = (
    "GraphiQL's files are not built: run `npm ci --prefix console && npm run build --prefix "
    "console` (make run does it)."
)
# The handbook app's member home, as its trusted document (clients/trusted-documents) has it,
# so it runs where only trusted documents are accepted too.
EXAMPLE_QUERY = (
    "query Home {\n"
    "  me { fullName position branch { name } }\n"
    "  meetings(when: UPCOMING, first: 5) { id title startsAt place }\n"
    "  notices(first: 5) { id title kind publishedAt }\n"
    "}\n"
)
HEADERS_TEMPLATE = '{"Authorization": "Bearer <token>"}'
_PAGE = Template((Path(__file__).parent / "templates" / "graphiql.html").read_text("utf-8"))


def _config_json() -> str:
    """The start script's settings, safe inside a ``<script type="application/json">``."""
    config = {"query": EXAMPLE_QUERY, "headers": HEADERS_TEMPLATE}
    return json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page, with its own CSP (the edge leaves HTML pages' CSP to them)."""
    return HTMLResponse(
        _PAGE.substitute(config=_config_json(), assets=GRAPHIQL_ASSETS),
        headers={"content-security-policy": GRAPHIQL_CSP, "cache-control": "no-cache"},
    )


class GraphiQLAssets(StaticFiles):
    """GraphiQL's built files; before a build, a coded 503 rather than a RuntimeError."""

    def __init__(self) -> None:
        super().__init__(directory=GRAPHIQL_DIST, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.check_config()  # raises RuntimeError while the folder does not exist
        except RuntimeError:
            await error_response(503, "GRAPHIQL_NOT_BUILT", NOT_BUILT)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
