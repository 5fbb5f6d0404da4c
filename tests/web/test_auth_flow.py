"""Sign-up → e-mailed code (read from the real dev outbox) → verify → log in → create a club, in
Chromium; and the SPA's client-side paths are served without shadowing the API."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.identity.conftest import Api, new_email, new_password
from tests.web.conftest import NewContext

pytestmark = pytest.mark.browser


async def test_sign_up_verify_log_in_and_create_a_club(http: Api, new_context: NewContext) -> None:
    page = await (await new_context()).new_page()
    email, password = new_email("web"), new_password()

    await page.goto("/signup")
    await page.get_by_test_id("signup-name").fill("Meera Iyer")
    await page.get_by_test_id("signup-email").fill(email)
    await page.get_by_test_id("signup-password").fill("1234567890")  # a common one: refused
    await page.get_by_test_id("signup-submit").click()
    error = page.get_by_test_id("error")
    await expect(error).to_have_attribute("data-code", "weak_password")

    await page.get_by_test_id("signup-password").fill(password)
    await page.get_by_test_id("signup-submit").click()
    await expect(page.get_by_test_id("verify")).to_be_visible()
    await expect(page.get_by_test_id("verify-email")).to_have_value(email)

    await page.get_by_test_id("verify-code").fill("000000")
    await page.get_by_test_id("verify-submit").click()
    await expect(page.get_by_test_id("error")).to_have_attribute("data-code", "invalid_code")

    code = await http.latest_code(email, "verification")
    await page.get_by_test_id("verify-code").fill(code)
    await page.get_by_test_id("verify-submit").click()
    await expect(page.get_by_test_id("member-id")).to_have_text(re.compile(r"UCFSIN-\d{4}-\d{6}"))

    await page.get_by_test_id("verified-login").click()
    await expect(page.get_by_test_id("login-email")).to_have_value(email)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("no-clubs")).to_be_visible()
    await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "connected")

    # A reload keeps the session (the tab's refresh token, rotated).
    await page.reload()
    await expect(page.get_by_test_id("my-clubs")).to_be_visible()

    await page.get_by_test_id("create-club-link").click()
    await page.get_by_test_id("club-name").fill("Sunday Savers")
    await page.get_by_test_id("club-create").click()
    await expect(page.get_by_test_id("club-name")).to_have_text("Sunday Savers")
    await expect(page.locator('[data-testid="club-room"][data-phase="live"]')).to_be_visible()

    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("logout").click()
    await expect(page.get_by_test_id("login")).to_be_visible()
    await page.goto("/clubs")  # signed out: sent to the login screen, coming back after
    await expect(page).to_have_url(re.compile(r"/login\?next=%2Fclubs$"))


async def test_client_paths_serve_the_app_and_the_api_keeps_its_errors(http: Api) -> None:
    for path in ("/login", "/clubs", "/clubs/abc123", "/join/some-token", "/admin", "/market"):
        reply = await http.call("GET", path)
        assert reply.status == 200, path
        assert b'<div id="app"' in reply.body, path
    missing = await http.call("GET", "/api/v1/no-such-thing")
    assert missing.status == 404 and missing.code is not None
    assert (await http.call("GET", "/openapi.json")).status == 200
