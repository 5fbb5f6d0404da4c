"""A campaign room's join reads the room's head *before* the campaign, in one snapshot (issue
#19): a pledge committed between the two reads is neither lost (a campaign read before a head
that already counts its event) nor applied twice (a campaign that already contains it, with
its event still to come above the head)."""

from __future__ import annotations

from app.campaigns.events import campaign_room
from app.campaigns.service import campaign_service
from app.extensions import Services
from app.money import parse_minor
from app.realtime import eventlog
from tests.campaigns.factories import kyc_owner, live_campaign


async def test_a_pledge_between_the_head_and_the_campaign_is_applied_once(
    services: Services,
) -> None:
    campaign = await live_campaign()
    cid = str(campaign.id)
    investor = (await kyc_owner("investor")).user_id
    before = await eventlog.head(campaign_room(cid))

    async def pledge() -> None:  # another person's pledge commits between the two reads
        await campaign_service.do_reserve(investor, cid, 100_000)

    shown, head, missed, truncated = await campaign_service.catch_up(
        cid, investor, before, True, between=pledge
    )
    assert missed == [] and not truncated
    # The campaign returned is the one at ``head``: without the pledge, whose event is above.
    assert head == before and shown.reserved == campaign.reserved
    after = await eventlog.since(campaign_room(cid), head, 100)
    assert [e.event for e in after] == ["campaign:progress"]
    # A client applies the events above ``head`` to what it was given: it ends where the
    # database is, the pledge counted once.
    now = await campaign_service.get(cid)
    assert parse_minor(after[-1].data["reserved"]) == now.reserved == shown.reserved + 100_000

    # The next join starts from there: the state and the head agree again.
    again, head2, missed2, _ = await campaign_service.catch_up(cid, investor, head, True)
    assert head2 == head + 1 and again.reserved == now.reserved
    assert [m["data"]["seq"] for m in missed2] == [head + 1]
