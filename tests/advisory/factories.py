"""Builders for robo-advice tests: people with a risk profile, funded personal accounts, and
fills booked through the orders service (the paper broker's reports, crafted)."""

from __future__ import annotations

import datetime as dt
import uuid

from app.advisory.documents import AdvisoryAccount
from app.advisory.schemas import AccountCreate
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.clubs.service import club_service
from app.orders.documents import Order, OrderKind, OrderSide
from app.orders.schemas import OrderCreate
from app.orders.service import order_service
from streams.records import BrokerUpdateV1, OrderCommandV1
from tests.clubs.factories import new_user, paid_contribution

MODERATE = {"horizon": "7to15", "income": "steady", "loss": "sell_some", "experience": "some",
            "goal": "balanced"}  # fmt: skip
CAUTIOUS = {"horizon": "lt3", "income": "variable", "loss": "sell_some", "experience": "none",
            "goal": "preserve"}  # fmt: skip
BOLD = {"horizon": "gt15", "income": "secure", "loss": "buy_more", "experience": "expert",
        "goal": "growth"}  # fmt: skip


class NullBroker:
    """Takes commands and answers nothing (the test books the fills itself)."""

    name = "paper"

    def __init__(self) -> None:
        self.commands: list[OrderCommandV1] = []

    async def send(self, command: OrderCommandV1) -> None:
        self.commands.append(command)


async def profiled(answers: dict[str, str] | None = None) -> str:
    """A fresh user who took the questionnaire."""
    user = new_user()
    await advisory_service.do_take_questionnaire(user, answers or MODERATE)
    return user


async def funded_account(user: str, cents: int, on: dt.date | None = None) -> AdvisoryAccount:
    """A taxable personal account of ``user`` holding ``cents`` of free cash (a contribution
    settled at a valuation)."""
    day = on or dt.datetime.now(dt.UTC).date()
    account = await advisory_service.do_open_account(user, AccountCreate(name="Own account"))
    club, _ = await club_service.check_member(account.account_id, user)
    await paid_contribution(club, user, cents, day)
    await books_service.do_record_valuation(account.account_id, user, valuation_date=day,
                                                 prices={})  # fmt: skip
    return account


async def filled(account_id: str, user: str, side: OrderSide, symbol: str, quantity: int,
                 price: int, trade_date: str, redis: object) -> None:  # fmt: skip
    """An order of ``quantity`` ``symbol`` at a limit of ``price`` submitted and filled in
    full on ``trade_date`` through the orders service's reconciliation."""
    order = await order_service.do_create(account_id, user, OrderCreate(
        side=side, kind=OrderKind.LIMIT, symbol=symbol, quantity=quantity,
        limit_price=f"{price // 100}.{price % 100:02d}"))  # fmt: skip
    await order_service.do_submit(account_id, str(order.id), user, redis, NullBroker())  # type: ignore[arg-type]
    # Placed on that day (a fill is never booked before its order went to the broker).
    placed = dt.datetime.fromisoformat(f"{trade_date}T09:30:00+00:00")
    await Order.get_pymongo_collection().update_one(
        {"_id": order.id}, {"$set": {"created_at": placed, "submitted_at": placed}}
    )
    fill_id = f"fill-{uuid.uuid4().hex[:10]}"
    await order_service.do_apply_broker_update(BrokerUpdateV1(
        id=f"{order.id}:{fill_id}", order_id=str(order.id), club_id=account_id,
        status="filled", fill_id=fill_id, fill_quantity=quantity, fill_price=price, fee=100,
        cumulative_quantity=quantity, reason="", trade_date=trade_date, tick_seq=1,
        occurred_at="2012-06-01T15:00:00+00:00"))  # fmt: skip
