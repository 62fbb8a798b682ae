"""Which URLs may receive webhooks, and the signature receivers verify."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollout.errors import InvalidWebhookUrl
from rollout.webhooks import signing, urls

OWN = urls.OwnOrigins(hosts=["pilotgraph.ninhbinh.gov.vn"], listeners=[("0.0.0.0", 8000)])  # noqa: S104  (compared, not bound)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "A webhook URL is 1 to 2000 characters."),
        ("ftp://hooks.example.org/x", "A webhook URL must start with http:// or https://."),
        ("javascript:alert(1)", "A webhook URL must start with http:// or https://."),
        ("hooks.example.org/x", "A webhook URL must start with http:// or https://."),
        ("https:///x", "A webhook URL must name a host."),
        (
            "https://user:pw@hooks.example.org/",
            "Put no credentials in a webhook URL; the signature is its proof.",
        ),
        ("https://hooks.example.org:99999/", "Not a URL: Port out of range 0-65535."),
        (
            "https://pilotgraph.ninhbinh.gov.vn/graphql",
            "A webhook cannot point at this gateway itself.",
        ),
        (
            "https://kim-son.PILOTGRAPH.ninhbinh.gov.vn./x",
            "A webhook cannot point at this gateway itself.",
        ),
        ("http://127.0.0.1:8000/graphql", "A webhook cannot point at this gateway itself."),
        ("http://localhost:8000/", "A webhook cannot point at this gateway itself."),
        ("http://[::1]:8000/", "A webhook cannot point at this gateway itself."),
        ("https://x.example/" + "a" * 2000, "A webhook URL is 1 to 2000 characters."),
    ],
)
def test_bad_urls_are_refused_with_a_code_and_the_field(url, message):
    # when
    with pytest.raises(InvalidWebhookUrl) as refused:
        urls.check(url, OWN)
    # then
    assert (refused.value.code, refused.value.field, refused.value.message) == (
        "INVALID_WEBHOOK_URL",
        "url",
        message,
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.org/pilotgraph",
        "http://127.0.0.1:9000/hooks",  # another port of this machine: another service
        "https://notpilotgraph.ninhbinh.gov.vn/",
        "  https://hooks.example.org/x  ",
    ],
)
def test_http_and_https_urls_elsewhere_are_accepted(url):
    assert urls.check(url, OWN) == url.strip()


@given(st.text(max_size=80))
def test_anything_not_http_or_https_is_refused(text):
    # given: text that is not an http(s) URL
    if text.strip().lower().startswith(("http://", "https://")):
        return
    # when / then
    with pytest.raises(InvalidWebhookUrl):
        urls.check(text, OWN)


@given(body=st.binary(max_size=200), secret=st.text(min_size=1, max_size=40))
def test_a_signature_verifies_only_its_body_its_secret_and_a_recent_time(body, secret):
    # given
    at = 1_800_000_000
    signature = signing.sign(secret, at, body)
    # then
    ok = {"timestamp": str(at), "body": body, "signature": signature}
    assert signing.verify(secret, now=at + 299, **ok)
    assert not signing.verify(secret + "x", now=at, **ok)
    assert not signing.verify(secret, now=at + 301, **ok)  # outside the replay window
    assert not signing.verify(secret, now=at - 301, **ok)
    assert not signing.verify(secret, now=at, **{**ok, "body": body + b"."})
    assert not signing.verify(secret, now=at + 1, **{**ok, "timestamp": str(at + 1)})
    assert not signing.verify(secret, now=at, **{**ok, "timestamp": "-1"})
