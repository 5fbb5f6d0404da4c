"""Every MongoDB query of the alerts domain (price alerts and their firings)."""

from __future__ import annotations

import secrets

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis

from app.alerts.documents import AlertFiring, PriceAlert
from app.config import get_settings
from app.db import object_id

Session = AsyncClientSession | None
VERSION_TTL_SECONDS = 86_400  # a lost token only costs one load (app/symbolcache.py)


def _version_key(symbol: str) -> str:
    return f"{get_settings().redis_prefix}:alerts:version:{symbol}"


async def alerts_versions(redis: Redis, symbols: list[str]) -> list[object]:
    """The alerts version token of each of ``symbols`` (``None`` when never written), in
    one read. Raises ``RedisError``."""
    return list(await redis.mget([_version_key(s) for s in symbols]))


async def touch_alerts_version(redis: Redis, symbol: str) -> None:
    """Write a new version token for ``symbol``'s alerts: call it after a stored change of one
    of them, so the alert engines load the symbol again at their next tick."""
    await redis.set(_version_key(symbol), secrets.token_hex(8), ex=VERSION_TTL_SECONDS)


async def insert_alert(alert: PriceAlert) -> PriceAlert:
    await alert.insert()
    return alert


async def club_alerts(club_id: str) -> list[PriceAlert]:
    """The club's alerts, newest first."""
    return await PriceAlert.find({"club_id": club_id}).sort("-created_at").to_list()


async def get_alert(alert_id: str) -> PriceAlert | None:
    oid = object_id(alert_id)
    return None if oid is None else await PriceAlert.get(oid)


async def cancel_alert(alert: PriceAlert) -> None:
    await PriceAlert.get_pymongo_collection().update_one(
        {"_id": alert.id}, {"$set": {"active": False, "cancelled": True}}
    )


async def active_alerts(symbol: str) -> list[PriceAlert]:
    """Every active alert on ``symbol``."""
    return await PriceAlert.find({"symbol": symbol, "active": True}).to_list()


async def move_alert(
    alert: PriceAlert, changes: dict[str, object], session: Session, *, fired: bool
) -> bool:
    """Move the alert's rule state if it is still where the caller saw it (same ``last_seq``,
    still active); a firing also counts itself. True if it moved."""
    update: dict[str, object] = {"$set": changes}
    if fired:
        update["$inc"] = {"fired_count": 1}
    moved = await PriceAlert.get_pymongo_collection().update_one(
        {"_id": alert.id, "last_seq": alert.last_seq, "active": True}, update, session=session
    )
    return moved.modified_count == 1


async def move_alerts(moves: list[tuple[PriceAlert, dict[str, object]]]) -> int:
    """``move_alert`` (no firing) for many alerts in one round trip; how many moved (an alert
    changed meanwhile is left as it is)."""
    if not moves:
        return 0
    result = await PriceAlert.get_pymongo_collection().bulk_write(
        [UpdateOne({"_id": alert.id, "last_seq": alert.last_seq, "active": True},
                   {"$set": changes}) for alert, changes in moves],
        ordered=False,
    )  # fmt: skip
    return int(result.modified_count)


async def insert_firing(firing: AlertFiring, session: Session) -> None:
    await firing.insert(session=session)
