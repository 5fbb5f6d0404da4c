"""What the new-user trial of the CRM found (issue #18), each over HTTP against the running
server: an agent cannot reach an existing platform account by typing its e-mail (the holder
must accept, signed in), and the fixes that follow it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.advisory.service import advisory_service
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from tests.advisory.factories import MODERATE
from tests.conftest import LiveStack
from tests.crm.conftest import email, staff
from tests.crm.test_http import lead_of, move, person
from tests.files.http import Person
from tests.identity.conftest import Account, Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def member(api: Api, name: str = "Existing Member") -> Person:
    """A platform member of their own (not staff), signed in."""
    address, password = email("member"), "Member-pass-2026!"
    user = await do_provision_user(email=address, password=password, full_name=name)
    own = Api(api.base, api.http)
    account = Account(address, password, str(user.id))
    return Person(own, account, (await own.tokens(account))["access_token"])


async def test_an_existing_account_is_linked_only_when_its_holder_accepts(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    holder = await member(api)
    stranger = await member(api, "Someone Else")
    await advisory_service.do_take_questionnaire(holder.id, MODERATE)

    made = await agent.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Typed By Agent", "email": holder.account.email, "invite": True,
    }, status=201)  # fmt: skip
    client = made["client"]
    cid = client["id"]
    assert (client["user_id"], client["link_pending"]) == (None, True)
    # Nothing of the account reaches the CRM before the holder agrees.
    portfolio = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/portfolio")
    assert (portfolio["member"], portfolio["investments"]) == (False, [])
    kyc = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/kyc")
    assert (kyc["member"], kyc["status"]) == (False, "not_started")
    advisory = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/advisory")
    assert (advisory["user_id"], advisory["risk_profile"]) == (None, None)
    form = aiohttp.FormData()
    form.add_field("client_id", cid)
    form.add_field("kind", "pan")
    form.add_field("number", "ABCDE1234F")
    form.add_field("file", PNG, filename="pan.png", content_type="image/png")
    async with api.http.post(
        f"{api.base}/api/v1/crm/kyc/documents",
        data=form,
        headers={"Authorization": f"Bearer {agent.token}"},
    ) as reply:
        assert reply.status == 409 and (await reply.json())["error"]["code"] == \
            "client_not_member"  # fmt: skip
    assert (await holder.ok("GET", "/api/v1/kyc"))["documents"] == []
    # Inviting again changes nothing; the holder was asked, not told they have an account.
    again = await agent.ok("POST", f"/api/v1/crm/clients/{cid}/invite")
    assert (again["user_id"], again["link_pending"]) == (None, True)
    subjects = [m["subject"] for m in await api.outbox(holder.account.email)]
    assert subjects == ["Link your Samooh account?"]

    # Only the holder may answer, signed in.
    assert (await stranger.ok("GET", "/api/v1/crm/link-requests"))["items"] == []
    refused = await stranger.call("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert (refused.status, refused.code) == (404, "client_not_found")
    waiting = await holder.ok("GET", "/api/v1/crm/link-requests")
    assert [i["client_id"] for i in waiting["items"]] == [cid]
    answered = await holder.ok("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert answered == {"client_id": cid, "linked": True}
    twice = await holder.call("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": True})
    assert (twice.status, twice.code) == (404, "client_not_found")
    linked = await agent.ok("GET", f"/api/v1/crm/clients/{cid}")
    assert (linked["user_id"], linked["link_pending"]) == (holder.id, False)
    advisory = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/advisory")
    assert advisory["risk_profile"]["profile"] == "moderate"
    timeline = await agent.ok("GET", f"/api/v1/crm/clients/{cid}/timeline")
    assert "They agreed to link their platform account" in [i["text"] for i in timeline["items"]]


async def test_a_declined_or_converted_link_request_reveals_nothing(api: Api) -> None:
    agent = await person(api, await staff(PlatformRole.CRM_AGENT))
    holder = await member(api)
    lead = await lead_of(agent, "Converted Member", email=holder.account.email)
    await move(agent, str(lead["id"]), "contacted", "qualified")
    made = await agent.ok("POST", f"/api/v1/crm/leads/{lead['id']}/convert", {"invite": True},
                          status=201)  # fmt: skip
    cid = made["client"]["id"]
    assert (made["client"]["user_id"], made["client"]["link_pending"]) == (None, True)
    declined = await holder.ok("POST", f"/api/v1/crm/link-requests/{cid}", {"accept": False})
    assert declined == {"client_id": cid, "linked": False}
    after = await agent.ok("GET", f"/api/v1/crm/clients/{cid}")
    assert (after["user_id"], after["link_pending"]) == (None, False)
    assert (await agent.ok("GET", f"/api/v1/crm/clients/{cid}/portfolio"))["member"] is False
    # A new address still gets its own account at once.
    fresh = await agent.ok("POST", "/api/v1/crm/clients", {
        "full_name": "Brand New", "email": email("new"), "invite": True}, status=201)  # fmt: skip
    assert fresh["client"]["user_id"] and not fresh["client"]["link_pending"]
