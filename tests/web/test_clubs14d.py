"""Issue #14 (and a #21 leftover) in Chromium, with two people:

* a rupee club proposes buying a dollar stock: the proposal form shows the latest price in
  dollars, the ECB rate of the quote's trading day with its date, the estimated cost in rupees
  and the broker FX margin the order's hold will add — by shares and by amount — each figure
  worked by hand from the ECB's published euro rates; the other member sees the proposal;
* a club that follows nothing yet watches its own market: a rupee club the NSE stocks, a dollar
  club the US ones.
Screenshots of the form (desktop and phone) in test-artifacts/."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction
from pathlib import Path

import pytest
from playwright.async_api import expect

from app.extensions import Services
from app.market import repository
from streams.producer import EventProducer
from streams.records import MarketTickV1
from streams.topics import MARKET_TICKS
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, create_club, invite_url, join, open_room, person

pytestmark = pytest.mark.browser

SYMBOL = "FXW14"  # an instrument of this test's own: no other test's ticks re-price it
TRADE_DATE = "2012-06-12"  # the quote's trading day: the ECB rate the form (and a hold) uses
PRICE = 18_745  # $187.45
# The ECB's euro rates of 12 June 2012: USD 1.2492, INR 69.712, so a dollar was
# 69.712 ÷ 1.2492 = 55.805315401… rupees.
RATE_E8 = round(Fraction("69.712") / Fraction("1.2492") * 10**8)
MARGIN_BPS = 300  # broker_fx_margin_bps, the default


def rupees(paise: int) -> str:
    """₹ with grouping (below a lakh the Indian and western groupings agree)."""
    assert paise < 100_000_00
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def converted(cents: int) -> int:
    """Cents → paise at the day's rate, rounded half-even once (docs/domain.md)."""
    return round(Fraction(cents * RATE_E8, 10**8))


def margin(paise: int) -> int:
    """The FX margin a hold adds: paise × 3 % rounded up."""
    return -(-paise * MARGIN_BPS // 10_000)


async def tick(producer: EventProducer) -> None:
    """One quote of ``SYMBOL`` through Kafka and the market agent, as the replayer sends it."""
    seq = time.time_ns() // 1000
    await producer.send(MARKET_TICKS, SYMBOL, MarketTickV1(
        id=f"{SYMBOL}:{seq}", seq=seq, ts=f"{TRADE_DATE}T14:00:00Z", symbol=SYMBOL, price=PRICE,
        open=PRICE, high=PRICE, low=PRICE, prev_close=PRICE, volume=None, currency="USD",
        trade_date=TRADE_DATE, source="test"))  # fmt: skip


async def test_a_rupee_club_prices_a_dollar_proposal_and_watches_its_own_market(
    http: Api, new_context: NewContext, producer: EventProducer, services: Services,
    artifacts: Path,
) -> None:  # fmt: skip
    await repository.upsert_instruments([
        {"symbol": SYMBOL, "name": "Clubs 14d test stock", "currency": "USD", "is_index": False,
         "source": "test", "first_date": TRADE_DATE, "last_date": TRADE_DATE},
    ])  # fmt: skip
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Rupee Abroad Proposals")  # INR
    club_id = club["id"]
    await join(http, ravi, await invite_url(http, asha, club_id))
    dollars = await create_club(http, ravi, "Dollar Watchers", "USD")

    # Following nothing yet, each club watches its own market.
    await open_room(ravi.page, dollars["id"])
    for symbol in ("AAPL", "MSFT", "GOOG", "IBM"):
        await expect(ravi.page.get_by_test_id(f"room-quote-{symbol}")).to_be_visible()
    await open_room(asha.page, club_id)
    owner = asha.page
    for symbol in ("INFY", "TCS", "RELIANCE", "HDFCBANK"):
        await expect(owner.get_by_test_id(f"room-quote-{symbol}")).to_be_visible()
    await expect(owner.get_by_test_id("market-watch")).to_be_visible()
    await expect(owner.locator('[data-testid^="room-quote-"]')).to_have_count(4)
    await expect(owner.get_by_test_id("room-quote-AAPL")).to_have_count(0)
    await owner.get_by_test_id("quotes-panel").screenshot(
        path=str(artifacts / "clubs14d-inr-market-watch-desktop.png")
    )
    await open_room(ravi.page, club_id)

    # The market quotes the dollar stock at $187.45 on 12 June 2012.
    await tick(producer)
    deadline = time.monotonic() + 60
    while (await http.call("GET", f"/api/v1/market/quotes/{SYMBOL}")).status != 200:
        assert time.monotonic() < deadline, "no quote reached the cache"
        await asyncio.sleep(0.2)

    # By shares: 7 × $187.45 = $1,312.15, at 55.80531540 = ₹73,224.94 (…4.47, half-even);
    # the hold adds 3 % rounded up (₹2,196.75): ₹75,421.69 set aside.
    assert RATE_E8 == 5_580_531_540
    cost = converted(7 * PRICE)
    assert (cost, margin(cost)) == (7_322_494, 219_675)
    await owner.get_by_test_id("propose").click()
    await owner.get_by_test_id("proposal-title").fill(f"Buy 7 {SYMBOL}")
    await owner.get_by_test_id("proposal-symbol").fill(SYMBOL)
    await owner.get_by_test_id("proposal-quantity").fill("7")
    await expect(owner.get_by_test_id("context-price")).to_have_text("$187.45")
    rate = owner.get_by_test_id("context-rate")
    await expect(rate).to_contain_text("55.80531540 INR per USD")
    await expect(rate).to_contain_text(f"({TRADE_DATE})")
    await expect(owner.get_by_test_id("context-cost-foreign")).to_have_text("$1,312.15")
    await expect(owner.get_by_test_id("context-cost")).to_have_text(rupees(cost))
    await expect(owner.get_by_test_id("context-margin")).to_contain_text(
        f"FX margin of 3% ({rupees(margin(cost))})"
    )
    await expect(owner.get_by_test_id("context-hold")).to_have_text(rupees(cost + margin(cost)))
    # Nothing is paid in yet: the club could not pay for it.
    await expect(owner.get_by_test_id("context-free-cash")).to_have_text("₹0.00")
    await expect(owner.get_by_test_id("context-short")).to_contain_text("could not pay")
    await owner.get_by_test_id("new-proposal").screenshot(
        path=str(artifacts / "clubs14d-fx-proposal-desktop.png")
    )

    # By amount: ₹50,000.00 buys floor(5,000,000 × 10^8 ÷ (18,745 × 5,580,531,540)) = 4 shares,
    # $749.80 = ₹41,842.83 (…2.55, half-even), held with ₹1,255.29 of margin: ₹43,098.12.
    shares = 5_000_000 * 10**8 // (PRICE * RATE_E8)
    cost = converted(shares * PRICE)
    assert (shares, cost, margin(cost)) == (4, 4_184_283, 125_529)
    await owner.get_by_test_id("proposal-by").select_option("amount")
    await owner.get_by_test_id("proposal-amount").fill("50000.00")
    await expect(owner.get_by_test_id("context-shares")).to_contain_text("buys 4 shares")
    await expect(owner.get_by_test_id("context-cost-foreign")).to_have_text("$749.80")
    await expect(owner.get_by_test_id("context-cost")).to_have_text(rupees(cost))
    await expect(owner.get_by_test_id("context-hold")).to_have_text(rupees(cost + margin(cost)))

    # Phone: the form and its estimate fit 390 px.
    await owner.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await owner.wait_for_timeout(300)
    width = await owner.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await owner.get_by_test_id("proposal-context").scroll_into_view_if_needed()
    await owner.wait_for_timeout(300)  # the scroll settles before the picture
    await owner.screenshot(path=str(artifacts / "clubs14d-fx-proposal-phone.png"))

    # The vote opens; the other member sees it.
    await owner.get_by_test_id("proposal-submit").click()
    card = ravi.page.locator(f'[data-testid^="proposal-"][data-title="Buy 7 {SYMBOL}"]')
    await expect(card).to_be_visible()
    await expect(owner.locator(".error-code")).to_have_count(0)
