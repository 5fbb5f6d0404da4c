"""A personal advice account is a one-member club underneath, but never a club to its owner:
it is missing from "My clubs" (the API the club list reads), listed under advice instead, marked
``personal`` when opened as a room, and takes no invites (nothing stored when refused)."""

from __future__ import annotations

from app.clubs.documents import Club, Invite
from app.clubs.service import club_service
from tests.identity.conftest import Api
from tests.rooms.conftest import person


async def test_a_personal_account_is_listed_under_advice_not_among_clubs(http: Api) -> None:
    me = await person("saver")
    club = await http.call("POST", "/api/v1/clubs", token=me.token,
                           json={"name": "Real club", "currency": "USD"})  # fmt: skip
    assert club.status == 201 and club.body["personal"] is False
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token,
                             json={"name": "My own money", "tax_treatment": "taxable"})  # fmt: skip
    assert opened.status == 201, opened.body
    account_id = opened.body["account_id"]

    clubs = await http.call("GET", "/api/v1/clubs", token=me.token)
    assert clubs.status == 200
    assert [c["id"] for c in clubs.body["clubs"]] == [club.body["id"]]

    portfolios = await http.call("GET", "/api/v1/portfolios", token=me.token)
    listed = {a["account_id"]: a["kind"] for a in portfolios.body["accounts"]}
    assert listed == {account_id: "personal"}  # the real club has no advisory policy yet

    room = await http.call("GET", f"/api/v1/clubs/{account_id}", token=me.token)
    assert room.status == 200 and room.body["personal"] is True
    stored = await Club.get(account_id)
    assert stored is not None and stored.personal and stored.name == "My own money"

    # Domain code that needs every book of a person can still ask for them.
    everything = await club_service.list_clubs(me.user_id, include_personal=True)
    assert {str(c.id) for c, _ in everything} == {club.body["id"], account_id}


async def test_a_personal_account_takes_no_invites(http: Api) -> None:
    me = await person("loner")
    body = {"name": "Retirement", "tax_treatment": "retirement"}
    opened = await http.call("POST", "/api/v1/portfolios", token=me.token, json=body)
    account_id = opened.body["account_id"]
    refused = await http.call("POST", f"/api/v1/clubs/{account_id}/invites", token=me.token,
                              json={"max_uses": 3})  # fmt: skip
    assert refused.status == 409, refused.body
    assert refused.body["error"]["code"] == "personal_account"
    assert await Invite.find({"club_id": account_id}).count() == 0
    # A real club of the same person still invites.
    club = await http.call("POST", "/api/v1/clubs", token=me.token, json={"name": "Friends"})
    invite = await http.call("POST", f"/api/v1/clubs/{club.body['id']}/invites", token=me.token,
                             json={"max_uses": 3})  # fmt: skip
    assert invite.status == 201, invite.body
