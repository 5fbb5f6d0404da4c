"""Every query of the market domain: MongoDB (instruments) and Redis (latest quotes)."""

from __future__ import annotations

from typing import Any

from pymongo import UpdateOne
from redis.asyncio import Redis

from app.config import get_settings
from app.market.documents import CandleYear, Instrument
from app.market.schemas import QuoteTick


def _key(template: str, **parts: str) -> str:
    """A market Redis key under the deployment's ``redis_prefix`` (one Redis may serve several
    environments, or test sessions)."""
    return f"{get_settings().redis_prefix}:" + template.format(**parts)


LATEST_KEY = "quote:latest:{symbol}"

# Replace each cached quote only if the incoming one is newer (higher seq): re-delivered or
# out-of-order ticks never move a quote backwards. KEYS are (latest, watchers) pairs and ARGV
# (seq, quote JSON) pairs, one per tick, applied in order (two ticks of one symbol in a call
# are compared with each other as if sent one after the other). Answers one entry per tick: 0
# when not stored, else the symbol's watcher set as it is at that moment — one round trip for
# a batch of ticks, and a club added to a set before its quote was stored is in the answer.
_STORE_IF_NEWER = """
local out = {}
for i = 1, #KEYS / 2 do
  local current = redis.call('HGET', KEYS[2 * i - 1], 'seq')
  if current and tonumber(current) >= tonumber(ARGV[2 * i - 1]) then
    out[i] = 0
  else
    redis.call('HSET', KEYS[2 * i - 1], 'seq', ARGV[2 * i - 1], 'quote', ARGV[2 * i])
    out[i] = redis.call('SMEMBERS', KEYS[2 * i])
  end
end
return out
"""


def _members(raw: list[bytes | str]) -> list[str]:
    return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in raw)


class QuoteCache:
    """The latest quote per symbol in Redis: hash ``<prefix>:quote:latest:<SYMBOL>`` {seq,
    quote JSON}."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._store = redis.register_script(_STORE_IF_NEWER)

    async def store_if_newer(self, quote: QuoteTick, seq: int) -> list[str] | None:
        """Cache ``quote`` unless a quote with ``seq`` or higher is already there. Returns
        None when it was not stored, else the ids of the clubs watching or holding the symbol
        (read in the same step, sorted)."""
        return (await self.store_many_if_newer([(quote, seq)]))[0]

    async def store_many_if_newer(
        self, quotes: list[tuple[QuoteTick, int]]
    ) -> list[list[str] | None]:
        """``store_if_newer`` for each ``(quote, seq)`` in order, in one Redis step (one
        script call): one answer per quote, in the same order."""
        if not quotes:
            return []
        keys: list[str] = []
        args: list[str | int] = []
        for quote, seq in quotes:
            keys += [_key(LATEST_KEY, symbol=quote.symbol), _key(WATCHERS_KEY, symbol=quote.symbol)]
            args += [seq, quote.model_dump_json()]
        answers = await self._store(keys=keys, args=args)
        return [_members(a) if isinstance(a, list) else None for a in answers]

    async def latest(self, symbols: list[str]) -> list[QuoteTick]:
        """The cached quotes of ``symbols`` that have one, in the order asked."""
        if not symbols:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for symbol in symbols:
                pipe.hget(_key(LATEST_KEY, symbol=symbol), "quote")
            raw = await pipe.execute()
        return [QuoteTick.model_validate_json(item) for item in raw if item]


WATCHERS_KEY = "market:watchers:{symbol}"
CLUB_SYMBOLS_KEY = "market:club-symbols:{club_id}"


async def set_club_symbols(redis: Redis, club_id: str, symbols: set[str]) -> None:
    """Replace the club's symbol set and keep the per-symbol watcher sets in step."""
    key = _key(CLUB_SYMBOLS_KEY, club_id=club_id)
    current = {m.decode() if isinstance(m, bytes) else str(m) for m in await redis.smembers(key)}
    async with redis.pipeline(transaction=True) as pipe:
        for symbol in current - symbols:
            pipe.srem(_key(WATCHERS_KEY, symbol=symbol), club_id)
            pipe.srem(key, symbol)
        for symbol in symbols - current:
            pipe.sadd(_key(WATCHERS_KEY, symbol=symbol), club_id)
            pipe.sadd(key, symbol)
        await pipe.execute()


CLUB_SOURCE_KEY = "market:club-symbols:{club_id}:{source}"


async def set_club_source_symbols(
    redis: Redis, club_id: str, source: str, symbols: set[str]
) -> None:
    """Replace one source (``watchlist`` or ``holdings``) of the club's symbols, then make the
    club's watched set the union of every source."""
    await redis.delete(_key(CLUB_SOURCE_KEY, club_id=club_id, source=source))
    if symbols:
        await redis.sadd(_key(CLUB_SOURCE_KEY, club_id=club_id, source=source), *sorted(symbols))
    union: set[str] = set()
    for each in ("watchlist", "holdings"):
        members = await redis.smembers(_key(CLUB_SOURCE_KEY, club_id=club_id, source=each))
        union |= {m.decode() if isinstance(m, bytes) else str(m) for m in members}
    await set_club_symbols(redis, club_id, union)


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


async def candle_years(symbol: str, first_year: int, last_year: int) -> list[CandleYear]:
    """The yearly candle buckets of ``symbol`` from ``first_year`` to ``last_year``, in order."""
    return (
        await CandleYear.find({"symbol": symbol, "year": {"$gte": first_year, "$lte": last_year}})
        .sort("+year")
        .to_list()
    )


async def upsert_candle_years(rows: list[dict[str, Any]]) -> int:
    """Replace each (symbol, year) bucket; return how many were inserted or changed."""
    if not rows:
        return 0
    result = await CandleYear.get_pymongo_collection().bulk_write(
        [UpdateOne({"symbol": r["symbol"], "year": r["year"]}, {"$set": r}, upsert=True)
         for r in rows],
        ordered=False,
    )  # fmt: skip
    return result.upserted_count + result.modified_count


async def index_instruments() -> list[Instrument]:
    """The instruments that are indices."""
    return await Instrument.find({"is_index": True}).sort("+symbol").to_list()
