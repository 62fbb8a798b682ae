"""The private metrics listener: ``GET /metrics`` of every worker, on a port of its own.

The public port has no ``/metrics``: the figures name every tenant and operation. ``pilotgraph
serve`` calls :func:`metrics_listener` before uvicorn starts its workers. It points
``PROMETHEUS_MULTIPROC_DIR`` at a fresh directory, which the workers inherit and write their
values to, and serves the sum over that directory from a thread of the main process. A counter
is then one series per pod whichever worker answered, and it keeps the counts of a worker that
died and was replaced, so it never goes down between two scrapes.

prometheus-client picks in-process or file-backed values when it is first imported: this module
imports it only after the directory is set, and refuses to start when it was imported before.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from gateway.observability.workers import MULTIPROC_ENV, forget_dead_workers

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

PATH = "/metrics"
NOT_FOUND = json.dumps(
    {"errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]}
).encode()
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ListenerError(RuntimeError):
    """The metrics listener cannot start (port taken, address unknown)."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not access-logged."""


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads: every worker's files, or this process's own registry."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        from gateway.observability.metrics import REGISTRY

        return REGISTRY
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry


def metrics_app() -> WSGIApp:
    """The listener's WSGI app: ``/metrics`` in the Prometheus formats, 404 JSON elsewhere."""
    from prometheus_client import make_wsgi_app

    exposition = make_wsgi_app(scrape_registry())

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [NOT_FOUND]
        directory = os.environ.get(MULTIPROC_ENV)
        if directory:
            forget_dead_workers(directory)
        body: Iterable[bytes] = exposition(environ, start_response)
        return body

    return app


def _serve(host: str, port: int) -> WSGIServer:
    server_class = _Server6 if ":" in host else _Server
    try:
        server = make_server(host, port, metrics_app(), server_class, _QuietHandler)
    except OSError as exc:
        raise ListenerError(f"cannot serve metrics on {host}:{port}: {exc}") from exc
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


@contextlib.contextmanager
def metrics_listener(host: str, port: int) -> Iterator[None]:
    """Serve the workers' metrics on ``host:port`` while the block runs; port 0 serves nothing."""
    if port == 0:
        yield
        return
    if "prometheus_client" in sys.modules:
        raise ListenerError(f"prometheus_client was imported before {MULTIPROC_ENV} was set")
    directory = tempfile.mkdtemp(prefix="pilotgraph-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
        cleanup.callback(os.environ.pop, MULTIPROC_ENV, None)
        server = _serve(host, port)
        cleanup.callback(server.server_close)
        cleanup.callback(server.shutdown)
        with _cleaning_up_on_sigterm(cleanup):
            yield


@contextlib.contextmanager
def _cleaning_up_on_sigterm(cleanup: contextlib.ExitStack) -> Iterator[None]:
    """Run ``cleanup`` before a SIGTERM ends the process, then let the signal end it.

    With one worker uvicorn serves in this process: once shut down it restores this handler and
    raises the signal again, so that the exit status says SIGTERM, and no ``finally`` would run.
    """

    def handler(signum: int, _frame: object) -> None:
        cleanup.close()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
