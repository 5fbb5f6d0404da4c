"""The chit HTTP API on the live server: the portal's shapes under /api/v1, money as decimal
strings, every refusal a stable code that changes nothing, and the OpenAPI description."""

from __future__ import annotations

from typing import Any

import pytest

from app.identity.documents import PlatformRole
from tests.chits.factories import kyc_verified
from tests.identity.conftest import Api
from tests.rooms.conftest import http, person

__all__ = ["http"]

pytestmark = pytest.mark.usefixtures("services")

BODY: dict[str, Any] = {
    "name": "Neem Tree Chit", "chit_amount": "30000.00", "subscribers": 3,
    "instalment": "10000.00", "commission_bps": 500, "min_bid": "1500.00", "bid_step": "500.00",
    "max_discount": "9000.00", "commission_source": "prize", "auction_day": 5,
    "auction_time": "18:30", "start_date": "2031-03-01",
}  # fmt: skip


async def test_schemes_subscriptions_payments_and_score_over_http(http: Api) -> None:
    boss = await person("foreman", [PlatformRole.USER, PlatformRole.FOREMAN])
    root = await person("admin", [PlatformRole.USER, PlatformRole.ADMIN])
    asha, ravi, plain = await person("asha"), await person("ravi"), await person("plain")
    for who in (boss, asha, ravi):
        await kyc_verified(who.user_id)

    refused = await http.call("POST", "/api/v1/schemes", json=BODY, token=plain.token)
    assert (refused.status, refused.body["error"]["code"]) == (403, "chit_forbidden")
    too_much = await http.call("POST", "/api/v1/schemes", json={**BODY, "commission_bps": 701},
                               token=boss.token)  # fmt: skip
    assert too_much.status == 422 and too_much.body["error"]["code"] == "invalid_scheme"
    assert too_much.body["error"]["details"] == {"field": "commission_bps", "rule": "max_7_percent"}
    floaty = await http.call("POST", "/api/v1/schemes", json={**BODY, "instalment": 10000.5},
                             token=boss.token)  # fmt: skip
    assert floaty.status == 422
    created = await http.call("POST", "/api/v1/schemes", json=BODY, token=boss.token)
    assert created.status == 201, created.body
    scheme = created.body
    sid = scheme["id"]
    assert (scheme["status"], scheme["commission"], scheme["chit_amount"]) == (
        "DRAFT", "1500.00", "30000.00")  # fmt: skip
    hidden = await http.call("GET", f"/api/v1/schemes/{sid}", token=asha.token)
    assert (hidden.status, hidden.body["error"]["code"]) == (404, "scheme_not_found")
    renamed = await http.call("PATCH", f"/api/v1/schemes/{sid}", json={"name": "Neem Chit"},
                              token=boss.token)  # fmt: skip
    assert renamed.status == 200 and renamed.body["name"] == "Neem Chit"
    assert (
        await http.call("POST", f"/api/v1/schemes/{sid}/submit", token=boss.token)
    ).status == 200
    not_admin = await http.call("POST", f"/api/v1/schemes/{sid}/approve", json={},
                                token=boss.token)  # fmt: skip
    assert not_admin.status == 403
    approved = await http.call("POST", f"/api/v1/schemes/{sid}/approve", json={"approve": True},
                               token=root.token)  # fmt: skip
    assert approved.status == 200 and approved.body["status"] == "APPROVED"
    again = await http.call("POST", f"/api/v1/schemes/{sid}/approve", json={"approve": True},
                            token=root.token)  # fmt: skip
    assert (again.status, again.body["error"]["code"]) == (409, "scheme_state")

    no_kyc = await http.call("POST", "/api/v1/subscriptions", json={"scheme_id": sid},
                             token=plain.token)  # fmt: skip
    assert (no_kyc.status, no_kyc.body["error"]["code"]) == (403, "kyc_required")
    mine = []
    for who in (asha, ravi):
        joined = await http.call("POST", "/api/v1/subscriptions", json={"scheme_id": sid},
                                 token=who.token)  # fmt: skip
        assert joined.status == 201, joined.body
        mine.append(joined.body)
    assert [m["ticket"] for m in mine] == [2, 3] and mine[0]["member_id"].startswith("UCFSIN-")
    full = await http.call("POST", "/api/v1/subscriptions", json={"scheme_id": sid},
                           token=plain.token)  # fmt: skip
    assert full.status in (403, 409)
    active = await http.call("GET", f"/api/v1/schemes/{sid}", token=asha.token)
    assert active.body["status"] == "ACTIVE" and active.body["current_month"] == 1
    listed = await http.call("GET", f"/api/v1/schemes/{sid}/subscribers", token=boss.token)
    assert [s["balance"] for s in listed.body["subscriptions"]] == ["10000.00"] * 3

    # the month's arithmetic under the "prize" rule: ₹3,000 discount all shared (₹1,000 each)
    preview = await http.call("GET", f"/api/v1/schemes/{sid}/preview", token=asha.token,
                              params={"discount": "3000.00"})  # fmt: skip
    assert preview.body["prize"] == "25500.00" and preview.body["shares"] == ["1000.00"] * 3

    sub_id = mine[0]["id"]
    no_key = await http.call("POST", f"/api/v1/subscriptions/{sub_id}/payments", token=asha.token)
    assert (no_key.status, no_key.body["error"]["code"]) == (400, "idempotency_key_required")
    theirs = await http.call("POST", f"/api/v1/subscriptions/{sub_id}/payments", token=ravi.token,
                             headers={"Idempotency-Key": "k-ravi"})  # fmt: skip
    assert theirs.status == 404
    trial = await http.call("GET", f"/api/v1/schemes/{sid}/trial-balance", token=boss.token)
    assert trial.body["total"] == "0.00"
    book = await http.call("GET", f"/api/v1/subscriptions/{sub_id}/passbook", token=asha.token)
    assert book.body["rows"][0]["due"] == "10000.00" and book.body["balance"] == "10000.00"
    score = await http.call("GET", f"/api/v1/users/{asha.user_id}/chit-score", token=asha.token)
    assert score.status == 200 and 0 <= score.body["score"] <= 900
    names = [f["name"] for f in score.body["factors"]]
    assert names == ["payment_history", "scheme_participation", "kyc_completion",
                     "profile_completeness"]  # fmt: skip
    other = await http.call("GET", f"/api/v1/users/{asha.user_id}/chit-score", token=ravi.token)
    assert other.status == 403
    payments = await http.call("GET", "/api/v1/payments", token=asha.token)
    assert payments.status == 200 and payments.body["payments"] == []

    spec = (await http.call("GET", "/openapi.json")).body["paths"]
    for path in ("/api/v1/schemes", "/api/v1/schemes/{scheme_id}/approve",
                 "/api/v1/schemes/{scheme_id}/subscribers", "/api/v1/subscriptions",
                 "/api/v1/subscriptions/{sub_id}/payments", "/api/v1/payments",
                 "/api/v1/payments/{payment_id}", "/api/v1/users/{user_id}/payments",
                 "/api/v1/users/{user_id}/chit-score"):  # fmt: skip
        assert path in spec, path
    assert "201" in spec["/api/v1/schemes"]["post"]["responses"]
    assert "422" in spec["/api/v1/schemes"]["post"]["responses"]
