"""Clients entered directly, their KYC and the pipeline report in Chromium: an agent adds a
client with an invitation (desktop), uploads the client's PAN scan on the client page — a PNG,
checked on its content — and sees it pending; their manager verifies it in the KYC queue on a
390 px phone, the client page then shows it verified, and the manager downloads the pipeline
report as a PDF built by the reports agent. Screenshots (desktop and phone) go to
test-artifacts/."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from app.crm.documents import Client
from tests.crm.conftest import Staff, email, team
from tests.files.samples import png, windows_executable
from tests.identity.conftest import Account
from tests.kyc.test_workflow_http import new_pan
from tests.web.conftest import PHONE, NewContext, sign_in

pytestmark = pytest.mark.browser


async def signed_in(new_context: NewContext, who: Staff, **context: object) -> Page:
    page = await (await new_context(**context)).new_page()
    await sign_in(page, Account(who.email, who.password, who.user_id))
    return page


async def test_a_client_added_directly_and_their_kyc_verified(
    new_context: NewContext, artifacts: Path, tmp_path: Path
) -> None:
    manager, (agent,) = await team(1)
    name = f"Farah Khan {uuid.uuid4().hex[:4]}"
    desk = await signed_in(new_context, agent)
    await desk.goto("/crm/clients")
    await desk.get_by_test_id("new-client-open").click()
    await desk.get_by_test_id("client-name").fill(name)
    await desk.get_by_test_id("client-email").fill(email("farah"))
    await desk.get_by_test_id("client-capacity").fill("2500000")
    await desk.get_by_test_id("client-invite").check()
    await desk.get_by_test_id("client-save").click()
    await expect(desk.get_by_test_id("client-title")).to_have_text(name)
    await expect(desk.get_by_test_id("client-segment")).to_have_text("Affluent")
    await expect(desk.get_by_test_id("kyc-status")).to_have_text("Not started")
    # The advisory profile (none yet), and the way back from the account to this page.
    await expect(desk.get_by_test_id("advisory-none")).to_be_visible()
    stored = await Client.find_one({"full_name": name})
    assert stored is not None and stored.user_id
    page_url = desk.url
    await desk.goto(f"/crm/people/{stored.user_id}")
    await expect(desk.get_by_test_id("client-title")).to_have_text(name)
    assert desk.url == page_url

    # A program disguised as a scan is refused on its content, in words.
    fake = tmp_path / "pan.pdf"
    fake.write_bytes(windows_executable())
    pan = new_pan()
    await desk.get_by_test_id("kyc-number").fill(pan)
    await desk.get_by_test_id("kyc-file").set_input_files(str(fake))
    await desk.get_by_test_id("kyc-upload-save").click()
    await expect(desk.get_by_test_id("kyc-error")).to_be_visible()
    await expect(desk.get_by_test_id("kyc-documents")).to_have_count(0)
    scan = tmp_path / "pan-scan.png"
    scan.write_bytes(png(seed=7))
    await desk.get_by_test_id("kyc-file").set_input_files(str(scan))
    await desk.get_by_test_id("kyc-upload-save").click()
    row = desk.get_by_test_id("kyc-documents").locator('[data-kind="pan"]')
    await expect(row).to_have_attribute("data-status", "pending")
    await expect(desk.get_by_test_id("kyc-status")).to_have_text("Pending")
    await expect(desk.get_by_test_id("timeline")).to_contain_text("KYC pan uploaded for review")
    await desk.screenshot(path=str(artifacts / "crm-client-kyc-desktop.png"), full_page=True)

    boss = await signed_in(new_context, manager, viewport=PHONE)
    await boss.goto("/crm/kyc")
    item = boss.get_by_test_id("crm-kyc").locator("li").filter(has_text=name)
    await expect(item).to_be_visible()
    # The reviewer opens the scan beside its details before verifying (Verify waits for it).
    await expect(item.get_by_role("button", name="Verify")).to_be_disabled()
    await expect(item).to_contain_text(pan)
    await item.get_by_role("button", name="Open scan").click()
    await expect(item.locator("img.kyc-scan")).to_be_visible()
    # the scan decoded: its width once it has loaded (visible comes before loaded)
    assert (
        await item.locator("img.kyc-scan").evaluate(
            "i => i.complete && i.naturalWidth ? i.naturalWidth : new Promise((done) =>"
            " i.addEventListener('load', () => done(i.naturalWidth), { once: true }))"
        )
        > 0
    )
    await boss.screenshot(path=str(artifacts / "crm-kyc-queue-phone.png"), full_page=True)
    await item.get_by_role("button", name="Verify").click()
    await expect(item).to_have_count(0)

    await desk.reload()
    await expect(row).to_have_attribute("data-status", "verified")
    await expect(desk.get_by_test_id("kyc-status")).to_have_text("Incomplete")

    # The manager's pipeline report, built by the reports agent, downloaded in the browser.
    chief = await signed_in(new_context, manager)
    await chief.goto("/crm/dashboard")
    await expect(chief.get_by_test_id("kpi-leads")).to_have_text("1")
    await chief.get_by_test_id("report-pdf").click()
    link = chief.get_by_test_id("report-download")
    await expect(link).to_be_visible(timeout=60_000)
    async with chief.expect_download() as waiting:
        await link.click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    await download.save_as(str(saved))
    assert saved.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(saved), "-"], capture_output=True, check=True)
    assert "CRM pipeline report" in text.stdout.decode()
    await chief.screenshot(path=str(artifacts / "crm-dashboard-report-desktop.png"),
                           full_page=True)  # fmt: skip
