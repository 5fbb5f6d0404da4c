"""A month's prize paid through the payout provider (RazorpayX Payouts' shape, the local
sandbox): paid once whatever is asked twice, the winner's prize less what is withheld without
security, the ledger posted once, a refused payout FAILED then retried, a provider outage
retried by the sweep with the same idempotency key; over HTTP with its status."""

from __future__ import annotations

import datetime as dt

import pytest

from app.audit.documents import AuditRecord
from app.chits.documents import PaymentStatus, Subscription
from app.chits.errors import (
    ChitForbidden,
    PrizeAlreadyPaid,
    PrizePayoutInProgress,
    PrizePayoutState,
)
from app.chits.flows import chit_flows, payout_key
from app.chits.service import CASH, Actor, chit_service, prize_payable, receivable
from app.identity.documents import PlatformRole
from app.ledger.documents import JournalEntry
from app.ledger.service import ledger_service
from tests.chits.factories import active_scheme, admin, kyc_verified, pay, settings
from tests.identity.conftest import Api
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import http, person

__all__ = ["http"]

R = 100


def at(month: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2031, month, 10, 10, minute, tzinfo=dt.UTC)


async def zero_trial_balance(scheme_id: str) -> dict[str, int]:
    rows = await ledger_service.trial_balance(scheme_id)
    assert sum(r.balance for r in rows) == 0
    return {r.account: r.balance for r in rows}


async def payouts(sandbox: SandboxClient, reference: str) -> list[dict[str, object]]:
    status, body = await sandbox.call("GET", "/v1/payouts")
    assert status == 200
    return [p for p in body["items"] if str(p.get("reference_id", "")).startswith(reference)]


async def month_closed(month: int, people: list[Actor], subs: list[Subscription], sid: str) -> str:
    for sub, who in zip(subs, people, strict=True):
        await pay(sub, who, at(month) - dt.timedelta(days=1))
    current = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert current is not None and current.month == month
    if month > 1:
        await chit_service.do_bid(sid, people[3].user_id, 6_000 * R, at(month, 1))
    assert await chit_service.do_close_auction(str(current.id), at(month, 16)) is not None
    return str(current.id)


async def test_a_prize_is_paid_once_through_the_payout_provider(sandbox: SandboxClient) -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    first = await month_closed(1, people, subs, sid)
    with pytest.raises(ChitForbidden):
        await chit_flows.do_request_prize_payout(first, people[2])

    paid = await chit_flows.do_request_prize_payout(first, boss, at(1, 20))
    assert paid.status == PaymentStatus.COMPLETED and paid.amount == 50_000 * R
    assert paid.reference and paid.reference.startswith("pout_")
    # asked again (a double click, a retried request): the same payment, nothing sent again
    again = await chit_flows.do_request_prize_payout(first, boss, at(1, 21))
    assert again.id == paid.id and again.status == PaymentStatus.COMPLETED
    sent = await payouts(sandbox, f"chit-prize-{first}")
    assert [(p["amount"], p["reference_id"], p["status"]) for p in sent] == [
        (50_000 * R, payout_key(first, 1), "processed")]  # fmt: skip
    with pytest.raises(PrizeAlreadyPaid):  # nor recorded by hand on top
        await chit_service.do_pay_prize(first, boss, "NEFT-1", at(1, 22))
    books = await zero_trial_balance(sid)
    assert books.get(prize_payable(str(subs[0].id)), 0) == 0
    assert books.get(CASH, 0) == 0  # month 1's ₹50,000 went out
    entries = await JournalEntry.find(
        {"pool_id": sid, "idempotency_key": f"chit-prize:{first}"}
    ).to_list()
    assert len(entries) == 1
    auction, _ = await chit_service.auction(first, boss)
    assert auction.prize_paid_at is not None and auction.prize_payment_id == str(paid.id)
    actions = [a.action for a in await AuditRecord.find({"chain": f"scheme:{sid}"}).to_list()]
    assert "prize.payout_requested" in actions and "prize.paid" in actions


async def test_a_refused_payout_fails_then_is_retried_and_an_outage_is_retried_by_the_sweep(
    sandbox: SandboxClient,
) -> None:
    scheme, boss, people, subs = await active_scheme()
    sid = str(scheme.id)
    await month_closed(1, people, subs, sid)
    second = await month_closed(2, people, subs, sid)  # ticket 4 wins at ₹6,000: prize ₹44,000

    await sandbox.call("POST", "/sandbox/payouts/control", {"reject_next": 1})
    failed = await chit_flows.do_request_prize_payout(second, boss, at(2, 20))
    assert failed.status == PaymentStatus.FAILED and "balance" in (failed.last_error or "")
    # no security from ticket 4: month 3 owed now (₹9,300) + months 4 and 5 are withheld
    assert failed.amount == 44_000 * R - 29_300 * R
    assert failed.details["withheld"] == 29_300 * R
    books = await zero_trial_balance(sid)
    assert books[prize_payable(str(subs[3].id))] == -44_000 * R  # nothing posted yet
    with pytest.raises(PrizePayoutInProgress):
        await chit_service.do_pay_prize(second, boss, "NEFT-2", at(2, 21))
    with pytest.raises(ChitForbidden):
        await chit_flows.do_retry_prize_payout(str(failed.id), people[3])

    # the retry meets an outage: PENDING, the sweep sends it again after the backoff
    await sandbox.call("POST", "/sandbox/payouts/control", {"fail_next": 1})
    pending = await chit_flows.do_retry_prize_payout(str(failed.id), boss, at(2, 22))
    assert pending.status == PaymentStatus.PENDING and pending.attempts == 2
    assert pending.next_attempt_at is not None
    with pytest.raises(PrizePayoutState):  # only a FAILED one is retried by hand
        await chit_flows.do_retry_prize_payout(str(failed.id), boss, at(2, 22))
    assert await chit_flows.do_send_due(at(2, 22)) == 0  # not yet due
    assert await chit_flows.do_send_due(at(2, 40)) == 1
    done = await chit_flows.do_send_due(at(2, 41))
    assert done == 0
    final = await chit_service.payments_of(boss, subscription_id=str(subs[3].id))
    prize = [p for p in final if p.kind.value == "PRIZE"]
    assert len(prize) == 1 and prize[0].status == PaymentStatus.COMPLETED
    assert prize[0].details["attempt"] == 2 and prize[0].attempts == 3
    sent = await payouts(sandbox, f"chit-prize-{second}")
    assert [(p["amount"], p["reference_id"]) for p in sent] == [
        (14_700 * R, payout_key(second, 2))]  # fmt: skip
    books = await zero_trial_balance(sid)
    assert books.get(prize_payable(str(subs[3].id)), 0) == 0
    assert books[receivable(str(subs[3].id))] == -20_000 * R  # credit against months 4 and 5


async def test_prize_payout_over_http(http: Api, sandbox: SandboxClient) -> None:
    boss_p = await person("foreman", [PlatformRole.USER, PlatformRole.FOREMAN])
    others = [await person(f"sub{i}") for i in range(2)]
    for who in (boss_p, *others):
        await kyc_verified(who.user_id)
    boss = Actor(boss_p.user_id, (PlatformRole.USER, PlatformRole.FOREMAN))
    actors = [boss, *(Actor(o.user_id) for o in others)]
    scheme = await chit_service.do_create_scheme(
        boss,
        settings(subscribers=3, chit_amount="30000.00", min_bid="1500.00", max_discount="9000.00"),
    )
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss)
    await chit_service.do_decide(sid, await admin(), True, "")
    for who in actors[1:]:
        await chit_service.do_subscribe(sid, who)
    subs = await chit_service.subscribers(sid, boss)
    for sub, who in zip(subs, actors, strict=True):
        await pay(sub, who, at(1) - dt.timedelta(days=1))
    current = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert current is not None
    await chit_service.do_close_auction(str(current.id), at(1, 16))
    first = str(current.id)

    reply = await http.call("GET", f"/api/v1/auctions/{first}/payout", token=boss_p.token)
    assert reply.status == 200 and reply.body == {"payment": None}
    refused = await http.call("POST", f"/api/v1/auctions/{first}/payout", token=others[0].token,
                              headers={"Idempotency-Key": "k-other"})  # fmt: skip
    assert refused.status == 403 and refused.body["error"]["code"] == "chit_forbidden"
    paid = await http.call("POST", f"/api/v1/auctions/{first}/payout", token=boss_p.token,
                           headers={"Idempotency-Key": "k-boss"})  # fmt: skip
    assert paid.status == 200, paid.body
    assert (paid.body["kind"], paid.body["status"], paid.body["amount"]) == (
        "PRIZE", "COMPLETED", "30000.00")  # fmt: skip
    assert paid.body["withheld"] == "0.00" and paid.body["attempts"] == 1
    seen = await http.call("GET", f"/api/v1/auctions/{first}/payout", token=others[0].token)
    assert seen.status == 200 and seen.body["payment"]["status"] == "COMPLETED"
    retry = await http.call("POST", f"/api/v1/payments/{paid.body['id']}/retry",
                            token=boss_p.token, headers={"Idempotency-Key": "k-retry"})  # fmt: skip
    assert retry.status == 409 and retry.body["error"]["code"] == "prize_payout_state"
    missing = await http.call("POST", "/api/v1/auctions/nope/payout", token=boss_p.token,
                              headers={"Idempotency-Key": "k-missing"})  # fmt: skip
    assert missing.status == 404
    auction = await http.call("GET", f"/api/v1/auctions/{first}", token=boss_p.token)
    assert auction.body["prize_payment_id"] == paid.body["id"] and auction.body["prize_paid_at"]
