"""Browser end-to-end fixtures: Debian's Chromium driven by Playwright (never a browser
download), one browser per session, a fresh context per person, each context its own client IP
(``X-Forwarded-For``, one trusted hop in tests) so rate limits never couple tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from app.config import Settings
from app.market.dataset import load_catalogue
from app.money import format_minor
from devtools.replayer import Replayer, intraday_path
from streams.producer import EventProducer
from tests.conftest import LiveStack
from tests.identity.conftest import Account, Api, provision

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

# Records every WebSocket a page opens, so a test can cut them like a network drop would.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    window.__sockets.push(ws);
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
})();
"""

expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def new_context(browser: Browser, live_stack: LiveStack) -> AsyncIterator[NewContext]:
    """Makes browser contexts (one per person) that are closed after the test."""
    made: list[BrowserContext] = []

    async def make(viewport: dict[str, int] | None = None) -> BrowserContext:
        context = await browser.new_context(
            base_url=live_stack.url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            extra_http_headers={"X-Forwarded-For": f"2001:db8:77::{uuid.uuid4().hex[:4]}"},
        )
        await context.add_init_script(TRACK_SOCKETS)
        # Page errors and console errors are printed with a failing test's output.
        context.on("weberror", lambda error: print(f"[page error] {error.error}"))
        context.on(
            "console",
            lambda message: (
                print(f"[console {message.type}] {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
async def http(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(live_stack.url, session)


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[EventProducer]:
    events = EventProducer(settings.kafka_bootstrap_servers, client_id="samooh-web-test")
    await events.start()
    yield events
    await events.stop()


async def replay(producer: EventProducer, symbol: str, first: dt.date, days: int) -> str:
    """Real trading days of ``symbol`` as ticks, 8 a day, a day each 0.4 s (rooms get at most
    one tick per symbol per 250 ms); returns the last price sent. Tests here use symbols no
    other test file replays: the quote cache keeps only ticks newer than what it holds."""
    series = load_catalogue()[symbol]
    replayer = Replayer({symbol: series}, first, first + dt.timedelta(days=days * 2), 8,
                        seconds_per_day=0.4, loop=False)  # fmt: skip
    await replayer.run(producer, asyncio.Event(), max_days=days)
    bars = [bar for bar in series.bars if bar.date >= first][:days]
    return format_minor(intraday_path(bars[-1], 8)[-1])


@dataclass
class Person:
    """An account, its API token and its browser page."""

    account: Account
    token: str
    page: Page

    @property
    def id(self) -> str:
        return self.account.user_id


async def sign_in(page: Page, account: Account) -> None:
    """Through the login screen, as a person would."""
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(account.email)
    await page.get_by_test_id("login-password").fill(account.password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("my-clubs")).to_be_visible()


async def person(http: Api, new_context: NewContext, tag: str, **context: Any) -> Person:
    """A provisioned account, signed in through the UI in its own browser context."""
    account = await provision(tag=tag)
    tokens = await http.tokens(account)
    page = await (await new_context(**context)).new_page()
    await sign_in(page, account)
    return Person(account, tokens["access_token"], page)


async def create_club(
    http: Api, owner: Person, name: str, currency: str = "INR"
) -> dict[str, Any]:
    reply = await http.call(
        "POST", "/api/v1/clubs",
        json={"name": name, "description": "Blue chips, held long.", "currency": currency},
        token=owner.token,
    )  # fmt: skip
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def invite_url(http: Api, owner: Person, club_id: str) -> str:
    reply = await http.call(
        "POST", f"/api/v1/clubs/{club_id}/invites", json={"max_uses": 5}, token=owner.token
    )
    assert reply.status == 201, reply.body
    return str(reply.body["url"])


async def join(http: Api, member: Person, url: str) -> None:
    token = url.rsplit("/join/", 1)[1]
    reply = await http.call("POST", f"/api/v1/invites/{token}/accept", token=member.token)
    assert reply.status == 200, reply.body


async def open_room(page: Page, club_id: str) -> None:
    await page.goto(f"/clubs/{club_id}")
    await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
