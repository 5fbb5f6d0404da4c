"""What a new user's trial of the brokers found (issue #21), each pinned down against the
sandbox: a wrong Kite secret lands back on the club's desk and leaves the link refused, not
active; a broker links only to a club of its currency; Alpaca keys that could not be checked
are not used for orders until a test succeeds; status texts are sentences, never the broker's
raw words; a member's invalid PUT is refused for the role first; the sandbox's control answers
400 to bad input; a cancelled order reserves nothing; an open order is modified through each
broker (Kite modify, Alpaca replace, the paper broker), audited, and the treasurer sees the
broker's audit events and refused postbacks."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import aiohttp

from app.audit.documents import AuditRecord
from app.orders.documents import PaperOrder
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

USD_SYMBOL = "UNH"  # nothing replays it: limit orders far below the market stay open
NSE_SYMBOL = "TCS"


async def post(http: Api, path: str, token: str, body: Any = None) -> Any:
    return await http.call(
        "POST", path, token=token, json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


async def test_a_wrong_kite_secret_lands_on_the_desk_and_the_link_is_not_active(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club(currency="INR")
    club_id = str(club.id)
    key, _, _ = await sandbox.kite_app()
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{club_id}/broker",
        token=owner.token,
        json={"provider": "kite", "key": key, "secret": "not-the-kite-secret"},
    )
    assert linked.status == 200, linked.body
    where = await kite_login(http, linked.body["login_url"])
    assert where == f"/clubs/{club_id}?broker_error=broker_link_invalid"
    shown = await http.call("GET", f"/api/v1/clubs/{club_id}/broker", token=owner.token)
    assert shown.body["status"] == "credentials_refused"
    assert "refused the API secret" in shown.body["status_reason"]
    assert "checksum" not in shown.body["status_reason"].lower()  # a sentence, not Kite's words
    # Not used for orders, and no loop of logins with the same secret.
    order_id = await limit_buy(http, club_id, owner.token, NSE_SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 409 and sent.code == "broker_link_unusable", sent.body
    assert (await order_of(http, club_id, order_id, owner))["order"]["status"] == (
        "awaiting_execution"
    )
    again = await post(http, f"/api/v1/clubs/{club_id}/broker/login", owner.token)
    assert again.status == 409 and again.code == "broker_link_unusable"
    audit = await AuditRecord.find(
        {"target_id": club_id, "action": "broker.login_refused"}
    ).to_list()
    assert len(audit) == 1 and "checksum" in audit[0].details["broker_said"].lower()


async def test_one_broker_account_serves_one_club(http: Api, sandbox: BrokerSandbox) -> None:
    # Alpaca: the same keys for a second club are refused when they are tried.
    _, _, key, secret = await alpaca_club(http, sandbox)
    second, second_owner, _ = await funded_club()
    again = await http.call(
        "PUT", f"/api/v1/clubs/{second.id}/broker", token=second_owner.token,
        json={"provider": "alpaca", "key": key, "secret": secret},
    )  # fmt: skip
    assert (again.status, again.code) == (409, "broker_account_taken"), again.body
    none = await http.call("GET", f"/api/v1/clubs/{second.id}/broker", token=second_owner.token)
    assert none.body["linked"] is False, none.body  # nothing changed
    # Kite: the account is known once its user logs in; a second club's login is refused.
    inr_a, owner_a, _ = await funded_club(currency="INR")
    inr_b, owner_b, _ = await funded_club(currency="INR")
    k_key, k_secret, _ = await sandbox.kite_app()
    for club, owner in ((inr_a, owner_a), (inr_b, owner_b)):
        linked = await http.call(
            "PUT", f"/api/v1/clubs/{club.id}/broker", token=owner.token,
            json={"provider": "kite", "key": k_key, "secret": k_secret},
        )  # fmt: skip
        assert linked.status == 200, linked.body
        where = await kite_login(http, linked.body["login_url"])
        expected = "broker=linked" if club is inr_a else "broker_error=broker_account_taken"
        assert where == f"/clubs/{club.id}?{expected}", where
    shown = await http.call("GET", f"/api/v1/clubs/{inr_b.id}/broker", token=owner_b.token)
    assert shown.body["status"] != "active", shown.body


async def test_a_broker_links_only_to_a_club_of_its_currency(
    http: Api, sandbox: BrokerSandbox
) -> None:
    usd, usd_owner, _ = await funded_club()
    inr, inr_owner, _ = await funded_club(currency="INR")
    key, secret, _ = await sandbox.kite_app()
    kite = await http.call(
        "PUT",
        f"/api/v1/clubs/{usd.id}/broker",
        token=usd_owner.token,
        json={"provider": "kite", "key": key, "secret": secret},
    )
    assert kite.status == 422 and kite.code == "broker_currency_mismatch", kite.body
    assert kite.body["error"]["details"]["broker_currency"] == "INR"
    a_key, a_secret, _ = await sandbox.alpaca_account()
    alpaca = await http.call(
        "PUT",
        f"/api/v1/clubs/{inr.id}/broker",
        token=inr_owner.token,
        json={"provider": "alpaca", "key": a_key, "secret": a_secret},
    )
    assert alpaca.status == 422 and alpaca.code == "broker_currency_mismatch", alpaca.body
    for club, who in ((usd, usd_owner), (inr, inr_owner)):
        none = await http.call("GET", f"/api/v1/clubs/{club.id}/broker", token=who.token)
        assert none.body["linked"] is False


async def test_unchecked_alpaca_keys_are_not_used_until_a_test_succeeds(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club()
    club_id = str(club.id)
    key, secret, number = await sandbox.alpaca_account()
    await sandbox.control(outage=True)
    kept = await http.call(
        "PUT",
        f"/api/v1/clubs/{club_id}/broker",
        token=owner.token,
        json={"provider": "alpaca", "key": key, "secret": secret},
    )
    assert kept.status == 200 and kept.body["status"] == "unverified", kept.body
    order_id = await limit_buy(http, club_id, owner.token, USD_SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 409 and sent.code == "broker_link_unusable", sent.body
    # An order never sent can still be cancelled; a member learns nothing of the link.
    other = await limit_buy(http, club_id, owner.token, USD_SYMBOL)
    gone = await post(http, f"/api/v1/clubs/{club_id}/orders/{other}/cancel", owner.token)
    assert gone.status == 202 and gone.body["status"] == "cancelled", gone.body
    _, _, member = await funded_club()
    nosy = await submit(http, club_id, order_id, member)
    assert nosy.status == 404, nosy.body
    failed = await post(http, f"/api/v1/clubs/{club_id}/broker/test", owner.token)
    assert failed.body["status"] == "unverified" and failed.body["test_ok"] is False
    assert failed.body["test_message"].startswith("The broker did not answer")
    assert "503" not in failed.body["test_message"]  # a sentence, not the broker's answer
    await sandbox.control(outage=False)
    tested = await post(http, f"/api/v1/clubs/{club_id}/broker/test", owner.token)
    assert tested.body["status"] == "active" and tested.body["account_ref"] == number
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202 and sent.body["broker"] == "alpaca", sent.body


async def test_an_ended_kite_session_is_told_in_a_sentence(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, owner, _ = await funded_club(currency="INR")
    club_id = str(club.id)
    await link_kite(http, sandbox, club_id, owner)
    await sandbox.control(expire_sessions=True)
    tested = await post(http, f"/api/v1/clubs/{club_id}/broker/test", owner.token)
    assert tested.body["status"] == "login_required" and tested.body["test_ok"] is False
    for text in (tested.body["status_reason"], tested.body["test_message"]):
        assert text.startswith("Kite ended the club's session"), text
        assert "access_token" not in text and "`" not in text


async def test_a_members_invalid_put_is_refused_for_the_role_first(
    http: Api, sandbox: BrokerSandbox
) -> None:
    club, _, member = await funded_club()
    reply = await http.call(
        "PUT",
        f"/api/v1/clubs/{club.id}/broker",
        token=member.token,
        json={"provider": "nobody", "key": "!", "secret": ""},
    )
    assert reply.status == 403 and reply.code == "role_required", reply.body


async def test_the_sandbox_control_answers_400_to_bad_input(sandbox: BrokerSandbox) -> None:
    async with aiohttp.ClientSession() as client:
        for body in (
            {"adjust_position": {"account": "A"}},
            {"adjust_position": {"account": "A", "symbol": "X", "quantity": "seven"}},
            {"adjust_position": [1]},
            {"drop": "many"},
            [1, 2],
        ):
            async with client.post(f"{sandbox.url}/_control", json=body) as reply:
                assert reply.status == 400, (body, await reply.text())
                assert (await reply.json())["error"]["code"] == "bad_control"
    state = await sandbox.control()
    assert state["drop"] == 0


async def test_a_cancelled_order_reserves_nothing(http: Api, sandbox: BrokerSandbox) -> None:
    club, owner, _ = await funded_club()
    club_id = str(club.id)
    await link_alpaca(http, sandbox, club_id, owner)
    order_id = await limit_buy(http, club_id, owner.token, USD_SYMBOL)
    sent = await submit(http, club_id, order_id, owner)
    assert sent.status == 202 and sent.body["reserved"] != "0.00", sent.body
    cancel = await post(http, f"/api/v1/clubs/{club_id}/orders/{order_id}/cancel", owner.token)
    assert cancel.status == 202, cancel.body

    async def cancelled() -> Any:
        got = await order_of(http, club_id, order_id, owner)
        return got if got["order"]["status"] == "cancelled" else None

    got = await eventually(cancelled)
    assert got and got["order"]["reserved"] == "0.00"


async def test_an_open_order_is_modified_through_each_broker_and_audited(
    http: Api, sandbox: BrokerSandbox
) -> None:
    kite_club, kite_owner, _ = await funded_club(currency="INR")
    alpaca_club, alpaca_owner, _ = await funded_club()
    paper_club, paper_owner, paper_member = await funded_club()
    await link_kite(http, sandbox, str(kite_club.id), kite_owner)
    a_key, a_secret, _ = await sandbox.alpaca_account()
    linked = await http.call(
        "PUT",
        f"/api/v1/clubs/{alpaca_club.id}/broker",
        token=alpaca_owner.token,
        json={"provider": "alpaca", "key": a_key, "secret": a_secret},
    )
    assert linked.status == 200 and linked.body["status"] == "active", linked.body
    cases = [
        ("kite", kite_club, kite_owner, NSE_SYMBOL),
        ("alpaca", alpaca_club, alpaca_owner, USD_SYMBOL),
        ("paper", paper_club, paper_owner, USD_SYMBOL),
    ]
    for broker, club, owner, symbol in cases:
        club_id = str(club.id)
        order_id = await limit_buy(http, club_id, owner.token, symbol, quantity=4, limit="50.00")
        early = await post(
            http, f"/api/v1/clubs/{club_id}/orders/{order_id}/modify", owner.token, {"quantity": 2}
        )
        assert early.status == 409 and early.code == "order_state"  # not at the broker yet
        sent = await submit(http, club_id, order_id, owner)
        assert sent.status == 202 and sent.body["broker"] == broker, sent.body

        async def accepted(
            club_id: str = club_id, order_id: str = order_id, who: Any = owner
        ) -> bool:
            got = await order_of(http, club_id, order_id, who)
            return bool(got["order"]["status"] == "accepted")

        assert await eventually(accepted), broker
        path = f"/api/v1/clubs/{club_id}/orders/{order_id}/modify"
        more = await post(http, path, owner.token, {"quantity": 400})  # 20,000.00 > 10,000.00
        assert more.status == 422 and more.code == "change_exceeds_cash", more.body
        assert more.body["error"]["details"]["available"] == "9799.00", more.body
        bad = await post(http, path, owner.token, {})
        assert bad.status == 422
        changed = await post(http, path, owner.token, {"quantity": 3, "limit_price": "45.50"})
        assert changed.status == 200, (broker, changed.body)
        assert changed.body["quantity"] == 3 and changed.body["limit_price"] == "45.50"
        audit = await AuditRecord.find(
            {"target_id": order_id, "action": "order.modified"}
        ).to_list()
        assert len(audit) == 1 and audit[0].details["before"] == {
            "quantity": 4,
            "limit_price": 5000,
        }
        assert audit[0].details["after"] == {"quantity": 3, "limit_price": 4550}
        if broker == "paper":

            async def paper_changed(order_id: str = order_id) -> bool:
                book = await PaperOrder.find_one({"order_id": order_id})
                return book is not None and (book.quantity, book.limit_price) == (3, 4550)

            assert await eventually(paper_changed)
            denied = await post(http, path, paper_member.token, {"quantity": 2})
            assert denied.status == 403
        else:
            state = await sandbox.control()
            broker_id = changed.body["broker_order_id"]
            shown = [
                d["payload"]
                for d in state["delivered"]
                if d["payload"].get("order_id") == broker_id
                or d["payload"].get("order", {}).get("id") == broker_id
            ]
            if broker == "kite":  # Kite's postback after the modify carries the new terms
                assert (shown[-1]["quantity"], shown[-1]["price"]) == (3, 45.5)
            else:  # Alpaca's order, read with the club's keys, was replaced
                async with (
                    aiohttp.ClientSession() as client,
                    client.get(
                        f"{sandbox.url}/alpaca/v2/orders/{broker_id}",
                        headers={"APCA-API-KEY-ID": a_key, "APCA-API-SECRET-KEY": a_secret},
                    ) as reply,
                ):
                    assert reply.status == 200
                    body = await reply.json()
                assert (body["qty"], body["limit_price"]) == ("3", "45.50")

    # The treasurer sees the Kite link's audit trail and the postbacks refused for it.
    kite_id = str(kite_club.id)
    link = await http.call("GET", f"/api/v1/clubs/{kite_id}/broker", token=kite_owner.token)
    forged = {
        "user_id": link.body["account_ref"],
        "order_id": "123",
        "order_timestamp": "2026-01-01 10:00:00",
        "checksum": hashlib.sha256(b"forged").hexdigest(),
    }
    refused = await http.call("POST", "/api/v1/brokers/kite/postback", json=forged)
    assert refused.status == 401
    seen = await http.call("GET", f"/api/v1/clubs/{kite_id}/broker/events", token=kite_owner.token)
    assert seen.status == 200, seen.body
    actions = [e["action"] for e in seen.body["events"]]
    assert actions[0] == "order.modified" and "broker.session_started" in actions
    assert "broker.linked" in actions
    assert [r["reason"] for r in seen.body["refused_postbacks"]] == ["bad_checksum"]
    member_view = await http.call(
        "GET", f"/api/v1/clubs/{paper_club.id}/broker/events", token=paper_member.token
    )
    assert member_view.status == 403
