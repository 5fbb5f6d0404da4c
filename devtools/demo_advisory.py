"""Demo data of robo-advice (``python -m devtools.demo``): the demo member's risk profile, a
personal taxable account funded with $25,000.00 (a contribution settled at a valuation, as the
sandbox payment would), and a recommendation adopted as its targets, so the Advice page shows a
frontier, a drifted portfolio and a rebalance to preview. And a verified demo advisor with
consultation times (one booked by the demo member), a published model strategy (its public
page) and a draft, for the advisor's desk. Idempotent: made once."""

from __future__ import annotations

import datetime as dt
import uuid

from app.advisory.advisors import advisor_service
from app.advisory.schemas import AccountCreate, RecommendationIn
from app.advisory.service import advisory_service
from app.books.service import books_service
from app.config import get_settings
from app.extensions import connect_redis, services
from app.identity import directory
from app.identity.documents import PlatformRole, User
from app.identity.signup import do_provision_user
from streams.records import PaymentEventV1

DEMO_ANSWERS = {"horizon": "7to15", "income": "steady", "loss": "sell_some",
                "experience": "some", "goal": "balanced"}  # fmt: skip
DEMO_SYMBOLS = ["KO", "PEP", "JNJ", "PG", "WMT", "XOM", "JPM", "HD"]

# (email, password, what the account is for) — printed by `make run` with the other logins.
ADVISOR_DEMO_LOGINS: list[tuple[str, str, str]] = [
    ("advisor@demo.samooh.in", "samooh-demo-advisor",
     "a verified advisor (consultation times, model strategies: the Advisor tab)"),
]  # fmt: skip


async def load_demo_advisor(member_email: str) -> int:
    """The demo advisor (role advisor, KYC verified) with three consultation times in the
    coming days, one booked by the demo member, a published strategy and a draft, unless they
    exist; return 1 if created."""
    email, password, _ = ADVISOR_DEMO_LOGINS[0]
    advisor = await do_provision_user(email=email, password=password, full_name="Kavya Iyer",
                                      roles=[PlatformRole.ADVISOR])  # fmt: skip
    advisor_id = str(advisor.id)
    await directory.do_set_kyc_status(advisor_id, "verified")
    if await advisor_service.my_strategies(advisor_id):
        return 0
    await advisor_service.do_publish_strategy(
        advisor_id, "Steady Staples", "Household names that pay dividends, held for years.",
        {"KO": 2500, "PG": 2500, "PEP": 2000, "WMT": 1500, "JNJ": 1500},
    )  # fmt: skip
    await advisor_service.do_publish_strategy(
        advisor_id, "Energy tilt (draft)", "Not published yet: only the advisor sees it.",
        {"XOM": 5000, "CVX": 5000}, publish=False,
    )  # fmt: skip
    day = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    starts = [day + dt.timedelta(days=d, hours=h) for d, h in ((2, 1), (3, 2), (5, 3))]
    await advisor_service.do_offer_slots(advisor_id, starts, 30)
    member = await User.find_one({"email": member_email})
    if member is not None:
        await advisor_service.do_book(str(member.id), advisor_id, starts[0])
    return 1


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
