"""Every query of the orders domain (orders, fills, the paper broker's book)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from beanie import SortDirection
from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from app.config import get_settings
from app.db import object_id
from app.orders.documents import OPEN_STATUSES, Fill, Order, OrderStatus, PaperOrder

Session = AsyncClientSession | None
VERSION_TTL_SECONDS = 86_400  # a lost token only costs one load (app/symbolcache.py)


async def get_order(order_id: str, session: Session = None) -> Order | None:
    oid = object_id(order_id)
    return None if oid is None else await Order.get(oid, session=session)


async def orders_by_origin(origins: list[str]) -> dict[str, Order]:
    """The orders placed under these ``origin`` keys, by key (those that exist)."""
    found = await Order.find({"origin": {"$in": origins}}).to_list()
    return {str(o.origin): o for o in found}


async def club_orders(club_id: str, limit: int = 200) -> list[Order]:
    """The club's orders, newest first."""
    return await Order.find({"club_id": club_id}).sort("-created_at").limit(limit).to_list()


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


async def open_paper_orders(symbol: str) -> list[PaperOrder]:
    """The paper book's open orders of ``symbol``."""
    return await PaperOrder.find({"symbol": symbol, "open": True}).to_list()


async def paper_high_water(symbol: str) -> int:
    """The highest ``last_tick_seq`` stored in the book for ``symbol`` (0 when none): a tick at
    or below it may have been applied already, and must be looked at as stored."""
    found = (
        await PaperOrder.find({"symbol": symbol})
        .sort([("last_tick_seq", SortDirection.DESCENDING)])
        .limit(1)
        .to_list()
    )
    return found[0].last_tick_seq if found else 0


def _book_version_key(symbol: str) -> str:
    return f"{get_settings().redis_prefix}:paper:version:{symbol}"


async def paper_book_versions(redis: Redis, symbols: list[str]) -> list[object]:
    """The paper book version token of each of ``symbols`` (``None`` when never written), in
    one read. Raises ``RedisError``."""
    return list(await redis.mget([_book_version_key(s) for s in symbols]))


async def touch_paper_book_version(redis: Redis, symbol: str) -> None:
    """Write a new version token for ``symbol``'s paper book: call it after an order entered
    or left the book, so the tick engines load the symbol again at their next tick."""
    await redis.set(_book_version_key(symbol), secrets.token_hex(8), ex=VERSION_TTL_SECONDS)


def _paper_guard(order: PaperOrder) -> dict[str, Any]:
    # The terms too: a modified order (``modify_paper_order``) never fills on its old terms.
    return {"_id": order.id, "open": True, "last_tick_seq": order.last_tick_seq,
            "filled": order.filled, "quantity": order.quantity,
            "limit_price": order.limit_price, "reserved": order.reserved}  # fmt: skip


async def move_paper_orders(moves: list[tuple[PaperOrder, dict[str, Any]]]) -> int:
    """``move_paper_order`` (no push) for many orders in one round trip; how many moved."""
    if not moves:
        return 0
    result = await PaperOrder.get_pymongo_collection().bulk_write(
        [UpdateOne(_paper_guard(order), {"$set": changes}) for order, changes in moves],
        ordered=False,
    )
    return int(result.modified_count)


async def move_paper_order(order: PaperOrder, changes: dict[str, Any],
                           push: dict[str, Any] | None = None) -> bool:  # fmt: skip
    """Apply ``changes`` if the paper order is still open and saw no later tick."""
    update: dict[str, Any] = {"$set": changes}
    if push:
        update["$push"] = push
    result = await PaperOrder.get_pymongo_collection().update_one(_paper_guard(order), update)
    return result.modified_count == 1


async def insert_order(order: Order, session: Session) -> Order:
    await order.insert(session=session)
    return order


async def insert_fill(fill: Fill, session: Session) -> Fill:
    await fill.insert(session=session)
    return fill


async def shares_for_sale(club_id: str, symbol: str, session: Session) -> int:
    """Shares of ``symbol`` the club's open sell orders still have to sell."""
    found = await Order.find(
        {"club_id": club_id, "symbol": symbol, "side": "sell",
         "status": {"$in": [s.value for s in OPEN_STATUSES]}},
        session=session,
    ).to_list()  # fmt: skip
    return sum((o.quantity or 0) - o.filled_quantity for o in found)


async def submitted_before(cutoff: dt.datetime) -> list[Order]:
    """Paper-broker orders still ``submitted`` (no word from the broker) since before
    ``cutoff`` (orders of a linked broker are re-sent by app/brokers instead)."""
    return await Order.find(
        {"status": "submitted", "submitted_at": {"$lt": cutoff},
         "broker": {"$nin": list(REAL_BROKERS)}}
    ).to_list()  # fmt: skip


REAL_BROKERS = ("kite", "alpaca")
"""``Order.broker`` of orders sent to a club's linked broker account."""


async def broker_orders_open(brokers: tuple[str, ...] = REAL_BROKERS) -> list[Order]:
    """Orders at a linked broker that are not final (submitted, accepted, partly filled)."""
    return await Order.find(
        {"broker": {"$in": list(brokers)}, "status": {"$in": [s.value for s in OPEN_STATUSES]}}
    ).to_list()


async def charges_unsettled(broker: str, since: dt.datetime) -> list[Order]:
    """``broker``'s orders that ended with fills since ``since`` and whose contract note was
    not read yet."""
    return await Order.find({
        "broker": broker, "filled_quantity": {"$gt": 0}, "contract_charges": None,
        "status": {"$in": [OrderStatus.FILLED.value, OrderStatus.CANCELLED.value,
                           OrderStatus.REJECTED.value]},
        "updated_at": {"$gte": since},
    }).to_list()  # fmt: skip


async def order_by_broker_id(broker: str, broker_order_id: str) -> Order | None:
    """The order a broker knows as ``broker_order_id``."""
    return await Order.find_one({"broker": broker, "broker_order_id": broker_order_id})


async def note_broker_order_id(order_id: Any, broker_order_id: str) -> None:
    """Remember the broker's id of the order (set once; a later same answer changes nothing)."""
    await Order.get_pymongo_collection().update_one(
        {"_id": order_id, "broker_order_id": None}, {"$set": {"broker_order_id": broker_order_id}}
    )


async def note_broker_replacement(order_id: Any, old: str, new: str) -> bool:
    """The broker replaced the order's ``old`` id by ``new`` (Alpaca's replace): ``new`` is
    its id from now on and ``old`` joins ``replaced_broker_ids``; False if its id is not
    ``old`` any more."""
    result = await Order.get_pymongo_collection().update_one(
        {"_id": order_id, "broker_order_id": old},
        {"$set": {"broker_order_id": new}, "$push": {"replaced_broker_ids": old}},
    )
    return result.modified_count == 1


async def insert_paper_order(book: PaperOrder) -> bool:
    """Put an order in the paper broker's book; False when it is there already."""
    try:
        await book.insert()
    except DuplicateKeyError:
        return False
    return True


async def close_paper_order(book: PaperOrder) -> bool:
    """Take the order off the paper book; False when it was off already."""
    result = await PaperOrder.get_pymongo_collection().update_one(
        {"_id": book.id, "open": True}, {"$set": {"open": False}}
    )
    return result.modified_count == 1


async def modify_paper_order(order_id: str, quantity: int, limit_price: int | None,
                             reserved: int | None = None) -> bool:  # fmt: skip
    """Give an open paper order its new quantity (more than it filled), limit price and — a
    buy — the cash it may spend (``reserved``); False when it is closed or filled that far
    already."""
    fields: dict[str, Any] = {"quantity": quantity}
    if reserved is not None:
        fields["reserved"] = reserved
    if limit_price is not None:
        fields["limit_price"] = limit_price
    result = await PaperOrder.get_pymongo_collection().update_one(
        {"order_id": order_id, "open": True, "filled": {"$lt": quantity}}, {"$set": fields}
    )
    return result.modified_count == 1
