"""Every live screen catches up (issue #19): the campaign page and the chit auction keep their
room's log the way the club room does (web/src/roomlog.ts). Two people: the watcher's network
goes away (its socket is cut and new connections fail) while the other person makes changes
that are logged room events; back online, the watcher's screen shows every change, in order,
without a reload. A third test cuts nothing in the browser: the web process loses its Redis
subscription while the changes are made, so their emits never arrive, and the screen catches
up on the `room:head` the process sends once it is subscribed again (app/realtime/resume.py).
Screenshots of caught-up screens (desktop and phone) go to test-artifacts/."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Page, WebSocketRoute, expect

from app.campaigns.documents import Campaign
from app.chits.service import Actor, chit_service
from app.config import Settings
from app.identity.documents import PlatformRole
from tests.campaigns.factories import live_campaign, verify_kyc
from tests.chits.factories import admin, kyc_verified, pay
from tests.chits.factories import settings as chit_terms
from tests.identity.conftest import Api, eventually, provision
from tests.payments.sandbox_client import SandboxClient
from tests.web.conftest import DESKTOP, PHONE, NewContext, Person, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

STAY = "window.__stayed = true"
"""Set on the watcher's page before the cut: still there afterwards means no reload."""
COUNT_HEADS = """
window.__heads = 0;
window.__sockets.forEach((ws) => ws.addEventListener("message", (e) => {
  if (typeof e.data === "string" && e.data.includes('"room:head"')) window.__heads += 1;
}));
"""
"""Counts the `room:head` packets arriving on the page's open sockets."""


async def cut(page: Page) -> None:
    """The page's network goes away: its open sockets close and new connections fail."""
    await page.evaluate(STAY)
    await page.context.set_offline(True)
    await page.evaluate("window.__sockets.forEach((ws) => ws.close())")
    await expect(page.get_by_test_id("live-status")).not_to_have_attribute(
        "data-state", "connected"
    )


async def back(page: Page) -> None:
    await page.context.set_offline(False)
    await expect(page.get_by_test_id("live-status")).to_have_attribute(
        "data-state", "connected", timeout=20_000
    )


async def not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__stayed === true"), "the page was reloaded"


async def update_titles(page: Page) -> list[str]:
    titles = page.get_by_test_id("campaign-update").locator("strong")
    return [t.strip() for t in await titles.all_inner_texts()]


async def post_update(http: Api, owner: Person, campaign_id: str, title: str) -> None:
    body = {"title": title, "body": f"{title}: details for investors."}
    reply = await http.call(
        "POST", f"/api/v1/campaigns/{campaign_id}/updates", token=owner.token, json=body
    )
    assert reply.status == 201, reply.body


async def invest(http: Api, investor: Person, campaign_id: str, amount: str) -> dict[str, Any]:
    reply = await http.call(
        "POST", f"/api/v1/campaigns/{campaign_id}/invest", token=investor.token,
        json={"amount": amount}, headers={"Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert reply.status == 201, reply.body
    made: dict[str, Any] = reply.body
    return made


async def raised(campaign_id: str) -> int:
    campaign = await Campaign.get(campaign_id)
    assert campaign is not None
    return campaign.raised


async def campaign_people(
    http: Api, new_context: NewContext, viewport: dict[str, int] | None = None
) -> tuple[Person, Person, Person, str]:
    """An owner with a live ₹10,000 campaign, an investor and a watcher on its page."""
    owner = await person(http, new_context, "meena")
    await verify_kyc(owner.id)
    investor = await person(http, new_context, "asha")
    await verify_kyc(investor.id)
    watcher = await person(http, new_context, "ravi", viewport=viewport or DESKTOP)
    campaign = await live_campaign(owner.id, title=f"Catch-up bakery {uuid.uuid4().hex[:6]}",
                                   goal="10000.00", max_investment="10000.00")  # fmt: skip
    campaign_id = str(campaign.id)
    await watcher.page.goto(f"/campaigns/{campaign_id}")
    await expect(watcher.page.get_by_test_id("campaign-raised")).to_have_text("₹0.00")
    await expect(watcher.page.get_by_test_id("invest-remaining")).to_contain_text("₹10,000.00")
    await expect(watcher.page.get_by_test_id("live-status")).to_have_attribute(
        "data-state", "connected"
    )
    return owner, investor, watcher, campaign_id


async def test_campaign_page_catches_up_after_its_socket_was_cut(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    owner, investor, watcher, campaign_id = await campaign_people(http, new_context)
    page = watcher.page
    await post_update(http, owner, campaign_id, "Oven ordered")
    await expect(page.get_by_test_id("campaign-update")).to_have_count(1)  # live

    await cut(page)
    # Meanwhile: two more updates, a paid pledge of ₹2,000 and an unpaid one of ₹1,500.
    await post_update(http, owner, campaign_id, "Oven delivered")
    paid = await invest(http, investor, campaign_id, "2000.00")
    await payment_stack.pay(paid["order_id"])
    await eventually(lambda: _raised_is(campaign_id, 200_000), timeout=60)
    await post_update(http, owner, campaign_id, "First batch baked")
    await invest(http, investor, campaign_id, "1500.00")
    await asyncio.sleep(1)
    # Nothing reached the watcher while cut off.
    assert await update_titles(page) == ["Oven ordered"]
    await expect(page.get_by_test_id("campaign-raised")).to_have_text("₹0.00")

    await back(page)
    await expect(page.get_by_test_id("campaign-raised")).to_have_text("₹2,000.00")
    await expect(page.get_by_test_id("campaign-investors")).to_have_text("1")
    await expect(page.get_by_test_id("campaign-pct")).to_have_text("20%")  # raised ÷ goal
    await expect(page.get_by_test_id("invest-remaining")).to_contain_text("₹6,500.00 remains")
    await expect(page.get_by_test_id("campaign-update")).to_have_count(3)
    # newest first, each once
    assert await update_titles(page) == ["First batch baked", "Oven delivered", "Oven ordered"]
    await not_reloaded(page)

    # And it is live again.
    await post_update(http, owner, campaign_id, "Open on Sundays")
    await expect(page.get_by_test_id("campaign-update")).to_have_count(4)
    assert (await update_titles(page))[0] == "Open on Sundays"
    await not_reloaded(page)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(artifacts / "catch-up-campaign-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await expect(page.get_by_test_id("campaign-raised")).to_be_visible()
    await page.screenshot(path=str(artifacts / "catch-up-campaign-phone.png"), full_page=True)


async def _raised_is(campaign_id: str, paise: int) -> bool:
    return await raised(campaign_id) == paise


async def chit_person(
    http: Api, new_context: NewContext, tag: str, *roles: PlatformRole,
    viewport: dict[str, int] | None = None,
) -> tuple[Person, Actor]:  # fmt: skip
    account = await provision(list(roles) or None, tag=tag)
    await kyc_verified(account.user_id)
    tokens = await http.tokens(account)
    page = await (await new_context(viewport=viewport or DESKTOP)).new_page()
    await sign_in(page, account)
    return Person(account, tokens["access_token"], page), Actor(
        account.user_id, tuple(roles) or (PlatformRole.USER,))  # fmt: skip


async def bid(page: Page, amount: str, count: int) -> None:
    """Bid ``amount`` and wait until the bidder's own list shows ``count`` bids."""
    await page.get_by_test_id("bid-input").fill(amount)
    await page.get_by_test_id("bid-submit").click()
    await expect(page.get_by_test_id("bid-row")).to_have_count(count)


async def bid_rows(page: Page) -> list[tuple[int, str]]:
    rows = page.get_by_test_id("bid-row")
    seqs = await rows.evaluate_all("(items) => items.map((item) => Number(item.dataset.seq))")
    texts = await rows.all_inner_texts()
    return list(zip(seqs, [t.strip() for t in texts], strict=True))


async def open_auction(
    http: Api, new_context: NewContext
) -> tuple[Person, Person, Person, str]:  # fmt: skip
    """A running scheme of three (the foreman, Asha, Ravi on a phone) whose month-2 auction
    the foreman opened in the browser; every page on the scheme. Returns them and its id."""
    boss, boss_actor = await chit_person(http, new_context, "foreman", PlatformRole.USER,
                                         PlatformRole.FOREMAN)  # fmt: skip
    asha, asha_actor = await chit_person(http, new_context, "asha")
    ravi, ravi_actor = await chit_person(http, new_context, "ravi", viewport=PHONE)
    # ₹30,000 over 3 × ₹10,000; commission 5 % = ₹1,500 = the minimum bid; step ₹500. The
    # auction runs 20 minutes, so the worker does not close it during the test.
    scheme = await chit_service.do_create_scheme(boss_actor, chit_terms(
        name=f"Catch-up Chit {uuid.uuid4().hex[:4]}", subscribers=3, chit_amount="30000.00",
        min_bid="1500.00", max_discount="9000.00", start_date="2030-01-01",
        extension_seconds=5, auction_minutes=20,
    ))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss_actor)
    await chit_service.do_decide(sid, await admin(), True, "")
    for who in (asha, ravi):
        reply = await http.call("POST", "/api/v1/subscriptions", json={"scheme_id": sid},
                                token=who.token)  # fmt: skip
        assert reply.status == 201, reply.body
    subs = await chit_service.subscribers(sid, boss_actor)
    actors = {1: boss_actor, 2: asha_actor, 3: ravi_actor}
    # month 1 (the foreman's) paid and closed; month 2's dues paid
    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 1, 9, tzinfo=dt.UTC))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None
    await chit_service.do_close_auction(str(first.id), first.ends_at)
    for sub in subs:
        await pay(sub, actors[sub.ticket], dt.datetime(2030, 2, 9, tzinfo=dt.UTC))

    for who in (boss, asha, ravi):
        await who.page.goto(f"/chits/{sid}")
        await expect(who.page.get_by_test_id("auction-room")).to_be_visible()
    await boss.page.get_by_test_id("start-auction").click()
    for who in (asha, ravi):
        await expect(who.page.locator('[data-testid="auction-live"][data-open="true"]')
                     ).to_be_visible()  # fmt: skip
    return boss, asha, ravi, sid


async def test_a_bidders_own_bid_shows_when_its_broadcast_is_lost(
    http: Api, new_context: NewContext, payment_sandbox: SandboxClient
) -> None:
    boss, asha, _, sid = await open_auction(http, new_context)
    # Asha's socket loses the broadcast of her own bid on the way (Socket.IO delivers at most
    # once); nothing after it would tell her screen. The bid's answer names its place in the
    # room's log, and the screen catches up to it.
    lost: list[str] = []

    def lose_own_bid(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def from_server(message: str | bytes) -> None:
            if not lost and isinstance(message, str) and '"chit:bid"' in message:
                lost.append(message)
                return
            ws.send(message)

        server.on_message(from_server)

    page = asha.page
    await page.route_web_socket(re.compile(r".*/socket\.io/.*"), lose_own_bid)
    await page.reload()
    await expect(page.locator('[data-testid="auction-live"][data-open="true"]')).to_be_visible()
    await page.get_by_test_id("bid-input").fill("2000")
    await page.get_by_test_id("bid-submit").click()
    await expect(boss.page.get_by_test_id("bid-row")).to_have_count(1)  # placed, told the others
    await expect(page.get_by_test_id("bid-row")).to_have_count(1)  # and on her own screen
    await expect(page.get_by_test_id("best-bid")).to_contain_text("₹2,000.00")
    assert len(lost) == 1 and sid in lost[0], lost  # her copy really was lost


async def test_chit_auction_catches_up_after_its_socket_was_cut(
    http: Api, new_context: NewContext, payment_sandbox: SandboxClient, artifacts: Path
) -> None:
    boss, asha, ravi, _ = await open_auction(http, new_context)
    page = ravi.page
    await bid(asha.page, "2000", 1)
    await expect(page.get_by_test_id("bid-row")).to_have_count(1)  # live

    # Ravi's phone loses the network; Asha raises her bid three times meanwhile.
    await cut(page)
    for count, amount in ((2, "2500"), (3, "3000"), (4, "4000")):
        await bid(asha.page, amount, count)
    await expect(boss.page.get_by_test_id("bid-row")).to_have_count(4)  # the foreman is live
    await asyncio.sleep(1)
    await expect(page.get_by_test_id("bid-row")).to_have_count(1)  # Ravi heard nothing

    await back(page)
    await expect(page.get_by_test_id("bid-row")).to_have_count(4)
    await expect(page.get_by_test_id("best-bid")).to_contain_text("₹4,000.00")
    rows = await bid_rows(page)
    assert [seq for seq, _ in rows] == [1, 2, 3, 4], rows  # in order, none twice
    for (_, text), amount in zip(rows, ("₹2,000.00", "₹2,500.00", "₹3,000.00", "₹4,000.00"),
                                 strict=True):  # fmt: skip
        assert "ticket 2" in text and amount in text, rows
    # The next valid bid moved with them: one ₹500 step above the best.
    await expect(page.get_by_test_id("bid-input")).to_have_attribute("placeholder", "4500.00")
    await not_reloaded(page)

    # Live again both ways: Ravi outbids, Asha sees it.
    await bid(page, "4500", 5)
    await expect(asha.page.get_by_test_id("bid-row")).to_have_count(5)
    await expect(asha.page.get_by_test_id("best-bid")).to_contain_text("₹4,500.00")
    await not_reloaded(page)
    await page.screenshot(path=str(artifacts / "catch-up-chit-auction-phone.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]
    await page.screenshot(path=str(artifacts / "catch-up-chit-auction-desktop.png"),
                          full_page=True)  # fmt: skip


@contextlib.asynccontextmanager
async def redis_subscription_lost(settings: Settings) -> Any:
    """The web process's Redis subscription keeps being cut (``CLIENT KILL TYPE pubsub`` every
    20 ms, faster than it re-subscribes): emits sent meanwhile reach no socket. On leaving, the
    process subscribes again and sends ``room:head``."""
    client = aioredis.Redis.from_url(settings.redis_url)
    stop = asyncio.Event()
    kills = 0

    async def keep_killing() -> None:
        nonlocal kills
        while not stop.is_set():
            kills += await client.client_kill_filter(_type="pubsub")
            await asyncio.sleep(0.02)

    task = asyncio.create_task(keep_killing())
    try:
        yield
    finally:
        stop.set()
        await task
        await client.aclose()
    assert kills > 0, "no subscription was cut"


async def test_campaign_page_catches_up_on_room_head_after_a_redis_outage(
    http: Api, new_context: NewContext, settings: Settings, payment_stack: SandboxClient,
    artifacts: Path,
) -> None:  # fmt: skip
    owner, investor, watcher, campaign_id = await campaign_people(http, new_context)
    page = watcher.page
    await page.evaluate(STAY)
    await page.evaluate(COUNT_HEADS)
    sockets = await page.evaluate("window.__sockets.length")
    async with redis_subscription_lost(settings):
        await asyncio.sleep(0.5)  # the subscription is down
        await post_update(http, owner, campaign_id, "Flour in stock")
        await invest(http, investor, campaign_id, "2500.00")
        await post_update(http, owner, campaign_id, "Second oven lit")
        await asyncio.sleep(1)
    # No further event in the room: the page learns what it missed from room:head (sent while
    # the process kept re-subscribing, and once it stayed subscribed) and fetches it.
    await expect(page.get_by_test_id("campaign-update")).to_have_count(2, timeout=20_000)
    assert await update_titles(page) == ["Second oven lit", "Flour in stock"]
    await expect(page.get_by_test_id("invest-remaining")).to_contain_text("₹7,500.00 remains")
    assert await page.evaluate("window.__heads") > 0, "no room:head reached the page"
    await not_reloaded(page)
    # The same socket all along: the page caught up without reconnecting.
    assert await page.evaluate("window.__sockets.length") == sockets
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")

    # One dropped subscription, Redis staying up, once the outage's announcements are over:
    # the process subscribes again and sends the heads after it too.
    await asyncio.sleep(2)
    await page.evaluate("window.__heads = 0")
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        assert await client.client_kill_filter(_type="pubsub") >= 1
    finally:
        await client.aclose()
    await eventually(lambda: page.evaluate("window.__heads > 0"), timeout=15)  # CSP: no eval
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(artifacts / "catch-up-campaign-room-head-desktop.png"),
                          full_page=True)  # fmt: skip
