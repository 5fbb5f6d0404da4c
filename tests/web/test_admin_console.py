"""The admin console in Chromium: find a user, and a broadcast composed there reaches a signed-in
member's screen live (and the console sees its own live delivery)."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from app.identity.documents import PlatformRole
from tests.identity.conftest import Api, provision
from tests.web.conftest import NewContext, person, sign_in

pytestmark = pytest.mark.browser


async def test_admin_finds_users_and_broadcasts_live(http: Api, new_context: NewContext) -> None:
    member = await person(http, new_context, "kiran")
    admin_account = await provision([PlatformRole.ADMIN], tag="admin")
    admin = await (await new_context()).new_page()
    await sign_in(admin, admin_account)

    await admin.get_by_test_id("nav-admin").click()
    await admin.get_by_test_id("user-search").fill(member.account.email)
    await admin.get_by_test_id("user-search-submit").click()
    row = admin.get_by_test_id(f"user-{member.id}")
    await expect(row).to_have_attribute("data-status", "ACTIVE")
    await expect(admin.locator('[data-testid^="user-"][data-email]')).to_have_count(1)

    await admin.get_by_test_id("admin-tab-broadcasts").click()
    await admin.get_by_test_id("broadcast-title").fill("Maintenance tonight")
    await admin.get_by_test_id("broadcast-body").fill("Payments pause 23:00–23:15 IST.")
    await admin.get_by_test_id("broadcast-send").click()
    await expect(admin.get_by_test_id("broadcast-sent")).to_be_visible()
    await expect(admin.get_by_test_id("broadcast-delivered")).to_be_visible()

    banner = member.page.get_by_test_id("broadcast-banner")
    await expect(banner).to_contain_text("Maintenance tonight")
    await expect(banner).to_contain_text("Payments pause 23:00–23:15 IST.")
