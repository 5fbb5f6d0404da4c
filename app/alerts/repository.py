"""Every MongoDB query of the alerts domain (price alerts and their firings)."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.alerts.documents import AlertFiring, PriceAlert
from app.db import object_id

Session = AsyncClientSession | None


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


async def insert_firing(firing: AlertFiring, session: Session) -> None:
    await firing.insert(session=session)
