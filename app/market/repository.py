"""Every query of the market domain: MongoDB (instruments) and Redis (latest quotes)."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from redis.asyncio import Redis

from app.market.documents import Instrument
from app.market.schemas import QuoteTick

LATEST_KEY = "quote:latest:{symbol}"

# Replace the cached quote only if the incoming one is newer (higher seq): re-delivered or
# out-of-order ticks never move a quote backwards. Returns 1 when stored.
_STORE_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'seq')
if current and tonumber(current) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'quote', ARGV[2])
return 1
"""


class QuoteCache:
    """The latest quote per symbol in Redis: hash ``quote:latest:<SYMBOL>`` {seq, quote JSON}."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._store = redis.register_script(_STORE_IF_NEWER)

    async def store_if_newer(self, quote: QuoteTick, seq: int) -> bool:
        """Cache ``quote`` unless a quote with ``seq`` or higher is already there."""
        stored = await self._store(
            keys=[LATEST_KEY.format(symbol=quote.symbol)], args=[seq, quote.model_dump_json()]
        )
        return bool(stored)

    async def latest(self, symbols: list[str]) -> list[QuoteTick]:
        """The cached quotes of ``symbols`` that have one, in the order asked."""
        if not symbols:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for symbol in symbols:
                pipe.hget(LATEST_KEY.format(symbol=symbol), "quote")
            raw = await pipe.execute()
        return [QuoteTick.model_validate_json(item) for item in raw if item]


async def list_instruments() -> list[Instrument]:
    """All instruments, by symbol."""
    return await Instrument.find_all().sort("+symbol").to_list()


async def known_symbols(symbols: list[str]) -> set[str]:
    """The subset of ``symbols`` that exist in the catalogue."""
    found = await Instrument.find({"symbol": {"$in": symbols}}).to_list()
    return {item.symbol for item in found}


async def upsert_instruments(rows: list[dict[str, Any]]) -> int:
    """Insert or update instruments keyed by symbol; return how many were inserted or changed."""
    if not rows:
        return 0
    result = await Instrument.get_pymongo_collection().bulk_write(
        [UpdateOne({"symbol": row["symbol"]}, {"$set": row}, upsert=True) for row in rows],
        ordered=False,
    )
    return result.upserted_count + result.modified_count
