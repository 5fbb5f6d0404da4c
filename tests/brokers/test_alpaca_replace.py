"""Alpaca's replace, as documented (``PATCH /v2/orders/{order_id}``): a NEW order with a new id
replaces the open one, which ends ``replaced`` with ``replaced_by`` naming the new one. Against
the sandbox over HTTP: the order's ``broker_order_id`` becomes the new id, the replacement
trades only what is left (the new total less what the old id filled), its fills apply to the
same Samooh order, and the old id's ``replaced`` event changes nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from app.books.service import books_service
from app.brokers.alpaca import stream_event_updates
from app.brokers.service import broker_service
from app.config import Settings
from app.orders.broker import BrokerCosts
from app.orders.documents import Fill, Order
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.brokers.conftest import BrokerSandbox, eventually
from tests.brokers.flows import alpaca_club, funded_club, order_of, submit
from tests.identity.conftest import Api

SYMBOL = "LLY"  # no other test trades or replays it: only this test's ticks move it
DAY = "2012-06-12"


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-test-replace")
    await events.start()
    yield events
    await events.stop()


async def send_tick(producer: EventProducer, price: int, volume: int) -> None:
    """One LLY tick of ``DAY``: ``price`` cents, ``volume`` the day's cumulative shares (the
    sandbox fills 10 % of the shares traded since the last tick it saw)."""
    seq = time.time_ns() // 1000
    tick = MarketTickV1(id=f"{SYMBOL}:{seq}", seq=seq, ts=f"{DAY}T15:00:00Z", symbol=SYMBOL,
                        price=price, open=price, high=price, low=price, prev_close=price,
                        volume=volume, currency="USD", trade_date=DAY,
                        source="test")  # fmt: skip
    await producer.send(MARKET_TICKS, SYMBOL, tick)


async def alpaca_get(sandbox: BrokerSandbox, keys: tuple[str, str], path: str) -> Any:
    headers = {"APCA-API-KEY-ID": keys[0], "APCA-API-SECRET-KEY": keys[1]}
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{sandbox.url}/alpaca{path}", headers=headers) as reply,
    ):
        assert reply.status == 200, await reply.text()
        return await reply.json()


async def test_a_replaced_alpaca_order_follows_its_new_id_and_its_fills(
    http: Api, sandbox: BrokerSandbox, producer: EventProducer
) -> None:
    club, owner, _ = await funded_club()  # $10,000.00
    club_id = str(club.id)
    key, secret, _ = await sandbox.alpaca_account()
    keys = (key, secret)
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{club_id}/broker",
        token=owner.token,
        json={"provider": "alpaca", "key": key, "secret": secret},
    )
    assert linked.status == 200 and linked.body["status"] == "active", linked.body
    made = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders",
        token=owner.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"side": "buy", "kind": "limit", "symbol": SYMBOL, "quantity": 4,
              "limit_price": "50.00"},
    )  # fmt: skip
    assert made.status == 201, made.body
    order_id = str(made.body["id"])
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202 and sent.body["broker"] == "alpaca", sent.body

    async def state(status: str, filled: int, quantity: int | None = None) -> dict[str, Any] | None:
        got = (await order_of(http, club_id, order_id, owner))["order"]
        ok = got["status"] == status and got["filled_quantity"] == filled
        return got if ok and (quantity is None or got["quantity"] == quantity) else None

    got = await eventually(lambda: state("accepted", 0))
    assert got, await order_of(http, club_id, order_id, owner)
    old_id = got["broker_order_id"]

    # 20 shares traded: 10 % of them, 2 shares, fill at $40.00 on the first id
    await send_tick(producer, 4000, 20)
    assert await eventually(lambda: state("partially_filled", 2)), await order_of(
        http, club_id, order_id, owner
    )

    # 6 in all: Alpaca makes a new order for the 4 left; the old one is replaced
    changed = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders/{order_id}/modify",
        token=owner.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"quantity": 6},
    )
    assert changed.status == 200, changed.body
    new_id = changed.body["broker_order_id"]
    assert new_id and new_id != old_id and changed.body["quantity"] == 6
    old = await alpaca_get(sandbox, keys, f"/v2/orders/{old_id}")
    assert (old["status"], old["replaced_by"], old["filled_qty"]) == ("replaced", new_id, "2")
    new = await alpaca_get(sandbox, keys, f"/v2/orders/{new_id}")
    assert (new["status"], new["replaces"], new["qty"], new["filled_qty"]) == (
        "new", old_id, "4", "0")  # fmt: skip
    assert new["client_order_id"].startswith(f"{order_id}.")
    # The old id's "replaced" event went out on the stream; it changed nothing (two polls too).
    delivered = (await sandbox.control())["delivered"]
    replaced = [d["payload"] for d in delivered if d["payload"].get("event") == "replaced"]
    assert [(p["order"]["id"], p["order"]["replaced_by"]) for p in replaced] == [(old_id, new_id)]
    await asyncio.sleep(2.5)
    got = await state("partially_filled", 2, quantity=6)
    assert got and got["broker_order_id"] == new_id, await order_of(http, club_id, order_id, owner)
    stored = await Order.get(order_id)
    assert stored is not None and stored.replaced_broker_ids == [old_id]

    # 40 more shares traded: the new id fills its 4 at $41.00; the same order is filled
    await send_tick(producer, 4100, 60)
    done = await eventually(lambda: state("filled", 6, quantity=6))
    assert done, await order_of(http, club_id, order_id, owner)
    fills = await Fill.find({"order_id": order_id}).sort("+applied_at").to_list()
    assert [(f.quantity, f.price) for f in fills] == [(2, 4000), (4, 4100)]
    assert done["filled_value"] == "244.00" and done["reserved"] == "0.00"
    assert await books_service.held_cash(club_id) == 0
    ours = await alpaca_get(sandbox, keys, "/v2/account/activities/FILL")
    assert sorted((a["order_id"], a["qty"]) for a in ours) == sorted([(old_id, "2"), (new_id, "4")])
    # …and a position check finds the books equal to Alpaca's positions
    check = await broker_service.do_check_positions(club_id)
    assert check is not None and check.ok, check


async def test_the_poll_follows_a_replacement_that_was_never_recorded(
    http: Api, sandbox: BrokerSandbox
) -> None:
    # Alpaca took a replace, but the process that asked died before recording the new id:
    # the poll finds the old order replaced and follows ``replaced_by``.
    club, owner, key, secret = await alpaca_club(http, sandbox)
    club_id = str(club.id)
    made = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders",
        token=owner.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"side": "buy", "kind": "limit", "symbol": SYMBOL, "quantity": 3,
              "limit_price": "1.00"},
    )  # fmt: skip
    order_id = str(made.body["id"])
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202, sent.body

    async def broker_id() -> str | None:
        got = (await order_of(http, club_id, order_id, owner))["order"]
        return str(got["broker_order_id"]) if got["status"] == "accepted" else None

    old_id = await eventually(broker_id)
    assert old_id
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    async with (
        aiohttp.ClientSession() as client,
        client.patch(f"{sandbox.url}/alpaca/v2/orders/{old_id}", headers=headers,
                     json={"qty": "3", "client_order_id": f"{order_id}.lost"}) as reply,
    ):  # fmt: skip
        assert reply.status == 200, await reply.text()
        new_id = (await reply.json())["id"]

    async def followed() -> bool:
        return await broker_id() == new_id

    assert await eventually(followed), await order_of(http, club_id, order_id, owner)
    stored = await Order.get(order_id)
    assert stored is not None and stored.replaced_broker_ids == [old_id]
    assert stored.status.value == "accepted"


def test_the_old_ids_replaced_event_is_no_update() -> None:
    order = Order(club_id="c", side="buy", symbol=SYMBOL, quantity=6, broker="alpaca",
                  broker_order_id="new", replaced_broker_ids=["old"])  # fmt: skip
    costs = BrokerCosts(5, 1_000, 10_000_000, 10, 100)
    for event in ("replaced", "pending_replace"):
        data = {"event": event, "order": {"id": "old", "status": "replaced", "replaced_by": "new"}}
        assert stream_event_updates(order, data, costs) == []
