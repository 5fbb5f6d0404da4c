"""The robo-advice HTTP API on the live web server: documented in OpenAPI, public
questionnaire, and bad input answered with the one error shape (nothing changed, never a 500)."""

from __future__ import annotations

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
    assert "advisory:drift" in str(asyncapi.body)

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
    unknown = await http.call("PUT", f"/api/v1/portfolios/{aid}/policy", token=me.token,
                              json={"excluded": ["ZZZZ"]})  # fmt: skip
    assert unknown.status == 404 and unknown.body["error"]["code"] == "unknown_symbol"
    listed = await http.call("GET", "/api/v1/portfolios", token=me.token)
    assert [a["account_id"] for a in listed.body["accounts"]] == [aid]
    assert listed.body["accounts"][0]["excluded"] == []
