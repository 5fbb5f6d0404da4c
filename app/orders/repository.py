"""Every query of the orders domain (orders, fills, the paper broker's book)."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.clubs.repository import object_id
from app.orders.documents import OPEN_STATUSES, Fill, Order, PaperOrder

Session = AsyncClientSession | None


async def get_order(order_id: str, session: Session = None) -> Order | None:
    oid = object_id(order_id)
    return None if oid is None else await Order.get(oid, session=session)


async def club_orders(club_id: str, limit: int = 200) -> list[Order]:
    """The club's orders, newest first."""
    return await Order.find({"club_id": club_id}).sort("-created_at").limit(limit).to_list()


async def reserved_cash(club_id: str, session: Session, exclude: str | None = None) -> int:
    """Cash set aside by the club's open buy orders (minor units), ``exclude`` left out."""
    found = await Order.find(
        {"club_id": club_id, "side": "buy", "status": {"$in": [s.value for s in OPEN_STATUSES]}},
        session=session,
    ).to_list()
    return sum(max(o.reserved - spent_of(o), 0) for o in found if str(o.id) != exclude)


def spent_of(order: Order) -> int:
    """Cash a buy order has already used (value of its fills + fees)."""
    return order.filled_value + order.fees


async def update_order(order_id: Any, fields: dict[str, Any], session: Session,
                       guard: dict[str, Any] | None = None,
                       inc: dict[str, int] | None = None) -> bool:  # fmt: skip
    """Set ``fields`` (and ``$inc`` ``inc``) on the order if it still matches ``guard``."""
    update: dict[str, Any] = {"$set": fields}
    if inc:
        update["$inc"] = inc
    result = await Order.get_pymongo_collection().update_one(
        {"_id": order_id, **(guard or {})}, update, session=session
    )
    return result.modified_count == 1


async def find_fill(fill_id: str, session: Session) -> Fill | None:
    return await Fill.find_one({"fill_id": fill_id}, session=session)


async def fills_of(order_id: str) -> list[Fill]:
    return await Fill.find({"order_id": order_id}).sort("+applied_at").to_list()


async def paper_order(order_id: str) -> PaperOrder | None:
    return await PaperOrder.find_one({"order_id": order_id})


async def paper_orders_for_tick(symbol: str, tick_seq: int) -> list[PaperOrder]:
    """The book's open orders of ``symbol``, and any that already saw this tick (so a
    re-delivered tick can re-send what it filled)."""
    return await PaperOrder.find(
        {"symbol": symbol, "$or": [{"open": True}, {"last_tick_seq": {"$gte": tick_seq}}]}
    ).to_list()


async def move_paper_order(order: PaperOrder, changes: dict[str, Any],
                           push: dict[str, Any] | None = None) -> bool:  # fmt: skip
    """Apply ``changes`` if the paper order is still open and saw no later tick."""
    update: dict[str, Any] = {"$set": changes}
    if push:
        update["$push"] = push
    result = await PaperOrder.get_pymongo_collection().update_one(
        {"_id": order.id, "open": True, "last_tick_seq": order.last_tick_seq,
         "filled": order.filled}, update,
    )  # fmt: skip
    return result.modified_count == 1
