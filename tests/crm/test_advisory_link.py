"""From a converted client to their advisory profile (the advisory service's risk
questionnaire result and portfolios) and back from their platform account to the client — over
HTTP, scoped like every CRM read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.advisory.schemas import AccountCreate
from app.advisory.service import advisory_service
from tests.advisory.factories import MODERATE
from tests.conftest import LiveStack
from tests.crm.conftest import email, team
from tests.crm.test_http import lead_of, move, person
from tests.identity.conftest import Api


@pytest.fixture
async def api(live_stack: LiveStack) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as http:
        yield Api(live_stack.url, http)


async def test_a_client_links_to_their_advisory_profile_and_back(api: Api) -> None:
    _, (agent, other) = await team(2)
    one, two = await person(api, agent), await person(api, other)
    lead = await lead_of(one, "Advised Client", email=email("advised"))
    await move(one, str(lead["id"]), "contacted", "qualified")
    made = await one.ok("POST", f"/api/v1/crm/leads/{lead['id']}/convert", {"invite": True},
                        status=201)  # fmt: skip
    client = made["client"]
    user_id = client["user_id"]
    path = f"/api/v1/crm/clients/{client['id']}/advisory"
    before = await one.ok("GET", path)
    assert (before["user_id"], before["risk_profile"], before["accounts"]) == (user_id, None, [])

    taken = await advisory_service.do_take_questionnaire(user_id, MODERATE)
    account = await advisory_service.do_open_account(user_id, AccountCreate(name="Long term"))
    after = await one.ok("GET", path)
    assert after["risk_profile"]["profile"] == taken.profile
    assert after["risk_profile"]["score"] == taken.score
    assert [(a["account_id"], a["kind"], a["name"]) for a in after["accounts"]] == [
        (account.account_id, "personal", "Long term")]  # fmt: skip
    assert after["client_path"] == f"/crm/clients/{client['id']}"

    # Back: from the account to the client, for those whose book it is in.
    back = await one.ok("GET", f"/api/v1/crm/clients/by-user/{user_id}")
    assert back["id"] == client["id"]
    for who, where in ((two, f"/api/v1/crm/clients/by-user/{user_id}"), (two, path),
                       (one, "/api/v1/crm/clients/by-user/nobody")):  # fmt: skip
        reply = await who.call("GET", where)
        assert (reply.status, reply.code) == (404, "client_not_found"), where
