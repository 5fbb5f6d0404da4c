"""Every live event a person must see after a reconnect is in a room's log (issue #19): a
rebalance run moving (``portfolio:rebalance`` in the account's room), a consultation booked
(``advisory:booking``), a KYC decision or expiry (``kyc:status``, ``kyc:expiry``) and a club
broadcast (``broadcast:message``) in the person's own log ``person:<id>``, a broadcast to
everyone in ``broadcasts:all`` — each stored with its room's gap-free ``seq`` and the id
``<room>:<seq>``, its payload the published model. On the live server, ``feed:join`` with the
last seq a socket saw replays what happened while it was away."""

from __future__ import annotations

import datetime as dt
import uuid

from app.advisory.advisors import advisor_service
from app.advisory.schemas import RecommendationIn
from app.advisory.service import advisory_service
from app.asyncapi import SERVER_PAYLOADS
from app.broadcasts.documents import Audience, Severity
from app.broadcasts.service import broadcast_service
from app.extensions import Services
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.kyc.service import kyc_service
from app.realtime import eventlog
from app.realtime.eventlog import RoomEvent
from app.realtime.rooms import BROADCASTS_ROOM, club_room, person_room
from tests.advisory.factories import MODERATE, funded_account, profiled
from tests.advisory.test_advisors import advisor, hours
from tests.advisory.test_trial17 import brokers
from tests.clubs.factories import club_with_members
from tests.conftest import LiveStack
from tests.rooms.conftest import RoomClient, person

STAPLES = ["KO", "PEP", "JNJ", "PG", "WMT"]


async def logged(room: str, event: str) -> list[RoomEvent]:
    """The stored events named ``event`` of ``room``, checked: each carries its own ``seq`` and
    the id ``<room>:<seq>``, is at or below the room's head, and matches its published model."""
    found = [e for e in await eventlog.since(room, 0, 1000) if e.event == event]
    head = await eventlog.head(room)
    for e in found:
        assert e.data["seq"] == e.seq and e.data["id"] == f"{room}:{e.seq}"
        assert 1 <= e.seq <= head
        SERVER_PAYLOADS[event].model_validate(e.data)
    return found


async def holder() -> str:
    user = await do_provision_user(email=f"kyc-{uuid.uuid4().hex[:8]}@example.com",
                                   password="Holder-pass-2026", full_name="Holder")  # fmt: skip
    return str(user.id)


async def test_a_rebalance_run_moving_is_in_the_accounts_room_log(services: Services) -> None:
    redis = services.require_redis()
    user = await profiled(MODERATE)
    account = await funded_account(user, 1_000_000)
    await advisory_service.do_recommend(
        user, RecommendationIn(account_id=account.account_id, symbols=STAPLES), redis
    )
    run = await advisory_service.do_rebalance(account.account_id, user, False, redis)
    await advisory_service.do_execute(account.account_id, str(run.id), user, brokers, redis)
    room = club_room(account.account_id)
    told = await logged(room, "portfolio:rebalance")
    assert told and {e.data["run_id"] for e in told} == {str(run.id)}
    assert {e.data["club_id"] for e in told} == {account.account_id}
    assert "buying" in [e.data["status"] for e in told]  # cash only: straight to the buys
    seqs = [e.seq for e in told]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_a_consultation_booked_and_cancelled_is_in_both_peoples_logs(
    services: Services,
) -> None:
    adv = await advisor()
    start = hours(30)
    await advisor_service.do_offer_slots(adv, [start])
    client = await profiled(MODERATE)
    booking = await advisor_service.do_book(client, adv, start)
    await advisor_service.do_cancel(str(booking.id), client)
    for who in (adv, client):
        told = await logged(person_room(who), "advisory:booking")
        assert [(e.data["booking"]["id"], e.data["booking"]["status"]) for e in told] == [
            (str(booking.id), "booked"), (str(booking.id), "cancelled")]  # fmt: skip
        assert told[1].seq > told[0].seq


async def test_a_kyc_decision_is_in_the_holders_log_in_its_transaction(
    services: Services,
) -> None:
    uid, admin = await holder(), await holder()
    doc = KycDocument(user_id=uid, kind=DocumentKind.PAN, status=DocumentStatus.PENDING,
                      file_id="f", number_last4="1234")  # fmt: skip
    await doc.insert()
    decided, status = await kyc_service.do_decide(admin, str(doc.id), verify=False,
                                                  reason="The photo is blurred")  # fmt: skip
    [told] = await logged(person_room(uid), "kyc:status")
    assert told.data["document_id"] == str(doc.id) and told.data["document_status"] == "rejected"
    assert told.data["kyc_status"] == status.value and told.data["reason"] == "The photo is blurred"
    assert decided.status == DocumentStatus.REJECTED
    assert await logged(person_room(admin), "kyc:status") == []  # only the holder's


async def test_kyc_expiry_alerts_and_an_expiry_are_in_the_holders_log(services: Services) -> None:
    today = dt.datetime.now(dt.UTC).date()
    uid = await holder()
    licence = KycDocument(user_id=uid, kind=DocumentKind.DRIVING_LICENCE,
                          status=DocumentStatus.VERIFIED, file_id="f", number_last4="1234",
                          expires_on=(today + dt.timedelta(days=5)).isoformat())  # fmt: skip
    await licence.insert()
    await kyc_service.do_expiry_sweep(today)
    await kyc_service.do_expiry_sweep(today)  # a re-run logs nothing twice
    [soon] = await logged(person_room(uid), "kyc:expiry")
    assert (soon.data["document_id"], soon.data["days_left"]) == (str(licence.id), 5)
    await kyc_service.do_expiry_sweep(today + dt.timedelta(days=6))
    expiries = await logged(person_room(uid), "kyc:expiry")
    assert [e.data["days_left"] for e in expiries] == [5, 0]
    [expired] = await logged(person_room(uid), "kyc:status")
    assert expired.data["document_status"] == "expired" and expired.seq < expiries[1].seq


async def test_broadcasts_are_in_everyones_log_or_each_members_own(services: Services) -> None:
    admin = await holder()
    club, members = await club_with_members(2)
    everyone = await broadcast_service.do_send(
        admin, audience=Audience.EVERYONE, club_id=None, title="Maintenance",
        body="Read-only at 23:00.", severity=Severity.WARNING,
    )  # fmt: skip
    told = [e for e in await logged(BROADCASTS_ROOM, "broadcast:message")
            if e.data["broadcast"]["id"] == str(everyone.id)]  # fmt: skip
    assert len(told) == 1
    to_club = await broadcast_service.do_send(
        admin, audience=Audience.CLUB, club_id=str(club.id), title="Verified",
        body="Thank you.", severity=Severity.INFO,
    )  # fmt: skip
    for member in members:
        [mine] = await logged(person_room(member), "broadcast:message")
        assert mine.data["broadcast"]["id"] == str(to_club.id)
    assert not [e for e in await logged(BROADCASTS_ROOM, "broadcast:message")
                if e.data["broadcast"]["id"] == str(to_club.id)]  # fmt: skip


async def test_a_socket_that_was_away_catches_up_with_feed_join(live_stack: LiveStack) -> None:
    """Live: a socket is cut, a KYC decision and a club broadcast happen, the socket comes
    back with the last seq it saw and ``feed:join`` replays both, in order, once."""
    url = live_stack.url
    who, admin = await person("feed"), await person("feedadmin", [PlatformRole.ADMIN])
    first = await RoomClient(url, who).connect()
    joined = await first.call("feed:join", {"feed": "person"})
    assert joined["ok"] and joined["room"] == person_room(who.user_id) and joined["missed"] == []
    seen = joined["seq"]
    await first.close()

    doc = KycDocument(user_id=who.user_id, kind=DocumentKind.PAN, status=DocumentStatus.PENDING,
                      file_id="f", number_last4="4321")  # fmt: skip
    await doc.insert()
    await kyc_service.do_decide(admin.user_id, str(doc.id), verify=True, reason=None)
    club, _ = await club_with_members(1)
    # ``who`` joins nothing: only their own log counts; a broadcast to a club they are not in
    # never reaches it.
    await broadcast_service.do_send(admin.user_id, audience=Audience.CLUB, club_id=str(club.id),
                                    title="Not yours", body="-",
                                    severity=Severity.INFO)  # fmt: skip

    back = await RoomClient(url, who).connect()
    try:
        again = await back.call("feed:join", {"feed": "person", "after_seq": seen})
        assert again["ok"] and again["seq"] == seen + 1 and not again["truncated"]
        [missed] = again["missed"]
        assert missed["event"] == "kyc:status"
        assert missed["data"]["seq"] == seen + 1
        assert missed["data"]["document_status"] == "verified"
        assert missed["data"]["id"] == f"{person_room(who.user_id)}:{seen + 1}"
        current = await back.call("feed:join", {"feed": "person", "after_seq": seen + 1})
        assert current["missed"] == []  # nothing twice
        everyone = await back.call("feed:join", {"feed": "broadcasts"})
        assert everyone["room"] == BROADCASTS_ROOM and everyone["missed"] == []
        refused = await back.call("feed:join", {"feed": "someone-else"})
        assert refused["ok"] is False and refused["error"]["code"] == "validation_error"
        assert back.invalid == []
    finally:
        await back.close()
