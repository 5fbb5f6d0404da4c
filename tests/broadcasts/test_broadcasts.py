"""The admin broadcast console: to everyone or to one club, delivered live, persisted, listed;
only platform admins send."""

from __future__ import annotations

from typing import Any

from app.identity.documents import PlatformRole
from tests.identity.conftest import Api
from tests.rooms.conftest import RoomClient, club_of, person


async def test_admins_broadcast_to_everyone_or_one_club(clients: Any, http: Api) -> None:
    admin = await person("admin", [PlatformRole.ADMIN])
    asha, ravi, outsider = await person("asha"), await person("ravi"), await person("outsider")
    club = await club_of(asha, ravi)
    a: RoomClient = await clients(asha)
    o: RoomClient = await clients(outsider)

    hello = {"audience": "everyone", "title": "Hi", "body": "all"}
    refused = await http.call("POST", "/api/v1/admin/broadcasts", token=asha.token, json=hello)
    assert refused.status == 403 and refused.code == "forbidden"

    everyone = await http.call("POST", "/api/v1/admin/broadcasts", token=admin.token, json={
        "audience": "everyone", "title": "Maintenance tonight",
        "body": "Samooh is read-only 23:00–23:30 IST.", "severity": "warning"})  # fmt: skip
    assert everyone.status == 201, everyone.body
    for client in (a, o):
        await client.wait_for(lambda c: len(c.of("broadcast:message")) == 1)
        assert client.of("broadcast:message")[0]["broadcast"] == everyone.body

    to_club = await http.call("POST", "/api/v1/admin/broadcasts", token=admin.token, json={
        "audience": "club", "club_id": str(club.id), "title": "Your club was verified",
        "body": "Thank you."})  # fmt: skip
    assert to_club.status == 201 and to_club.body["recipients"] == 2
    await a.wait_for(lambda c: len(c.of("broadcast:message")) == 2)
    # The outsider never gets the club's: a later broadcast to everyone reaches them, and the
    # club's, sent before it, is not among what they received.
    later = await http.call("POST", "/api/v1/admin/broadcasts", token=admin.token, json={
        "audience": "everyone", "title": "Back", "body": "All done."})  # fmt: skip
    assert later.status == 201, later.body
    await o.wait_for(lambda c: len(c.of("broadcast:message")) == 2)
    await a.wait_for(lambda c: len(c.of("broadcast:message")) == 3)
    assert [m["broadcast"]["id"] for m in o.of("broadcast:message")] == [
        everyone.body["id"], later.body["id"]]  # fmt: skip

    missing = await http.call("POST", "/api/v1/admin/broadcasts", token=admin.token,
                              json={"audience": "club", "title": "x", "body": "y"})  # fmt: skip
    assert missing.status == 422

    mine = await http.call("GET", "/api/v1/broadcasts", token=asha.token)
    ids = [b["id"] for b in mine.body["broadcasts"]]
    assert ids[:3] == [later.body["id"], to_club.body["id"], everyone.body["id"]]
    theirs = await http.call("GET", "/api/v1/broadcasts", token=outsider.token)
    assert to_club.body["id"] not in [b["id"] for b in theirs.body["broadcasts"]]
    console = await http.call("GET", "/api/v1/admin/broadcasts", token=admin.token)
    assert console.status == 200
    assert [b["id"] for b in console.body["broadcasts"]][:3] == ids[:3]
    # Each broadcast was recorded on the platform's audit chain, by whom and to whom.
    for sent, audience, recipients in ((everyone, "everyone", None), (to_club, "club", 2)):
        audit = await http.call("GET", "/api/v1/admin/audit", token=admin.token,
                                params={"target_id": sent.body["id"]})  # fmt: skip
        assert audit.status == 200 and audit.body["chain_ok"] is True, audit.body
        (record,) = audit.body["items"]
        assert (record["action"], record["actor_id"], record["target_type"]) == (
            "broadcast.sent", admin.user_id, "broadcast")  # fmt: skip
        assert record["details"]["audience"] == audience
        if recipients is not None:
            assert record["details"]["recipients"] == recipients
