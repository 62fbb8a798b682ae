"""Routes of the pages: ``/`` and the assets under ``/assets``."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.pages.graphiql import GRAPHIQL_ASSETS, GraphiQLAssets
from gateway.pages.landing import landing_endpoint

STATIC = Path(__file__).resolve().parent / "static"


def page_routes(*, graphiql: bool) -> list[BaseRoute]:
    """``GET /``, GraphiQL's built files (only while GraphiQL is on) and the pages' own files."""
    served: list[BaseRoute] = [Route("/", landing_endpoint(graphiql=graphiql), methods=["GET"])]
    if graphiql:
        served.append(Mount(GRAPHIQL_ASSETS, GraphiQLAssets()))
    served.append(Mount("/assets", StaticFiles(directory=STATIC)))
    return served
