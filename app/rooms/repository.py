"""Presence in Redis: which sockets of which member are in a club room.

``samooh:presence:<club>`` set of online user ids; ``samooh:presence:<club>:<user>`` set of that
member's sids in the room. Sets expire a day after the last change (a crashed web process's
sockets do not linger for ever).
"""

from __future__ import annotations

from redis.asyncio import Redis

PREFIX = "samooh:presence:"
TTL = 86_400


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Presence:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, club_id: str, user_id: str, sid: str) -> bool:
        """Record ``sid`` in the room; True when the member just came online."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(f"{PREFIX}{club_id}:{user_id}", sid)
            pipe.expire(f"{PREFIX}{club_id}:{user_id}", TTL)
            pipe.sadd(f"{PREFIX}{club_id}", user_id)
            pipe.expire(f"{PREFIX}{club_id}", TTL)
            _, _, added, _ = await pipe.execute()
        return bool(added)

    async def remove(self, club_id: str, user_id: str, sid: str) -> bool:
        """Forget ``sid``; True when that was the member's last socket in the room."""
        key = f"{PREFIX}{club_id}:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(key, sid)
            pipe.scard(key)
            _, left = await pipe.execute()
        if left == 0:
            return bool(await self._redis.srem(f"{PREFIX}{club_id}", user_id))
        return False

    async def take_member(self, club_id: str, user_id: str) -> list[str]:
        """Forget every socket of the member in the room; return them."""
        key = f"{PREFIX}{club_id}:{user_id}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.smembers(key)
            pipe.delete(key)
            pipe.srem(f"{PREFIX}{club_id}", user_id)
            sids, _, _ = await pipe.execute()
        return sorted(_text(s) for s in sids)

    async def online(self, club_id: str) -> list[str]:
        return sorted(_text(u) for u in await self._redis.smembers(f"{PREFIX}{club_id}"))
