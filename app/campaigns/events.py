"""Room events of a campaign (``campaign:<id>``), recorded through app/realtime/events.py inside
the transaction of the change that causes them."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.campaigns.documents import Campaign, CampaignUpdate
from app.campaigns.schemas import CampaignProgressEvent, CampaignUpdateEvent, UpdateOut
from app.money import format_minor
from app.realtime import events

CAMPAIGN_PROGRESS = "campaign:progress"
CAMPAIGN_UPDATE = "campaign:update"


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
