"""An order left ``submitted`` with no word from the broker is handed over again."""

from __future__ import annotations

import datetime as dt

import pytest

from app.orders.documents import Order, OrderSide, OrderStatus
from app.orders.service import order_service

pytestmark = pytest.mark.usefixtures("services")


async def test_only_stale_submitted_orders_are_sent_again() -> None:
    now = dt.datetime.now(dt.UTC)
    club = f"club-resubmit-{now.timestamp()}"

    def order(status: OrderStatus, age_seconds: int) -> Order:
        return Order(club_id=club, side=OrderSide.BUY, symbol="HD", currency="USD", quantity=5,
                     status=status, broker="paper",
                     submitted_at=now - dt.timedelta(seconds=age_seconds))  # fmt: skip

    stale = await order(OrderStatus.SUBMITTED, 120).insert()
    await order(OrderStatus.SUBMITTED, 5).insert()  # still within the grace period
    await order(OrderStatus.ACCEPTED, 120).insert()  # the broker answered
    commands = [c for c in await order_service.stale_submissions(dt.timedelta(seconds=30))
                if c.club_id == club]  # fmt: skip
    assert [(c.order_id, c.action) for c in commands] == [(str(stale.id), "submit")]
    assert commands[0].id == f"{stale.id}:submit"  # the same id: the broker takes it once
