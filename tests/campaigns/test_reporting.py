"""What investors are owed (issue #16, profit sharing; docs/domain.md, "Reporting schedule"):
investors see the next profit report an owner owes — its period, its due date and "overdue
since" — and the reports filed, on the campaign's page and their dashboard; filing or deciding
a report is a ``campaign:report`` in the campaign's room. A report going overdue is told once
(owner in-app and by e-mail, investors in-app; audited; ``campaign:report_due`` and
``campaign:admin``), however many sweeps run at once. The admins' room ``campaigns:admin`` is
for platform admins and hears what their dashboard lists."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.audit.service import audit_service
from app.campaigns.documents import Campaign
from app.campaigns.events import ADMIN_ROOM, campaign_room
from app.campaigns.flows import campaign_flows
from app.campaigns.schedule import add_months
from app.campaigns.schemas import ProfitReportCreate
from app.campaigns.service import campaign_chain, campaign_service
from app.config import get_settings
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.mail.outbox import read_outbox
from app.notifications.documents import Notification
from app.realtime.eventlog import RoomEvent
from tests.campaigns.factories import funded_days_ago, verify_kyc
from tests.identity.conftest import Api
from tests.rooms.conftest import Person, person

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BOARD = "/api/v1/me/campaigns/dashboard"


async def get(api: Api, token: str, path: str) -> Any:
    reply = await api.call("GET", path, token=token)
    assert reply.status == 200, (path, reply.status, reply.body)
    return reply.body


async def people(*tags: str) -> list[Person]:
    """KYC-verified people (owners and investors alike)."""
    found = [await person(tag) for tag in tags]
    for p in found:
        await verify_kyc(p.user_id)
    return found


async def logged(room: str, campaign_id: str, event: str) -> list[dict[str, Any]]:
    """The payloads of ``event`` about ``campaign_id`` in ``room``'s log, oldest first."""
    found = (
        await RoomEvent.find({"room": room, "event": event, "data.campaign_id": campaign_id})
        .sort("+seq")
        .to_list()
    )
    return [e.data for e in found]


async def report(owner: Person, campaign_id: str, start: dt.date, end: dt.date) -> str:
    statement = await files_service.do_upload(
        owner.user_id, data=PDF, filename="quarter.pdf", purpose=FilePurpose.CAMPAIGN
    )
    filed = await campaign_flows.do_report_profit(
        owner.user_id, campaign_id,
        ProfitReportCreate(period_start=start, period_end=end, profit="40000.00",
                           document_file_id=str(statement.id)),
    )  # fmt: skip
    return str(filed.id)


async def test_investors_see_the_report_owed_overdue_since_and_the_reports_filed(
    api: Api,
) -> None:
    owner, investor, stranger = await people("owner", "investor", "stranger")
    admin = await person("admin", ["admin"])  # type: ignore[list-item]
    campaign = await funded_days_ago(owner.user_id, [(investor.user_id, 1_500_000)], 200)
    cid = str(campaign.id)
    funded = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=200)
    first_end = add_months(funded, 3) - dt.timedelta(days=1)
    due_on = first_end + dt.timedelta(days=45)

    # 200 days after funding, nothing reported: the first quarter is overdue since the day
    # after its due date, on the campaign's page (anyone who sees it) and the investor's board.
    page = await get(api, investor.token, f"/api/v1/campaigns/{cid}/profit-reports")
    assert page["reports"] == []
    late = page["next_due"]
    assert (late["number"], late["period_start"], late["period_end"]) == (
        1, funded.isoformat(), first_end.isoformat())  # fmt: skip
    assert (late["due_on"], late["state"], late["overdue"]) == (due_on.isoformat(), "overdue", True)
    assert late["overdue_since"] == (due_on + dt.timedelta(days=1)).isoformat()
    board = await get(api, investor.token, BOARD)
    assert board["investor_reports_due"] == [late] and board["investor_reports"] == []
    seen = await get(api, stranger.token, f"/api/v1/campaigns/{cid}/profit-reports")
    assert seen["next_due"] == late
    assert (await get(api, stranger.token, BOARD))["investor_reports_due"] == []

    # The owner files the first quarter: investors see it (awaiting the admin, with no
    # checkout and no one else's share), the second quarter is next, and the campaign's room
    # and the admins' room both logged it.
    report_id = await report(owner, cid, funded, first_end)
    page = await get(api, investor.token, f"/api/v1/campaigns/{cid}/profit-reports")
    [filed] = page["reports"]
    assert (filed["id"], filed["status"], filed["pool"]) == (report_id, "submitted", "8000.00")
    assert filed["checkout_url"] is None and filed["shares"] == []
    # The investor reads the statement through a signed link; someone else gets no link.
    statement = await api.call("GET", filed["document_url"])
    assert statement.status == 200 and statement.body == PDF
    [others] = (await get(api, stranger.token, f"/api/v1/campaigns/{cid}/profit-reports"))[
        "reports"
    ]
    assert others["id"] == report_id and others["document_url"] is None
    assert (page["next_due"]["number"], page["next_due"]["state"]) == (2, "due")
    assert page["next_due"]["overdue_since"] is None
    board = await get(api, investor.token, BOARD)
    assert [r["id"] for r in board["investor_reports"]] == [report_id]
    assert board["investor_reports"][0]["campaign_title"] == campaign.title
    assert board["investor_reports"][0]["document_url"]
    assert [d["number"] for d in board["investor_reports_due"]] == [2]
    [event] = await logged(campaign_room(cid), cid, "campaign:report")
    assert (event["report_id"], event["status"]) == (report_id, "submitted")
    assert event["period_start"] == funded.isoformat()

    # The admin rejects it: investors no longer count it, the first quarter is owed again.
    decided = await api.call(
        "POST", f"/api/v1/admin/campaigns/profit-reports/{report_id}/decision",
        token=admin.token, json={"approve": False, "notes": "The statement is unsigned"},
    )  # fmt: skip
    assert decided.status == 200, decided.body
    page = await get(api, investor.token, f"/api/v1/campaigns/{cid}/profit-reports")
    assert page["reports"] == [] and page["next_due"] == late
    owner_view = await get(api, owner.token, f"/api/v1/campaigns/{cid}/profit-reports")
    assert [r["status"] for r in owner_view["reports"]] == ["rejected"]
    statuses = [e["status"] for e in await logged(campaign_room(cid), cid, "campaign:report")]
    assert statuses == ["submitted", "rejected"]
    changes = [e["change"] for e in await logged(ADMIN_ROOM, cid, "campaign:admin")]
    assert changes[-2:] == ["report_submitted", "report_decided"]


async def test_an_overdue_report_is_told_once_to_the_owner_and_the_investors(
    api: Api,
) -> None:
    owner, first, second = await people("owner", "first", "second")
    campaign = await funded_days_ago(
        owner.user_id, [(first.user_id, 1_000_000), (second.user_id, 500_000)], 200
    )
    cid = str(campaign.id)
    funded = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=200)
    first_end = add_months(funded, 3) - dt.timedelta(days=1)

    # Three sweeps at once and one more after (the live worker's own sweep may be among
    # them): one claim wins, everyone is told exactly once.
    await asyncio.gather(*(campaign_flows.do_tell_overdue_reports() for _ in range(3)))
    await campaign_flows.do_tell_overdue_reports()

    def about(user_id: str, kind: str) -> Any:
        return Notification.find({"user_id": user_id, "ref_id": cid, "kind": kind}).to_list()

    [owner_note] = await about(owner.user_id, "campaign_report_overdue")
    assert "overdue" in owner_note.title and first_end.strftime("%d %b %Y") in owner_note.body
    assert owner_note.email_status in ("pending", "sending", "sent")
    for investor in (first, second):
        told = [n for n in await about(investor.user_id, "campaign") if "overdue" in n.title]
        assert len(told) == 1, [n.title for n in told]
        assert "overdue since" in told[0].body
    # the owner's is the e-mailed kind only (their other campaign notices: verified, funded)
    assert not [n for n in await about(owner.user_id, "campaign") if "overdue" in n.title]
    records = await audit_service.latest(campaign_chain(cid), None, 200)
    [audited] = [r for r in records if r.action == "profit.report_overdue"]
    assert audited.details["period_start"] == funded.isoformat()
    assert audited.details["investors_told"] == 2
    assert (await audit_service.verify(campaign_chain(cid))).ok
    [due_event] = await logged(campaign_room(cid), cid, "campaign:report_due")
    assert due_event["due"]["state"] == "overdue" and due_event["due"]["number"] == 1
    assert [e["change"] for e in await logged(ADMIN_ROOM, cid, "campaign:admin")].count(
        "report_overdue"
    ) == 1
    stored = await Campaign.get(campaign.id)
    assert stored is not None and stored.overdue_told == [funded.isoformat()]

    # The owner is mailed (the worker drains the e-mail outbox); investors are not, by default.
    mailbox = Path(get_settings().dev_mailbox_dir)
    deadline = time.monotonic() + 30
    mail: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not mail:
        mail = [m for m in read_outbox(mailbox, to=owner.email) if "overdue" in m["subject"]]
        await asyncio.sleep(0.5)
    assert len(mail) == 1 and campaign.title in mail[0]["subject"], mail
    assert not [m for m in read_outbox(mailbox, to=first.email) if "overdue" in m["subject"]]

    # The first quarter reported: the next one is not overdue, and nobody is told again.
    await report(owner, cid, funded, first_end)
    await campaign_flows.do_tell_overdue_reports()
    assert len(await about(owner.user_id, "campaign_report_overdue")) == 1
    page = await get(api, first.token, f"/api/v1/campaigns/{cid}/profit-reports")
    assert page["next_due"]["state"] == "due"


async def test_the_admins_room_is_for_admins_and_hears_a_dispute(
    clients: Callable[[Person], Any],
) -> None:
    owner, investor = await people("owner", "investor")
    admin = await person("admin", ["admin"])  # type: ignore[list-item]
    campaign = await funded_days_ago(owner.user_id, [(investor.user_id, 1_500_000)], 10)
    cid = str(campaign.id)
    outsider = await clients(investor)
    refused = await outsider.call("campaign:admin_join", {})
    assert refused.get("ok") is not True and refused["error"]["code"] == "forbidden", refused
    screen = await clients(admin)
    joined = await screen.call("campaign:admin_join", {})
    assert joined["ok"] and joined["room"] == ADMIN_ROOM and joined["seq"] >= 0
    await campaign_flows.do_open_dispute(investor.user_id, cid, "The oven is not installed")

    def heard(client: Any) -> bool:
        return any(e["campaign_id"] == cid and e["change"] == "dispute_opened"
                   for e in client.of("campaign:admin"))  # fmt: skip

    await screen.wait_for(heard)
    [event] = [e for e in screen.of("campaign:admin") if e["campaign_id"] == cid]
    assert event["seq"] > joined["seq"] and event["id"] == f"{ADMIN_ROOM}:{event['seq']}"
    assert not outsider.of("campaign:admin")
    left = await screen.call("campaign:admin_leave", {})
    assert left["ok"] and left["room"] == ADMIN_ROOM
    assert (await campaign_service.disputes(user_id=investor.user_id))[0].campaign_id == cid


async def test_the_workers_timer_tells_an_overdue_report_by_itself(api: Api) -> None:
    owner, investor = await people("owner", "investor")
    campaign = await funded_days_ago(owner.user_id, [(investor.user_id, 1_500_000)], 200)
    # Nobody calls the sweep here: the live worker's timer (agents/campaigns.py) does.
    deadline = time.monotonic() + 3 * get_settings().campaign_report_check_seconds + 15
    stored = await Campaign.get(campaign.id)
    while time.monotonic() < deadline and stored is not None and not stored.overdue_told:
        await asyncio.sleep(0.5)
        stored = await Campaign.get(campaign.id)
    assert stored is not None and len(stored.overdue_told) == 1, "the worker told nothing"
    told = await Notification.find({"user_id": investor.user_id, "ref_id": str(campaign.id),
                                    "kind": "campaign"}).to_list()  # fmt: skip
    assert len([n for n in told if "overdue" in n.title]) == 1
