"""Fixtures of the campaigns tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import LiveStack
from tests.identity.conftest import Api


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    """An HTTP client of the live web server (its own client IP)."""
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


from tests.rooms.conftest import clients  # noqa: E402, F401  (the live-room socket clients)
