"""The club room in Chromium: two members in two browser contexts see each other's chat, votes
and presence live; a contribution paid through the sandbox checkout lands on the other member's
screen; a dropped connection comes back by itself and catches up. Screenshots of the room at
desktop and phone sizes go to test-artifacts/."""

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
    create_club,
    invite_url,
    join,
    open_room,
    person,
    replay,
)

pytestmark = pytest.mark.browser


async def chat(page: Page, text: str) -> None:
    await page.get_by_test_id("chat-input").fill(text)
    await page.get_by_test_id("chat-send").click()


def message(page: Page, text: str) -> object:
    return page.get_by_test_id("chat-messages").get_by_text(text, exact=True)


async def test_two_members_see_chat_votes_and_presence_live(
    http: Api, new_context: NewContext, producer: EventProducer, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Tamarind Investors", "USD")  # it votes on MSFT
    # Ravi joins through the invite link the API hands out (a client-side path of the app).
    url = await invite_url(http, asha, club["id"])
    await ravi.page.goto(url)
    await ravi.page.get_by_test_id("join-accept").click()
    await expect(ravi.page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()
    await open_room(asha.page, club["id"])

    # Presence: each sees the other online.
    await expect(asha.page.get_by_test_id(f"member-{ravi.id}")).to_have_attribute(
        "data-online", "true"
    )
    await expect(ravi.page.get_by_test_id(f"member-{asha.id}")).to_have_attribute(
        "data-online", "true"
    )

    await chat(asha.page, "Shall we look at Microsoft this month?")
    await expect(message(ravi.page, "Shall we look at Microsoft this month?")).to_be_visible()  # type: ignore[attr-defined]
    await chat(ravi.page, "Yes — propose it and I will vote.")
    await expect(message(asha.page, "Yes — propose it and I will vote.")).to_be_visible()  # type: ignore[attr-defined]

    # Asha proposes through the form; Ravi sees it appear with its countdown.
    await asha.page.get_by_test_id("propose").click()
    await asha.page.get_by_test_id("proposal-title").fill("Buy 10 MSFT")
    await asha.page.get_by_test_id("proposal-symbol").fill("MSFT")
    await asha.page.get_by_test_id("proposal-quantity").fill("10")
    await asha.page.get_by_test_id("proposal-description").fill("Steady cash flows; a long hold.")
    await asha.page.get_by_test_id("proposal-submit").click()
    card = ravi.page.locator('[data-testid^="proposal-"][data-title="Buy 10 MSFT"]')
    await expect(card).to_be_visible()
    proposal_id = (await card.get_attribute("data-testid") or "").removeprefix("proposal-")
    await expect(ravi.page.get_by_test_id(f"countdown-{proposal_id}")).to_be_visible()
    # The proposal's symbol joins the room's live quotes, which stream in with their sparkline.
    await expect(ravi.page.get_by_test_id("room-quote-MSFT")).to_be_visible()
    last = await replay(producer, "MSFT", dt.date(2012, 5, 21), 5)
    for page in (asha.page, ravi.page):
        await expect(page.get_by_test_id("room-price-MSFT")).to_have_text(f"${last}")
    points = await ravi.page.get_by_test_id("room-spark-MSFT").get_attribute("data-points")
    assert int(points or 0) >= 3, points

    # Votes move both screens' bars live.
    await ravi.page.get_by_test_id(f"vote-yes-{proposal_id}").click()
    await expect(asha.page.get_by_test_id(f"tally-yes-{proposal_id}")).to_have_attribute(
        "data-count", "1"
    )
    await asha.page.get_by_test_id(f"vote-no-{proposal_id}").click()
    await expect(ravi.page.get_by_test_id(f"tally-no-{proposal_id}")).to_have_attribute(
        "data-count", "1"
    )
    await expect(ravi.page.get_by_test_id(f"vote-yes-{proposal_id}")).to_have_attribute(
        "aria-pressed", "true"
    )
    # Ravi changes his mind: the yes bar empties on Asha's screen.
    await ravi.page.get_by_test_id(f"vote-abstain-{proposal_id}").click()
    await expect(asha.page.get_by_test_id(f"tally-yes-{proposal_id}")).to_have_attribute(
        "data-count", "0"
    )
    await expect(asha.page.get_by_test_id(f"tally-abstain-{proposal_id}")).to_have_attribute(
        "data-count", "1"
    )

    # The proposal notified Ravi: the bell counts it.
    await expect(ravi.page.get_by_test_id("unread-count")).to_be_visible()

    await screenshots(asha, artifacts)


async def screenshots(member: Person, artifacts: Path) -> None:
    page = member.page
    await page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar stays at the top
    await page.wait_for_timeout(300)  # let the charts and bars settle
    await page.screenshot(path=str(artifacts / "club-room-desktop.png"), full_page=True)
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await page.wait_for_timeout(300)
    await page.screenshot(path=str(artifacts / "club-room-phone.png"), full_page=True)
    await page.screenshot(path=str(artifacts / "club-room-phone-first-screen.png"))
    await page.set_viewport_size(DESKTOP)  # type: ignore[arg-type]


async def money(http: Api, who: Person, path: str, body: dict[str, Any]) -> Any:
    """A money-moving POST (with its Idempotency-Key) that must succeed."""
    reply = await http.call(
        "POST", path, json=body, token=who.token, headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert reply.status == 201, (path, reply.body)
    return reply.body


async def club_with_history(http: Api, owner: Person, sandbox: SandboxClient, club_id: str) -> None:
    """The owner paid in three days ago; the club was valued, bought AAPL, and valued again."""
    today = dt.date.today()
    day = [(today - dt.timedelta(days=n)).isoformat() for n in range(4)]
    await verify_kyc(owner.id)  # $5,000 is past the KYC-free limit (dollars count in rupees)
    paid = await money(http, owner, f"/api/v1/clubs/{club_id}/contributions", {"amount": "5000.00"})
    await sandbox.pay(paid["order_id"], paid_at=f"{day[3]}T10:00:00Z")

    async def received() -> bool:
        reply = await http.call("GET", f"/api/v1/clubs/{club_id}/contributions", token=owner.token)
        return reply.body["contributions"][0]["status"] == "received"

    await eventually(received, timeout=30)
    base = f"/api/v1/clubs/{club_id}"
    await money(http, owner, f"{base}/valuations", {"valuation_date": day[3], "prices": {}})
    await money(
        http,
        owner,
        f"{base}/trades",
        {"side": "buy", "symbol": "AAPL", "quantity": 5, "price": "560.00", "trade_date": day[2]},
    )
    await money(
        http, owner, f"{base}/valuations", {"valuation_date": day[1], "prices": {"AAPL": "581.25"}}
    )


async def test_a_contribution_paid_at_the_sandbox_checkout_lands_on_the_other_screen(
    http: Api, new_context: NewContext, payment_stack: SandboxClient, artifacts: Path
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Monsoon Fund", "USD")  # it holds AAPL, a USD stock
    await join(http, ravi, await invite_url(http, asha, club["id"]))
    await verify_kyc(ravi.id)  # he pays $2,500 below: past the KYC-free limit in rupees
    await club_with_history(http, asha, payment_stack, club["id"])
    await open_room(asha.page, club["id"])
    await open_room(ravi.page, club["id"])
    # The portfolio as of the last valuation: 5 AAPL at 581.25 and the cash left.
    await expect(ravi.page.get_by_test_id("portfolio-panel").get_by_test_id("nav")).to_contain_text(
        "$5,106.25"
    )
    await expect(ravi.page.get_by_test_id("position-AAPL")).to_contain_text("$2,906.25")
    await expect(ravi.page.get_by_test_id("nav-chart")).to_be_visible()
    await expect(ravi.page.get_by_test_id("allocation-chart")).to_be_visible()

    await ravi.page.get_by_test_id("contribute-amount").fill("2500")
    async with ravi.page.context.expect_page() as opened:
        await ravi.page.get_by_test_id("contribute-submit").click()
    checkout = await opened.value  # opened blank inside the click, then sent to the checkout
    await checkout.wait_for_url(f"{payment_stack.url}/checkout/**")
    await expect(checkout.get_by_test_id("amount")).to_contain_text("2500.00")
    await checkout.get_by_test_id("pay").click()
    await expect(checkout.get_by_test_id("status")).to_be_visible()

    # Webhook → Kafka → worker → contribution:received in the club's room: both screens move.
    arrival = asha.page.locator('[data-testid^="arrival-"]')
    await expect(arrival).to_contain_text("$2,500.00", timeout=30_000)
    await expect(arrival).to_contain_text("received from")
    contribution = ravi.page.locator('[data-testid="contributions"] [data-status="received"]')
    await expect(contribution).to_contain_text("$2,500.00", timeout=30_000)
    # The owner's list shows Ravi's money as received too (no reload).
    await expect(
        asha.page.locator('[data-testid="contributions"] [data-status="received"]')
    ).to_have_count(1)

    # Valued today, Ravi holds units; his statement is built in the background, its progress
    # bar fills live, and it downloads.
    today = dt.date.today().isoformat()
    await money(
        http,
        asha,
        f"/api/v1/clubs/{club['id']}/valuations",
        {"valuation_date": today, "prices": {"AAPL": "590.00"}},
    )
    await ravi.page.reload()
    await expect(ravi.page.get_by_test_id("my-paid-in")).to_contain_text("$2,500.00")
    # Worked by hand: NAV before settling = cash $2,200 + 5 × $590 = $5,150 over 500 units
    # ($10.30 a unit); $2,500 ÷ $10.30 = 242.7184466… → 242.718447 (half-even, micro-units).
    await expect(ravi.page.get_by_test_id("my-units")).to_contain_text("242.718447")
    await ravi.page.get_by_test_id("report-kind").select_option("member_statement")
    await ravi.page.get_by_test_id("report-request").click()
    download_link = ravi.page.locator('[data-testid^="report-download-"]')
    await expect(download_link).to_be_visible(timeout=30_000)
    async with ravi.page.expect_download() as downloading:
        await download_link.click()
    assert (await downloading.value).suggested_filename.endswith(".pdf")
    await ravi.page.evaluate("window.scrollTo(0, 0)")
    await ravi.page.screenshot(path=str(artifacts / "club-room-portfolio.png"), full_page=True)

    # A position bought after the last valuation is in the table at once (live figures only),
    # beside the one valued then.
    await money(http, asha, f"/api/v1/clubs/{club['id']}/trades",
                {"side": "buy", "symbol": "IBM", "quantity": 2, "price": "30.00",
                 "trade_date": today})  # fmt: skip
    await ravi.page.reload()
    await expect(ravi.page.get_by_test_id("position-IBM")).to_contain_text("2")
    await expect(ravi.page.get_by_test_id("position-price-IBM")).to_have_text("—")
    await expect(ravi.page.get_by_test_id("position-AAPL")).to_contain_text("$2,950.00")


async def test_a_dropped_connection_reconnects_and_catches_up(
    http: Api, new_context: NewContext
) -> None:
    asha = await person(http, new_context, "asha")
    ravi = await person(http, new_context, "ravi")
    club = await create_club(http, asha, "Night Owls")
    await join(http, ravi, await invite_url(http, asha, club["id"]))
    await open_room(asha.page, club["id"])
    await open_room(ravi.page, club["id"])
    await chat(asha.page, "before the drop")
    await expect(message(ravi.page, "before the drop")).to_be_visible()  # type: ignore[attr-defined]

    # Ravi's network goes away: the open socket is cut and new connections fail.
    context = ravi.page.context
    await context.set_offline(True)
    await ravi.page.evaluate("window.__sockets.forEach((ws) => ws.close())")
    status = ravi.page.get_by_test_id("room-status")
    await expect(status).not_to_have_attribute("data-state", "live")
    await expect(asha.page.get_by_test_id(f"member-{ravi.id}")).to_have_attribute(
        "data-online", "false"
    )

    # Meanwhile the room moves on.
    for n in range(1, 4):
        await chat(asha.page, f"while you were away {n}")
    await expect(message(asha.page, "while you were away 3")).to_be_visible()  # type: ignore[attr-defined]

    await context.set_offline(False)
    await expect(status).to_have_attribute("data-state", "live", timeout=20_000)
    room = ravi.page.get_by_test_id("club-room")
    await expect(room).not_to_have_attribute("data-catch-ups", "0")
    for n in range(1, 4):
        await expect(message(ravi.page, f"while you were away {n}")).to_be_visible()  # type: ignore[attr-defined]
    seqs = await ravi.page.locator('[data-testid="chat-message"]').evaluate_all(
        "(items) => items.map((item) => Number(item.dataset.seq))"
    )
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs  # in order, none twice
    await expect(asha.page.get_by_test_id(f"member-{ravi.id}")).to_have_attribute(
        "data-online", "true"
    )

    # And it is live again both ways.
    await chat(ravi.page, "back online")
    await expect(message(asha.page, "back online")).to_be_visible()  # type: ignore[attr-defined]
