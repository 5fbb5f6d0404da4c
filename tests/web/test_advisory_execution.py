"""Robo-advice through execution, in Chromium: a person takes the questionnaire and gets a
recommendation, opens a taxable account (listed under Advice, never among their clubs), adopts
a recommendation for it, previews the rebalance and places the orders; the paper broker fills
them on replayed ticks (the market's real days), the orders turn "Filled" live and the account
shows the shares it now holds. Screenshots, desktop and phone, go to test-artifacts/."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.books.service import books_service
from app.clubs.service import club_service
from app.market.dataset import Series, load_catalogue
from app.money import format_minor
from devtools.replayer import Replayer
from streams.producer import EventProducer
from tests.advisory.factories import MODERATE
from tests.clubs.factories import paid_contribution
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, person, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480)]  # two optimisations, a replay

# Symbols other tests replay (their ticks could interleave with ours under xdist): the account's
# policy leaves them out, so its targets come from the rest of the market.
REPLAYED_ELSEWHERE = ["AAPL", "AMD", "BBY", "FB", "GOOG", "HD", "IBM", "JNJ", "KO", "MSFT", "PEP", "PG", "XOM"]
FIRST_DAY = dt.date(2012, 6, 18)  # after the replayed days of the other tests
DAYS_AFTER = 3


async def answer(page: Page, answers: dict[str, str]) -> None:
    for question, option in answers.items():
        await page.get_by_test_id(f"answer-{question}-{option}").check()


def quiet_window(series: dict[str, Series]) -> tuple[dt.date, dt.date]:
    """The first trading day from ``FIRST_DAY`` after which every symbol trades at or below
    that day's close within ``DAYS_AFTER`` days (so a limit buy at the close plus slippage
    fills on the replayed ticks, whose path passes through each day's low); and the last day
    to replay. Read from the real history, not assumed."""
    days = sorted({b.date for s in series.values() for b in s.bars if b.date >= FIRST_DAY})
    for i, day in enumerate(days[: -DAYS_AFTER - 1]):
        after = days[i + 1 : i + 1 + DAYS_AFTER]
        ok = True
        for one in series.values():
            bars = {b.date: b for b in one.bars}
            if day not in bars or any(d not in bars for d in after):
                ok = False
                break
            if min(bars[d].low for d in after) >= bars[day].close:
                ok = False
                break
        if ok:
            return day, after[-1]
    raise AssertionError("no window in the history where every symbol dips")


async def replay(producer: EventProducer, series: dict[str, Series], first: dt.date,
                 last: dt.date) -> None:  # fmt: skip
    """Every trading day of ``series`` from ``first`` to ``last`` as ticks, 8 a day, 0.4 s a
    day (the market data a live feed would send)."""
    replayer = Replayer(series, first, last, 8, seconds_per_day=0.4, loop=False)
    await replayer.run(producer, asyncio.Event(), max_days=len(replayer.days))


async def test_a_person_adopts_a_recommendation_and_the_orders_fill(
    http: Api, new_context: NewContext, producer: EventProducer, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    page = asha.page
    await page.get_by_test_id("nav-advice").click()
    await answer(page, MODERATE)
    await page.get_by_test_id("questionnaire-submit").click()
    await expect(page.get_by_test_id("profile")).to_have_attribute("data-profile", "moderate")
    await page.get_by_test_id("recommend").click()
    await expect(page.get_by_test_id("recommendation")).to_be_visible(timeout=60_000)

    # A taxable account of her own: the portfolio page opens; it is under Advice, not a club.
    await page.get_by_test_id("open-taxable").click()
    await expect(page.get_by_test_id("portfolio")).to_be_visible()
    account_id = await page.get_by_test_id("portfolio").get_attribute("data-account")
    assert account_id
    await page.goto("/clubs")
    await expect(page.get_by_test_id("no-clubs")).to_be_visible()
    await expect(page.get_by_test_id(f"club-{account_id}")).to_have_count(0)
    await page.goto("/advice")
    await expect(page.get_by_test_id(f"account-{account_id}")).to_have_text("My portfolio")

    # She pays in $10,000.00 (settled at a valuation); her policy leaves out some symbols.
    club, _ = await club_service.check_member(account_id, asha.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, asha.id, 1_000_000, today)
    await books_service.do_record_valuation(account_id, asha.id, valuation_date=today,
                                            prices={})  # fmt: skip
    policy = {"band_bps": 500, "min_trade": "0.00", "excluded": REPLAYED_ELSEWHERE,
              "max_weight_bps": 2500, "wash_sale_days": 30}  # fmt: skip
    reply = await http.call("PUT", f"/api/v1/portfolios/{account_id}/policy", token=asha.token,
                            json=policy)  # fmt: skip
    assert reply.status == 200, reply.body

    # She accepts a recommendation for the account: it becomes its targets.
    await page.get_by_test_id(f"account-{account_id}").click()
    await expect(page.get_by_test_id("no-targets")).to_be_visible()
    await page.get_by_test_id("adopt").click()
    await expect(page.get_by_test_id("recommendation")).to_be_visible(timeout=60_000)
    await expect(page.get_by_test_id("drifted")).to_be_visible()  # all cash: off target
    account = await http.call("GET", f"/api/v1/portfolios/{account_id}", token=asha.token)
    targets = sorted(account.body["targets"])
    assert len(targets) >= 4 and not set(targets) & set(REPLAYED_ELSEWHERE)

    # The market trades a day: prices now are that day's closes.
    catalogue = load_catalogue()
    series = {s: catalogue[s] for s in targets}
    first, last = quiet_window(series)
    await replay(producer, series, first, first)
    closes = {s: next(b.close for b in series[s].bars if b.date == first) for s in targets}
    for _ in range(100):
        held = await http.call("GET", f"/api/v1/portfolios/{account_id}/holdings",
                               token=asha.token)  # fmt: skip
        prices = {h["symbol"]: h["price"] for h in held.body["holdings"]}
        if prices == {s: format_minor(c) for s, c in closes.items()}:
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"quotes never reached {first}'s closes: {prices}")

    # The rebalance preview: whole-share buys within the cash; she places the orders.
    await page.get_by_test_id("rebalance-preview").click()
    trades = page.locator('[data-testid="trades"] tbody tr')
    await expect(trades.first).to_be_visible(timeout=30_000)
    count = await trades.count()
    assert count >= 4
    assert await page.locator('[data-testid="trades"] tr[data-side="sell"]').count() == 0
    await page.get_by_test_id("rebalance-execute").click()
    await expect(page.get_by_test_id("rebalance-ordered")).to_contain_text(
        f"{count} orders were sent"
    )
    orders = page.locator('[data-testid="orders"] tbody tr')
    await expect(orders).to_have_count(count)
    planned = await http.call("GET", f"/api/v1/clubs/{account_id}/orders", token=asha.token)
    quantities = {o["symbol"]: o["quantity"] for o in planned.body["orders"]}
    assert len(quantities) == count

    # The next days' ticks fill every order on the paper broker; the rows turn live.
    await replay(producer, series, first + dt.timedelta(days=1), last)
    for symbol in quantities:
        await expect(page.get_by_test_id(f"order-{symbol}")).to_have_attribute(
            "data-status", "filled", timeout=30_000
        )
    await expect(page.get_by_test_id("run-state")).to_have_attribute(
        "data-status", "executed", timeout=30_000)  # fmt: skip
    filled = await http.call("GET", f"/api/v1/clubs/{account_id}/orders", token=asha.token)
    assert {o["symbol"]: o["filled_quantity"] for o in filled.body["orders"]} == quantities
    for o in filled.body["orders"]:  # never above the limit (the planned price + 5 bps)
        assert float(o["average_price"]) <= float(o["limit_price"])

    # The account shows what it holds, priced at the market now.
    for symbol, quantity in quantities.items():
        await expect(page.get_by_test_id(f"shares-{symbol}")).to_have_text(f"{quantity} shares")
    held = await http.call("GET", f"/api/v1/portfolios/{account_id}/holdings", token=asha.token)
    assert {h["symbol"]: h["quantity"] for h in held.body["holdings"] if h["quantity"]} == (
        quantities
    )
    assert held.body["cash"] != "10000.00"
    await page.screenshot(path=str(artifacts / "advisory-account-filled-desktop.png"),
                          full_page=True)  # fmt: skip

    phone = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(phone, asha.account)
    await phone.goto(f"/advice/{account_id}")
    for symbol, quantity in quantities.items():
        await expect(phone.get_by_test_id(f"shares-{symbol}")).to_have_text(f"{quantity} shares")
    await expect(phone.locator('[data-testid="orders"] tr[data-status="filled"]')).to_have_count(
        count
    )
    await expect(phone.get_by_test_id("performance-figures")).to_be_visible(timeout=30_000)
    # The lots just bought: losses to harvest or none, depending on the replayed days' prices.
    await expect(
        phone.locator('[data-testid="tax-loss"], [data-testid="no-tax-loss"]')
    ).to_be_visible()
    table = phone.get_by_test_id("tax-loss")
    if await table.count():  # losses: the whole table fits the phone, each with a replacement
        fits = await table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth + 1")
        assert fits, "the tax-loss table is cut off on a phone"
        for cell in await phone.locator('[data-testid^="replacement-"]').all():
            assert (await cell.inner_text()).strip() != "—"
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await phone.screenshot(path=str(artifacts / "advisory-account-filled-phone.png"),
                           full_page=True)  # fmt: skip
