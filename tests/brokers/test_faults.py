"""Linking and faults: credentials encrypted and shown by their last characters, audited,
testable and removable; a refused order shows the broker's reason; a forged postback is
refused and recorded; an outage answers 503 and the order is sent when the broker is back;
an ended Kite session asks for a login and the order goes once the treasurer logged in; a
difference between holdings and the broker's positions is shown and not corrected."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from app.audit.documents import AuditRecord
from app.books.service import books_service
from app.brokers.documents import BrokerLink, RefusedPostback
from app.orders.documents import Order
from tests.brokers.conftest import BrokerSandbox, eventually
from tests.brokers.flows import (
    alpaca_club,
    funded_club,
    kite_login,
    limit_buy,
    link_alpaca,
    link_kite,
    order_of,
    submit,
)
from tests.identity.conftest import Api

SYMBOL = "UNH"  # no test replays it: market orders wait; limit orders are used here
NSE_SYMBOL = "TCS"  # the same, for INR clubs trading through Kite


async def test_linking_is_encrypted_audited_testable_and_removable(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, member = await funded_club()
    club_id = str(club.id)
    key, secret, number = await sandbox.alpaca_account()
    path = f"/api/v1/clubs/{club_id}/broker"

    # A member may not link; wrong keys are refused and nothing is stored.
    body = {"provider": "alpaca", "environment": "sandbox", "key": key, "secret": secret}
    denied = await http.call("PUT", path, token=member.token, json=body)
    assert denied.status == 403 and denied.code == "role_required"
    wrong = await http.call("PUT", path, token=owner.token, json={**body, "secret": "x" * 20})
    assert wrong.status == 422 and wrong.code == "broker_link_invalid"
    assert await BrokerLink.find_one({"club_id": club_id}) is None
    bad = await http.call(
        "PUT", path, token=owner.token, json={**body, "provider": "kite", "environment": "paper"}
    )
    assert bad.status == 422
    none = await http.call("GET", path, token=owner.token)
    assert none.status == 200 and none.body["linked"] is False

    linked = await http.call("PUT", path, token=owner.token, json=body)
    assert linked.status == 200, linked.body
    shown = linked.body
    assert (shown["key_last4"], shown["secret_last4"]) == (key[-4:], secret[-4:])
    assert key not in json.dumps(shown) and secret not in json.dumps(shown)
    stored = await BrokerLink.get_pymongo_collection().find_one({"club_id": club_id})
    assert stored is not None and secret not in json.dumps(stored, default=str)
    assert key not in json.dumps(stored, default=str)

    tested = await http.call("POST", f"{path}/test", token=owner.token)
    assert tested.status == 200 and tested.body["test_ok"] is True
    assert number in tested.body["test_message"]

    actions = [
        r.action
        for r in await AuditRecord.find({"target_id": club_id, "target_type": "broker_link"})
        .sort("+seq")
        .to_list()
    ]
    assert actions == ["broker.linked"]
    assert all(
        secret not in json.dumps(r.details)
        for r in await AuditRecord.find({"target_id": club_id}).to_list()
    )

    removed = await http.call("DELETE", path, token=owner.token)
    assert removed.status == 204
    again = await http.call("DELETE", path, token=owner.token)
    assert again.status == 404 and again.code == "broker_link_not_found"
    # Without a link, orders go to the paper broker.
    order_id = await limit_buy(http, club_id, owner.token, SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202 and sent.body["broker"] == "paper", sent.body


async def test_a_refused_order_shows_the_brokers_reason_and_frees_the_cash(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club()
    club_id = str(club.id)
    await link_alpaca(http, sandbox, club_id, owner)
    order_id = await limit_buy(http, club_id, owner.token, SYMBOL)
    await sandbox.control(reject_next="insufficient buying power")
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202, sent.body
    got = await order_of(http, club_id, order_id, owner)
    assert got["order"]["status"] == "rejected"
    assert got["order"]["reason"] == "insufficient buying power"
    assert await books_service.held_cash(club_id) == 0


async def test_a_forged_postback_is_refused_and_recorded(http: Api, sandbox: BrokerSandbox) -> None:
    club, owner, _ = await funded_club(currency="INR")
    club_id = str(club.id)
    user = await link_kite(http, sandbox, club_id, owner)
    order_id = await limit_buy(http, club_id, owner.token, NSE_SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202, sent.body
    broker_id = sent.body["broker_order_id"]
    stamp = "2026-01-01 10:00:00"
    forged = {
        "user_id": user,
        "order_id": broker_id,
        "order_timestamp": stamp,
        "status": "CANCELLED",
        "filled_quantity": 0,
        "checksum": hashlib.sha256(f"{broker_id}{stamp}wrong-secret".encode()).hexdigest(),
    }
    reply = await http.call("POST", "/api/v1/brokers/kite/postback", json=forged)
    assert reply.status == 401 and reply.code == "postback_rejected"
    unknown = await http.call(
        "POST", "/api/v1/brokers/kite/postback", json={**forged, "user_id": "NOBODY"}
    )
    assert unknown.status == 401
    garbage = await http.call("POST", "/api/v1/brokers/kite/postback", json=[1, 2])
    assert garbage.status == 401
    refused = await RefusedPostback.find({"order_ref": broker_id}).to_list()
    assert {r.reason for r in refused} == {"bad_checksum", "unknown_account"}
    time.sleep(1.5)  # a poll has run meanwhile: still working, not cancelled
    got = await order_of(http, club_id, order_id, owner)
    assert got["order"]["status"] == "accepted"

    # A cancel goes to Kite; its genuine postback turns the order cancelled.
    cancel = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders/{order_id}/cancel",
        token=owner.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert cancel.status == 202, cancel.body

    async def cancelled() -> bool:
        got = await order_of(http, club_id, order_id, owner)
        return got["order"]["status"] == "cancelled"

    assert await eventually(cancelled)


async def test_reordered_and_delayed_updates_only_move_an_order_forward(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club()
    club_id = str(club.id)
    await link_alpaca(http, sandbox, club_id, owner)
    # Each stream event is held back until the next one, and both come late.
    await sandbox.control(reorder=True, delay_ms=300)
    order_id = await limit_buy(http, club_id, owner.token, SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202, sent.body
    # While it works at the broker, the link can neither change nor go.
    held = await http.call("DELETE", f"/api/v1/clubs/{club_id}/broker", token=owner.token)
    assert held.status == 409 and held.code == "broker_orders_open", held.body
    cancel = await http.call(
        "POST",
        f"/api/v1/clubs/{club_id}/orders/{order_id}/cancel",
        token=owner.token,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert cancel.status == 202, cancel.body

    async def cancelled() -> bool:
        got = await order_of(http, club_id, order_id, owner)
        return got["order"]["status"] == "cancelled"

    assert await eventually(cancelled)
    time.sleep(1.5)  # the late "new" event and a poll arrive after the cancel
    got = await order_of(http, club_id, order_id, owner)
    assert got["order"]["status"] == "cancelled"
    events = [
        d["payload"]["event"]
        for d in (await sandbox.control())["delivered"]
        if d["payload"].get("order", {}).get("client_order_id") == order_id
    ]
    assert events == ["canceled", "new"]  # sent in the wrong order
    assert await books_service.held_cash(club_id) == 0


async def test_an_outage_answers_503_and_the_order_goes_when_the_broker_is_back(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club()
    club_id = str(club.id)
    await link_alpaca(http, sandbox, club_id, owner)
    order_id = await limit_buy(http, club_id, owner.token, SYMBOL)
    await sandbox.control(outage=True)
    # Keys given while Alpaca is down are kept, untested.
    other, other_owner, _ = await funded_club()
    key, secret, _ = await sandbox.alpaca_account()
    kept = await http.call(
        "PUT",
        f"/api/v1/clubs/{other.id}/broker",
        token=other_owner.token,
        json={"provider": "alpaca", "key": key, "secret": secret},
    )
    assert kept.status == 200, kept.body
    assert kept.body["test_ok"] is False and "did not answer" in kept.body["test_message"]
    assert kept.body["status"] == "unverified"
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 503 and sent.code == "service_unavailable", sent.body
    # The order is kept and re-sent: the answer says so, and the order shows it waiting.
    assert sent.body["error"]["details"]["queued"] is True
    stored = await Order.get(order_id)
    assert stored is not None and stored.status == "submitted" and stored.broker_order_id is None
    waiting = await order_of(http, club_id, order_id, owner)
    assert waiting["order"]["waiting_for_broker"] is True and waiting["order"]["broker"] == "alpaca"
    time.sleep(2.5)  # the poll tries again meanwhile and fails quietly
    await sandbox.control(outage=False)

    async def accepted() -> bool:
        got = await order_of(http, club_id, order_id, owner)
        return got["order"]["status"] == "accepted" and bool(got["order"]["broker_order_id"])

    assert await eventually(accepted)
    got = await order_of(http, club_id, order_id, owner)
    assert got["order"]["waiting_for_broker"] is False
    again = await submit(http, club_id, order_id, owner)  # nothing is placed twice
    assert again.status == 409 and again.code == "order_state"


async def test_an_ended_kite_session_asks_for_a_login_and_the_order_goes_after_it(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club(currency="INR")
    club_id = str(club.id)
    await link_kite(http, sandbox, club_id, owner)
    await sandbox.control(expire_sessions=True)
    order_id = await limit_buy(http, club_id, owner.token, NSE_SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 503 and sent.code == "broker_login_required", sent.body
    link = await http.call("GET", f"/api/v1/clubs/{club_id}/broker", token=owner.token)
    assert link.body["status"] == "login_required"
    again = await http.call("POST", f"/api/v1/clubs/{club_id}/broker/login", token=owner.token)
    assert again.status == 200 and again.body["login_url"]
    assert await kite_login(http, again.body["login_url"]) == f"/clubs/{club_id}?broker=linked"

    async def accepted() -> bool:
        got = await order_of(http, club_id, order_id, owner)
        return got["order"]["status"] == "accepted"

    assert await eventually(accepted)
    audit = [
        r.action
        for r in await AuditRecord.find({"target_id": club_id, "target_type": "broker_link"})
        .sort("+seq")
        .to_list()
    ]
    assert audit == [
        "broker.linked",
        "broker.session_started",
        "broker.session_ended",
        "broker.session_started",
    ]


async def test_a_difference_with_the_brokers_positions_is_shown_not_corrected(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, key, _ = await alpaca_club(http, sandbox)
    club_id = str(club.id)
    path = f"/api/v1/clubs/{club_id}/broker/positions-check"
    same = await http.call("POST", path, token=owner.token)
    assert same.status == 200 and same.body["position_check"]["ok"] is True
    await sandbox.control(adjust_position={"account": key, "symbol": SYMBOL, "quantity": 7})
    differ = await http.call("POST", path, token=owner.token)
    check = differ.body["position_check"]
    assert check["ok"] is False
    assert check["differences"] == [{"symbol": SYMBOL, "books": 0, "broker": 7}]
    assert await books_service.holding(club_id, SYMBOL) is None  # nothing corrected
    shown = await http.call("GET", f"/api/v1/clubs/{club_id}/broker", token=owner.token)
    assert shown.body["position_check"]["differences"] == check["differences"]
