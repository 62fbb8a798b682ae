"""The gateway's own HTML pages: the landing page at ``/`` and GraphiQL at ``GET /graphql``.

Both load only what the gateway serves (``/assets/*``): nothing comes from the internet, so they
work on a network with no way out.
"""

from gateway.pages.graphiql import GRAPHIQL_CSP, graphiql_page
from gateway.pages.routes import page_routes

__all__ = ["GRAPHIQL_CSP", "graphiql_page", "page_routes"]
