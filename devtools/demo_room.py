"""Demo data of the live rooms (``python -m devtools.demo``): the demo member's club with the demo
admin in it, a short chat, an open investment proposal with its discussion, an open rules
proposal (the club changes its rules by vote) and a manual contribution waiting in the owner's
treasurer's desk. Idempotent: made once."""

from __future__ import annotations

import datetime as dt

from app.books.service import books_service
from app.chat.service import chat_service
from app.clubs.documents import Club
from app.clubs.service import club_service
from app.config import get_settings
from app.extensions import connect_redis, services
from app.identity.documents import User
from app.proposals.schemas import ProposalCreate
from app.proposals.service import proposal_service

DEMO_CLUB = "Demo Investment Club"


async def load_demo_room(member_email: str, admin_email: str) -> int:
    """Create the demo club, chat and proposal unless they exist; return 1 if created."""
    member = await User.find_one({"email": member_email})
    admin = await User.find_one({"email": admin_email})
    if member is None or admin is None:
        return 0
    owner_id, admin_id = str(member.id), str(admin.id)
    if await Club.find_one({"name": DEMO_CLUB, "created_by": owner_id}) is not None:
        return 0
    opened_redis = services.redis is None
    if opened_redis:  # chat's flood guard and the emitter use Redis
        services.redis = await connect_redis(get_settings())
    try:
        club, _ = await club_service.do_create_club(
            owner_id,
            name=DEMO_CLUB,
            description="Friends investing together, live.",
            currency="USD",  # the replayed market is US stocks, quoted in USD
        )
        club_id = str(club.id)
        _, token = await club_service.do_create_invite(
            club_id, owner_id, expires_in=dt.timedelta(days=1), max_uses=1
        )
        await club_service.do_accept_invite(token, admin_id)
        first = await chat_service.do_send(club_id, owner_id, body="Welcome to our club room!")
        await chat_service.do_send(
            club_id, admin_id, body="Thanks! Shall we vote on Apple this week?",
            reply_to=str(first.id), mentions=[owner_id],
        )  # fmt: skip
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
        apple = await proposal_service.do_create(club_id, owner_id, ProposalCreate.model_validate({
            "kind": "investment", "title": "Buy 10 Apple shares", "side": "buy",
            "symbol": "AAPL", "quantity": 10, "limit_price": "560.00", "deadline": deadline,
            "description": "Limit order; the treasurer places it if we approve.",
        }))  # fmt: skip
        # Its own discussion thread.
        await proposal_service.do_comment(
            str(apple.id), admin_id, "Is 560 too high a limit? It closed at 548 on Friday."
        )
        await proposal_service.do_comment(
            str(apple.id), owner_id, "It leaves room for a gap up; the order fills at market."
        )
        # The club changes its rules by the members' vote: one such vote is open.
        await club_service.do_change_rules(club_id, owner_id, {"rules_changed_by": "vote"})
        await proposal_service.do_create(club_id, admin_id, ProposalCreate.model_validate({
            "kind": "rules", "title": "A quorum of half the club", "deadline": deadline,
            "rules": {"quorum_bps": 5000},
            "description": "So that two of us cannot decide for everyone.",
        }))  # fmt: skip
        # Money paid outside, waiting in the owner's treasurer's desk with the member's note.
        await books_service.do_open_contribution(
            club_id, admin_id, amount=2_500_00, method="manual",
            note="NEFT UTR 5512, paid on the 3rd",
        )  # fmt: skip
        return 1
    finally:
        if opened_redis and services.redis is not None:
            await services.redis.aclose()
            services.redis = None
