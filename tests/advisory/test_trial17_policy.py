"""The trial's policy and advisor findings over HTTP, on the live server: a strict policy model
(unknown fields and "yes" refused, PUT needs every field, PATCH changes only what it names);
exclusions keep the cap and clearing them brings the targets back; following a strategy obeys
the account's policy; a club's targets come from the club's own risk profile; slots never
overlap (also when offered at the same time); bookings answer with names; a reversed
performance period has its own code."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.advisory import repository
from app.identity import directory
from app.identity.documents import PlatformRole
from tests.advisory.factories import BOLD
from tests.identity.conftest import Api
from tests.rooms.conftest import club_of, person

FULL = {"band_bps": 500, "min_trade": "0.00", "excluded": [], "max_weight_bps": 4000,
        "wash_sale_days": 30}  # fmt: skip


def pct(bps: int) -> str:
    return f"{bps // 100}.{bps % 100:02d}"


async def test_policy_is_strict_put_replaces_and_patch_changes_only_what_it_names(
    http: Api,
) -> None:
    me = await person("policy")
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json={"name": "Mine"})
    aid = opened.body["account_id"]
    url = f"/api/v1/portfolios/{aid}/policy"
    ok = await http.call("PUT", url, token=me.token, json={**FULL, "band_bps": 700})
    assert ok.status == 200 and ok.body["band_pct"] == "7.00"

    unknown = await http.call("PUT", url, token=me.token, json={**FULL, "band_pct": 3})
    assert unknown.status in (400, 422), unknown.body
    partial_put = await http.call("PUT", url, token=me.token, json={"band_bps": 900})
    assert partial_put.status in (400, 422)
    yes = await http.call("POST", f"/api/v1/portfolios/{aid}/rebalance", token=me.token,
                          json={"force": "yes"})  # fmt: skip
    assert yes.status in (400, 422)
    text_number = await http.call("PATCH", url, token=me.token, json={"band_bps": "900"})
    assert text_number.status in (400, 422)
    after = await http.call("GET", f"/api/v1/portfolios/{aid}", token=me.token)
    assert after.body["band_pct"] == "7.00"  # nothing changed by the refused ones

    patched = await http.call("PATCH", url, token=me.token, json={"wash_sale_days": 45})
    assert patched.status == 200, patched.body
    assert patched.body["wash_sale_days"] == 45 and patched.body["band_pct"] == "7.00"
    assert patched.body["max_weight_pct"] == "40.00"


async def test_exclusions_keep_the_cap_and_clearing_them_restores_the_targets(
    http: Api,
) -> None:
    me = await person("excluder")
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json={"name": "Mine"})
    aid = opened.body["account_id"]
    url = f"/api/v1/portfolios/{aid}/policy"
    base = {"KO": 4000, "PEP": 2000, "PG": 2000, "WMT": 2000}
    await repository.update_account(aid, {"targets": base, "base_targets": base})

    excluded = await http.call("PUT", url, token=me.token, json={**FULL, "excluded": ["KO"]})
    assert excluded.status == 200, excluded.body
    # 60 % left over three symbols, 40 % at most each: re-scaled evenly, never above the cap.
    assert excluded.body["targets"] == {"PEP": "33.34", "PG": "33.33", "WMT": "33.33"}
    capped = await http.call(
        "PATCH", url, token=me.token, json={"excluded": ["PEP"], "max_weight_bps": 3500}
    )
    assert capped.status == 200, capped.body
    # KO would be 50 % of what is left: held at 35 %, the rest shared in proportion.
    assert capped.body["targets"] == {"KO": "35.00", "PG": "32.50", "WMT": "32.50"}
    too_tight = await http.call("PATCH", url, token=me.token, json={"max_weight_bps": 3000})
    assert too_tight.status == 422 and too_tight.body["error"]["code"] == "invalid_policy"
    everything = await http.call("PATCH", url, token=me.token,
                                 json={"excluded": ["KO", "PEP", "PG", "WMT"]})  # fmt: skip
    assert everything.status == 422 and everything.body["error"]["code"] == "invalid_policy"
    cleared = await http.call("PUT", url, token=me.token, json=FULL)
    assert cleared.status == 200
    assert cleared.body["targets"] == {s: pct(b) for s, b in base.items()}
    rebalance = await http.call("POST", f"/api/v1/portfolios/{aid}/rebalance", token=me.token,
                                json={})  # fmt: skip
    assert rebalance.body.get("error", {}).get("code") != "no_targets"


async def test_following_a_strategy_obeys_the_account_policy(http: Api) -> None:
    adv = await person("strategist", roles=[PlatformRole.ADVISOR])
    await directory.do_set_kyc_status(adv.user_id, "verified")
    mix = {"KO": 5000, "PEP": 3000, "PG": 1000, "WMT": 1000}
    made = await http.call("POST", "/api/v1/strategies", token=adv.token,
                           json={"name": "Staples", "targets": mix})  # fmt: skip
    me = await person("follower")
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json={"name": "Mine"})
    aid = opened.body["account_id"]
    await http.call("PUT", f"/api/v1/portfolios/{aid}/policy", token=me.token,
                    json={**FULL, "excluded": ["WMT"], "max_weight_bps": 4000})  # fmt: skip
    followed = await http.call("POST", f"/api/v1/strategies/{made.body['id']}/followers",
                               token=me.token, json={"account_id": aid})  # fmt: skip
    assert followed.status == 201, followed.body
    targets = {s: float(w) for s, w in followed.body["targets"].items()}
    assert "WMT" not in targets and max(targets.values()) <= 40.0
    assert abs(sum(targets.values()) - 100.0) < 1e-9
    assert followed.body["strategy_id"] == made.body["id"]
    page = await http.call("GET", f"/api/v1/strategies/{made.body['id']}")
    assert page.body["followers"] == 1

    # A change of the strategy reaches the follower under its policy too.
    changed = await http.call("PUT", f"/api/v1/strategies/{made.body['id']}", token=adv.token,
                              json={"targets": {"WMT": 7000, "KO": 3000}})  # fmt: skip
    assert changed.status == 200
    after = await http.call("GET", f"/api/v1/portfolios/{aid}", token=me.token)
    assert "WMT" not in after.body["targets"]


async def test_a_club_recommendation_uses_the_club_profile_not_the_owner(http: Api) -> None:
    owner = await person("owner")
    await http.call("POST", "/api/v1/advisory/risk-profile", token=owner.token,
                    json={"answers": BOLD})  # fmt: skip
    club = await club_of(owner, currency="USD")
    url = f"/api/v1/portfolios/{club.id}/policy"
    set_profile = await http.call("PUT", url, token=owner.token,
                                  json={**FULL, "risk_profile": "conservative"})  # fmt: skip
    assert set_profile.status == 200 and set_profile.body["risk_profile"] == "conservative"
    rec = await http.call("POST", "/api/v1/advisory/recommendations", token=owner.token, json={
        "account_id": str(club.id), "symbols": ["KO", "PEP", "JNJ", "PG", "WMT"]})  # fmt: skip
    assert rec.status == 201, rec.body
    assert rec.body["profile"] == "conservative" and rec.body["objective"] == "min_volatility"


async def test_advisor_slots_never_overlap_and_bookings_answer_with_names(http: Api) -> None:
    adv = await person("desk", roles=[PlatformRole.ADVISOR])
    await directory.do_set_kyc_status(adv.user_id, "verified")
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0, second=0)
    url = "/api/v1/advisors/me/slots"
    first = await http.call("POST", url, token=adv.token,
                            json={"starts": [start.isoformat()], "minutes": 60})  # fmt: skip
    assert first.status == 201
    inside = (start + dt.timedelta(minutes=30)).isoformat()
    clash = await http.call("POST", url, token=adv.token, json={"starts": [inside]})
    assert clash.status == 409 and clash.body["error"]["code"] == "slot_overlap"
    same_request = await http.call("POST", url, token=adv.token, json={"starts": [
        (start + dt.timedelta(hours=5)).isoformat(),
        (start + dt.timedelta(hours=5, minutes=10)).isoformat()]})  # fmt: skip
    assert same_request.status == 409 and same_request.body["error"]["code"] == "slot_overlap"
    repeat = await http.call("POST", url, token=adv.token,
                             json={"starts": [start.isoformat()], "minutes": 60})  # fmt: skip
    assert repeat.status == 201 and repeat.body["slots"] == []

    # Two overlapping offers at once: exactly one wins.
    later = start + dt.timedelta(days=1)
    racing = await asyncio.gather(*(http.call("POST", url, token=adv.token, json={
        "starts": [(later + dt.timedelta(minutes=m)).isoformat()], "minutes": 30})
        for m in (0, 15)))  # fmt: skip
    assert sorted(r.status for r in racing) == [201, 409]
    mine = await http.call("GET", url, token=adv.token)
    assert len(mine.body["slots"]) == 2

    client = await person("client")
    booked = await http.call("POST", f"/api/v1/advisors/{adv.user_id}/bookings",
                             token=client.token, json={"start": start.isoformat()})  # fmt: skip
    assert booked.status == 201
    assert booked.body["advisor_name"] == "Desk" and booked.body["client_name"] == "Client"
    cancelled = await http.call("POST", f"/api/v1/bookings/{booked.body['id']}/cancel",
                                token=client.token)  # fmt: skip
    assert cancelled.body["advisor_name"] == "Desk"


async def test_a_reversed_performance_period_has_its_own_code(http: Api) -> None:
    me = await person("perf")
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json={"name": "Mine"})
    aid = opened.body["account_id"]
    await repository.update_account(aid, {"targets": {"KO": 5000, "PEP": 5000}})
    reversed_ = await http.call(
        "GET", f"/api/v1/portfolios/{aid}/performance?start=2012-01-01&end=2011-01-01",
        token=me.token)  # fmt: skip
    assert reversed_.status == 422 and reversed_.body["error"]["code"] == "invalid_period"
