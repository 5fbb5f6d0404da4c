"""The whole path over HTTP and Socket.IO against the running web server and worker: an
owner's campaign is checked, sent back, verified; two investors follow its room and invest
through the sandbox checkout; webhooks → Kafka → the campaigns agent complete the investments;
every open screen sees the progress; the funded campaign is released to its owner."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from tests.campaigns.factories import verify_kyc
from tests.identity.conftest import Api, eventually
from tests.payments.sandbox_client import SandboxClient
from tests.rooms.conftest import Person, RoomClient, person


def body(**overrides: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    data: dict[str, Any] = {
        "title": "Tailor Ravi's second shop", "story": "Two more machines and a shop front on "
        "MG Road, so weddings stop waiting three weeks.", "category": "services",
        "city": "Mysuru", "goal": "10000.00", "min_investment": "500.00",
        "max_investment": "8000.00", "profit_share_bps": 1500, "profit_period_months": 6,
        "starts_on": now.date().isoformat(), "ends_at": (now + dt.timedelta(days=20)).isoformat(),
        "funding_model": "all_or_nothing", "pledge_policy": "refuse",
    }  # fmt: skip
    data.update(overrides)
    return data


async def call(api: Api, who: Person, method: str, path: str, json: Any = None,
               status: int = 200, key: str | None = None, **params: str) -> Any:  # fmt: skip
    reply = await api.call(method, path, json=json, token=who.token, params=params or None,
                           headers={"Idempotency-Key": key} if key else None)  # fmt: skip
    assert reply.status == status, (method, path, reply.status, reply.body)
    return reply.body


async def test_campaign_from_review_to_funded_live_on_every_screen(
    api: Api, payment_stack: SandboxClient, clients: Callable[[Person], Any]
) -> None:
    owner, admin = await person("owner"), await person("admin", ["admin"])  # type: ignore[list-item]
    investors = [await person("investor"), await person("investor")]
    base = "/api/v1/campaigns"

    # Bad input answers the error shape and changes nothing; the owner needs KYC.
    bad = await call(api, owner, "POST", base, body(goal="12.345"), status=422)
    assert bad["error"]["code"] == "validation_error"
    assert (await call(api, owner, "POST", base, body(), status=403))["error"]["code"] == (
        "owner_kyc_required")  # fmt: skip
    await verify_kyc(owner.user_id)
    wrong = await call(api, owner, "POST", base, body(min_investment="9000.00"), status=422)
    assert wrong["error"]["details"]["field"] == "max_investment"
    draft = await call(api, owner, "POST", base, body(), status=201)
    cid = draft["id"]
    assert draft["status"] == "draft" and draft["goal"] == "10000.00"
    await call(api, investors[0], "GET", f"{base}/{cid}", status=404)  # a draft is private

    # Review: sent back with notes, edited, verified.
    await call(api, owner, "POST", f"{base}/{cid}/submit")
    queue = await call(api, admin, "GET", "/api/v1/admin/campaigns/dashboard")
    assert cid in [c["id"] for c in queue["to_verify"]]
    await call(api, investors[0], "GET", "/api/v1/admin/campaigns/dashboard", status=403)
    review = f"/api/v1/admin/campaigns/{cid}/review"
    back = await call(api, admin, "POST", review,
                      {"decision": "send_back", "notes": "Add the rent agreement"})  # fmt: skip
    assert back["status"] == "draft" and back["reviews"][0]["decision"] == "sent_back"
    story = "Two more machines, a shop front and the rent agreement attached."
    await call(api, owner, "PUT", f"{base}/{cid}", body(story=story))
    await call(api, owner, "POST", f"{base}/{cid}/submit")
    live = await call(api, admin, "POST", f"/api/v1/admin/campaigns/{cid}/review",
                      {"decision": "verify", "notes": "Documents checked"})  # fmt: skip
    assert live["status"] == "live"

    # The owner says where the money raised goes (verified at the payout sandbox).
    dest = "/api/v1/me/payout-destination"
    wrong = {"kind": "bank_account", "account_holder": "Ravi", "ifsc": "SBIN123",
             "account_number": "123456789"}  # fmt: skip
    assert (await call(api, owner, "PUT", dest, wrong, status=422))["error"]["code"] == (
        "validation_error")  # fmt: skip
    await call(api, owner, "PUT", dest, {"kind": "vpa", "vpa": "ravi.tailor@okhdfc"})
    assert (await call(api, owner, "GET", dest))["destination"]["vpa"] == "ravi.tailor@okhdfc"

    feed = await call(api, investors[0], "GET", base, q="machines", city="mysuru",
                      sort="closing_soon")  # fmt: skip
    assert cid in [c["id"] for c in feed["campaigns"]]
    none = await call(api, investors[0], "GET", base, q="machines", category="food")
    assert cid not in [c["id"] for c in none["campaigns"]]

    # Two investors follow the room; a third screen joins late and catches up.
    screens: list[RoomClient] = [await clients(p) for p in investors]
    for screen in screens:
        joined = await screen.call("campaign:join", {"campaign_id": cid})
        assert joined["ok"] and joined["campaign"]["raised"] == "0.00", joined

    quote = await call(api, investors[0], "GET", f"{base}/{cid}/quote", amount="12000.00")
    assert quote["outcome"] == "refuse" and quote["reason"] == "above_maximum"
    key = str(uuid.uuid4())
    first = await call(api, investors[0], "POST", f"{base}/{cid}/invest",
                       {"amount": "6000.00"}, status=201, key=key)  # fmt: skip
    again = await call(api, investors[0], "POST", f"{base}/{cid}/invest",
                       {"amount": "6000.00"}, status=201, key=key)  # a double click  # fmt: skip
    assert again["id"] == first["id"] and first["checkout_url"]
    refused = await call(api, investors[1], "POST", f"{base}/{cid}/invest",
                         {"amount": "5000.00"}, status=409, key=str(uuid.uuid4()))  # fmt: skip
    assert refused["error"]["details"] == {
        "reason": "exceeds_remaining", "requested": "5000.00", "remaining": "4000.00"}  # fmt: skip
    second = await call(api, investors[1], "POST", f"{base}/{cid}/invest",
                        {"amount": "4000.00"}, status=201, key=str(uuid.uuid4()))  # fmt: skip

    await payment_stack.pay(first["order_id"])

    def raised(value: str) -> Callable[[RoomClient], bool]:
        return lambda c: any(e["raised"] == value for e in c.of("campaign:progress"))

    for screen in screens:
        await screen.wait_for(raised("6000.00"), timeout=30)
    await payment_stack.pay(second["order_id"])
    for screen in screens:
        await screen.wait_for(raised("10000.00"), timeout=30)
    last = screens[0].of("campaign:progress")[-1]
    assert (last["status"], last["investor_count"], last["progress_bps"]) == ("funded", 2, 10000)
    seqs = [e["seq"] for e in screens[1].of("campaign:progress")]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    late = await clients(await person("latecomer"))
    caught = await late.call("campaign:join", {"campaign_id": cid, "after_seq": 0})
    assert caught["campaign"]["status"] == "funded"
    assert [e["data"]["seq"] for e in caught["events"]] == list(range(1, caught["seq"] + 1))

    # The release timer pays the owner through the payout sandbox; the ledger balances.
    async def released() -> bool:
        board = await call(api, owner, "GET", "/api/v1/me/campaigns/dashboard")
        return [t["status"] for t in board["owner_transfers"]] == ["paid"]

    await eventually(released, timeout=30)
    ledger = await call(api, owner, "GET", f"{base}/{cid}/ledger")
    assert ledger["trial_balance_sum"] == 0 and ledger["escrow"] == "0.00"
    mine = await call(api, investors[0], "GET", "/api/v1/me/campaigns/dashboard")
    assert mine["invested"] == "6000.00"
    assert [i["status"] for i in mine["investments"]] == ["completed"]

    # The owner posts an update: every screen gets it.
    news = {"title": "Machines ordered", "body": "Delivery next week."}
    await call(api, owner, "POST", f"{base}/{cid}/updates", news, status=201)
    for screen in screens:
        await screen.wait_for(lambda c: bool(c.of("campaign:update")), timeout=15)
    assert screens[0].of("campaign:update")[0]["update"]["title"] == "Machines ordered"
