"""Erasure on request reaches everything the platform keeps about the person, not only the
CRM's own records: after it no collection of the database holds their e-mail address, name
or phone number — security events and sign-in attempts, staff's notifications naming them,
the account's own notifications and text messages, the boards' room logs, merge snapshots,
reminders — while what the law keeps stays, under ids only."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from app.crm.documents import Lead, LeadStatus, ReminderStatus
from app.crm.schemas import ConvertRequest, LeadCreate, ReminderCreate
from app.crm.service import crm_service
from app.errors import AppError
from app.extensions import services
from app.identity import directory
from app.identity.documents import PlatformRole, SecurityEvent, UserStatus
from app.identity.login import do_login
from app.identity.reset import do_forgot_password
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.realtime.eventlog import utcnow
from app.sms.documents import MobileNumber, SmsMessage, SmsStatus
from tests.crm.conftest import email, staff, team

pytestmark = pytest.mark.usefixtures("services")


async def holders(*needles: str) -> dict[str, int]:
    """Collection → how many of its documents contain any of ``needles`` (case-insensitive),
    over every collection of the database."""
    database = Lead.get_pymongo_collection().database
    wanted = [n.lower() for n in needles if n]
    found: dict[str, int] = {}
    for name in sorted(await database.list_collection_names()):
        async for doc in database[name].find({}):
            text = json.dumps(doc, default=str).lower()
            if any(n in text for n in wanted):
                found[name] = found.get(name, 0) + 1
    return found


def _ip() -> str:
    """An address of its own (rate limits are per client address)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


async def _fail_login(address: str) -> None:
    try:
        await do_login(address, "not-the-password-2026", None, _ip())
    except AppError:
        return
    pytest.fail("the login should have failed")


async def test_after_an_erasure_no_collection_holds_the_persons_address_name_or_phone() -> None:
    tag = uuid.uuid4().hex[:8]
    name, address = f"Zeenat Qureshi {tag}", email(f"zq{tag}")
    number = f"+9198{uuid.uuid4().int % 10**8:08d}"
    manager, (agent,) = await team(1)
    admin = await staff(PlatformRole.ADMIN)
    # Someone typed the address at the sign-in form before it had an account.
    await _fail_login(address)
    lead, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name=name, email=address, phone=number, city="Lucknow"))  # fmt: skip
    lead_id = str(lead.id)
    twin, _ = await crm_service.do_create_lead(agent.actor, LeadCreate(
        full_name=f"{name} B", email=email("twin")))  # fmt: skip
    await crm_service.do_merge(agent.actor, lead_id, str(twin.id))  # snapshots of both
    for status in (LeadStatus.CONTACTED, LeadStatus.QUALIFIED):
        await crm_service.do_change_status(agent.actor, lead_id, status, None)
    # Converted and invited: the CRM makes their platform account.
    _, client = await crm_service.do_convert(agent.actor, lead_id, ConvertRequest(invite=True))
    assert client.user_id is not None
    await _fail_login(address)  # a failed sign-in, and a reset asked for, name the address
    await do_forgot_password(address, _ip())
    # The platform texted them and told them things.
    await MobileNumber(user_id=client.user_id, e164=number, verified_at=utcnow()).insert()
    await SmsMessage(user_id=client.user_id, e164=number, template="t", dlt_template_id="1",
                     variables={"VAR1": name}, text=f"Hello {name}", dedupe_key=f"zq-{tag}",
                     status=SmsStatus.PENDING).insert()  # fmt: skip
    await notification_service.do_notify([Draft(
        user_id=client.user_id, kind=NotificationKind.PAYMENT_DUE, title=f"Dear {name}",
        body=f"We wrote to {address}")])  # fmt: skip
    # Follow-ups about them fell due: staff's notifications and the boards' logs name them.
    due = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    for about in ({"lead_id": lead_id}, {"client_id": str(client.id)}):
        await crm_service.do_create_reminder(manager.actor, ReminderCreate(
            text=f"Ring {name}", due_at=due, assignee_id=manager.user_id, **about))  # fmt: skip
    assert await crm_service.do_fire_due_reminders(due + dt.timedelta(minutes=1)) >= 2
    before = await holders(address, name, number)
    for kept in ("security_events", "room_events", "notifications", "sms_messages",
                 "sms_numbers", "crm_lead_merges", "users", "crm_leads",
                 "crm_clients"):  # fmt: skip
        assert kept in before, (kept, before)

    redis = services.require_redis()

    async def sign_in_records() -> list[bytes]:
        """Redis keys naming the address, but the rate limiters' windows (gone within the
        hour by themselves)."""
        found = [k async for k in redis.scan_iter(match=f"*{address}*")]
        return [k for k in found if b":rl:" not in k]

    assert await sign_in_records() != []  # the sign-in failure count
    erased, _, _, outcome = await crm_service.do_erase(admin.actor, lead_id)
    assert outcome.state == "erased"
    assert await holders(address, name, number) == {}
    assert await sign_in_records() == []

    # What is kept stays, under ids: the account (anonymised), its security events with what
    # happened and when, the text message (never sent now), the reminders (their status).
    account = await directory.user(client.user_id)
    assert account is not None and account.status is UserStatus.ERASED
    events = await SecurityEvent.find({"user_id": account.id}).to_list()
    assert {e.kind.value for e in events} >= {"login_failed", "password_reset_requested"}
    assert {e.email for e in events} == {directory.erased_email(client.user_id)}
    texts = await SmsMessage.find({"user_id": client.user_id}).to_list()
    assert [(m.status, m.e164, m.text) for m in texts] == [(SmsStatus.FAILED, "", "")]
    fired = await crm_service.reminders(manager.actor, "all")
    mine = [r for r in fired if r.lead_id == lead_id or r.client_id == str(client.id)]
    assert len(mine) == 2 and {(r.status, r.text) for r in mine} == {(ReminderStatus.SENT, "")}
    assert erased.full_name == "(erased)"
