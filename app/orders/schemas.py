"""Order, position and portfolio payloads, and the ``order:updated`` / ``portfolio:nav`` room
events. Money is a two-place decimal string of the club's currency; quantities whole shares."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from app.fx import rate_text as _rate_text
from app.money import Paise, format_minor, round_ratio
from app.orders.documents import Fill, Order, OrderKind, OrderSide, OrderStatus
from app.realtime.contract import RoomEvent
from app.realtime.eventlog import iso


def rate_text(rate_e8: int | None) -> str | None:
    """A stored ECB rate × 10^8 as eight places, or None."""
    return None if rate_e8 is None else _rate_text(rate_e8)


class OrderCreate(BaseModel):
    """An order entered directly by a treasurer/admin/owner: ``quantity`` whole shares;
    ``limit_price`` for a limit order (omit for market)."""

    side: OrderSide
    kind: OrderKind = OrderKind.MARKET
    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.&-]+$")
    quantity: int = Field(gt=0, le=10_000_000)
    limit_price: Paise | None = None

    @model_validator(mode="after")
    def _limit_for_limit_orders(self) -> OrderCreate:
        if (self.kind is OrderKind.LIMIT) != (self.limit_price is not None):
            raise ValueError("a limit order needs a limit_price; a market order takes none")
        if self.limit_price is not None and self.limit_price <= 0:
            raise ValueError("limit_price must be more than zero")
        self.symbol = self.symbol.upper()
        return self


class OrderModify(BaseModel):
    """Change an open order: ``quantity`` (whole shares, the order's new total — more than
    what has filled) and/or ``limit_price`` (limit orders only). At least one is given."""

    quantity: int | None = Field(default=None, gt=0, le=10_000_000)
    limit_price: Paise | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> OrderModify:
        if self.quantity is None and self.limit_price is None:
            raise ValueError("give a new quantity, a new limit_price, or both")
        if self.limit_price is not None and self.limit_price <= 0:
            raise ValueError("limit_price must be more than zero")
        return self


class ChargeOut(BaseModel):
    """One of a broker's charges on a fill: ``name`` (``stt``, ``exchange``, ``sebi``,
    ``stamp_duty``, ``gst``, ``brokerage``; ``sec_fee``, ``finra_taf``) and ``amount`` in the
    fill's currency."""

    name: str
    amount: str


class FillOut(BaseModel):
    """One execution: ``quantity`` shares at ``price``, ``fee`` charged, gain ``realised``
    (sales). ``charges``: what the fee is made of at a real broker (app/orders/charges.py),
    in the fill's currency; empty for the paper broker's fee schedule."""

    fill_id: str
    quantity: int
    price: str
    fee: str
    realised: str
    trade_date: str
    booked: str | None = None  # cash moved, in the club's currency
    rate: str | None = None  # the ECB rate of a fill in another currency, eight places
    charges: list[ChargeOut] = Field(default_factory=list)

    @classmethod
    def of(cls, f: Fill) -> FillOut:
        return cls(fill_id=f.fill_id, quantity=f.quantity, price=format_minor(f.price),
                   fee=format_minor(f.fee), realised=format_minor(f.realised),
                   trade_date=f.trade_date,
                   booked=None if f.booked is None else format_minor(f.booked),
                   rate=rate_text(f.rate_e8),
                   charges=[ChargeOut(name=k, amount=format_minor(v))
                            for k, v in f.charges.items()])  # fmt: skip


def waiting_for_broker(o: Order) -> bool:
    """A submitted order that the club's linked broker (Kite, Alpaca) has not taken yet (an
    outage or an ended session): it is kept and re-sent, not lost."""
    return (o.status is OrderStatus.SUBMITTED and o.broker in ("kite", "alpaca")
            and o.broker_order_id is None)  # fmt: skip


class OrderOut(BaseModel):
    """An order as members see it. ``average_price``: filled value ÷ filled quantity, to the
    minor unit half-even (display only), or None before any fill. ``broker``: where it was
    sent (``paper``, ``kite``, ``alpaca``) and ``broker_order_id`` the broker's own id of it;
    ``waiting_for_broker``: kept for a linked broker that has not taken it yet (re-sent)."""

    id: str
    club_id: str
    proposal_id: str | None
    side: OrderSide
    kind: OrderKind
    symbol: str
    currency: str | None
    quantity: int | None
    amount: str | None
    limit_price: str | None
    status: OrderStatus
    reason: str
    reserved: str
    held: str  # set aside from the club's cash, in the club's currency
    hold_rate: str | None = None  # ECB rate of a foreign buy's hold, eight places
    hold_rate_date: str | None = None
    filled_quantity: int
    filled_value: str
    fees: str
    average_price: str | None
    broker: str | None = None
    broker_order_id: str | None = None
    waiting_for_broker: bool = False
    # The broker's contract note, once read: its charges and what it changed in ``fees``.
    contract_charges: list[ChargeOut] | None = None
    charges_adjustment: str | None = None
    created_by: str | None
    submitted_by: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, o: Order) -> OrderOut:
        average = None
        if o.filled_quantity:
            average = format_minor(round_ratio(o.filled_value, o.filled_quantity))
        return cls(
            id=str(o.id), club_id=o.club_id, proposal_id=o.proposal_id, side=o.side,
            kind=o.kind, symbol=o.symbol, currency=o.currency, quantity=o.quantity,
            amount=None if o.amount is None else format_minor(o.amount),
            limit_price=None if o.limit_price is None else format_minor(o.limit_price),
            status=o.status, reason=o.reason, reserved=format_minor(o.reserved),
            held=format_minor(o.held), hold_rate=rate_text(o.hold_rate_e8),
            hold_rate_date=o.hold_rate_date,
            filled_quantity=o.filled_quantity, filled_value=format_minor(o.filled_value),
            fees=format_minor(o.fees), average_price=average, broker=o.broker,
            broker_order_id=o.broker_order_id, waiting_for_broker=waiting_for_broker(o),
            contract_charges=(None if o.contract_charges is None else
                              [ChargeOut(name=k, amount=format_minor(v))
                               for k, v in o.contract_charges.items()]),
            charges_adjustment=(None if o.contract_charges is None
                                else format_minor(o.charges_adjustment)),
            created_by=o.created_by,
            submitted_by=o.submitted_by, created_at=iso(o.created_at),
            updated_at=iso(o.updated_at),
        )  # fmt: skip


class OrderList(BaseModel):
    orders: list[OrderOut]


class OrderDetail(BaseModel):
    order: OrderOut
    fills: list[FillOut]


class OrderUpdatedEvent(RoomEvent):
    """``order:updated``: an order of the club changed (created, submitted, accepted, filled in
    part or whole, cancelled, rejected). ``fill``: the execution that caused it, if any.
    Stored in the room's log with the change, so a reconnecting client catches up."""

    order: OrderOut
    fill: FillOut | None = None
