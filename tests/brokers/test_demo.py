"""The demo broker club `make run` shows: linked to the sandbox's development Kite app, waiting
for the treasurer's login, made once."""

from __future__ import annotations

from app.brokers.documents import BrokerLink, LinkStatus
from app.clubs.documents import Club
from devtools.brokers_sandbox.__main__ import DEV_KITE_KEY
from devtools.demo_brokers import DEMO_BROKER_CLUB, load_demo_brokers
from tests.rooms.conftest import person


async def test_the_demo_broker_club_is_loaded_once(services: object) -> None:
    owner = await person("demo-broker-owner")
    assert await load_demo_brokers(owner.email) == 1
    assert await load_demo_brokers(owner.email) == 0
    club = await Club.find_one({"name": DEMO_BROKER_CLUB, "created_by": owner.user_id})
    assert club is not None
    link = await BrokerLink.find_one({"club_id": str(club.id)})
    assert link is not None and link.status is LinkStatus.LOGIN_REQUIRED
    assert link.key_last4 == DEV_KITE_KEY[-4:] and DEV_KITE_KEY not in link.key_enc
