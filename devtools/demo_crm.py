"""Demo data of the CRM (``python -m devtools.demo``): a manager with two agents, leads across the
pipeline (one converted to a client, one client entered directly), notes, a reminder due today.
Idempotent: made once."""

from __future__ import annotations

import datetime as dt

from app.config import get_settings
from app.crm.documents import ActivityKind, LeadSource, LeadStatus
from app.crm.schemas import ClientCreate, ConvertRequest, LeadCreate, ReminderCreate
from app.crm.service import Actor, crm_service
from app.extensions import connect_redis, services
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user

# (email, password, what the account is for) — printed by `make run` with the other logins.
CRM_DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("crm-manager@demo.samooh.in", "samooh-demo-crm-manager", "a CRM manager (team of two)"),
    ("crm-agent@demo.samooh.in", "samooh-demo-crm-agent", "a CRM agent with leads and a client"),
    ("crm-agent2@demo.samooh.in", "samooh-demo-crm-agent2", "a second CRM agent"),
]

# (name, e-mail, phone, source, status to reach, note)
_LEADS = [
    ("Ananya Iyer", "ananya.iyer@example.com", "098450 11223", LeadSource.WEB_FORM,
     LeadStatus.QUALIFIED, "Wants a monthly SIP in index funds."),
    ("Rohit Verma", "rohit.verma@example.com", "099000 22334", LeadSource.REFERRAL,
     LeadStatus.CONVERTED, "Referred by a club member; moderate risk."),
    ("Meera Nair", "meera.nair@example.com", None, LeadSource.EVENT,
     LeadStatus.CONTACTED, "Met at the Kochi investor meet."),
    ("Farhan Sheikh", "farhan.sheikh@example.com", "098111 33445", LeadSource.MANUAL,
     LeadStatus.NEW, ""),
    ("Kavya Shah", "kavya.shah@example.com", None, LeadSource.WEB_FORM,
     LeadStatus.LOST, "Chose a bank's wealth desk."),
]  # fmt: skip


async def load_demo_crm() -> int:
    """Create the CRM staff, leads, a client and a reminder unless they exist; 1 if created."""
    users = []
    for email, password, _ in CRM_DEMO_LOGINS:
        role = PlatformRole.CRM_MANAGER if "manager" in email else PlatformRole.CRM_AGENT
        name = {"crm-manager": "Priya Menon", "crm-agent": "Arjun Rao",
                "crm-agent2": "Sana Qureshi"}[email.split("@")[0]]  # fmt: skip
        users.append(await do_provision_user(
            email=email, password=password, full_name=name, roles=[role]))  # fmt: skip
    manager_id, agent_id, agent2_id = (str(u.id) for u in users)
    admin = Actor("demo", "admin", None, True)
    if await crm_service.leads(admin, status=None, source=None, owner_id=agent_id, text=None,
                               skip=0, limit=1, sort="created") != ([], 0):  # fmt: skip
        return 0
    opened_redis = services.redis is None  # the rate limiter and events need Redis
    if opened_redis:
        services.redis = await connect_redis(get_settings())
    try:
        await crm_service.do_put_staff(admin, manager_id, None, False)
        await crm_service.do_put_staff(admin, agent_id, manager_id, True)
        await crm_service.do_put_staff(admin, agent2_id, manager_id, True)
        agent = await crm_service.actor(agent_id, ["crm_agent"])
        first = None
        for name, email, phone, source, reach, note in _LEADS:
            lead, _ = await crm_service.do_create_lead(
                agent,
                LeadCreate(
                    full_name=name, email=email, phone=phone, source=source, city="Bengaluru"
                ),
            )
            lead_id = str(lead.id)
            first = first or lead_id
            if note:
                await crm_service.do_log_activity(agent, lead_id, ActivityKind.NOTE, note)
            path = {LeadStatus.NEW: [], LeadStatus.CONTACTED: [LeadStatus.CONTACTED],
                    LeadStatus.QUALIFIED: [LeadStatus.CONTACTED, LeadStatus.QUALIFIED],
                    LeadStatus.CONVERTED: [LeadStatus.CONTACTED, LeadStatus.QUALIFIED],
                    LeadStatus.LOST: [LeadStatus.CONTACTED, LeadStatus.LOST]}[reach]  # fmt: skip
            for step in path:
                await crm_service.do_change_status(agent, lead_id, step, note or "no reason")
            if reach is LeadStatus.CONVERTED:
                await crm_service.do_convert(agent, lead_id, ConvertRequest(
                    investment_capacity="2500000.00"))  # fmt: skip
        await crm_service.do_create_client(agent, ClientCreate(
            full_name="Deepa Pillai", email="deepa.pillai@example.com", city="Kochi",
            address="14 Marine Drive, Kochi", investment_capacity="15000000.00",
            source=LeadSource.REFERRAL, message="Came to the office; wants a balanced portfolio.",
        ))  # fmt: skip
        assert first is not None
        # Two to three hours ahead on the hour: a fixed hour of the day is in the past for a
        # demo loaded late in the (UTC) day, and a reminder in the past is refused.
        due = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).replace(
            minute=0, second=0, microsecond=0
        )
        await crm_service.do_create_reminder(agent, ReminderCreate(
            lead_id=first, due_at=due, text="Call Ananya about the SIP amount"))  # fmt: skip
    finally:
        if opened_redis and services.redis is not None:
            await services.redis.aclose()
            services.redis = None
    return 1
