"""Rate limits backed by Redis through the ``limits`` library (moving window), shared by every
process: ``await rate_limiter().hit("login", settings.rate_limit_login, client_ip)``.

A limit string is ``N/period[;N/period…]`` (``10/minute;100/hour``); every part must have room.
An exhausted limit raises ``RateLimited`` (429 with ``Retry-After``). The storage is built on
first use inside the running loop, on the process's own Redis connection pool.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app.errors import RateLimited
from app.extensions import services

KEY_PREFIX = "samooh:rl"


@lru_cache(maxsize=64)
def _parse(limit: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(limit))


class RateLimiter:
    """Named, keyed rate limits over one ``limits`` moving-window limiter."""

    def __init__(self, limiter: MovingWindowRateLimiter) -> None:
        self._limiter = limiter

    async def hit(self, name: str, limit: str, *key: str) -> None:
        """Count one request of ``name`` for ``key``; raise ``RateLimited`` if over ``limit``.

        Nothing is counted when any part of the limit is already exhausted, so a client that
        waits ``Retry-After`` seconds is let through.
        """
        await self.check(name, limit, *key)
        await self.count(name, limit, *key)

    async def check(self, name: str, limit: str, *key: str) -> None:
        """Raise ``RateLimited`` if ``limit`` is exhausted for ``key``, counting nothing (pair it
        with ``count`` to limit only failures)."""
        for item in _parse(limit):
            if not await self._limiter.test(item, name, *key):
                raise RateLimited(
                    f"too many {name.replace('_', ' ')} attempts; retry later",
                    retry_after=await self._retry_after(item, name, *key),
                    details={"limit": str(item), "scope": name},
                )

    async def count(self, name: str, limit: str, *key: str) -> None:
        """Count one event of ``name`` for ``key`` without checking (see ``check``)."""
        for item in _parse(limit):
            await self._limiter.hit(item, name, *key)

    async def test(self, name: str, limit: str, *key: str) -> bool:
        """True when one more request of ``name`` for ``key`` would be allowed (counts nothing)."""
        for item in _parse(limit):
            if not await self._limiter.test(item, name, *key):
                return False
        return True

    async def clear(self, name: str, limit: str, *key: str) -> None:
        """Forget the requests counted for ``key`` (tests, admin tools)."""
        for item in _parse(limit):
            await self._limiter.clear(item, name, *key)

    async def _retry_after(self, item: RateLimitItem, *identifiers: str) -> int:
        stats = await self._limiter.get_window_stats(item, *identifiers)
        return max(1, math.ceil(stats.reset_time - time.time()))


_current: tuple[object, RateLimiter] | None = None


def rate_limiter() -> RateLimiter:
    """The process's limiter, built on first use on the connected Redis client's pool (and
    rebuilt if the process reconnected)."""
    global _current
    pool = services.require_redis().connection_pool
    if _current is None or _current[0] is not pool:
        options: dict[str, Any] = {"connection_pool": pool}
        storage = RedisStorage(
            "async+redis://", implementation="redispy", key_prefix=KEY_PREFIX, **options
        )
        _current = (pool, RateLimiter(MovingWindowRateLimiter(storage)))
    return _current[1]
