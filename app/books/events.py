"""Room events of the books (``club:<id>``): recorded in the room's log inside the change's
transaction and sent after commit (app/realtime/events.py), so a reconnecting member catches up
on them. Amounts are decimal strings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.books.documents import Contribution
from app.money import format_minor
from app.realtime.contract import RoomEvent

CONTRIBUTION_RECEIVED = "contribution:received"
VALUATION_RECORDED = "portfolio:valued"
DUES_CHANGED = "dues:changed"
CONTRIBUTION_CHANGED = "contribution:changed"


class ContributionReceived(RoomEvent):
    """``contribution:received``: a member's payment arrived (units follow at a valuation)."""

    contribution_id: str
    user_id: str
    amount: str = Field(description="decimal string, two places")
    currency: str
    payment_date: str | None
    status: str


class ContributionChanged(RoomEvent):
    """``contribution:changed``: a contribution was opened (``awaiting_payment`` online,
    ``pending_approval`` manual: the treasury's desk shows it) or decided without money moving
    — a manual one ``approved`` (its money follows as ``contribution:received``) or
    ``rejected``, an online one ``failed`` because its checkout was cancelled or expired
    unpaid. ``reason``:
    the treasurer's reason, ``checkout_cancelled`` or ``checkout_expired``. Screens load the
    contributions again."""

    contribution_id: str
    user_id: str
    status: str
    reason: str | None = None


class ValuationRecorded(RoomEvent):
    """``portfolio:valued``: the club was valued; pending contributions bought units and
    withdrawals redeemed them at ``unit_value`` (before settlement); ``*_after`` is the club
    once they settled. Members' units and values changed: screens load them again."""

    valuation_id: str
    valuation_date: str
    nav: str = Field(description="before settlement, decimal string")
    unit_value: str = Field(description="before settlement: what everything settled at")
    nav_after: str
    units_after: str = Field(description="units outstanding after settlement, 6 places")
    unit_value_after: str = Field(description="after settlement, 4 places")
    settled_user_ids: list[str]


class DuesChanged(RoomEvent):
    """``dues:changed``: ``user_id``'s dues of ``month`` ("YYYY-MM") changed — money marked
    for them arrived (``payment``, sent by the books: the month is paid once it covers the
    dues), a treasurer waived them (``waived``) or the grace days ended unpaid (``late``),
    both sent by app/dues (which depends on the books, hence the payload lives here). The grid
    stays computed: the desk and every member's "My dues" load it again."""

    user_id: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    change: Literal["payment", "waived", "late"]


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
