"""Consultations, in Chromium (issue #17): an advisor's booking list links to the client's
profile page (their risk profile and portfolios, shown only while a consultation is booked);
a client moves a booking to another free time from Advice (one atomic call: the old time is
free again, a time someone else holds is never offered nor taken). Desktop and phone (390 px);
screenshots in test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.advisory.factories import MODERATE
from tests.identity.conftest import Api
from tests.web.conftest import PHONE, NewContext, person
from tests.web.test_advisor_desk import an_advisor

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


async def test_an_advisor_opens_a_client_and_the_client_moves_the_booking(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    adv = await an_advisor(http, new_context)
    meera = await person(http, new_context, "meera", viewport=PHONE)
    raj = await person(http, new_context, "raj")
    base = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    starts = [base + dt.timedelta(hours=h) for h in range(3)]
    body = {"starts": [s.isoformat() for s in starts], "minutes": 30}
    offered = await http.call("POST", "/api/v1/advisors/me/slots", token=adv.token, json=body)
    assert offered.status == 201, offered.body
    free = await http.call("GET", f"/api/v1/advisors/{adv.id}/slots", token=meera.token)
    first, second, third = (s["start"] for s in free.body["slots"])

    # Meera has a profile and a portfolio; she books the first time, Raj the second.
    taken = await http.call("POST", "/api/v1/advisory/risk-profile", token=meera.token,
                            json={"answers": MODERATE})  # fmt: skip
    assert taken.status == 201, taken.body
    opened = await http.call("POST", "/api/v1/portfolios", token=meera.token,
                             json={"name": "Meera's own"})  # fmt: skip
    account_id = opened.body["account_id"]
    mine = await http.call("POST", f"/api/v1/advisors/{adv.id}/bookings", token=meera.token,
                           json={"start": first})  # fmt: skip
    assert mine.status == 201, mine.body
    booking_id = mine.body["id"]
    theirs = await http.call("POST", f"/api/v1/advisors/{adv.id}/bookings", token=raj.token,
                             json={"start": second})  # fmt: skip
    assert theirs.status == 201, theirs.body

    # The advisor's list links each booked time to the client's profile page.
    desk = adv.page
    await desk.goto("/advisor")
    booked = desk.locator('[data-testid="my-slots"] li[data-booked="true"]')
    await expect(booked).to_have_count(2)
    link = booked.filter(has_text="Meera").locator('[data-testid^="slot-profile-"]')
    await expect(link).to_have_attribute("href", f"/advisor/clients/{meera.id}")
    await link.click()
    await expect(desk.get_by_test_id("advisor-client")).to_have_attribute("data-client", meera.id)
    await expect(desk.get_by_test_id("client-name")).to_have_text("Meera")
    await expect(desk.get_by_test_id("client-risk")).to_have_attribute("data-profile", "moderate")
    await expect(desk.get_by_test_id(f"client-account-{account_id}")).to_contain_text(
        "Meera's own")  # fmt: skip
    await desk.screenshot(path=str(artifacts / "advisory-client-profile-desktop.png"),
                          full_page=True)  # fmt: skip
    # Someone with no consultation booked: nothing of theirs, said in words.
    stranger = await person(http, new_context, "stranger")
    await desk.goto(f"/advisor/clients/{stranger.id}")
    await expect(desk.get_by_test_id("advisor-client-error")).to_be_visible()
    await expect(desk.get_by_test_id("client-risk")).to_have_count(0)

    # Meera, on her phone, moves her consultation: Raj's time is not offered, the third is.
    page = meera.page
    await page.goto("/advice")
    await page.get_by_test_id(f"move-booking-{booking_id}").click()
    await expect(page.get_by_test_id("move-slots")).to_be_visible()
    await expect(page.get_by_test_id(f"move-to-{second}")).to_have_count(0)
    await expect(page.get_by_test_id(f"move-to-{first}")).to_have_count(0)  # her own time
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone ({width}px)"
    await page.screenshot(path=str(artifacts / "advisory-booking-move-phone.png"),
                          full_page=True)  # fmt: skip
    await page.get_by_test_id(f"move-to-{third}").click()
    await expect(page.get_by_test_id("advisor-done")).to_contain_text("Moved to")
    moved = page.locator('[data-testid="my-bookings"] li')
    await expect(moved).to_have_count(1)
    await expect(moved).to_have_attribute("data-start", third)

    # The server agrees: one booking at the third time, the first free again, no double booking.
    now = await http.call("GET", "/api/v1/bookings", token=meera.token)
    active = [b for b in now.body["bookings"] if b["status"] == "booked"]
    assert [b["start"] for b in active] == [third]
    again = await http.call("GET", f"/api/v1/advisors/{adv.id}/slots", token=raj.token)
    assert [s["start"] for s in again.body["slots"]] == [first]
    clash = await http.call("POST", f"/api/v1/bookings/{theirs.body['id']}/reschedule",
                            token=raj.token, json={"start": third})  # fmt: skip
    assert clash.status == 409 and clash.body["error"]["code"] == "slot_unavailable"

    # The advisor's desk shows the move, the profile link on the new time.
    await desk.goto("/advisor")
    await expect(booked).to_have_count(2)
    await expect(link).to_have_attribute("href", f"/advisor/clients/{meera.id}")
    await desk.screenshot(path=str(artifacts / "advisory-advisor-bookings-desktop.png"),
                          full_page=True)  # fmt: skip
