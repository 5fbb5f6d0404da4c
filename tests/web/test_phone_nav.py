"""The top bar on a phone (390 px) with every place a staff member may go: the places scroll
within the bar, the current one is in view, and an edge fades while places are hidden past it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from app.identity.documents import PlatformRole
from tests.identity.conftest import Api, provision
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def in_view(page: Page, link: Locator) -> bool:
    """The link lies wholly inside the bar's visible part."""
    box, bar = await link.bounding_box(), await page.get_by_test_id("topnav").bounding_box()
    assert box is not None and bar is not None
    return box["x"] >= bar["x"] - 1 and box["x"] + box["width"] <= bar["x"] + bar["width"] + 1


async def test_every_place_is_reachable_on_a_phone(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    account = await provision([PlatformRole.ADMIN, PlatformRole.CRM_MANAGER], tag="navstaff")
    page = await (await new_context(viewport=PHONE)).new_page()
    await sign_in(page, account)
    nav = page.get_by_test_id("topnav")
    await expect(page.get_by_test_id("nav-crm")).to_be_attached()
    # Eight places do not fit 390 px: the bar scrolls, never the page, and says there is more.
    assert await nav.evaluate("(el) => el.scrollWidth > el.clientWidth")
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 390
    await expect(nav).to_have_attribute("data-more-right", "true")
    await expect(nav).to_have_attribute("data-more-left", "false")
    assert not await in_view(page, page.get_by_test_id("nav-crm"))
    await page.screenshot(path=str(artifacts / "phone-nav-start.png"))

    # Opening a place far along the bar brings its link into view; the start edge fades now.
    await page.goto("/campaigns")
    await expect(page.get_by_test_id("nav-campaigns")).to_have_class("nav-link active")
    assert await in_view(page, page.get_by_test_id("nav-campaigns"))
    await nav.evaluate("(el) => el.scrollTo({ left: el.scrollWidth })")
    await expect(nav).to_have_attribute("data-more-right", "false")
    await expect(nav).to_have_attribute("data-more-left", "true")
    assert await in_view(page, page.get_by_test_id("nav-crm"))
    await page.get_by_test_id("nav-crm").click()
    await expect(page).to_have_url(re.compile(r"/crm$"))
    assert await in_view(page, page.get_by_test_id("nav-crm"))
    await page.screenshot(path=str(artifacts / "phone-nav-crm.png"))
