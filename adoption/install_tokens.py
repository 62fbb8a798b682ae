"""Install tokens: the gateway's signed word that it saw a device ask for one on a tenant.

Pure functions: no database, no clock of their own. A token reads ``pgi1.<issued>.<mac>``:
``issued`` is the issue time in Unix seconds and ``mac`` the unpadded base64url HMAC-SHA256,
under the server's key, of the version, tenant, issue time and device id. Tenant and device are
not in the token: the verifier takes them from the request and the event, so a token copied to
another tenant or device no longer matches. A token lasts ``InstallTokenKey.ttl`` after issue.

What a token proves: this gateway answered ``POST /v1/install-tokens`` for this device id on
this tenant. What it does not prove: that the device is a real phone or a member's. Anyone can
still mint tokens at the issuing endpoint's rate limit; that limit is what bounds inflation.
:func:`check` never raises.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from enum import StrEnum

VERSION = "pgi1"
DEFAULT_TTL = dt.timedelta(days=7)
# Replicas' clocks may disagree a little: a token issued "in the future" by this much is fine.
CLOCK_SKEW = dt.timedelta(seconds=60)
_SHAPE = re.compile(rf"{VERSION}\.([0-9]{{1,10}})\.([A-Za-z0-9_-]{{43}})", re.ASCII).fullmatch


@dataclass(frozen=True, slots=True)
class InstallTokenKey:
    """The HMAC key (never shown in ``repr``) and how long a token lasts after issue."""

    secret: bytes = field(repr=False)
    ttl: dt.timedelta = DEFAULT_TTL


class TokenCheck(StrEnum):
    VALID = "valid"
    MALFORMED = "malformed"  # not shaped like a token this gateway issues
    FORGED = "forged"  # well-formed, but not signed for this tenant and device
    EXPIRED = "expired"  # signed for them, but older than the key's ttl


def issue(*, key: InstallTokenKey, tenant_id: str, device_id: str, now: dt.datetime) -> str:
    """A token for ``device_id`` on ``tenant_id``, issued at ``now``."""
    issued = str(int(now.timestamp()))
    return f"{VERSION}.{issued}.{_mac(key, tenant_id, issued, device_id)}"


def expires_at(*, key: InstallTokenKey, now: dt.datetime) -> dt.datetime:
    """When a token issued at ``now`` stops being accepted."""
    return dt.datetime.fromtimestamp(int(now.timestamp()), dt.UTC) + key.ttl


def check(
    token: str, *, key: InstallTokenKey, tenant_id: str, device_id: str, now: dt.datetime
) -> TokenCheck:
    """Whether ``token`` was issued by this key for ``device_id`` on ``tenant_id``, and is fresh."""
    shape = _SHAPE(token)
    if shape is None:
        return TokenCheck.MALFORMED
    issued, mac = shape.groups()
    if not hmac.compare_digest(mac, _mac(key, tenant_id, issued, device_id)):
        return TokenCheck.FORGED
    age = now - dt.datetime.fromtimestamp(int(issued), dt.UTC)
    if age < -CLOCK_SKEW:
        return TokenCheck.FORGED  # the key signed it, but no replica issues tokens from the future
    return TokenCheck.EXPIRED if age > key.ttl else TokenCheck.VALID


def _mac(key: InstallTokenKey, tenant_id: str, issued: str, device_id: str) -> str:
    # The device id comes last: it is the one field that may hold any character.
    message = f"{VERSION}\n{tenant_id}\n{issued}\n{device_id}".encode("utf-8", "surrogatepass")
    digest = hmac.digest(key.secret, message, hashlib.sha256)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
