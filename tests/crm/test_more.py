"""The rest of the CRM against the real services: the OpenAPI document lists every CRM route
with its schemas, KYC expiry alerts reach the client's manager once, the retention job erases
what the policy says and nothing twice, a client's investments come from their clubs, and the
demo data loads once."""

from __future__ import annotations

import datetime as dt

import pytest
from beanie import PydanticObjectId

from app.books.service import books_service
from app.clubs.service import club_service
from app.config import get_settings
from app.crm.documents import ActivityKind, Lead, LeadStatus
from app.crm.schemas import ConvertRequest, LeadCreate
from app.crm.service import crm_service
from app.crm.settings import crm_settings
from app.identity.documents import PlatformRole
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.notifications.documents import Notification
from app.web import create_app
from devtools.demo_crm import load_demo_crm
from tests.crm.conftest import email, staff

pytestmark = pytest.mark.usefixtures("services")


async def test_openapi_documents_every_crm_route() -> None:
    spec = await (await create_app(get_settings()).test_client().get("/openapi.json")).get_json()
    paths = {p: v for p, v in spec["paths"].items() if p.startswith("/api/v1/crm")}
    for path in ("/api/v1/crm/leads", "/api/v1/crm/leads/{lead_id}",
                 "/api/v1/crm/leads/{lead_id}/convert", "/api/v1/crm/leads/{lead_id}/merge",
                 "/api/v1/crm/leads/import", "/api/v1/crm/clients",
                 "/api/v1/crm/clients/{client_id}", "/api/v1/crm/clients/{client_id}/investments",
                 "/api/v1/crm/kyc/queue", "/api/v1/crm/kyc/{doc_id}/decision",
                 "/api/v1/crm/reports", "/api/v1/crm/web-form"):  # fmt: skip
        assert path in paths, path
    for path, methods in paths.items():
        for method, operation in methods.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
    post = paths["/api/v1/crm/leads"]["post"]
    assert "requestBody" in post and "201" in post["responses"] and "409" in post["responses"]


async def _convert(agent_actor, name: str):  # type: ignore[no-untyped-def]
    lead, _ = await crm_service.do_create_lead(
        agent_actor, LeadCreate(full_name=name, email=email())
    )
    for status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        await crm_service.do_change_status(agent_actor, str(lead.id), status, None)
    return await crm_service.do_convert(agent_actor, str(lead.id), ConvertRequest(invite=True))


async def test_kyc_expiry_alerts_reach_the_manager_once() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    _, client = await _convert(agent.actor, "Expiring Person")
    assert client.user_id is not None
    today = dt.datetime.now(dt.UTC).date()
    doc = KycDocument(user_id=client.user_id, kind=DocumentKind.DRIVING_LICENCE,
                      status=DocumentStatus.VERIFIED, file_id=str(PydanticObjectId()),
                      expires_on=(today + dt.timedelta(days=5)).isoformat())  # fmt: skip
    await doc.insert()
    assert await crm_service.do_kyc_expiry_alerts(today) >= 1
    await crm_service.do_kyc_expiry_alerts(today)
    await crm_service.do_kyc_expiry_alerts(today + dt.timedelta(days=1))  # same threshold
    sent = await Notification.find({"user_id": agent.user_id, "kind": "crm_kyc_expiry"}).to_list()
    assert len(sent) == 1 and "Expiring Person" in sent[0].title
    # Six days on it is inside the next threshold (1 day): one more alert.
    await crm_service.do_kyc_expiry_alerts(today + dt.timedelta(days=4))
    assert await Notification.find({"user_id": agent.user_id,
                                    "kind": "crm_kyc_expiry"}).count() == 2  # fmt: skip


async def test_retention_erases_old_lost_leads_only() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    lost, _ = await crm_service.do_create_lead(
        agent.actor, LeadCreate(full_name="Old Lost", email=email())
    )
    await crm_service.do_change_status(agent.actor, str(lost.id), LeadStatus.LOST, "no reply")
    open_lead, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name="Old Open", email=email()))  # fmt: skip
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=crm_settings().retention_lost_days + 1)
    assert await crm_service.do_retention_sweep(later) >= 1
    assert await crm_service.do_retention_sweep(later) == 0
    gone = await Lead.get(lost.id)
    kept = await Lead.get(open_lead.id)
    assert gone is not None and gone.erased_at is not None and gone.full_name == "(erased)"
    assert kept is not None and kept.erased_at is None and kept.full_name == "Old Open"


async def test_investments_come_from_the_clients_clubs() -> None:
    agent = await staff(PlatformRole.CRM_AGENT)
    _, client = await _convert(agent.actor, "Club Member")
    assert client.user_id is not None
    club, _ = await club_service.do_create_club(client.user_id, name="Client's Club")
    await books_service.do_contribute(str(club.id), client.user_id, amount=250_000,
                                      method="manual", note="first instalment")  # fmt: skip
    found, stakes, history = await crm_service.portfolio(agent.actor, str(client.id))
    assert [(t.club_name, t.kind, t.amount, t.status) for t in history] == [
        ("Client's Club", "contribution", 250_000, history[0].status)
    ]
    assert found.id == client.id
    assert [(s.club_id, s.club_name, s.value, s.valuation_date) for s in stakes] == [
        (str(club.id), "Client's Club", 0, None)
    ]
    await crm_service.do_log_client_activity(agent.actor, str(client.id), ActivityKind.MEETING,
                                             "reviewed the club's holdings")  # fmt: skip
    history = await crm_service.client_timeline(agent.actor, str(client.id))
    assert history[0].text == "reviewed the club's holdings"


async def test_demo_data_loads_once() -> None:
    first = await load_demo_crm()
    again = await load_demo_crm()
    assert (first, again) in ((1, 0), (0, 0))
    manager = await staff(PlatformRole.ADMIN)
    leads, total = await crm_service.leads(
        manager.actor, status=None, source=None, owner_id=None, text="ananya.iyer@example.com",
        skip=0, limit=5, sort="created",
    )  # fmt: skip
    assert total == 1 and leads[0].status == LeadStatus.QUALIFIED
