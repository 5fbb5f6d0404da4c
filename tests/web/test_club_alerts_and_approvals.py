"""Price alerts and manual contributions in the club room, in Chromium: an alert made on screen
fires on ticks sent through Kafka (a toast and its count), and again while the member was
offline (caught up from the room's log); a member records money paid outside with its receipt,
the owner previews the receipt and approves it in another browser context, and the money lands
live on the member's screen. Screenshots go to test-artifacts/."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import expect

from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.files.samples import png
from tests.identity.conftest import Api
from tests.web.conftest import NewContext, create_club, invite_url, join, open_room, person

pytestmark = pytest.mark.browser

SYMBOL = "PEP"  # no other browser test sends ticks of it


async def send_prices(producer: EventProducer, prices: list[int]) -> None:
    """Ticks of SYMBOL at ``prices`` (minor units), each past the room's coalescing window."""
    base = int(dt.datetime.now(dt.UTC).timestamp() * 1e6)
    for i, price in enumerate(prices):
        tick = MarketTickV1(
            id=f"{SYMBOL}:{base + i}", seq=base + i, ts=dt.datetime.now(dt.UTC).isoformat(),
            symbol=SYMBOL, price=price, open=price, high=price, low=price, prev_close=price,
            volume=None, currency="USD", trade_date=dt.date.today().isoformat(), source="test",
        )  # fmt: skip
        await producer.send(MARKET_TICKS, SYMBOL, tick)
        await asyncio.sleep(0.35)


async def test_a_price_alert_fires_live_and_is_caught_up_after_a_drop(
    http: Api, new_context: NewContext, producer: EventProducer, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    club = await create_club(http, asha, "Kettle Fund")
    page = asha.page
    await open_room(page, club["id"])

    await page.get_by_test_id("alert-new").click()
    await page.get_by_test_id("alert-symbol").fill(SYMBOL.lower())
    await page.get_by_test_id("alert-kind").select_option("above")
    await page.get_by_test_id("alert-price").fill("30")
    await page.get_by_test_id("alert-note").fill("Time to trim?")
    await page.get_by_test_id("alert-rearm").check()
    await page.get_by_test_id("alert-submit").click()
    row = page.locator('[data-testid^="alert-"][data-active="true"]')
    await expect(row).to_contain_text(f"{SYMBOL} rises above 30.00")
    alert_id = (await row.get_attribute("data-testid") or "").removeprefix("alert-")

    await send_prices(producer, [2_950, 3_050])
    toast = page.locator(f'[data-testid="alert-toast"][data-alert-id="{alert_id}"]')
    await expect(toast.first).to_contain_text(f"{SYMBOL} rose above 30.00")
    await expect(toast.first).to_have_attribute("data-fired", "1")
    await expect(page.get_by_test_id(f"alert-fired-{alert_id}")).to_have_text("fired 1×")
    await page.get_by_test_id("alerts-panel").scroll_into_view_if_needed()
    await page.screenshot(path=str(artifacts / "club-room-alerts.png"))

    # Offline while it crosses again: the firing is caught up from the room's log on return.
    await page.context.set_offline(True)
    await page.evaluate("window.__sockets.forEach((ws) => ws.close())")
    await expect(page.get_by_test_id("room-status")).not_to_have_attribute("data-state", "live")
    await send_prices(producer, [2_900, 3_100])
    await page.context.set_offline(False)
    await expect(page.get_by_test_id("room-status")).to_have_attribute(
        "data-state", "live", timeout=20_000
    )
    await expect(page.locator('[data-testid="alert-toast"][data-fired="2"]')).to_contain_text(
        "at 31.00"
    )
    await expect(page.get_by_test_id(f"alert-fired-{alert_id}")).to_have_text("fired 2×")

    await page.get_by_test_id(f"alert-cancel-{alert_id}").click()
    await expect(page.get_by_test_id("alerts-empty")).to_be_visible()


async def test_a_manual_contribution_is_approved_and_lands_live(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")  # the owner: approves
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Banyan Savers")
    await join(http, ravi, await invite_url(http, asha, club["id"]))
    await open_room(ravi.page, club["id"])
    await open_room(asha.page, club["id"])

    member = ravi.page
    await member.get_by_test_id("manual-open").click()
    await member.get_by_test_id("manual-amount").fill("1,200.50")
    await member.get_by_test_id("manual-receipt").set_input_files(
        {"name": "neft-receipt.png", "mimeType": "image/png", "buffer": png(40, 24, seed=3)}
    )
    await member.get_by_test_id("manual-note").fill("NEFT UTR 4411")
    await member.get_by_test_id("manual-submit").click()
    await expect(member.get_by_test_id("manual-recorded")).to_contain_text("₹1,200.50")
    mine = member.locator('[data-testid="contributions"] [data-status="pending_approval"]')
    await expect(mine).to_contain_text("₹1,200.50")
    contribution_id = (await mine.get_attribute("data-testid") or "").removeprefix("contribution-")

    # The owner sees it waiting (after a reload: recording it sends no room event).
    owner = asha.page
    await owner.reload()
    pending = owner.get_by_test_id(f"pending-{contribution_id}")
    await expect(pending).to_contain_text("₹1,200.50")
    async with owner.context.expect_page() as opened:
        await owner.get_by_test_id(f"receipt-{contribution_id}").click()
    receipt = await opened.value
    await receipt.wait_for_url("**/api/v1/files/**/content**")
    await receipt.close()
    await owner.get_by_test_id("capital-panel").scroll_into_view_if_needed()
    await owner.get_by_test_id("capital-panel").screenshot(
        path=str(artifacts / "club-room-approvals.png")
    )
    await owner.get_by_test_id(f"approve-{contribution_id}").click()

    # Kafka → payments agent → contribution:received in the room: both screens move.
    arrival = member.get_by_test_id(f"arrival-{contribution_id}")
    await expect(arrival).to_contain_text("₹1,200.50", timeout=30_000)
    await expect(
        member.get_by_test_id(f"contribution-status-{contribution_id}")
    ).to_have_attribute("class", "badge badge-ok")  # fmt: skip
    await expect(
        owner.locator(f'[data-testid="contribution-{contribution_id}"][data-status="received"]')
    ).to_be_visible()
    await expect(pending).to_have_count(0)
