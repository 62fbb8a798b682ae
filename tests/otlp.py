"""A local OTLP/HTTP trace receiver: what a collector on ``:4318`` would get from the gateway.

A small starlette app on a free port of 127.0.0.1 takes protobuf ``POST /v1/traces`` (the only
encoding the gateway's exporter sends) and keeps every span, decoded with ``opentelemetry.proto``::

    with OtlpReceiver() as receiver:
        ... run the gateway with PILOTGRAPH_OTLP_ENDPOINT=receiver.base_url ...
        spans = receiver.wait_for(lambda s: any(x.name == "query Home" for x in s))

Any other path answers 404 and is remembered in ``wrong_paths`` (an exporter posting to ``/``
shows up there, not as a silent loss).
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, ids as lowercase hex as in ``traceparent``."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    resource: dict[str, Any]


@dataclass
class OtlpReceiver:
    """Serves ``/v1/traces`` on a free port while used as a context manager."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    wrong_paths: list[str] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The collector's base URL, as ``PILOTGRAPH_OTLP_ENDPOINT`` is meant to be given."""
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> list[ReceivedSpan]:
        """A copy of the spans received so far."""
        with self._lock:
            return list(self.spans)

    def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], timeout_s: float = 15.0
    ) -> list[ReceivedSpan]:
        """Poll until ``done(spans)`` holds; raise ``AssertionError`` naming what came instead."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            spans = self.received()
            if done(spans):
                return spans
            time.sleep(0.05)
        names = sorted({span.name for span in self.received()})
        raise AssertionError(f"spans received: {names}; wrong paths: {self.wrong_paths}")

    def __enter__(self) -> OtlpReceiver:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the OTLP receiver did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        assert self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def _app(self) -> Starlette:
        async def traces(request: Request) -> Response:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            if request.headers.get("content-type") != PROTOBUF:
                return Response(status_code=415)
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            with self._lock:
                self.spans.extend(_spans(message))
            reply = ExportTraceServiceResponse().SerializeToString()
            return Response(reply, media_type=PROTOBUF)

        async def elsewhere(request: Request) -> Response:
            self.wrong_paths.append(request.url.path)
            return Response(status_code=404)

        return Starlette(
            routes=[
                Route("/v1/traces", traces, methods=["POST"]),
                Route("/{path:path}", elsewhere, methods=["GET", "POST"]),
            ]
        )


def _spans(message: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    spans = []
    for resource_spans in message.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=span.kind,
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        resource=resource,
                    )
                )
    return spans


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, which)
