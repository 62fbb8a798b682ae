"""The issuer's configuration is read once per gateway process; a failure is retried, boundedly."""

from __future__ import annotations

import asyncio

import pytest

from gateway.console.discovery import Discovery, DiscoveryFailed
from tests.console.conftest import _free_port
from tests.console.fake_idp import running_issuer


async def test_the_configuration_is_read_once():
    with running_issuer(_free_port()) as issuer:
        # given
        discovery = Discovery(issuer.base)
        # when: many sign-ins, some at once
        answers = await asyncio.gather(*(discovery.endpoints() for _ in range(5)))
        again = await discovery.endpoints()
        # then
        assert (
            again
            == answers[0]
            == {
                "authorization_endpoint": f"{issuer.base}/authorize",
                "token_endpoint": f"{issuer.base}/token",
            }
        )
        assert (issuer.stats["discovery"], discovery.fetches) == (1, 1)


async def test_an_issuer_that_does_not_answer_is_asked_again_only_after_the_delay():
    # given: nothing listens on the port
    discovery = Discovery(f"http://127.0.0.1:{_free_port()}", retry_after_s=0.5)
    with pytest.raises(DiscoveryFailed):
        await discovery.endpoints()
    # when: asked again at once, then after the delay
    with pytest.raises(DiscoveryFailed, match="did not answer a moment ago"):
        await discovery.endpoints()
    fetches_within_delay = discovery.fetches
    await asyncio.sleep(0.6)
    with pytest.raises(DiscoveryFailed):
        await discovery.endpoints()
    # then
    assert (fetches_within_delay, discovery.fetches) == (1, 2)
