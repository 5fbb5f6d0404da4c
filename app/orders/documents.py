"""Stored shapes of club orders, their fills, and the paper broker's own order book.

Money in minor units of the club's currency, quantities in whole shares, rates in basis points.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class OrderSide(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderKind(StrEnum):
    """``market``: fill at the next price; ``limit``: only at ``limit_price`` or better."""

    MARKET = "market"
    LIMIT = "limit"


class OrderStatus(StrEnum):
    """An order's life: ``awaiting_execution`` (approved or entered, not yet sent) →
    ``submitted`` (sent to the broker) → ``accepted`` → ``partially_filled`` → ``filled``;
    or ``cancelled`` / ``rejected``. Transitions only move forward (``STATUS_RANK``)."""

    AWAITING_EXECUTION = "awaiting_execution"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


STATUS_RANK: dict[OrderStatus, int] = {
    OrderStatus.AWAITING_EXECUTION: 0,
    OrderStatus.SUBMITTED: 1,
    OrderStatus.ACCEPTED: 2,
    OrderStatus.PARTIALLY_FILLED: 3,
    OrderStatus.FILLED: 4,
    OrderStatus.CANCELLED: 4,
    OrderStatus.REJECTED: 4,
}
"""A broker update moves an order only to a higher rank; rank 4 is final."""

OPEN_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
"""Orders at the broker: their ``reserved`` cash is set aside from the club's cash."""


class Order(Document):
    """An order of a club: from an approved proposal (``proposal_id``; one per proposal) or
    entered by a treasurer/admin/owner (``created_by``).

    ``quantity`` whole shares, or — from a proposal — an ``amount`` of money that becomes a
    quantity when the order is submitted (floor(amount ÷ price), the price being the limit, or
    the last quote for a market order). ``limit_price`` minor units (None: market).
    ``reserved``: cash set aside for a buy while it is open (minor units). ``filled_quantity``,
    ``filled_value`` (Σ shares × price) and ``fees`` are the sums of the applied fills.

    ``currency`` is the instrument's: prices, ``reserved``, ``filled_value`` and ``fees`` are
    in its minor units (what the broker sees). ``held`` is what a buy sets aside from the
    club's own cash, in the club's minor units: ``reserved`` itself for an instrument in the
    club's currency; for another currency ``reserved`` converted at the ECB rate
    ``hold_rate_e8`` of ``hold_rate_date`` plus the FX margin (``broker_fx_margin_bps``).
    """

    club_id: str
    proposal_id: str | None = None
    side: OrderSide
    kind: OrderKind = OrderKind.MARKET
    symbol: str
    currency: str | None = None
    quantity: int | None = None
    amount: int | None = None
    limit_price: int | None = None
    status: OrderStatus = OrderStatus.AWAITING_EXECUTION
    reason: str = ""
    reserved: int = 0
    held: int = 0
    hold_rate_e8: int | None = None
    hold_rate_date: str | None = None
    filled_quantity: int = 0
    filled_value: int = 0
    fees: int = 0
    # What the broker's final report (cancelled, rejected) said had filled: fills it counted
    # may still be on their way, and the buy's hold stays until they are booked.
    final_quantity: int | None = None
    # The broker's contract note for the order, once read (Kite: by name, minor units): its
    # total replaces the fees the fills were booked with, ``charges_adjustment`` the difference
    # booked (app/brokers/service.py ``do_settle_charges_due``).
    contract_charges: dict[str, int] | None = None
    charges_adjustment: int = 0
    broker: str | None = None
    # A real broker's own id of the order (Kite ``order_id``, Alpaca ``id``) once it took it.
    broker_order_id: str | None = None
    created_by: str | None = None
    # What placed it, when something other than a person did (``rebalance:<run>:<side>:<symbol>``):
    # unique, so a placement that is resumed after a crash finds the order instead of a twin.
    origin: str | None = None
    submitted_by: str | None = None
    submitted_at: dt.datetime | None = None
    cancel_requested_at: dt.datetime | None = None
    # A change (``do_modify``) is at the broker since then: its larger hold is taken, and no
    # second change starts until it is recorded or undone (or the lease runs out).
    modifying_at: dt.datetime | None = None
    # Alpaca's replace makes a new order: the ids this order had at the broker before its
    # current ``broker_order_id``, oldest first (their fills are this order's too).
    replaced_broker_ids: list[str] = Field(default_factory=list)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _kind_follows_limit(self) -> Order:
        # An order made with a limit price (e.g. from a proposal) is a limit order.
        if self.limit_price is not None:
            self.kind = OrderKind.LIMIT
        return self

    class Settings:
        name = "orders"
        indexes = [
            IndexModel([("proposal_id", ASCENDING)], unique=True, name="proposal_unique_partial",
                       partialFilterExpression={"proposal_id": {"$type": "string"}}),
            IndexModel([("origin", ASCENDING)], unique=True, name="origin_unique_partial",
                       partialFilterExpression={"origin": {"$type": "string"}}),
            IndexModel([("club_id", ASCENDING), ("created_at", DESCENDING)], name="club_time"),
            IndexModel([("club_id", ASCENDING), ("status", ASCENDING)], name="club_status"),
            IndexModel([("broker", ASCENDING), ("broker_order_id", ASCENDING)], name="broker_ref",
                       partialFilterExpression={"broker_order_id": {"$type": "string"}}),
        ]  # fmt: skip


class Fill(Document):
    """One execution the broker reported, applied once (``fill_id`` is unique): ``quantity``
    shares at ``price`` minor units, ``fee`` minor units (the instrument's currency);
    ``realised`` gain of a sale and ``booked`` cash moved, in the club's minor units;
    ``rate_e8`` the ECB rate a fill in another currency was booked at (app/fx.py).
    ``charges``: what a real broker charged for it, by name (app/orders/charges.py), minor
    units of the fill's currency summing to ``fee``; empty for the paper broker's fee.
    ``trade_date``: the day it is booked on (``service.booking_day``: never before the order
    went to the broker)."""

    fill_id: str
    order_id: str
    club_id: str
    symbol: str
    side: OrderSide
    quantity: int
    price: int
    fee: int
    realised: int = 0
    booked: int | None = None
    rate_e8: int | None = None
    charges: dict[str, int] = Field(default_factory=dict)
    trade_date: str
    tick_seq: int
    reported_trade_date: str | None = None  # the broker's, when booked on a later day
    applied_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "order_fills"
        indexes = [
            IndexModel([("fill_id", ASCENDING)], unique=True, name="fill_unique"),
            IndexModel([("order_id", ASCENDING)], name="by_order"),
            IndexModel([("club_id", ASCENDING), ("applied_at", ASCENDING)], name="club_time"),
        ]


class PaperFill(BaseModel):
    """A fill the paper broker executed (kept so a re-delivered tick re-sends the same one)."""

    fill_id: str
    tick_seq: int
    quantity: int
    price: int
    fee: int
    cumulative: int
    trade_date: str
    done: bool


class PaperOrder(Document):
    """The paper broker's own book (the broker's side, not the club's): one open order it
    matches against ticks. ``after_seq``: only ticks emitted after it accepted the order
    (tick ``seq`` is microseconds since the epoch) can fill it. ``last_tick_seq`` and
    ``seen_volume``/``seen_date``: the last tick it looked at and that day's cumulative
    volume then. ``spent``: cash used by its buy fills (≤ ``reserved``)."""

    order_id: str
    club_id: str
    side: OrderSide
    kind: OrderKind
    symbol: str
    quantity: int
    limit_price: int | None = None
    reserved: int = 0
    open: bool = True
    closed_reason: str = ""
    after_seq: int
    last_tick_seq: int = 0
    seen_volume: int | None = None
    seen_date: str = ""
    filled: int = 0
    spent: int = 0
    fills: list[PaperFill] = Field(default_factory=list)
    accepted_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "paper_orders"
        indexes = [
            IndexModel([("order_id", ASCENDING)], unique=True, name="order_unique"),
            IndexModel([("symbol", ASCENDING), ("open", ASCENDING)], name="symbol_open"),
            IndexModel(
                [("symbol", ASCENDING), ("last_tick_seq", DESCENDING)], name="symbol_last_tick"
            ),
        ]
