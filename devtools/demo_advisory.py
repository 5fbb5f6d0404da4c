"""Demo data of robo-advice (``python -m devtools.demo``): the demo member's risk profile, a
personal taxable account funded with $25,000.00 (a contribution settled at a valuation, as the
sandbox payment would), and a recommendation adopted as its targets, so the Advice page shows a
frontier, a drifted portfolio and a rebalance to preview. Idempotent: made once."""

from __future__ import annotations

import datetime as dt
import uuid

from app.advisory.schemas import AccountCreate, RecommendationIn
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.config import get_settings
from app.extensions import connect_redis, services
from app.identity.documents import User
from streams.records import PaymentEventV1

DEMO_ANSWERS = {"horizon": "7to15", "income": "steady", "loss": "sell_some",
                "experience": "some", "goal": "balanced"}  # fmt: skip
DEMO_SYMBOLS = ["KO", "PEP", "JNJ", "PG", "WMT", "XOM", "JPM", "HD"]


async def load_demo_advisory(member_email: str) -> int:
    """Profile, funded account and adopted recommendation of the demo member unless they
    exist; return 1 if created."""
    member = await User.find_one({"email": member_email})
    if member is None:
        return 0
    user_id = str(member.id)
    if await advisory_service.accounts(user_id):
        return 0
    opened_redis = services.redis is None
    if opened_redis:  # prices: the quote cache, else the last close
        services.redis = await connect_redis(get_settings())
    assert services.redis is not None
    try:
        await advisory_service.do_take_questionnaire(user_id, DEMO_ANSWERS)
        account = await advisory_service.do_open_account(
            user_id, AccountCreate(name="Demo portfolio")
        )
        today = dt.datetime.now(dt.UTC).date()
        contribution = await books_service.do_open_contribution(
            account.account_id, user_id, amount=2_500_000, method="online"
        )
        event = f"evt_demo_{uuid.uuid4().hex[:8]}"
        await books_service.do_apply_payment_event(PaymentEventV1(
            id=f"sandbox:{event}", provider="sandbox", provider_event_id=event,
            kind="payment.captured", pool_type="club", pool_id=account.account_id,
            contribution_id=str(contribution.id), payment_id=f"pay_{event}",
            amount=contribution.amount, currency=contribution.currency,
            occurred_at=f"{today.isoformat()}T10:00:00+00:00"))  # fmt: skip
        await books_service.do_record_valuation(account.account_id, user_id,
                                                valuation_date=today, prices={})  # fmt: skip
        await advisory_service.do_recommend(
            user_id, RecommendationIn(account_id=account.account_id, symbols=DEMO_SYMBOLS),
            services.redis)  # fmt: skip
        return 1
    finally:
        if opened_redis and services.redis is not None:
            await services.redis.aclose()
            services.redis = None
