"""A page reloaded again and again keeps its session (the tab's parked refresh token): also when
each reload cuts the previous page's restore short — its refresh, or its first authenticated
call, still in flight. The aborted call must not throw the parked token away (the page used to
land signed out after a quick second reload, with no failed request to show for it)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Route, expect

from tests.identity.conftest import Api
from tests.web.conftest import NewContext, person

pytestmark = pytest.mark.browser


async def _slowly(route: Route) -> None:
    await asyncio.sleep(0.8)  # long enough for the next reload to land while it is in flight
    await route.continue_()


async def _signed_in(page: Page) -> None:
    # Signed in, however slowly a loaded machine answers: what must not happen is landing
    # signed out (the "Sign up" link), which this waits out too and then fails on.
    await expect(page.get_by_test_id("account-menu")).to_be_visible(timeout=45_000)


@pytest.mark.parametrize("slow", ["/api/v1/auth/refresh", "/api/v1/me"])
async def test_reloads_that_cut_the_restore_short_keep_the_session(
    http: Api, new_context: NewContext, slow: str
) -> None:
    ravi = await person(http, new_context, "ravi")
    page = ravi.page
    await page.goto("/clubs")
    await _signed_in(page)
    await page.route(f"**{slow}", _slowly)
    for delay in (0.15, 0.3, 0.45, 0.6, 0.3, 0.15):
        # Reload, and reload again while the new page's restore is waiting on ``slow``.
        await page.reload(wait_until="commit")
        await asyncio.sleep(delay)
        await page.reload(wait_until="commit")
        await _signed_in(page)
    await page.unroute(f"**{slow}")
    # Still the one session: a plain reload and an authenticated call work.
    await page.reload()
    await _signed_in(page)
    await expect(page.get_by_test_id("my-clubs")).to_be_visible()
