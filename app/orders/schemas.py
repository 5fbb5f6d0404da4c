"""Order payloads (decimal strings for money)."""

from __future__ import annotations

from pydantic import BaseModel

from app.money import format_minor
from app.orders.documents import Order, OrderSide, OrderStatus
from app.realtime.eventlog import iso


class OrderOut(BaseModel):
    id: str
    club_id: str
    proposal_id: str
    side: OrderSide
    symbol: str
    quantity: int | None
    amount: str | None
    limit_price: str | None
    status: OrderStatus
    created_at: str

    @classmethod
    def of(cls, o: Order) -> OrderOut:
        return cls(
            id=str(o.id), club_id=o.club_id, proposal_id=o.proposal_id, side=o.side,
            symbol=o.symbol, quantity=o.quantity,
            amount=None if o.amount is None else format_minor(o.amount),
            limit_price=None if o.limit_price is None else format_minor(o.limit_price),
            status=o.status, created_at=iso(o.created_at),
        )  # fmt: skip


class OrderList(BaseModel):
    orders: list[OrderOut]
