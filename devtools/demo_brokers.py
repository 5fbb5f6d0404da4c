"""Demo data of the brokers domain (``python -m devtools.demo``): the demo member's second club,
an INR club linked to the broker sandbox's development Kite app and waiting for the treasurer's
Kite login (the desk's Orders tab → *Log in to Kite*); it trades the NSE instruments (INFY,
TCS, RELIANCE, HDFCBANK, synthetic prices). Idempotent: made once."""

from __future__ import annotations

from app.brokers.documents import BrokerEnvironment, BrokerProvider
from app.brokers.schemas import LinkCreate
from app.brokers.service import broker_service
from app.clubs.documents import Club
from app.clubs.service import club_service
from app.config import get_settings
from app.extensions import connect_redis, services
from app.identity.documents import User
from devtools.brokers_sandbox.__main__ import DEV_KITE_KEY, DEV_KITE_SECRET

DEMO_BROKER_CLUB = "Demo Broker Club"


async def load_demo_brokers(member_email: str) -> int:
    """Create the demo broker club and its Kite (sandbox) link unless it exists; 1 if created."""
    member = await User.find_one({"email": member_email})
    if member is None:
        return 0
    owner_id = str(member.id)
    if await Club.find_one({"name": DEMO_BROKER_CLUB, "created_by": owner_id}) is not None:
        return 0
    opened_redis = services.redis is None
    if opened_redis:  # the club's room and the emitter use Redis
        services.redis = await connect_redis(get_settings())
    try:
        club, _ = await club_service.do_create_club(
            owner_id,
            name=DEMO_BROKER_CLUB,
            description="Trades through its own (sandbox) Kite account.",
            currency="INR",  # Kite trades NSE instruments (synthetic INR prices: INFY, TCS, …)
        )
        link = LinkCreate(
            provider=BrokerProvider.KITE, environment=BrokerEnvironment.SANDBOX,
            key=DEV_KITE_KEY, secret=DEV_KITE_SECRET,
        )  # fmt: skip
        await broker_service.do_link(str(club.id), owner_id, link)
        return 1
    finally:
        if opened_redis and services.redis is not None:
            await services.redis.aclose()
            services.redis = None
