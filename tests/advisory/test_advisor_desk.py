"""The advisor's desk over HTTP on the live server: an advisor lists their slots with the
consultations booked in them (the client's name), withdraws a free slot but not a booked one
(nothing changes when refused), cancels a consultation; drafts a strategy only they see, edits
it (name, description, targets: a new version only when the targets change), and publishes it
(then listed, with a readable public address, and open to followers)."""

from __future__ import annotations

import datetime as dt

from app.advisory.documents import AdvisorSlot, Booking, ModelStrategy
from app.identity import directory
from app.identity.documents import PlatformRole
from tests.identity.conftest import Api
from tests.rooms.conftest import Person, person


async def an_advisor(tag: str = "adviser") -> Person:
    made = await person(tag, roles=[PlatformRole.ADVISOR])
    await directory.do_set_kyc_status(made.user_id, "verified")
    return made


def at(hours: int) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)
    return moment.replace(minute=0, second=0, microsecond=0).isoformat()


async def test_slots_bookings_and_cancel(http: Api) -> None:
    adv, client, nobody = await an_advisor(), await person("client"), await person("plain")
    made = await http.call("POST", "/api/v1/advisors/me/slots", token=adv.token,
                           json={"starts": [at(48), at(49)], "minutes": 45})  # fmt: skip
    assert made.status == 201, made.body
    first, second = made.body["slots"]
    assert first["id"] and first["minutes"] == 45
    refused = await http.call("GET", "/api/v1/advisors/me/slots", token=nobody.token)
    assert refused.status == 403 and refused.body["error"]["code"] == "advisor_required"

    booked = await http.call("POST", f"/api/v1/advisors/{adv.user_id}/bookings",
                             token=client.token, json={"start": first["start"]})  # fmt: skip
    assert booked.status == 201, booked.body
    mine = await http.call("GET", "/api/v1/advisors/me/slots", token=adv.token)
    assert mine.status == 200
    by_id = {s["id"]: s for s in mine.body["slots"]}
    assert set(by_id) == {first["id"], second["id"]}
    assert by_id[first["id"]]["booking"]["client_name"] == "Client"
    assert by_id[first["id"]]["booking"]["status"] == "booked"
    assert by_id[second["id"]]["booking"] is None
    seen = await http.call("GET", "/api/v1/bookings", token=adv.token)
    assert [(b["client_name"], b["advisor_name"]) for b in seen.body["bookings"]] == [
        ("Client", "Adviser")
    ]

    # A booked slot stays; a free one goes; someone else's slot is not found.
    kept = await http.call("DELETE", f"/api/v1/advisors/me/slots/{first['id']}", token=adv.token)
    assert kept.status == 409 and kept.body["error"]["code"] == "slot_booked"
    assert await AdvisorSlot.find({"advisor_id": adv.user_id}).count() == 2
    other = await an_advisor("other")
    foreign = await http.call("DELETE", f"/api/v1/advisors/me/slots/{second['id']}",
                              token=other.token)  # fmt: skip
    assert foreign.status == 404 and foreign.body["error"]["code"] == "slot_not_found"
    gone = await http.call("DELETE", f"/api/v1/advisors/me/slots/{second['id']}", token=adv.token)
    assert gone.status == 200 and gone.body["start"] == second["start"]
    again = await http.call("DELETE", f"/api/v1/advisors/me/slots/{second['id']}", token=adv.token)
    assert again.status == 404
    free = await http.call("GET", f"/api/v1/advisors/{adv.user_id}/slots", token=client.token)
    assert free.body["slots"] == []

    # The advisor cancels the consultation: the slot is free again and can then be withdrawn.
    cancel = await http.call("POST", f"/api/v1/bookings/{booked.body['id']}/cancel",
                             token=adv.token)  # fmt: skip
    assert cancel.status == 200 and cancel.body["status"] == "cancelled"
    stored = await Booking.get(booked.body["id"])
    assert stored is not None and stored.status.value == "cancelled"
    mine = await http.call("GET", "/api/v1/advisors/me/slots", token=adv.token)
    assert [s["booking"] for s in mine.body["slots"]] == [None]
    gone = await http.call("DELETE", f"/api/v1/advisors/me/slots/{first['id']}", token=adv.token)
    assert gone.status == 200


async def test_draft_edit_and_publish_a_strategy(http: Api) -> None:
    adv, member = await an_advisor(), await person("member")
    body = {"name": "Quiet Dividends", "description": "Draft", "targets": {"KO": 6000, "PG": 4000},
            "publish": False}  # fmt: skip
    draft = await http.call("POST", "/api/v1/strategies", token=adv.token, json=body)
    assert draft.status == 201, draft.body
    sid = draft.body["id"]
    assert draft.body["published"] is False and draft.body["version"] == 1
    assert draft.body["path"] == f"/strategies/quiet-dividends-{sid}"

    # Nobody else sees a draft: not listed, no page, cannot be followed.
    listed = await http.call("GET", "/api/v1/strategies")
    assert sid not in [s["id"] for s in listed.body["strategies"]]
    assert (await http.call("GET", f"/api/v1/strategies/{sid}")).status == 404
    opened = await http.call("POST", "/api/v1/portfolios", token=member.token,
                             json={"name": "Mine", "tax_treatment": "taxable"})  # fmt: skip
    follow = await http.call("POST", f"/api/v1/strategies/{sid}/followers", token=member.token,
                             json={"account_id": opened.body["account_id"]})  # fmt: skip
    assert follow.status == 404 and follow.body["error"]["code"] == "strategy_not_found"
    mine = await http.call("GET", "/api/v1/advisors/me/strategies", token=adv.token)
    assert [(s["id"], s["published"]) for s in mine.body["strategies"]] == [(sid, False)]

    # Edits: the name alone keeps the version; new targets make the next one.
    renamed = await http.call("PUT", f"/api/v1/strategies/{sid}", token=adv.token,
                              json={"name": "Quiet Dividend Payers",
                                    "targets": {"KO": 6000, "PG": 4000}})  # fmt: skip
    assert renamed.status == 200, renamed.body
    assert renamed.body["name"] == "Quiet Dividend Payers" and renamed.body["version"] == 1
    assert renamed.body["description"] == "Draft"
    retargeted = await http.call("PUT", f"/api/v1/strategies/{sid}", token=adv.token,
                                 json={"targets": {"KO": 5000, "PG": 3000, "PEP": 2000},
                                       "description": "Three staples"})  # fmt: skip
    assert retargeted.body["version"] == 2
    assert retargeted.body["targets"] == {"KO": "50.00", "PEP": "20.00", "PG": "30.00"}
    bad = await http.call("PUT", f"/api/v1/strategies/{sid}", token=adv.token,
                          json={"targets": {"KO": 5000}})  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["code"] == "invalid_policy"
    stored = await ModelStrategy.get(sid)
    assert stored is not None and stored.targets == {"KO": 5000, "PEP": 2000, "PG": 3000}
    stranger = await an_advisor("stranger")
    assert (await http.call("POST", f"/api/v1/strategies/{sid}/publish",
                            token=stranger.token)).status == 404  # fmt: skip

    published = await http.call("POST", f"/api/v1/strategies/{sid}/publish", token=adv.token)
    assert published.status == 200 and published.body["published"] is True
    again = await http.call("POST", f"/api/v1/strategies/{sid}/publish", token=adv.token)
    assert again.status == 200 and again.body["version"] == 2
    listed = await http.call("GET", "/api/v1/strategies")
    shown = next(s for s in listed.body["strategies"] if s["id"] == sid)
    assert shown["advisor_name"] == "Adviser"
    assert shown["path"] == f"/strategies/quiet-dividend-payers-{sid}"
    # The member's account allows 50 % in one holding: a mix of three fits its policy (with the
    # default 25 % it would be refused with invalid_policy).
    policy = await http.call("PATCH", f"/api/v1/portfolios/{opened.body['account_id']}/policy",
                             token=member.token, json={"max_weight_bps": 5000})  # fmt: skip
    assert policy.status == 200, policy.body
    follow = await http.call("POST", f"/api/v1/strategies/{sid}/followers", token=member.token,
                             json={"account_id": opened.body["account_id"]})  # fmt: skip
    assert follow.status == 201, follow.body
