"""The robo-advice HTTP API on the live web server: documented in OpenAPI, public
questionnaire, and bad input answered with the one error shape (nothing changed, never a 500)."""

from __future__ import annotations

import datetime as dt

from app.identity import directory
from app.identity.documents import PlatformRole
from tests.advisory.factories import BOLD
from tests.identity.conftest import Api
from tests.rooms.conftest import person


async def test_routes_are_in_openapi_and_bad_input_gets_clear_errors(http: Api) -> None:
    spec = await http.call("GET", "/openapi.json")
    paths = spec.body["paths"]
    for path in ("/api/v1/portfolios/{account_id}/rebalance",
                 "/api/v1/portfolios/{account_id}/holdings",
                 "/api/v1/portfolios/{account_id}/performance",
                 "/api/v1/portfolios/{account_id}/recommendations",
                 "/api/v1/users/{user_id}/tax-loss-opportunities",
                 "/api/v1/advisory/questionnaire", "/api/v1/advisory/risk-profile",
                 "/api/v1/advisory/recommendations"):  # fmt: skip
        assert path in paths, path
    asyncapi = await http.call("GET", "/asyncapi.json")
    assert "portfolio:drift" in str(asyncapi.body)

    questions = await http.call("GET", "/api/v1/advisory/questionnaire")
    assert questions.status == 200 and len(questions.body["questions"]) == 5
    assert (await http.call("POST", "/api/v1/advisory/risk-profile",
                            json={"answers": BOLD})).status == 401  # fmt: skip

    me = await person("advice")
    bad = await http.call("POST", "/api/v1/advisory/risk-profile", token=me.token,
                          json={"answers": {**BOLD, "loss": "panic"}})  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["code"] == "invalid_answers"
    assert bad.body["error"]["details"]["problems"] == {"loss": "not an option: 'panic'"}
    none = await http.call("GET", "/api/v1/advisory/risk-profile", token=me.token)
    assert none.status == 404 and none.body["error"]["code"] == "no_risk_profile"

    ok = await http.call("POST", "/api/v1/advisory/risk-profile", token=me.token,
                         json={"answers": BOLD})  # fmt: skip
    assert ok.status == 201 and ok.body["profile"] == "aggressive" and ok.body["score"] == 100

    missing = await http.call("POST", "/api/v1/portfolios/000000000000000000000000/rebalance",
                              token=me.token, json={"force": False})  # fmt: skip
    assert missing.status == 404 and missing.body["error"]["code"] == "advisory_account_not_found"
    malformed = await http.call("POST", "/api/v1/portfolios/nope/rebalance", token=me.token,
                                json={"force": "maybe"})  # fmt: skip
    assert malformed.status in (400, 422) and "error" in malformed.body
    other = await http.call("GET", "/api/v1/users/someone-else/tax-loss-opportunities",
                            token=me.token)  # fmt: skip
    assert other.status == 404
    mine = await http.call("GET", f"/api/v1/users/{me.user_id}/tax-loss-opportunities",
                           token=me.token)  # fmt: skip
    assert mine.status == 200 and mine.body == {"wash_sale_days": 30, "opportunities": []}

    opened = await http.call("POST", "/api/v1/portfolios", token=me.token,
                             json={"name": "Mine", "tax_treatment": "retirement"})  # fmt: skip
    assert opened.status == 201 and opened.body["tax_treatment"] == "retirement"
    aid = opened.body["account_id"]
    no_targets = await http.call("POST", f"/api/v1/portfolios/{aid}/rebalance", token=me.token,
                                 json={})  # fmt: skip
    assert no_targets.status == 409 and no_targets.body["error"]["code"] == "no_targets"
    policy = await http.call("PUT", f"/api/v1/portfolios/{aid}/policy", token=me.token,
                             json={"band_bps": 10})  # fmt: skip
    assert policy.status in (400, 422)
    unknown = await http.call("PATCH", f"/api/v1/portfolios/{aid}/policy", token=me.token,
                              json={"excluded": ["ZZZZ"]})  # fmt: skip
    assert unknown.status == 404 and unknown.body["error"]["code"] == "unknown_symbol"
    listed = await http.call("GET", "/api/v1/portfolios", token=me.token)
    assert [a["account_id"] for a in listed.body["accounts"]] == [aid]
    assert listed.body["accounts"][0]["excluded"] == []


async def test_advisor_booking_over_http(http: Api) -> None:
    adv = await person("advisor", roles=[PlatformRole.ADVISOR])
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(microsecond=0)
    slots = {"starts": [start.isoformat()], "minutes": 30}
    refused = await http.call("POST", "/api/v1/advisors/me/slots", token=adv.token, json=slots)
    assert refused.status == 403 and refused.body["error"]["code"] == "advisor_required"
    await directory.do_set_kyc_status(adv.user_id, "verified")
    offered = await http.call("POST", "/api/v1/advisors/me/slots", token=adv.token, json=slots)
    assert offered.status == 201 and len(offered.body["slots"]) == 1
    naive = await http.call("POST", "/api/v1/advisors/me/slots", token=adv.token,
                            json={"starts": ["2030-01-01T10:00:00"]})  # fmt: skip
    assert naive.status in (400, 422)

    client, other = await person("client"), await person("other")
    free = await http.call("GET", f"/api/v1/advisors/{adv.user_id}/slots", token=client.token)
    assert [s["start"] for s in free.body["slots"]] == [start.isoformat()]
    booked = await http.call("POST", f"/api/v1/advisors/{adv.user_id}/bookings",
                             token=client.token, json={"start": start.isoformat()})  # fmt: skip
    assert booked.status == 201 and booked.body["status"] == "booked"
    again = await http.call("POST", f"/api/v1/advisors/{adv.user_id}/bookings",
                            token=other.token, json={"start": start.isoformat()})  # fmt: skip
    assert again.status == 409 and again.body["error"]["code"] == "slot_unavailable"
    view = await http.call("GET", f"/api/v1/advisory/clients/{client.user_id}", token=adv.token)
    assert view.status == 200 and view.body["profile"] is None
    hidden = await http.call("GET", f"/api/v1/advisory/clients/{other.user_id}", token=adv.token)
    assert hidden.status == 404 and hidden.body["error"]["code"] == "not_engaged"
    cancelled = await http.call("POST", f"/api/v1/bookings/{booked.body['id']}/cancel",
                                token=client.token)  # fmt: skip
    assert cancelled.status == 200 and cancelled.body["status"] == "cancelled"
    gone = await http.call("GET", f"/api/v1/advisory/clients/{client.user_id}", token=adv.token)
    assert gone.status == 404


async def test_strategy_public_page_over_http(http: Api) -> None:
    adv = await person("strategist", roles=[PlatformRole.ADVISOR])
    await directory.do_set_kyc_status(adv.user_id, "verified")
    made = await http.call("POST", "/api/v1/strategies", token=adv.token, json={
        "name": "Energy tilt", "targets": {"xom": 6000, "CVX": 4000}})  # fmt: skip
    assert made.status == 201 and made.body["targets"] == {"XOM": "60.00", "CVX": "40.00"}
    page = await http.call("GET", f"/api/v1/strategies/{made.body['id']}")  # no token: public
    assert page.status == 200 and page.body["performance"]["benchmark"] == "SP500"
    assert page.body["performance"]["twr_pct"] is not None
    listed = await http.call("GET", "/api/v1/strategies")
    assert made.body["id"] in [s["id"] for s in listed.body["strategies"]]
    bad = await http.call("POST", "/api/v1/strategies", token=adv.token, json={
        "name": "Half", "targets": {"XOM": 5000}})  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["code"] == "invalid_policy"
    missing = await http.call("GET", "/api/v1/strategies/nope")
    assert missing.status == 404 and missing.body["error"]["code"] == "strategy_not_found"
