"""Fixtures of the race tests: an HTTP client of the live web server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import LiveStack
from tests.identity.conftest import Api


@pytest.fixture
async def http(live_stack: LiveStack) -> AsyncIterator[Api]:
    """An ``Api`` of ``live_stack`` (its own client address), closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield Api(live_stack.url, session)
