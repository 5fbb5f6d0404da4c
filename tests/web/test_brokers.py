"""The club's broker account on the treasurer's desk, in Chromium (issue #21): the treasurer
links the club's Alpaca account (sandbox) from the desk — the keys shown only by their last
characters — tests it, places an order and sends it: the order goes through the club's broker
and is accepted there, the broker and its order id shown on the desk and to a member. During an
outage a sent order shows "Waiting for broker" and says it is queued, then goes; an open order
is changed at the broker from the desk (Alpaca's replace: the desk shows the new order's id).
A Kite link (an INR club) sends the treasurer to Kite's login page and back, logged in; a wrong
Kite secret lands back on the desk saying so, the link refused, and "Change keys" opens the Kite
form. Screenshots at desktop and phone sizes go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import expect

from app.books.service import books_service
from app.clubs.documents import Club
from tests.brokers.conftest import BrokerSandbox, broker_sandbox
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.web.conftest import (
    PHONE,
    NewContext,
    invite_url,
    join,
    open_room,
    person,
    sign_in,
)

pytestmark = pytest.mark.browser

__all__ = ["broker_sandbox"]

SYMBOL = "PFE"  # no browser test replays it: a limit order far below the market stays open


async def test_the_treasurer_links_a_broker_on_the_desk_and_places_an_order(
    http: Api,
    new_context: NewContext,
    broker_sandbox: BrokerSandbox,
    artifacts: Path,
) -> None:
    await broker_sandbox.control(reset=True)
    asha = await person(http, new_context, "asha")
    made = await http.call(
        "POST",
        "/api/v1/clubs",
        token=asha.token,
        json={"name": "Broker Lane Investors", "currency": "USD"},
    )
    assert made.status == 201, made.body
    club_id = made.body["id"]
    club = await Club.get(club_id)
    assert club is not None
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, asha.id, 500_000, today)
    await books_service.do_record_valuation(club_id, asha.id, valuation_date=today, prices={})
    key, secret, number = await broker_sandbox.alpaca_account()

    await open_room(asha.page, club_id)
    page = asha.page
    await page.get_by_test_id("desk-tab-orders").click()
    await expect(page.get_by_test_id("broker-paper")).to_be_visible()
    await page.get_by_test_id("broker-provider").select_option("alpaca")
    await page.get_by_test_id("broker-environment").select_option("sandbox")
    await page.get_by_test_id("broker-key").fill(key)
    await page.get_by_test_id("broker-secret").fill("not-the-secret")
    await page.get_by_test_id("broker-save").click()
    await expect(page.get_by_test_id("broker-form-error")).to_have_attribute(
        "data-code", "broker_link_invalid"
    )
    await page.get_by_test_id("broker-secret").fill(secret)
    await page.get_by_test_id("broker-save").click()
    await expect(page.get_by_test_id("broker-status")).to_have_text("Linked")
    await expect(page.get_by_test_id("broker-key-last4")).to_have_text(key[-4:])
    await expect(page.get_by_test_id("broker-secret-last4")).to_have_text(secret[-4:])
    await expect(page.get_by_test_id("broker-account-ref")).to_have_text(number)
    assert secret not in await page.content()
    await page.get_by_test_id("broker-test").click()
    await expect(page.get_by_test_id("broker-test-result")).to_have_attribute("data-ok", "true")

    # An order placed on the desk and sent goes through the club's Alpaca account.
    await page.get_by_test_id("order-new").click()
    await page.get_by_test_id("order-symbol").fill(SYMBOL)
    await page.get_by_test_id("order-quantity").fill("4")
    await page.get_by_test_id("order-kind").select_option("limit")
    await page.get_by_test_id("order-limit").fill("1.00")
    await page.get_by_test_id("order-submit").click()
    row = page.locator('[data-testid^="desk-order-"][data-status="awaiting_execution"]').first
    await expect(row).to_be_visible()
    order_id = (await row.get_attribute("data-testid") or "").removeprefix("desk-order-")
    await page.get_by_test_id(f"desk-order-submit-{order_id}").click()
    await expect(page.get_by_test_id(f"desk-order-status-{order_id}")).to_have_text(
        "Accepted", timeout=20_000
    )
    got = await http.call("GET", f"/api/v1/clubs/{club_id}/orders/{order_id}", token=asha.token)
    broker_id = got.body["order"]["broker_order_id"]
    assert got.body["order"]["broker"] == "alpaca" and broker_id
    state = await broker_sandbox.control()
    assert any(
        d["payload"].get("order", {}).get("client_order_id") == order_id for d in state["delivered"]
    )
    # The broker and its order id are on the desk's order and in the club's order list.
    desk_row = page.get_by_test_id(f"desk-order-{order_id}")
    await expect(desk_row.get_by_test_id(f"order-broker-id-{order_id}")).to_have_text(broker_id)
    await expect(desk_row.get_by_test_id(f"order-broker-{order_id}")).to_contain_text("Alpaca")
    listed = page.get_by_test_id("orders-panel").get_by_test_id(f"order-broker-id-{order_id}")
    await expect(listed).to_have_text(broker_id)

    # Changed at the broker from the desk: 4 shares become 3 at a lower limit.
    await desk_row.get_by_test_id(f"desk-order-modify-{order_id}").click()
    await desk_row.get_by_test_id(f"desk-order-modify-quantity-{order_id}").fill("3")
    await desk_row.get_by_test_id(f"desk-order-modify-limit-{order_id}").fill("0.90")
    await desk_row.get_by_test_id(f"desk-order-modify-save-{order_id}").click()
    await expect(desk_row).to_contain_text("Filled 0 of 3")
    await expect(desk_row).to_contain_text("limit $0.90")
    # Alpaca's replace made a new order: the desk follows its new id.
    got = await http.call("GET", f"/api/v1/clubs/{club_id}/orders/{order_id}", token=asha.token)
    replaced_id, broker_id = broker_id, got.body["order"]["broker_order_id"]
    assert broker_id and broker_id != replaced_id
    await expect(desk_row.get_by_test_id(f"order-broker-id-{order_id}")).to_have_text(broker_id)
    # More than the club's free cash: refused in a sentence, nothing changed.
    await desk_row.get_by_test_id(f"desk-order-modify-{order_id}").click()
    await desk_row.get_by_test_id(f"desk-order-modify-quantity-{order_id}").fill("10000")
    await desk_row.get_by_test_id(f"desk-order-modify-save-{order_id}").click()
    refusal = desk_row.get_by_test_id(f"desk-order-modify-error-{order_id}")
    await expect(refusal).to_have_attribute("data-code", "change_exceeds_cash")
    # 10,000 × $0.90 + $9.00 fee = $9,009.00 against the $3.70 held (3 × $0.90 + the $1.00
    # minimum fee): $9,005.30 more, and $5,000.00 − $3.70 is free
    await expect(refusal).to_contain_text(
        "does not cover this change: it needs 9005.30 more, and 4996.30 is free"
    )
    await refusal.scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "broker-desk-change-refused.png"))
    await expect(desk_row).to_contain_text("Filled 0 of 3")
    same = await http.call("GET", f"/api/v1/clubs/{club_id}/orders/{order_id}", token=asha.token)
    assert (same.body["order"]["quantity"], same.body["order"]["broker_order_id"]) == (3, broker_id)

    # An outage: the order sent is kept and queued, not an error to retry.
    await page.get_by_test_id("order-new").click()
    await page.get_by_test_id("order-symbol").fill(SYMBOL)
    await page.get_by_test_id("order-quantity").fill("2")
    await page.get_by_test_id("order-kind").select_option("limit")
    await page.get_by_test_id("order-limit").fill("1.00")
    await page.get_by_test_id("order-submit").click()
    second = page.locator('[data-testid^="desk-order-"][data-status="awaiting_execution"]').first
    await expect(second).to_be_visible()
    second_id = (await second.get_attribute("data-testid") or "").removeprefix("desk-order-")
    await broker_sandbox.control(outage=True)
    try:
        await page.get_by_test_id(f"desk-order-submit-{second_id}").click()
        await expect(page.get_by_test_id(f"desk-order-queued-{second_id}")).to_contain_text(
            "queued and will be re-sent"
        )
        await expect(page.get_by_test_id(f"desk-order-status-{second_id}")).to_have_text(
            "Waiting for broker"
        )
        await expect(page.get_by_test_id(f"desk-order-error-{second_id}")).to_have_count(0)
        await page.get_by_test_id(f"desk-order-{second_id}").scroll_into_view_if_needed()
        await page.screenshot(path=str(artifacts / "broker-desk-queued.png"), full_page=True)
    finally:
        await broker_sandbox.control(outage=False)
    await expect(page.get_by_test_id(f"desk-order-status-{second_id}")).to_have_text(
        "Accepted", timeout=20_000
    )
    await page.get_by_test_id("broker-account").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "broker-desk-linked.png"), full_page=True)

    # A member sees where each order went and the broker's id of it.
    ravi = await person(http, new_context, "ravi", viewport=PHONE)
    await join(http, ravi, await invite_url(http, asha, club_id))
    await open_room(ravi.page, club_id)
    mine = ravi.page.get_by_test_id("orders-panel").get_by_test_id(f"order-broker-id-{order_id}")
    await expect(mine).to_have_text(broker_id)
    await mine.scroll_into_view_if_needed()
    await ravi.page.screenshot(
        path=str(artifacts / "broker-member-orders-phone.png"), full_page=True
    )


async def test_a_kite_link_sends_the_treasurer_to_kites_login_and_back(
    http: Api,
    new_context: NewContext,
    broker_sandbox: BrokerSandbox,
    artifacts: Path,
) -> None:
    asha = await person(http, new_context, "asha")
    made = await http.call(
        "POST",
        "/api/v1/clubs",
        token=asha.token,
        json={"name": "Kite Lane Investors", "currency": "INR"},
    )
    assert made.status == 201, made.body
    club_id = made.body["id"]
    await open_room(asha.page, club_id)
    page = asha.page
    await page.get_by_test_id("desk-tab-orders").click()
    await expect(page.get_by_test_id("broker-paper")).to_be_visible()
    kite_key, kite_secret, kite_user = await broker_sandbox.kite_app()
    # First with a wrong secret: back on the club's desk, told so, the link refused.
    await page.get_by_test_id("broker-provider").select_option("kite")
    await page.get_by_test_id("broker-key").fill(kite_key)
    await page.get_by_test_id("broker-secret").fill("a-wrong-kite-secret")
    await page.get_by_test_id("broker-save").click()
    await expect(page.locator("#kite-login-authorise")).to_be_visible()
    await page.locator("#kite-login-authorise").click()
    await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    assert f"/clubs/{club_id}?broker_error=broker_link_invalid" in page.url
    await expect(page.get_by_test_id("broker-status")).to_have_text("Secret refused — change keys")
    await expect(page.get_by_test_id("broker-login-error")).to_contain_text("Kite refused")
    await expect(page.get_by_test_id("broker-refused")).to_contain_text("refused the API secret")
    await expect(page.get_by_test_id("broker-login")).to_have_count(0)
    await page.get_by_test_id("broker-account").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "broker-kite-secret-refused.png"), full_page=True)
    # "Change keys" opens the Kite form, not Alpaca's.
    await page.get_by_test_id("broker-edit").click()
    await expect(page.get_by_test_id("broker-provider")).to_have_value("kite")
    await expect(page.get_by_test_id("broker-save")).to_have_text("Save and log in to Kite")
    await page.get_by_test_id("broker-key").fill(kite_key)
    await page.get_by_test_id("broker-secret").fill(kite_secret)
    await page.get_by_test_id("broker-save").click()
    await expect(page.locator("#kite-login-authorise")).to_be_visible()
    await page.locator("#kite-login-authorise").click()
    await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    await expect(page.get_by_test_id("broker-linked-notice")).to_be_visible()
    await expect(page.get_by_test_id("broker-account-ref")).to_have_text(kite_user)
    await expect(page.get_by_test_id("broker-key-last4")).to_have_text(kite_key[-4:])

    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, asha.account)
    await open_room(phone, club_id)
    await phone.get_by_test_id("desk-tab-orders").click()
    await expect(phone.get_by_test_id("broker-status")).to_have_text("Linked")
    await phone.get_by_test_id("broker-account").scroll_into_view_if_needed()
    await phone.screenshot(path=str(artifacts / "broker-desk-phone.png"), full_page=True)
