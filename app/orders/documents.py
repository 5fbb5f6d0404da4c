"""Stored shape of a club's order (minimal until the market issue executes orders)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    """Only ``awaiting_execution`` exists yet; the market issue adds the rest."""

    AWAITING_EXECUTION = "awaiting_execution"


class Order(Document):
    """An order the club approved: ``quantity`` shares, or an ``amount`` in paise to invest;
    ``limit_price`` in paise (None: market). One per proposal (unique)."""

    club_id: str
    proposal_id: str
    side: OrderSide
    symbol: str
    quantity: int | None = None
    amount: int | None = None
    limit_price: int | None = None
    status: OrderStatus = OrderStatus.AWAITING_EXECUTION
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "orders"
        indexes = [
            IndexModel([("proposal_id", ASCENDING)], unique=True, name="proposal_unique"),
            IndexModel([("club_id", ASCENDING), ("created_at", DESCENDING)], name="club_time"),
        ]
