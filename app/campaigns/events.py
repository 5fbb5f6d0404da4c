"""Room events of a campaign (``campaign:<id>``), recorded through app/realtime/events.py inside
the transaction of the change that causes them."""

from __future__ import annotations

import datetime as dt

from pymongo.asynchronous.client_session import AsyncClientSession

from app.campaigns.documents import Campaign, CampaignUpdate, ProfitReport
from app.campaigns.schedule import ReportDue
from app.campaigns.schemas import (
    AdminChange,
    CampaignAdminEvent,
    CampaignProgressEvent,
    CampaignReportDueEvent,
    CampaignReportEvent,
    CampaignUpdateEvent,
    ReportDueOut,
    UpdateOut,
)
from app.money import format_minor
from app.realtime import events

CAMPAIGN_PROGRESS = "campaign:progress"
CAMPAIGN_UPDATE = "campaign:update"
CAMPAIGN_REPORT = "campaign:report"
CAMPAIGN_REPORT_DUE = "campaign:report_due"
CAMPAIGN_ADMIN = "campaign:admin"

ADMIN_ROOM = "campaigns:admin"
"""The room of platform admins watching the crowdfunding dashboard (``campaign:admin_join``)."""


def campaign_room(campaign_id: str) -> str:
    """The room of a campaign's live page."""
    return f"campaign:{campaign_id}"


def progress_bps(campaign: Campaign) -> int:
    """raised ÷ goal in basis points, rounded down."""
    return campaign.raised * 10_000 // campaign.goal if campaign.goal else 0


async def record_progress(session: AsyncClientSession, campaign: Campaign) -> None:
    """Append ``campaign:progress`` with ``campaign``'s figures as of this transaction."""
    await events.room_event(
        session, campaign_room(str(campaign.id)), CAMPAIGN_PROGRESS, CampaignProgressEvent,
        campaign_id=str(campaign.id), raised=format_minor(campaign.raised),
        reserved=format_minor(campaign.reserved),
        remaining=format_minor(campaign.goal - campaign.raised - campaign.reserved),
        goal=format_minor(campaign.goal), progress_bps=progress_bps(campaign),
        investor_count=campaign.investor_count, status=campaign.status,
    )  # fmt: skip


def update_out(update: CampaignUpdate) -> UpdateOut:
    """The API shape of an owner's update."""
    return UpdateOut(id=str(update.id), campaign_id=update.campaign_id, title=update.title,
                     body=update.body, created_at=update.created_at)  # fmt: skip


async def record_update(session: AsyncClientSession, update: CampaignUpdate) -> None:
    """Append ``campaign:update`` for an owner's new update."""
    await events.room_event(
        session, campaign_room(update.campaign_id), CAMPAIGN_UPDATE, CampaignUpdateEvent,
        campaign_id=update.campaign_id, update=update_out(update),
    )  # fmt: skip


async def ensure_room(campaign_id: str) -> None:
    """Create the campaign room's log counter (before a transaction that appends to it)."""
    await events.ensure_room(campaign_room(campaign_id))


def report_due_out(campaign: Campaign, due: ReportDue) -> ReportDueOut:
    """The API shape of a campaign's next profit report due (``overdue_since``: the day after
    ``due_on`` when it is overdue)."""
    late = due.state == "overdue"
    return ReportDueOut(
        campaign_id=str(campaign.id), campaign_title=campaign.title, number=due.number,
        period_start=due.period_start, period_end=due.period_end, due_on=due.due_on,
        state=due.state, overdue=late, days_overdue=due.days_overdue,
        overdue_since=due.due_on + dt.timedelta(days=1) if late else None,
    )  # fmt: skip


async def record_report(session: AsyncClientSession, report: ProfitReport) -> None:
    """Append ``campaign:report`` for a report filed or changed (its status as of this
    transaction)."""
    await events.room_event(
        session, campaign_room(report.campaign_id), CAMPAIGN_REPORT, CampaignReportEvent,
        campaign_id=report.campaign_id, report_id=str(report.id), status=report.status.value,
        period_start=report.period_start, period_end=report.period_end,
    )  # fmt: skip


async def record_report_due(
    session: AsyncClientSession, campaign: Campaign, due: ReportDue
) -> None:
    """Append ``campaign:report_due``: the campaign's next report due went overdue."""
    await events.room_event(
        session, campaign_room(str(campaign.id)), CAMPAIGN_REPORT_DUE, CampaignReportDueEvent,
        campaign_id=str(campaign.id), due=report_due_out(campaign, due),
    )  # fmt: skip


async def record_admin(session: AsyncClientSession, campaign_id: str, change: AdminChange) -> None:
    """Append ``campaign:admin`` to the admins' room: what their dashboard lists changed
    (``ensure_admin_room`` first, outside the transaction)."""
    await events.room_event(session, ADMIN_ROOM, CAMPAIGN_ADMIN, CampaignAdminEvent,
                            campaign_id=campaign_id, change=change)  # fmt: skip


async def ensure_admin_room() -> None:
    """Create the admins' room log counter (before a transaction that appends to it)."""
    await events.ensure_room(ADMIN_ROOM)
