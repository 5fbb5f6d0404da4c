"""Room events of the books (``club:<id>``): recorded in the room's log inside the change's
transaction and sent after commit (app/realtime/events.py), so a reconnecting member catches up
on them. Amounts are decimal strings."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from app.books.documents import Contribution
from app.money import format_minor
from app.realtime.contract import RoomEvent

CONTRIBUTION_RECEIVED = "contribution:received"


class ContributionReceived(RoomEvent):
    """``contribution:received``: a member's payment arrived (units follow at a valuation)."""

    contribution_id: str
    user_id: str
    amount: str = Field(description="decimal string, two places")
    currency: str
    payment_date: str | None
    status: str


def received_fields(contribution: Contribution) -> dict[str, Any]:
    """The payload fields of ``contribution:received`` for ``contribution``."""
    return {
        "club_id": contribution.club_id,
        "contribution_id": str(contribution.id),
        "user_id": contribution.user_id,
        "amount": format_minor(contribution.amount),
        "currency": contribution.currency,
        "payment_date": contribution.payment_date,
        "status": contribution.status.value,
    }
