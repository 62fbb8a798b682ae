"""All probes for an app: every endpoint × every method and every bad body, plus the GraphQL ones.

Deterministic: the same app and schema give the same probes, in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

from starlette.routing import BaseRoute

from tests.faults.badinput import graphql, payloads
from tests.faults.badinput.bodies import BODIES, HEADERS, JSON, TOKENS
from tests.faults.badinput.checks import Probe
from tests.faults.badinput.routes import METHODS, TENANT_PREFIXES, Endpoint, endpoints

CSV_PARAMETERS = ("from", "to", "granularity", "tenant")
WELL_FORMED = json.dumps({"query": "{ __typename }"}).encode()

Headers = tuple[tuple[str, str], ...]


def probes(routes: Sequence[BaseRoute], principals: Mapping[str, str | None]) -> list[Probe]:
    """Every probe, for every principal (name → ``Authorization`` value, None: anonymous)."""
    found: list[Probe] = []
    every = endpoints(routes)
    for name, authorization in principals.items():
        auth: Headers = (("authorization", authorization),) if authorization else ()
        found += _methods(every, auth)
        found += _bodies(every, auth)
        found += _shaped(every, auth)
        if name != "anonymous":
            found += _graphql(auth, prefix="/t/yen-mo" if name == "province" else "")
    found += _tokens_and_headers(every)
    return found


def _methods(every: list[Endpoint], auth: Headers) -> Iterator[Probe]:
    for endpoint in every:
        for path in endpoint.paths():
            for prefix in TENANT_PREFIXES:
                for method in METHODS:
                    yield Probe(f"method-{method.lower()}", method, prefix + path, auth)


def _bodies(every: list[Endpoint], auth: Headers) -> Iterator[Probe]:
    for endpoint in every:
        methods = ("POST", "PUT") if endpoint.takes_json else ("POST",)
        for kind, content_type, body in BODIES:
            headers = auth + ((("content-type", content_type),) if content_type else ())
            for method in methods:
                yield Probe(kind, method, "/t/yen-mo" + endpoint.path(), headers, body)


def _shaped(every: list[Endpoint], auth: Headers) -> Iterator[Probe]:
    json_headers = (*auth, ("content-type", JSON))
    for endpoint in every:
        path = endpoint.path()
        for kind, body in payloads.json_bodies(path):
            yield Probe(kind, "POST", "/t/yen-mo" + path, json_headers, body)
        if path.endswith(".csv"):
            for kind, query in payloads.query_strings(CSV_PARAMETERS):
                yield Probe(f"csv-{kind}", "GET", f"{path}?{query}", auth)
        if path == "/graphql":
            for kind, query in payloads.GRAPHQL_GET:
                headers = (*auth, ("graphql-require-preflight", "1"))
                yield Probe(kind, "GET", f"{path}?{query}", headers)


def _graphql(auth: Headers, prefix: str) -> Iterator[Probe]:
    headers = (*auth, ("content-type", JSON))
    path = prefix + "/graphql"
    for operation in graphql.operations():
        for kind, variables in graphql.variants(operation):
            body = payloads.escaped({"query": operation.text, "variables": variables})
            yield Probe(kind, "POST", path, headers, body)
    for kind, query in graphql.DOCUMENTS:
        yield Probe(kind, "POST", path, headers, payloads.escaped({"query": query}))
    batch = [{"query": "{ __typename }"}, 1, None, {"query": 5}, {"variables": []}]
    yield Probe("batch-garbage-members", "POST", path, headers, payloads.escaped(batch))


def _tokens_and_headers(every: list[Endpoint]) -> Iterator[Probe]:
    for endpoint in every:
        path = "/t/yen-mo" + endpoint.path()
        method = "POST" if endpoint.takes_json else "GET"
        content = WELL_FORMED if method == "POST" else None
        base: Headers = (("content-type", JSON),) if method == "POST" else ()
        for kind, authorization in TOKENS:
            yield Probe(kind, method, path, (*base, ("authorization", authorization)), content)
        for kind, extra in HEADERS:
            yield Probe(kind, method, path, base + extra, content)
