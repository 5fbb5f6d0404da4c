"""The signed-in person's own pages in Chromium: two-step verification is set up on the Security
page (QR code, a code computed with pyotp, recovery codes shown once), then signing in asks for
the second step; and on My KYC a PAN with its scan goes to review, an admin verifies it, and the
page shows it verified live. Screenshots go to test-artifacts/."""

from __future__ import annotations

import random
import re
import string
import time
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import expect

from app.identity.documents import PlatformRole
from tests.files.samples import png
from tests.identity.conftest import Api, provision
from tests.web.conftest import NewContext, person

pytestmark = pytest.mark.browser


async def test_mfa_enrolment_recovery_codes_and_the_login_step(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    me = await person(http, new_context, "meera")
    page = me.page
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("nav-security").click()
    await expect(page.get_by_test_id("mfa-state")).to_have_text("Off")

    await page.get_by_test_id("mfa-start").click()
    # The QR code is fetched with the bearer token and shown from a blob: URL.
    qr = page.get_by_test_id("mfa-qr")
    await expect(qr).to_have_attribute("src", re.compile(r"^blob:"))
    assert await qr.evaluate("(img) => img.complete && img.naturalWidth > 0")
    secret = (await page.get_by_test_id("mfa-secret").inner_text()).replace(" ", "")
    totp = pyotp.TOTP(secret)
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(artifacts / "security-mfa-enrol.png"), full_page=True)

    enrolled_at = time.time()
    await page.get_by_test_id("mfa-confirm-code").fill(totp.at(int(enrolled_at)))
    await page.get_by_test_id("mfa-confirm").click()
    codes = page.get_by_test_id("recovery-code")
    await expect(codes).to_have_count(10)
    first_codes = await codes.all_inner_texts()
    async with page.expect_download() as downloading:
        await page.get_by_test_id("recovery-download").click()
    assert (await downloading.value).suggested_filename == "samooh-recovery-codes.txt"
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(artifacts / "security-recovery-codes.png"), full_page=True)
    await page.get_by_test_id("recovery-done").click()
    await expect(page.get_by_test_id("mfa-state")).to_have_text("On")

    # New recovery codes need a fresh authenticator code (step-up); the old ones stop working.
    await page.get_by_test_id("mfa-regenerate").click()
    # The step after the enrolment's: fresh, and inside the ±1-step window.
    await page.get_by_test_id("mfa-step-up-code").fill(totp.at(int(enrolled_at) + 30))
    await page.get_by_test_id("mfa-step-up-submit").click()
    await expect(codes).to_have_count(10)
    new_codes = await codes.all_inner_texts()
    assert not set(new_codes) & set(first_codes)
    await page.get_by_test_id("recovery-done").click()

    # Signing in again asks for the second step; a recovery code answers it.
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("logout").click()
    await page.get_by_test_id("login-email").fill(me.account.email)
    await page.get_by_test_id("login-password").fill(me.account.password)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("mfa-code").fill(new_codes[0])
    await page.get_by_test_id("mfa-submit").click()
    await expect(page.get_by_test_id("account-menu")).to_be_visible()  # signed in again
    await expect(page.get_by_test_id("mfa")).to_have_count(0)


def new_pan() -> str:
    """A well-formed PAN of a person (4th letter P), unique enough for one test run."""
    letters = random.choices(string.ascii_uppercase, k=4)
    return f"{''.join(letters[:3])}P{letters[3]}{random.randint(0, 9999):04d}" + random.choice(
        string.ascii_uppercase
    )


async def test_kyc_pan_goes_to_review_and_shows_verified(
    http: Api, new_context: NewContext, artifacts: Path
) -> None:
    me = await person(http, new_context, "farah")
    page = me.page
    await page.get_by_test_id("account-menu").click()
    await page.get_by_test_id("nav-kyc").click()
    await expect(page.get_by_test_id("kyc-status")).to_have_text("Not started")
    await expect(page.get_by_test_id("kyc-missing-pan")).to_be_visible()
    await expect(page.get_by_test_id("kyc-limit")).to_contain_text("₹")

    pan = new_pan()
    await page.get_by_test_id("kyc-add").click()
    await page.get_by_test_id("kyc-kind").select_option("pan")
    await page.get_by_test_id("kyc-number").fill(pan)
    await page.get_by_test_id("kyc-file").set_input_files(
        {"name": "pan-card.png", "mimeType": "image/png", "buffer": png(24, 16, seed=7)}
    )
    await page.get_by_test_id("kyc-submit").click()
    doc = page.locator('[data-testid^="kyc-doc-"][data-kind="pan"]')
    await expect(doc).to_have_attribute("data-status", "pending")
    await expect(doc).to_contain_text(pan)
    await expect(page.get_by_test_id("kyc-status")).to_have_text("Pending")
    doc_id = (await doc.get_attribute("data-testid") or "").removeprefix("kyc-doc-")

    # An admin verifies it through the API: the page follows live (kyc:status).
    admin = await provision([PlatformRole.ADMIN], tag="reviewer")
    token = (await http.tokens(admin))["access_token"]
    reply = await http.call(
        "POST", f"/api/v1/admin/kyc/documents/{doc_id}/decision", json={"decision": "verify"},
        token=token,
    )  # fmt: skip
    assert reply.status == 200, reply.body
    await expect(doc).to_have_attribute("data-status", "verified")
    await expect(page.get_by_test_id(f"kyc-doc-status-{doc_id}")).to_have_text("Verified")
    # The PAN alone is not the whole KYC: a proof of address is still missing.
    await expect(page.get_by_test_id("kyc-missing-pan")).to_have_count(0)
    await expect(page.get_by_test_id("kyc-missing-proof_of_address")).to_be_visible()
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=str(artifacts / "my-kyc.png"), full_page=True)
