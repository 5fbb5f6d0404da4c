"""Builders of club data for tests (users are plain ids at the service level)."""

from __future__ import annotations

import datetime as dt
import uuid

from app.books.documents import Contribution
from app.books.service import books_service
from app.clubs.documents import Club
from app.clubs.service import club_service
from streams.records import PaymentEventV1


def new_user() -> str:
    """A fresh user id."""
    return f"user-{uuid.uuid4().hex[:12]}"


async def club_with_members(n_members: int = 1, **rules: object) -> tuple[Club, list[str]]:
    """A club owned by the first of ``n_members`` fresh users, the rest joined by invite."""
    owner = new_user()
    club, _ = await club_service.do_create_club(owner, name=f"Club {uuid.uuid4().hex[:6]}", **rules)  # type: ignore[arg-type]
    users = [owner]
    if n_members > 1:
        _, token = await club_service.do_create_invite(
            str(club.id), owner, expires_in=dt.timedelta(days=1), max_uses=n_members
        )
        for _ in range(n_members - 1):
            user = new_user()
            await club_service.do_accept_invite(token, user)
            users.append(user)
    return club, users


def captured(contribution: Contribution, paid_on: dt.date, *, event_id: str | None = None,
             amount: int | None = None) -> PaymentEventV1:  # fmt: skip
    """The payment event a provider's ``payment.captured`` webhook turns into."""
    event = event_id or f"evt_{uuid.uuid4().hex[:10]}"
    return PaymentEventV1(
        id=f"sandbox:{event}", provider="sandbox", provider_event_id=event,
        kind="payment.captured", pool_type="club", pool_id=contribution.club_id,
        contribution_id=str(contribution.id), payment_id=f"pay_{uuid.uuid4().hex[:10]}",
        amount=contribution.amount if amount is None else amount, currency=contribution.currency,
        occurred_at=f"{paid_on.isoformat()}T10:00:00+00:00",
    )  # fmt: skip


async def paid_contribution(club: Club, user: str, amount: int, paid_on: dt.date) -> Contribution:
    """An online contribution of ``amount`` paise whose payment was captured on ``paid_on``."""
    contribution = await books_service.do_open_contribution(
        str(club.id), user, amount=amount, method="online"
    )
    outcome = await books_service.do_apply_payment_event(captured(contribution, paid_on))
    assert outcome.applied
    assert outcome.contribution is not None
    return outcome.contribution
