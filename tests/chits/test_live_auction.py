"""A live auction in ``scheme:<id>`` with many socket clients bidding at once against the running
web server and worker: invalid bids refused with their codes, two equal bids never both best,
every client sees the same bids in the same order, the agent closes the auction once with the
right winner; and an instalment paid through the sandbox checkout reaches the room through
the webhook, Kafka and the chits agent."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import pytest

from app.chits.documents import PaymentStatus
from app.chits.service import Actor, chit_service
from app.identity.documents import PlatformRole
from app.ledger.service import ledger_service
from app.money import format_minor
from tests.chits.factories import kyc_verified, pay, settings
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import Person, RoomClient, clients, http, person

__all__ = ["clients", "http"]

pytestmark = pytest.mark.usefixtures("services")

R = 100


async def member(tag: str, *roles: PlatformRole) -> tuple[Person, Actor]:
    who = await person(tag, list(roles) or None)
    await kyc_verified(who.user_id)
    return who, Actor(who.user_id, tuple(roles) or (PlatformRole.USER,))


async def test_many_clients_bid_at_once(clients: Any, payment_stack: SandboxClient) -> None:
    boss_p, boss = await member("foreman", PlatformRole.USER, PlatformRole.FOREMAN)
    _, root = await member("admin", PlatformRole.USER, PlatformRole.ADMIN)
    people = [await member(f"bidder{i}") for i in range(7)]
    # ₹80,000 over 8 × ₹10,000; commission 5 % = ₹4,000 = minimum bid; step ₹500; max ₹24,000.
    scheme = await chit_service.do_create_scheme(boss, settings(
        subscribers=8, chit_amount="80000.00", min_bid="4000.00", max_discount="24000.00",
        start_date="2030-01-01", extension_seconds=2,
    ))  # fmt: skip
    sid = str(scheme.id)
    await chit_service.do_submit(sid, boss)
    await chit_service.do_decide(sid, root, True, "")
    for _, actor in people:
        await chit_service.do_subscribe(sid, actor)
    subs = await chit_service.subscribers(sid, boss)
    actors = [boss] + [a for _, a in people]
    sockets = [await clients(boss_p)] + [await clients(p) for p, _ in people]
    joined = [await c.call("chit:join", {"scheme_id": sid}) for c in sockets]
    assert all(j["ok"] for j in joined), joined
    assert [j["my_ticket"] for j in joined] == list(range(1, 9))
    outsider = await clients(await person("outsider"))
    refused = await outsider.call("chit:join", {"scheme_id": sid})
    assert refused["error"]["code"] == "scheme_not_found"

    # month 1: ticket 2 pays through the sandbox checkout (webhook → Kafka → chits agent)
    checkout = await chit_service.do_open_instalment(str(subs[1].id), actors[1])
    assert checkout.order_id and checkout.amount == 10_000 * R
    await payment_stack.pay(checkout.order_id)
    await sockets[0].wait_for(lambda c: any(e["ticket"] == 2 for e in c.of("chit:payment")), 30)
    paid = await chit_service.payment(str(checkout.id), actors[1])
    assert paid.status == PaymentStatus.COMPLETED and paid.provider == "sandbox"
    for sub, actor in zip(subs, actors, strict=True):
        if sub.ticket != 2:
            await pay(sub, actor, dt.datetime(2030, 1, 9, tzinfo=dt.UTC))
    first = await chit_service.current_auction(await chit_service.get_scheme(sid))
    assert first is not None and first.foreman_month
    assert await chit_service.do_close_auction(str(first.id), first.ends_at) is not None
    for sub, actor in zip(subs, actors, strict=True):
        await pay(sub, actor, dt.datetime(2030, 2, 9, tzinfo=dt.UTC))

    # month 2, live: the foreman opens the auction now for 10 seconds
    await chit_service.do_start_auction(sid, boss, duration=dt.timedelta(seconds=10))
    bidders = sockets[1:]

    async def bid(client: RoomClient, amount: int) -> dict[str, Any]:
        return await client.call("chit:bid", {"scheme_id": sid, "discount": format_minor(amount)})

    round1 = [4_000, 3_000, 4_250, 30_000, 5_000, 6_500, 6_000]  # rupees
    acks1 = await asyncio.gather(*(bid(c, a * R) for c, a in zip(bidders, round1, strict=True)))
    codes = [a["error"]["code"] if not a["ok"] else "ok" for a in acks1]
    assert codes[1:4] == ["bid_below_minimum", "bid_off_step", "bid_above_maximum"]
    assert codes[6] in ("ok", "bid_not_above_best")  # 6,000 lost if 6,500 came first
    assert all(codes[i] in ("ok", "bid_not_above_best") for i in (0, 4, 5, 6))
    assert "ok" in codes
    foreman_bid = await bid(sockets[0], 20_000 * R)
    assert foreman_bid["error"]["code"] == "not_eligible"
    assert foreman_bid["error"]["details"]["reason"] == "already_prized"
    # everyone bids the same ₹10,000 at once: exactly one can be best
    acks2 = await asyncio.gather(*(bid(c, 10_000 * R) for c in bidders))
    assert sum(1 for a in acks2 if a["ok"]) == 1
    assert {a["error"]["code"] for a in acks2 if not a["ok"]} == {"bid_not_above_best"}
    # then a scramble of rising bids
    acks3 = await asyncio.gather(*(bid(c, (11_000 + 500 * i) * R) for i, c in enumerate(bidders)))
    accepted = [a for a in [*acks1, *acks2, *acks3] if a["ok"]]
    assert len(accepted) >= 3

    def closed(c: RoomClient) -> list[dict[str, Any]]:
        return [e for e in c.of("chit:auction_closed") if e["auction"]["month"] == 2]

    for c in sockets:
        await c.wait_for(lambda c: bool(closed(c)), 40)
    seen = [[(e["bid_seq"], e["ticket"], e["discount"]) for e in c.of("chit:bid")]
            for c in sockets]  # fmt: skip
    assert all(s == seen[0] for s in seen), "every client sees the same bids in the same order"
    assert [s for s, _, _ in seen[0]] == list(range(1, len(accepted) + 1))
    assert sorted(a["seq"] for a in accepted) == [s for s, _, _ in seen[0]]
    discounts = [int(d.replace(".", "")) for _, _, d in seen[0]]
    assert discounts == sorted(discounts) and len(set(discounts)) == len(discounts)
    for c in sockets:
        assert len(closed(c)) == 1
        seqs = [e["seq"] for e in c.of("chit:bid", "chit:auction_closed", "chit:scheme")]
        assert seqs == sorted(seqs)
    result = closed(sockets[1])[0]["auction"]
    top_seq, top_ticket, top_discount = seen[0][-1]
    assert result["method"] == "highest_bid" and result["winner_ticket"] == top_ticket
    assert result["discount"] == top_discount and result["bid_count"] == top_seq
    shares = sum(int(s.replace(".", "")) for s in result["shares"])
    prize, commission = (int(result[k].replace(".", "")) for k in ("prize", "commission"))
    assert prize + commission + shares == 80_000 * R
    assert commission == 4_000 * R
    assert Counter(e["auction"]["id"] for c in sockets for e in closed(c)) == {
        result["id"]: len(sockets)}  # fmt: skip
    assert sum(r.balance for r in await ledger_service.trial_balance(sid)) == 0
    rejoin = await sockets[2].call("chit:join", {"scheme_id": sid, "after_seq": 0})
    missed = [m for m in rejoin["missed"] if m["event"] == "chit:bid"]
    assert [(m["data"]["bid_seq"], m["data"]["ticket"], m["data"]["discount"]) for m in missed] == (
        seen[0])  # fmt: skip
