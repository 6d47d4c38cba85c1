"""Backends release their event loop's connections when the runner's loop ends."""

from __future__ import annotations

import asyncio

from privy.simulator.backends.base import aclose
from privy.simulator.backends.limit import LimitedBackend
from privy.simulator.backends.mock import MockBackend
from privy.simulator.backends.openai_compat import OpenAIBackend
from privy.simulator.backends.retry import RetryingBackend


class Closing(MockBackend):
    def __init__(self) -> None:
        super().__init__()
        self.closed = 0

    async def aclose(self) -> None:
        self.closed += 1


def test_aclose_reaches_the_backend_inside_its_wrappers() -> None:
    inner = Closing()
    asyncio.run(aclose(RetryingBackend(LimitedBackend(inner, 2))))
    assert inner.closed == 1
    asyncio.run(aclose(MockBackend()))  # a backend without aclose is fine


def test_openai_backend_closes_the_client_of_the_running_loop() -> None:
    b = OpenAIBackend(model="m", base_url="http://127.0.0.1:9/v1", api_key_env=None)

    async def go() -> tuple[bool, bool, int]:
        client = b._client()  # made for this loop; no request is sent
        before = client.is_closed()
        await aclose(b)
        return before, client.is_closed(), len(b._clients)

    assert asyncio.run(go()) == (False, True, 0)
