"""The treasurer's desk in Chromium, with two people (issue #14): the treasurer values the club
from the desk (prices, a preview of NAV, unit value and what settles, confirm) and both members
see their units appear live; a proposal passes, its order appears on both screens at once, is
sent to the broker from the desk, fills on replayed ticks, and both screens show the new NAV
live. Screenshots of the desk at desktop and phone sizes go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from streams.producer import EventProducer
from tests.campaigns.factories import verify_kyc
from tests.identity.conftest import Api, eventually
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    NewContext,
    Person,
    invite_url,
    join,
    open_room,
    person,
    replay,
)

pytestmark = pytest.mark.browser

SYMBOL = "KO"  # no other browser test replays it


async def pay_in(http: Api, who: Person, club_id: str, amount: str, sandbox: SandboxClient,
                 day: dt.date) -> None:  # fmt: skip
    """An online contribution paid at the sandbox checkout on ``day``, waited for. The payer is
    KYC-verified first: a dollar club's amounts count in rupees, at the ECB rate, against the
    yearly limit for the unverified, and these stories are about the desk."""
    await verify_kyc(who.id)
    reply = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/contributions", json={"amount": amount},
        token=who.token, headers={"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert reply.status == 201, reply.body
    await sandbox.pay(reply.body["order_id"], paid_at=f"{day.isoformat()}T09:30:00Z")
    contribution_id = reply.body["id"]

    async def received() -> bool:
        mine = await http.call("GET", f"/api/v1/clubs/{club_id}/contributions", token=who.token)
        return any(c["id"] == contribution_id and c["status"] == "received"
                   for c in mine.body["contributions"])  # fmt: skip

    await eventually(received, timeout=30)


async def call(http: Api, who: Person, method: str, path: str, body: Any = None) -> Any:
    reply = await http.call(method, path, json=body, token=who.token)
    assert reply.status in (200, 201), (path, reply.body)
    return reply.body


async def desk_tab(page: Page, tab: str) -> None:
    await page.get_by_test_id(f"desk-tab-{tab}").click()


async def test_the_desk_values_the_club_and_sends_the_voted_order(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, producer: EventProducer,
    artifacts: Path,
) -> None:  # fmt: skip
    asha = await person(http, new_context, "asha")  # owner: the desk is hers
    ravi = await person(http, new_context, "ravi")
    club = await call(http, asha, "POST", "/api/v1/clubs",
                      {"name": "Ledger Lane Investors", "currency": "USD"})  # fmt: skip
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    reply = await http.call("PUT", f"/api/v1/clubs/{club_id}/watchlist",
                            json={"symbols": [SYMBOL]}, token=asha.token)  # fmt: skip
    assert reply.status == 200, reply.body
    paid_on = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)
    await pay_in(http, asha, club_id, "5000.00", payment_stack, paid_on)
    await pay_in(http, ravi, club_id, "3000.00", payment_stack, paid_on)
    await open_room(asha.page, club_id)
    await open_room(ravi.page, club_id)
    treasurer, member = asha.page, ravi.page
    await expect(member.get_by_test_id("desk-panel")).to_have_count(0)  # members have no desk

    # Value the club today: no holdings yet, so the preview is its cash at the starting $10.
    await desk_tab(treasurer, "value")
    await expect(treasurer.get_by_test_id("valuation-no-holdings")).to_be_visible()
    await treasurer.get_by_test_id("valuation-preview").click()
    await expect(treasurer.get_by_test_id("preview-nav")).to_have_text("$0.00")
    await expect(treasurer.get_by_test_id("preview-unit-value")).to_have_text("$10.0000")
    settles = treasurer.get_by_test_id(f"preview-settlement-{asha.id}")
    await expect(settles).to_contain_text("$5,000.00")
    await expect(settles).to_contain_text("500.000000 units")
    await expect(treasurer.get_by_test_id(f"preview-settlement-{ravi.id}")).to_contain_text(
        "300.000000 units"
    )
    await expect(treasurer.get_by_test_id("preview-nav-after")).to_have_text("$8,000.00")
    await treasurer.get_by_test_id("desk-panel").scroll_into_view_if_needed()
    await treasurer.screenshot(path=str(artifacts / "desk-valuation-preview.png"), full_page=True)
    await treasurer.get_by_test_id("valuation-confirm").click()
    await expect(treasurer.get_by_test_id("valuation-done")).to_contain_text("$8,000.00")

    # Units appear on both screens without a reload (portfolio:valued in the room's log).
    await expect(member.get_by_test_id("my-units")).to_contain_text("300.000000")
    await expect(treasurer.get_by_test_id("my-units")).to_contain_text("500.000000")
    await expect(member.get_by_test_id("portfolio-panel").get_by_test_id("nav")).to_contain_text(
        "$8,000.00"
    )

    # A proposal to buy 10 KO passes; the treasurer closes it early (after confirming).
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).isoformat()
    proposal = await call(http, ravi, "POST", f"/api/v1/clubs/{club_id}/proposals", {
        "kind": "investment", "title": "Buy 10 Coca-Cola", "side": "buy", "symbol": SYMBOL,
        "quantity": 10, "deadline": deadline,
    })  # fmt: skip
    for who in (asha, ravi):
        await call(http, who, "POST", f"/api/v1/proposals/{proposal['id']}/votes",
                   {"choice": "yes"})  # fmt: skip
    await treasurer.get_by_test_id(f"close-{proposal['id']}").click()
    await treasurer.get_by_test_id(f"close-confirm-{proposal['id']}").click()
    for page in (treasurer, member):
        await expect(page.get_by_test_id(f"outcome-{proposal['id']}")).to_have_text("Approved")

    # Its order is on both screens at once, waiting in the treasurer's inbox.
    await desk_tab(treasurer, "inbox")
    waiting = treasurer.locator('[data-testid^="desk-order-"][data-status="awaiting_execution"]')
    await expect(waiting).to_contain_text(SYMBOL)
    order_id = (await waiting.get_attribute("data-testid") or "").removeprefix("desk-order-")
    await expect(member.get_by_test_id(f"order-{order_id}")).to_be_visible()
    nav_before = await member.get_by_test_id("live-nav-value").inner_text()

    # A market order needs a price: the replayed market trades KO; then it is sent.
    await replay(producer, SYMBOL, dt.date(2015, 3, 2), 2)
    await expect(member.get_by_test_id(f"room-price-{SYMBOL}")).not_to_have_text("—")
    await treasurer.get_by_test_id(f"desk-order-submit-{order_id}").click()
    await desk_tab(treasurer, "orders")
    row = treasurer.get_by_test_id(f"desk-order-{order_id}")
    await expect(row).not_to_have_attribute("data-status", "awaiting_execution")
    await expect(treasurer.get_by_test_id(f"desk-order-reserved-{order_id}")).to_contain_text("$")

    # Replayed ticks fill it; both screens show the fill and the new NAV, live.
    await replay(producer, SYMBOL, dt.date(2015, 3, 4), 3)
    await expect(row).to_have_attribute("data-status", "filled", timeout=30_000)
    await expect(member.get_by_test_id(f"order-status-{order_id}")).to_have_text("Filled")
    for page in (treasurer, member):
        await expect(page.get_by_test_id("live-nav")).to_have_attribute("data-source", "live")
    await expect(member.get_by_test_id("live-nav-value")).not_to_have_text(nav_before)
    shown = await member.get_by_test_id("live-nav-value").inner_text()
    await expect(treasurer.get_by_test_id("live-nav-value")).to_have_text(shown)
    await treasurer.get_by_test_id(f"desk-order-fills-{order_id}").click()
    await expect(treasurer.get_by_test_id(f"desk-fills-{order_id}")).to_contain_text("$")

    # A new proposal shows what it means now: the price, the cost, the free cash — and warns
    # when the club could not pay for it.
    await treasurer.get_by_test_id("propose").click()
    await treasurer.get_by_test_id("proposal-symbol").fill(SYMBOL)
    await treasurer.get_by_test_id("proposal-quantity").fill("1000")
    await expect(treasurer.get_by_test_id("context-price")).to_contain_text("$")
    await expect(treasurer.get_by_test_id("context-free-cash")).to_contain_text("$")
    await expect(treasurer.get_by_test_id("context-short")).to_contain_text("could not pay")
    await treasurer.get_by_test_id("proposal-quantity").fill("1")
    await expect(treasurer.get_by_test_id("context-short")).to_have_count(0)

    await screenshots(treasurer, artifacts)


async def screenshots(page: Page, artifacts: Path) -> None:
    desk = page.get_by_test_id("desk-panel")
    await page.evaluate("window.scrollTo(0, 0)")
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / "desk-desktop.png"), full_page=True)
    await desk.screenshot(path=str(artifacts / "desk-panel-desktop.png"))
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await page.wait_for_timeout(300)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a 390 px phone"
    await page.screenshot(path=str(artifacts / "desk-phone.png"), full_page=True)
    await desk.screenshot(path=str(artifacts / "desk-panel-phone.png"))
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
