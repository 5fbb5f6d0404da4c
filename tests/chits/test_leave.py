"""Leaving a scheme early: a non-prized subscriber sees the settlement first (net instalments
paid in, less penalties and what is still owed) and confirms that same figure; the ticket is
then removed like a defaulter's, a substitute takes it over and the books owe the leaver the
settlement shown. A prized subscriber cannot leave without a substitute. Every refusal
changes nothing; the trial balance stays zero."""

from __future__ import annotations

import datetime as dt

import pytest

from app.chits.documents import SubscriptionStatus
from app.chits.errors import ChitForbidden, SubscriptionStateError
from app.chits.service import Actor, chit_service, defaulter_refund
from app.identity.documents import PlatformRole
from app.ledger.service import ledger_service
from tests.chits.factories import active_scheme, admin, kyc_verified, pay, person, settings
from tests.identity.conftest import Api
from tests.rooms.conftest import http
from tests.rooms.conftest import person as http_person

__all__ = ["http"]

pytestmark = pytest.mark.usefixtures("sandbox")

R = 100


def at(month: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, month, 10, 10, minute, tzinfo=dt.UTC)


async def books(scheme_id: str) -> dict[str, int]:
    rows = await ledger_service.trial_balance(scheme_id)
    assert sum(r.balance for r in rows) == 0
    return {r.account: r.balance for r in rows}


async def test_a_non_prized_subscriber_leaves_with_the_settlement_shown() -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(1) - dt.timedelta(days=1))
    current = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert current is not None
    await chit_service.do_close_auction(str(current.id), at(1, 16))  # month 2 is called
    leaver, sub = people[1], subs[1]

    # the foreman (prized in month 1) may not leave: only through a substitute
    prized = await chit_service.leave_quote(str(subs[0].id), boss)
    assert (prized["may_leave"], prized["reason"]) == (False, "prized")
    with pytest.raises(SubscriptionStateError) as refused:
        await chit_service.do_leave(str(subs[0].id), boss, prized["settlement"])
    assert refused.value.details["reason"] == "prized"

    quote = await chit_service.leave_quote(str(sub.id), leaver)
    # paid month 1's ₹10,000; month 2's ₹10,000 is called and unpaid
    assert quote == {
        "subscription_id": str(sub.id), "ticket": 2, "may_leave": True, "reason": "ok",
        "paid_in": 10_000 * R, "penalties": 0, "owed": 10_000 * R, "settlement": 10_000 * R,
        "months_called": 2,
    }  # fmt: skip
    with pytest.raises(ChitForbidden):  # only the holder leaves
        await chit_service.do_leave(str(sub.id), boss, quote["settlement"])
    with pytest.raises(SubscriptionStateError) as moved:
        await chit_service.do_leave(str(sub.id), leaver, 9_000 * R)
    assert moved.value.details == {"reason": "settlement_changed", "settlement": "10000.00"}
    unchanged = (await chit_service.get_subscription(str(sub.id), leaver))[0]
    assert unchanged.status == SubscriptionStatus.ACTIVE and unchanged.left_at is None

    left = await chit_service.do_leave(str(sub.id), leaver, quote["settlement"])
    assert left.status == SubscriptionStatus.DEFAULTED and left.left_at is not None
    assert left.leave_settlement == 10_000 * R
    with pytest.raises(SubscriptionStateError):
        await chit_service.do_leave(str(sub.id), leaver, quote["settlement"])
    assert await chit_service.eligibility(await chit_service.get_scheme(sid), left) == "defaulted"

    # a substitute takes the ticket: pays the catch-up, and the leaver is owed the settlement
    newcomer = await person("substitute")
    taken = await chit_service.do_substitute(str(sub.id), boss, newcomer.user_id)
    assert taken.ticket == 2 and taken.catch_up == 20_000 * R
    ledger = await books(sid)
    assert ledger[defaulter_refund(str(sub.id))] == -quote["settlement"]


async def test_leaving_over_http(http: Api) -> None:
    boss_p = await http_person("foreman", [PlatformRole.USER, PlatformRole.FOREMAN])
    asha, ravi = await http_person("asha"), await http_person("ravi")
    for who in (boss_p, asha, ravi):
        await kyc_verified(who.user_id)
    boss = Actor(boss_p.user_id, (PlatformRole.USER, PlatformRole.FOREMAN))
    three = settings(subscribers=3, chit_amount="30000.00", min_bid="1500.00",
                     max_discount="9000.00")  # fmt: skip
    scheme = await chit_service.do_create_scheme(boss, three)
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss)
    await chit_service.do_decide(sid, await admin(), True, "")
    for who in (asha, ravi):
        await chit_service.do_subscribe(sid, Actor(who.user_id))
    subs = {s.ticket: s for s in await chit_service.subscribers(sid, boss)}
    await pay(subs[2], Actor(asha.user_id), at(1) - dt.timedelta(days=1))
    path = f"/api/v1/subscriptions/{subs[2].id}/leave"
    quote = await http.call("GET", path, token=asha.token)
    assert quote.status == 200 and quote.body["settlement"] == "10000.00"
    assert quote.body["may_leave"] is True
    hidden = await http.call("GET", path, token=ravi.token)
    assert hidden.status == 404
    for bad in ({"settlement": 10000}, {"settlement": "10000.001"}, {}):
        reply = await http.call("POST", path, json=bad, token=asha.token,
                                headers={"Idempotency-Key": f"k-{len(str(bad))}"})  # fmt: skip
        assert reply.status in (400, 422), reply.body
    changed = await http.call("POST", path, json={"settlement": "1.00"}, token=asha.token,
                              headers={"Idempotency-Key": "k-changed"})  # fmt: skip
    assert changed.status == 409 and changed.body["error"]["details"]["reason"] == (
        "settlement_changed")  # fmt: skip
    left = await http.call("POST", path, json={"settlement": "10000.00"}, token=asha.token,
                           headers={"Idempotency-Key": "k-leave"})  # fmt: skip
    assert left.status == 200 and left.body["status"] == "DEFAULTED"
    foreman_quote = await http.call("GET", f"/api/v1/subscriptions/{subs[1].id}/leave",
                                    token=boss_p.token)  # fmt: skip
    # month 1 is not closed yet, so the foreman is not prized; the foreman runs it to its end
    assert foreman_quote.status == 200 and foreman_quote.body["reason"] == "foreman"
