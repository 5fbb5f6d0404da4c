"""Advisors on the real services: only verified advisors offer slots; two people racing for one
slot — one gets it; cancel frees it; reschedule moves atomically; the advisor sees a client's
profile only while booked; reminders go once."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from app.advisory.advisors import advisor_service
from app.advisory.documents import BookingStatus
from app.advisory.errors import InvalidPolicy, NotAnAdvisor, NotEngaged, SlotUnavailable
from app.advisory.schemas import PolicyIn
from app.advisory.service import advisory_service
from app.extensions import Services
from app.identity import directory
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from app.notifications.documents import Notification
from tests.advisory.factories import MODERATE, funded_account, profiled


async def advisor(verified: bool = True) -> str:
    user = await do_provision_user(email=f"adv-{uuid.uuid4().hex[:8]}@example.com",
                                   password="Advisor-pass-2026", full_name="Advisor",
                                   roles=[PlatformRole.ADVISOR])  # fmt: skip
    if verified:
        await directory.do_set_kyc_status(str(user.id), "verified")
    return str(user.id)


def hours(n: float) -> dt.datetime:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(hours=n)
    return moment.replace(second=0, microsecond=0)


async def test_booking_cancel_reschedule_and_engagement(services: Services) -> None:
    unverified = await advisor(verified=False)
    with pytest.raises(NotAnAdvisor):
        await advisor_service.do_offer_slots(unverified, [hours(30)])
    adv = await advisor()
    first, second, third = hours(30), hours(31), hours(32)
    made = await advisor_service.do_offer_slots(adv, [first, second, third, first])
    assert len(made) == 3
    with pytest.raises(SlotUnavailable):
        await advisor_service.do_offer_slots(adv, [hours(-1)])

    asha, ravi = await profiled(MODERATE), await profiled(MODERATE)
    with pytest.raises(NotEngaged):
        await advisor_service.client_view(adv, asha)
    # Both race for the first slot: exactly one gets it (the unique index decides).
    results = await asyncio.gather(advisor_service.do_book(asha, adv, first),
                                   advisor_service.do_book(ravi, adv, first),
                                   return_exceptions=True)  # fmt: skip
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(won) == 1 and len(lost) == 1
    booking = won[0]
    winner = booking.client_id
    loser = ravi if winner == asha else asha
    assert [s.start for s in await advisor_service.free_slots(adv)] == [second, third]
    with pytest.raises(SlotUnavailable):
        await advisor_service.do_book(loser, adv, hours(40))  # not offered

    profile, accounts = await advisor_service.client_view(adv, winner)
    assert profile is not None and profile.profile == "moderate" and accounts == []
    with pytest.raises(NotEngaged):
        await advisor_service.client_view(adv, loser)

    moved = await advisor_service.do_reschedule(str(booking.id), winner, third)
    assert moved.start == third and moved.status is BookingStatus.BOOKED
    with pytest.raises(SlotUnavailable):  # the old booking is no longer active
        await advisor_service.do_cancel(str(booking.id), winner)
    assert [s.start for s in await advisor_service.free_slots(adv)] == [first, second]
    await advisor_service.do_book(loser, adv, first)
    with pytest.raises(SlotUnavailable):  # taken now: the reschedule changes nothing
        await advisor_service.do_reschedule(str(moved.id), winner, first)
    assert (await advisor_service.client_view(adv, winner))[0] is not None

    await advisor_service.do_cancel(str(moved.id), adv)  # the advisor may cancel too
    with pytest.raises(NotEngaged):  # no longer engaged: the client's data is hidden again
        await advisor_service.client_view(adv, winner)


async def test_reminders_go_once_to_both(services: Services) -> None:
    adv = await advisor()
    soon = hours(3)
    await advisor_service.do_offer_slots(adv, [soon])
    client = await profiled(MODERATE)
    booking = await advisor_service.do_book(client, adv, soon)
    assert await advisor_service.do_send_reminders() >= 1
    assert await advisor_service.do_send_reminders() == 0
    for who in (client, adv):
        notes = await Notification.find({"user_id": who, "ref_id": str(booking.id)}).to_list()
        assert len(notes) == 1 and notes[0].kind == "consultation_reminder"


async def test_strategies_are_published_followed_and_changes_reach_followers(
    services: Services,
) -> None:
    adv = await advisor()
    with pytest.raises(InvalidPolicy):
        await advisor_service.do_publish_strategy(adv, "Bad", "", {"KO": 5_000})
    strategy = await advisor_service.do_publish_strategy(
        adv, "Staples income", "Steady dividends", {"KO": 4_000, "PEP": 3_000, "PG": 3_000}
    )
    owner = await profiled(MODERATE)
    account = await funded_account(owner, 300_000)
    # The account's policy allows 50 % in one holding (the default 25 % cannot hold a mix of
    # three: following would be refused with invalid_policy).
    with pytest.raises(InvalidPolicy):
        await advisor_service.do_follow(str(strategy.id), account.account_id, owner)
    await advisory_service.do_set_policy(account.account_id, owner,
                                         PolicyIn(max_weight_bps=5_000))  # fmt: skip
    followed = await advisor_service.do_follow(str(strategy.id), account.account_id, owner)
    assert followed.targets == {"KO": 4_000, "PEP": 3_000, "PG": 3_000}
    assert followed.strategy_id == str(strategy.id)

    changed = await advisor_service.do_update_strategy(
        str(strategy.id), adv, {"KO": 5_000, "PEP": 5_000}
    )
    assert changed.version == 2
    now = await advisory_service.check_account(account.account_id, owner)
    assert now.targets == {"KO": 5_000, "PEP": 5_000}
    told = await Notification.find({"user_id": owner, "kind": "strategy_changed"}).to_list()
    assert len(told) == 1 and told[0].ref_id == str(strategy.id)

    page = await advisory_service.backtest(changed.targets, services.require_redis(), None,
                                           None, "SP500")  # fmt: skip
    assert page["start"] < page["end"] and isinstance(page["beta"], float)
