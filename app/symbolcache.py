"""A per-symbol in-memory copy of stored state that the worker's tick agents read on every tick
(the active price alerts of a symbol, the paper broker's open orders of a symbol), so a tick
costs no database read.

Freshness: whoever changes the stored state (a new alert, a cancelled one, an order entering or
leaving the paper book) writes a new *version token* for the symbol in Redis after the change
is stored (the domain's repository does both). Each tick reads the token (one Redis GET) before
using the copy: a different token, or a copy older than ``max_age`` seconds (a backstop for a
token lost with Redis), loads the symbol again. A change is therefore seen by the first tick
read after its token was written. When Redis cannot be read the copy is loaded on every tick
(the database answers, as it did before this cache). Changes made by the tick agents
themselves are applied to the copy by them, and their stored writes are guarded on the state
they read, so a copy gone stale (another worker had the partition) shows as a failed guard:
the agent then ``forget``s the symbol.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from redis.exceptions import RedisError

from app.logging import get_logger

V = TypeVar("V")
log = get_logger(__name__)


@dataclass(slots=True)
class _Entry(Generic[V]):
    token: object
    loaded_at: float
    value: V


_UNKNOWN = object()  # the token when Redis could not be read: equal to nothing read later


class SymbolCache(Generic[V]):
    """``load(symbol)`` kept per symbol while its Redis token (``versions(symbols)``: one read
    for many symbols, ``None`` for a token never written) is unchanged and the copy is younger
    than ``max_age`` seconds."""

    def __init__(self, load: Callable[[str], Awaitable[V]],
                 versions: Callable[[list[str]], Awaitable[list[object]]],
                 max_age: float) -> None:  # fmt: skip
        self._load = load
        self._versions = versions
        self._max_age = max_age
        self._entries: dict[str, _Entry[V]] = {}
        self.loads = 0  # how many times the database was asked (tests and benches read it)

    async def get(self, symbol: str) -> V:
        """The symbol's copy, loaded again when its token changed or it is too old. Raises
        what ``load`` raises (the database is unreachable)."""
        return (await self.get_many([symbol]))[symbol]

    async def get_many(self, symbols: list[str]) -> dict[str, V]:
        """``get`` for several symbols with one read of their tokens."""
        try:
            tokens = await self._versions(symbols)
        except (RedisError, OSError) as exc:
            log.warning("version tokens unreadable, loading from the database", error=str(exc))
            tokens = [_UNKNOWN] * len(symbols)
        out: dict[str, V] = {}
        for symbol, token in zip(symbols, tokens, strict=True):
            entry = self._entries.get(symbol)
            now = time.monotonic()
            if (entry is None or token is _UNKNOWN or entry.token != token
                    or now - entry.loaded_at > self._max_age):  # fmt: skip
                self.loads += 1
                entry = self._entries[symbol] = _Entry(token, now, await self._load(symbol))
            out[symbol] = entry.value
        return out

    def held(self, symbol: str) -> V | None:
        """The symbol's copy as held now, without a look at its token (``None``: not held,
        or forgotten since)."""
        entry = self._entries.get(symbol)
        return None if entry is None else entry.value

    def forget(self, symbol: str) -> None:
        """Drop the symbol's copy: the next ``get`` loads it again."""
        self._entries.pop(symbol, None)
