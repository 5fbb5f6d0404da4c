"""Club events sent to ``club:<id>`` rooms. Each carries ``id`` and ``ts`` (docs/architecture.md,
the one event path) so clients de-duplicate and resume; amounts are decimal strings."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from app.clubs.documents import Contribution
from app.money import format_minor
from app.realtime.emitter import Emitter
from app.realtime.rooms import club_room

CONTRIBUTION_RECEIVED = "contribution:received"


class ContributionReceived(BaseModel):
    """``contribution:received``: a member's payment arrived (units follow at a valuation).

    ``id`` is the payment event's id, the same on every re-delivery.
    """

    id: str
    ts: str
    club_id: str
    contribution_id: str
    user_id: str
    amount: str
    currency: str
    payment_date: str | None
    status: str


async def emit_contribution_received(
    emitter: Emitter, event_id: str, contribution: Contribution
) -> None:
    """Send ``contribution:received`` to the club's room (at most once per delivery)."""
    payload = ContributionReceived(
        id=event_id,
        ts=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        club_id=contribution.club_id,
        contribution_id=str(contribution.id),
        user_id=contribution.user_id,
        amount=format_minor(contribution.amount),
        currency=contribution.currency,
        payment_date=contribution.payment_date,
        status=contribution.status.value,
    )
    await emitter.emit(
        CONTRIBUTION_RECEIVED, payload.model_dump(), room=club_room(contribution.club_id)
    )
