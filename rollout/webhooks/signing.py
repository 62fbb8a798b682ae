"""How a webhook body is signed, and how a receiver verifies it (docs/OPERATIONS.md, "Webhooks").

The signature is HMAC-SHA256, keyed with the endpoint's secret, over ``"{timestamp}.{body}"``:
the Unix time in seconds the attempt was sent, a dot, and the raw body bytes. Signing the
timestamp with the body stops a captured request from being replayed with a fresh timestamp; a
receiver refuses a timestamp outside its replay window and drops an event id it has already
processed (deliveries are at least once).
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-PilotGraph-Signature"
TIMESTAMP_HEADER = "X-PilotGraph-Timestamp"
EVENT_HEADER = "X-PilotGraph-Event"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DELIVERY_HEADER = "X-PilotGraph-Delivery"
REPLAY_WINDOW_S = 300  # what the documentation asks receivers to accept
SCHEME = "v1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: ``v1=<hex HMAC-SHA256>``."""
    message = str(timestamp).encode() + b"." + body
    return f"{SCHEME}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float,
    window_s: int = REPLAY_WINDOW_S,
) -> bool:
    """True when ``signature`` signs ``body`` at ``timestamp`` and the time is within the window.

    What a receiver runs on every request (constant-time comparison); never raises.
    """
    if not timestamp.isdigit() or abs(now - int(timestamp)) > window_s:
        return False
    expected = sign(secret, int(timestamp), body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
