"""The per-investor maximum holds atomically: many pledges of one person at once never pass
it, an expired reservation gives the room back, and a late payment beyond it is refunded."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.campaigns import repository
from app.campaigns.documents import InvestmentStatus
from app.campaigns.errors import InvestmentRefused
from app.campaigns.flows import campaign_flows
from app.campaigns.service import campaign_service
from tests.campaigns.factories import captured, kyc_owner, live_campaign

pytestmark = pytest.mark.usefixtures("services")


async def test_sixty_simultaneous_pledges_of_one_investor_stop_exactly_at_the_maximum() -> None:
    campaign = await live_campaign(goal="100000.00", min_investment="500.00",
                                   max_investment="5000.00")  # fmt: skip
    cid = str(campaign.id)
    investor = await kyc_owner("eager")
    others = [await kyc_owner("crowd") for _ in range(3)]
    samples: list[int] = []
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            doc = await campaign_service.get(cid)
            samples.append(doc.investor_totals.get(investor.user_id, 0))
            await asyncio.sleep(0)

    async def pledge(user_id: str, amount: int) -> object:
        try:
            return await campaign_service.do_reserve(user_id, cid, amount)
        except InvestmentRefused as exc:
            return exc

    # 60 pledges of ₹1,000 and ₹700 by one person (₹51,000 asked, ₹5,000 allowed), mixed
    # with other people's pledges on the same document.
    mine = [100_000 if n % 2 else 70_000 for n in range(60)]
    watcher = asyncio.create_task(watch())
    outcomes = await asyncio.gather(
        *(pledge(investor.user_id, a) for a in mine),
        *(pledge(o.user_id, 200_000) for o in others),
    )
    stop.set()
    await watcher

    own = outcomes[: len(mine)]
    accepted = [o for o in own if not isinstance(o, Exception)]
    refused = [o for o in own if isinstance(o, InvestmentRefused)]
    assert len(accepted) + len(refused) == len(mine)
    assert accepted and refused
    assert {r.details["reason"] for r in refused} <= {"above_maximum", "busy"}
    total = sum(i.amount for i in accepted)  # type: ignore[attr-defined]
    assert 500_000 - 70_000 < total <= 500_000  # no room left for even the smaller pledge
    assert samples and max(samples) <= 500_000

    held = await campaign_service.get(cid)
    assert held.investor_totals[investor.user_id] == total
    stored = await repository.committed_by_user(investor.user_id, campaign_id=cid)
    assert stored == total  # the running total agrees with the stored investments
    assert all(not isinstance(o, Exception) for o in outcomes[len(mine) :])  # others unaffected
    assert held.reserved == total + 3 * 200_000

    # A further pledge is refused up front with what is still allowed, and changes nothing.
    with pytest.raises(InvestmentRefused) as more:
        await campaign_service.do_reserve(investor.user_id, cid, 100_000)
    assert more.value.details["reason"] == "above_maximum"
    assert (await campaign_service.get(cid)).reserved == held.reserved


async def test_expired_reservations_give_the_room_back_and_late_money_beyond_it_is_refunded() -> (
    None
):
    campaign = await live_campaign(goal="100000.00", min_investment="1000.00",
                                   max_investment="3000.00")  # fmt: skip
    cid = str(campaign.id)
    investor = await kyc_owner("comeback")
    first = await campaign_service.do_reserve(investor.user_id, cid, 300_000)
    with pytest.raises(InvestmentRefused):
        await campaign_service.do_reserve(investor.user_id, cid, 100_000)

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    await campaign_service.do_expire_holds(later)
    after = await campaign_service.get(cid)
    assert after.investor_totals[investor.user_id] == 0 and after.reserved == 0

    # The room is back: a new pledge of ₹2,000 is taken and paid.
    second = await campaign_service.do_reserve(investor.user_id, cid, 200_000)
    assert await campaign_flows.do_apply_payment_event(captured(second))
    # The first reservation's money arrives late: ₹3,000 more would pass ₹3,000 — refunded.
    assert await campaign_flows.do_apply_payment_event(captured(first))
    late = await repository.get_investment(str(first.id))
    assert late is not None and late.status == InvestmentStatus.REFUND_PENDING
    done = await campaign_service.get(cid)
    assert (done.raised, done.investor_totals[investor.user_id]) == (200_000, 200_000)
    refunds = await repository.transfers(campaign_id=cid, kind="refund")
    assert [t.amount for t in refunds] == [300_000]
