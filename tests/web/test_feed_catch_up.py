"""A person's own logs catch up in the browser (issue #19, web/src/feed.ts): the events about a
person — a consultation booked with them, a broadcast — are in their log (``person:<id>``,
``broadcasts:all``) and replayed by ``feed:join`` when their socket comes back. Each test cuts
the watcher's network (its socket closes and new connections fail), makes the change through
the API as another person, brings the watcher back, and sees the change on screen without a
reload. Screenshots, desktop and phone, go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import expect

from app.advisory.advisors import advisor_service
from app.identity.documents import PlatformRole
from tests.identity.conftest import Api, provision
from tests.web.conftest import DESKTOP, PHONE, NewContext, person
from tests.web.test_advisor_desk import an_advisor
from tests.web.test_live_catch_up import back, cut, not_reloaded

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


async def test_the_advisor_desk_shows_a_booking_made_while_it_was_offline(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    adv = await an_advisor(http, new_context)
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    [slot] = await advisor_service.do_offer_slots(adv.id, [start])
    client = await provision(tag="kiran")
    client_token = (await http.tokens(client))["access_token"]

    desk = adv.page
    await desk.get_by_test_id("nav-advisor").click()
    row = desk.get_by_test_id(f"my-slot-{slot.id}")
    await expect(row).to_have_attribute("data-booked", "false")
    await expect(desk.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")

    await cut(desk)
    booked = await http.call("POST", f"/api/v1/advisors/{adv.id}/bookings", token=client_token,
                             json={"start": start.isoformat()})  # fmt: skip
    assert booked.status == 201, booked.body
    await desk.wait_for_timeout(1_000)  # the event was sent while nobody listened
    await expect(row).to_have_attribute("data-booked", "false")
    await back(desk)

    # Back online: feed:join replays the booking from the advisor's own log.
    await expect(row).to_have_attribute("data-booked", "true", timeout=15_000)
    await expect(desk.get_by_test_id(f"slot-client-{slot.id}")).to_have_text("Booked by Kiran")
    await expect(desk.get_by_test_id("slots-summary")).to_have_text("1 upcoming time · 1 booked")
    await not_reloaded(desk)
    await desk.set_viewport_size(DESKTOP)
    await desk.screenshot(path=str(artifacts / "feed-catch-up-advisor-desk-desktop.png"),
                          full_page=True)  # fmt: skip
    await desk.set_viewport_size(PHONE)
    await desk.screenshot(path=str(artifacts / "feed-catch-up-advisor-desk-phone.png"),
                          full_page=True)  # fmt: skip


async def test_a_broadcast_sent_while_offline_shows_once_back(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    watcher = await person(http, new_context, "ravi", viewport=PHONE)
    admin = await provision([PlatformRole.ADMIN], tag="admin")
    admin_token = (await http.tokens(admin))["access_token"]
    page = watcher.page
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")
    await expect(page.get_by_test_id("broadcast-banner")).to_have_count(0)

    await cut(page)
    sent = await http.call("POST", "/api/v1/admin/broadcasts", token=admin_token, json={
        "audience": "everyone", "title": "Maintenance tonight",
        "body": "Samooh is read-only 23:00–23:30 IST.", "severity": "warning"})  # fmt: skip
    assert sent.status == 201, sent.body
    await page.wait_for_timeout(1_000)
    await expect(page.get_by_test_id("broadcast-banner")).to_have_count(0)
    await back(page)

    banner = page.get_by_test_id("broadcast-banner")
    await expect(banner).to_have_attribute("data-broadcast-id", sent.body["id"], timeout=15_000)
    await expect(banner).to_contain_text("Maintenance tonight")
    await not_reloaded(page)
    await page.screenshot(path=str(artifacts / "feed-catch-up-broadcast-phone.png"),
                          full_page=True)  # fmt: skip
    await page.set_viewport_size(DESKTOP)
    await page.screenshot(path=str(artifacts / "feed-catch-up-broadcast-desktop.png"),
                          full_page=True)  # fmt: skip
    # Once each: it is not shown twice after another reconnection.
    await cut(page)
    await back(page)
    await expect(banner).to_have_count(1)
    await not_reloaded(page)
