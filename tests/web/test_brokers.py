"""The club's broker account on the treasurer's desk, in Chromium (issue #21): the treasurer
links the club's Alpaca account (sandbox) from the desk — the keys shown only by their last
characters — tests it, places an order and sends it: the order goes through the club's broker
(its order id stored) and is accepted there. A Kite link sends the treasurer to Kite's login
page and back, logged in. The desk is the treasurer's alone (members have none), so one person
drives it. Screenshots at desktop and phone sizes go to test-artifacts/."""

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
from tests.web.conftest import PHONE, NewContext, open_room, person, sign_in

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
    assert got.body["order"]["broker"] == "alpaca" and got.body["order"]["broker_order_id"]
    state = await broker_sandbox.control()
    assert any(
        d["payload"].get("order", {}).get("client_order_id") == order_id for d in state["delivered"]
    )
    await page.get_by_test_id("broker-account").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "broker-desk-linked.png"), full_page=True)


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
        json={"name": "Kite Lane Investors", "currency": "USD"},
    )
    assert made.status == 201, made.body
    club_id = made.body["id"]
    await open_room(asha.page, club_id)
    page = asha.page
    await page.get_by_test_id("desk-tab-orders").click()
    await expect(page.get_by_test_id("broker-paper")).to_be_visible()
    kite_key, kite_secret, kite_user = await broker_sandbox.kite_app()
    await page.get_by_test_id("broker-provider").select_option("kite")
    await page.get_by_test_id("broker-key").fill(kite_key)
    await page.get_by_test_id("broker-secret").fill(kite_secret)
    await page.get_by_test_id("broker-save").click()
    await expect(page.locator("#kite-login-authorise")).to_be_visible()
    await page.locator("#kite-login-authorise").click()
    await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    await page.get_by_test_id("desk-tab-orders").click()
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
