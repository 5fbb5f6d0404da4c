"""The broker's own charges in an order's detail on the desk, in Chromium (issue #21): an INR
club linked to Kite (sandbox) buys 10 HDFCBANK at ₹900.00; the fill's fee is Zerodha's
delivery charges on ₹9,000.00 — STT ₹9.00, exchange ₹0.27 (26.73 paise), SEBI ₹0.01 (0.9
paise), stamp duty ₹1.35, GST ₹0.05 (18 % of 28 paise), ₹10.68 in all — shown under the fee in
the order's fills, and Kite's contract note of the finished order (read by the worker's broker
poll) beside it, at desktop and phone sizes (screenshots in test-artifacts/)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from playwright.async_api import expect

from app.books.service import books_service
from app.clubs.documents import Club
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.brokers.conftest import BrokerSandbox, broker_sandbox, eventually
from tests.brokers.flows import link_kite
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, open_room, person, sign_in

pytestmark = pytest.mark.browser

__all__ = ["broker_sandbox"]

SYMBOL = "HDFCBANK"  # synthetic INR series no test trades


async def test_a_kite_fill_shows_zerodhas_charges_in_the_orders_detail(
    http: Api,
    new_context: NewContext,
    broker_sandbox: BrokerSandbox,
    producer: EventProducer,
    artifacts: Path,
) -> None:
    await broker_sandbox.control(reset=True)
    asha = await person(http, new_context, "asha")
    made = await http.call("POST", "/api/v1/clubs", token=asha.token,
                           json={"name": "Charges Lane Investors", "currency": "INR"})  # fmt: skip
    assert made.status == 201, made.body
    club_id = made.body["id"]
    club = await Club.get(club_id)
    assert club is not None
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, asha.id, 10_000_000, today)  # ₹1,00,000.00
    await books_service.do_record_valuation(club_id, asha.id, valuation_date=today, prices={})
    await link_kite(http, broker_sandbox, club_id, asha)  # type: ignore[arg-type]

    placed = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/orders", token=asha.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json={"side": "buy", "kind": "limit", "symbol": SYMBOL, "quantity": 10,
              "limit_price": "1000.00"},
    )  # fmt: skip
    assert placed.status == 201, placed.body
    order_id = placed.body["id"]
    sent = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders/{order_id}/submit",
        token=asha.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert sent.status == 202 and sent.body["broker"] == "kite", sent.body

    async def order() -> dict[str, object]:
        got = await http.call("GET", f"/api/v1/clubs/{club_id}/orders/{order_id}",
                              token=asha.token)  # fmt: skip
        return dict(got.body)

    async def status_is(status: str) -> bool:
        return (await order())["order"]["status"] == status  # type: ignore[index]

    assert await eventually(lambda: status_is("accepted"), timeout=30), await order()
    seq = time.time_ns() // 1000
    await producer.send(MARKET_TICKS, SYMBOL, MarketTickV1(
        id=f"{SYMBOL}:{seq}", seq=seq, ts=f"{today.isoformat()}T05:00:00Z", symbol=SYMBOL,
        price=90_000, open=90_000, high=90_000, low=90_000, prev_close=90_000, volume=None,
        currency="INR", trade_date=today.isoformat(), source="test"))  # fmt: skip
    assert await eventually(lambda: status_is("filled"), timeout=30), await order()
    detail = await order()
    [fill] = detail["fills"]  # type: ignore[misc]
    assert (fill["quantity"], fill["price"], fill["fee"]) == (10, "900.00", "10.68")
    assert [(c["name"], c["amount"]) for c in fill["charges"]] == [
        ("brokerage", "0.00"), ("stt", "9.00"), ("exchange", "0.27"), ("sebi", "0.01"),
        ("stamp_duty", "1.35"), ("gst", "0.05")]  # fmt: skip

    # Once the order ended, the worker's broker poll reads Kite's contract note: one trade,
    # so the note charges what the fill was booked with.
    async def noted() -> bool:
        return (await order())["order"].get("contract_charges") is not None  # type: ignore[attr-defined]

    assert await eventually(noted, timeout=30), await order()
    assert (await order())["order"]["charges_adjustment"] == "0.00"  # type: ignore[index]

    shown = (
        "Broker's charges in the fee: STT ₹9.00 · Exchange charges ₹0.27 · SEBI fees ₹0.01 · "
        "Stamp duty ₹1.35 · GST ₹0.05"
    )
    for page, name in ((asha.page, "order-charges-desktop.png"), (None, "order-charges-phone.png")):
        if page is None:
            page = await (await new_context(viewport=PHONE)).new_page()
            await sign_in(page, asha.account)
        await open_room(page, club_id)
        await page.get_by_test_id("desk-tab-orders").click()
        await page.get_by_test_id(f"desk-order-fills-{order_id}").click()
        fills = page.get_by_test_id(f"desk-fills-{order_id}")
        await expect(fills).to_contain_text("₹10.68")
        await expect(page.get_by_test_id(f"fill-charges-{fill['fill_id']}")).to_have_text(shown)
        await expect(page.get_by_test_id(f"desk-order-note-{order_id}")).to_contain_text(
            "Contract note: ₹10.68 — the same as booked with the fills."
        )
        await fills.scroll_into_view_if_needed()
        await page.screenshot(path=str(artifacts / name), full_page=False)
