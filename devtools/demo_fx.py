"""Demo data of multi-currency clubs (issue #14; ``python -m devtools.demo``): a rupee club of the
demo member and admin that holds a dollar stock — paid in, valued, 5 KO bought outside in
dollars and booked in rupees at the ECB rate of the trade date, valued again with the rate of
that day on the desk — and monthly dues. Idempotent: made once."""

from __future__ import annotations

import datetime as dt
import uuid

from app.books.service import books_service
from app.clubs.documents import Club
from app.clubs.service import club_service
from app.config import get_settings
from app.extensions import connect_redis, services
from app.identity.documents import User
from streams.records import PaymentEventV1

DEMO_FX_CLUB = "Rupee Abroad Club"


async def _paid(club_id: str, user_id: str, amount: int, day: dt.date) -> None:
    """An online contribution of ``amount`` paise whose sandbox payment arrived on ``day``."""
    contribution = await books_service.do_open_contribution(
        club_id, user_id, amount=amount, method="online"
    )
    event = f"evt_demo_{uuid.uuid4().hex[:8]}"
    await books_service.do_apply_payment_event(PaymentEventV1(
        id=f"sandbox:{event}", provider="sandbox", provider_event_id=event,
        kind="payment.captured", pool_type="club", pool_id=club_id,
        contribution_id=str(contribution.id), payment_id=f"pay_{event}",
        amount=amount, currency=contribution.currency,
        occurred_at=f"{day.isoformat()}T10:00:00+00:00"))  # fmt: skip


async def load_demo_fx_club(member_email: str, admin_email: str) -> int:
    """Create the rupee club holding a dollar stock unless it exists; return 1 if created."""
    member = await User.find_one({"email": member_email})
    admin = await User.find_one({"email": admin_email})
    if member is None or admin is None:
        return 0
    owner_id, admin_id = str(member.id), str(admin.id)
    if await Club.find_one({"name": DEMO_FX_CLUB, "created_by": owner_id}) is not None:
        return 0
    opened_redis = services.redis is None
    if opened_redis:  # the room events of the books go through the emitter
        services.redis = await connect_redis(get_settings())
    try:
        club, _ = await club_service.do_create_club(
            owner_id, name=DEMO_FX_CLUB, currency="INR",
            description="Indian members buying US stocks, booked in rupees at ECB rates.",
        )  # fmt: skip
        club_id = str(club.id)
        _, token = await club_service.do_create_invite(
            club_id, owner_id, expires_in=dt.timedelta(days=1), max_uses=1
        )
        await club_service.do_accept_invite(token, admin_id)
        today = dt.datetime.now(dt.UTC).date()
        await _paid(club_id, owner_id, 3_000_000, today - dt.timedelta(days=10))  # ₹30,000
        await _paid(club_id, admin_id, 2_000_000, today - dt.timedelta(days=10))  # ₹20,000
        await books_service.do_record_valuation(
            club_id, owner_id, valuation_date=today - dt.timedelta(days=9), prices={}
        )
        await books_service.do_record_trade(
            club_id, owner_id, side="buy", symbol="KO", quantity=5, price=6_000, fees=100,
            trade_date=today - dt.timedelta(days=8), key="demo-ko",
        )  # fmt: skip
        await books_service.do_record_valuation(
            club_id, owner_id, valuation_date=today - dt.timedelta(days=2), prices={"KO": 6_250}
        )
        await club_service.do_change_rules(club_id, owner_id, {
            "dues_amount": 100_000, "dues_day": 28, "dues_grace_days": 3,
            "dues_late_fee": 5_000})  # fmt: skip
        return 1
    finally:
        if opened_redis and services.redis is not None:
            await services.redis.aclose()
            services.redis = None
