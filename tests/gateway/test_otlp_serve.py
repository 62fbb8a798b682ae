"""``pilotgraph serve`` exports its spans over OTLP/HTTP to the collector's base URL.

A local receiver (``tests/otlp.py``) stands in for the collector; the gateway is given only its
base URL, as an operator would write it, and must post to ``/v1/traces`` there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from gateway import migrate
from tests.gateway.test_metrics_serve import free_port, stop, wait_until_ready
from tests.otlp import OtlpReceiver, ReceivedSpan

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"
ANONYMOUS = "query Anonymous { __typename }"


def _serve(tmp_path: Path, endpoint: str) -> tuple[subprocess.Popen[bytes], str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'pilotgraph.db'}"
    migrate.upgrade(url, "head")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTGRAPH_", "OTEL_"))}
    env |= {
        "PILOTGRAPH_DATABASE_URL": url,
        "PILOTGRAPH_METRICS_PORT": "0",
        "PILOTGRAPH_LOG_LEVEL": "warning",
        "PILOTGRAPH_OTLP_ENDPOINT": endpoint,
        "PILOTGRAPH_SERVICE_NAME": "pilotgraph-otlp-test",
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # export within a tenth of a second, not five
    }
    pilotgraph = str(Path(sys.executable).parent / "pilotgraph")
    command = [pilotgraph, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).parents[2])
    return process, f"http://127.0.0.1:{port}"


def _operation_of(spans: list[ReceivedSpan]) -> ReceivedSpan | None:
    return next((span for span in spans if span.name == "query Anonymous"), None)


def test_serve_exports_to_the_collectors_base_url(tmp_path):
    with OtlpReceiver() as receiver:
        # given
        process, public = _serve(tmp_path, receiver.base_url)
        try:
            wait_until_ready(process, f"{public}/readyz")
            # when
            answer = httpx.post(
                f"{public}/graphql",
                json={"query": ANONYMOUS},
                headers={"traceparent": TRACEPARENT},
                timeout=5,
            )
            spans = receiver.wait_for(lambda got: _operation_of(got) is not None)
        finally:
            stop(process)
    # then
    assert answer.status_code == 200
    operation = _operation_of(spans)
    assert operation is not None
    [server] = [s for s in spans if s.span_id == operation.parent_span_id]
    assert server.name == "POST /graphql"
    assert (server.trace_id, operation.trace_id) == (TRACE_ID, TRACE_ID)
    assert server.parent_span_id == "b7ad6b7169203331"
    assert operation.resource["service.name"] == "pilotgraph-otlp-test"
    assert receiver.wrong_paths == []
