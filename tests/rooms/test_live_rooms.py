"""Club rooms against the running web server and worker, with several real python-socketio
clients: live chat and voting, who may be in a room, catching up after joining late or
reconnecting, removal from the club, and the Zulip-style state test."""

from __future__ import annotations

from typing import Any

from app.clubs.service import club_service
from tests.identity.conftest import Api
from tests.rooms.conftest import RoomClient, club_of, in_a_minute, person


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in events]


async def create_proposal(http: Api, token: str, club_id: str, **fields: Any) -> dict[str, Any]:
    body = {"kind": "general", "title": "Hold the meeting online", "deadline": in_a_minute(),
            **fields}  # fmt: skip
    reply = await http.call("POST", f"/api/v1/clubs/{club_id}/proposals", json=body, token=token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_two_members_chat_and_vote_live(clients: Any, http: Api) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi, currency="USD")  # it votes on a US stock
    a: RoomClient = await clients(asha)
    r: RoomClient = await clients(ravi)
    joined = await a.join(club)
    assert joined["ok"] is True and joined["missed"] == [] and asha.user_id in joined["online"]
    assert (await r.join(club))["ok"]
    await a.wait_for(lambda c: any(p["user_id"] == ravi.user_id and p["online"]
                                   for p in c.of("presence:update")))  # fmt: skip

    sent = await a.call("chat:send", {"club_id": str(club.id), "body": "Shall we buy Apple?"})
    assert sent["ok"] is True
    message = sent["message"]
    await r.wait_for(lambda c: len(c.of("chat:message")) == 1)
    got = r.of("chat:message")[0]
    assert got["message"] == message and got["seq"] == message["seq"]
    assert got["id"] and got["ts"].endswith("Z")

    reply = await r.call("chat:send", {"club_id": str(club.id), "body": "Yes @Asha",
                                       "reply_to": message["id"],
                                       "mentions": [asha.user_id]})  # fmt: skip
    assert reply["ok"] and reply["message"]["reply_to"] == message["id"]
    await a.wait_for(lambda c: len(c.of("notification:new")) == 1)
    note = a.of("notification:new")[0]
    assert note["notification"]["kind"] == "mention" and note["unread_count"] == 1
    assert note["notification"]["ref_id"] == reply["message"]["id"]

    proposal = await create_proposal(http, asha.token, str(club.id), kind="investment",
                                     side="buy", symbol="AAPL", quantity=5)  # fmt: skip
    await r.wait_for(lambda c: len(c.of("proposal:created")) == 1)
    assert r.of("proposal:created")[0]["proposal"]["id"] == proposal["id"]
    assert proposal["weights"] == {asha.user_id: 1, ravi.user_id: 1}

    vote = await r.call("vote:cast", {"proposal_id": proposal["id"], "choice": "yes"})
    assert vote["ok"] and vote["vote"]["choice"] == "yes" and vote["vote"]["changed"]
    over_http = await http.call("POST", f"/api/v1/proposals/{proposal['id']}/votes",
                                json={"choice": "no"}, token=asha.token)  # fmt: skip
    assert over_http.status == 200, over_http.body
    await a.wait_for(lambda c: len(c.of("vote:tally")) == 2)
    tally = a.of("vote:tally")[-1]["tally"]
    assert (tally["yes_count"], tally["no_count"], tally["participation_count"]) == (1, 1, 2)
    assert tally["quorum_met"] is True and tally["threshold_met"] is False
    assert tally["yes_bps"] == 5000 and tally["weight_unit"] == "vote"
    # Both clients saw the same room events in the same order.
    await r.wait_for(lambda c: len(c.of("vote:tally")) == 2)
    room_events = ("chat:message", "proposal:created", "vote:tally")
    assert seqs(a.of(*room_events)) == seqs(r.of(*room_events))
    assert seqs(a.of(*room_events)) == sorted(seqs(a.of(*room_events)))


async def test_a_non_member_cannot_join_listen_or_send(clients: Any, http: Api) -> None:
    owner, stranger = await person("owner"), await person("stranger")
    club = await club_of(owner)
    o: RoomClient = await clients(owner)
    s: RoomClient = await clients(stranger)
    await o.join(club)
    proposal = await create_proposal(http, owner.token, str(club.id))

    refused = await s.join(club)
    assert refused["ok"] is False and refused["error"]["code"] == "club_not_found"
    sent = await s.call("chat:send", {"club_id": str(club.id), "body": "let me in"})
    assert sent["ok"] is False and sent["error"]["code"] == "club_not_found"
    voted = await s.call("vote:cast", {"proposal_id": proposal["id"], "choice": "yes"})
    assert voted["ok"] is False and voted["error"]["code"] == "proposal_not_found"
    synced = await s.call("room:sync", {"club_id": str(club.id), "after_seq": 0})
    assert synced["ok"] is False and synced["error"]["code"] == "club_not_found"
    typing = await s.call("chat:typing", {"club_id": str(club.id)})
    assert typing["ok"] is False
    bad = await s.call("chat:send", {"club_id": str(club.id), "body": "   "})
    assert bad["error"]["code"] == "validation_error"
    state = await http.call("GET", f"/api/v1/clubs/{club.id}/room", token=stranger.token)
    assert state.status == 404 and state.code == "club_not_found"

    own = await club_of(stranger)  # a room the stranger may listen to
    assert (await s.join(own))["ok"] is True
    await o.call("chat:send", {"club_id": str(club.id), "body": "members only"})
    await o.wait_for(lambda c: len(c.of("chat:message")) == 1)
    # A later message in the stranger's own room arrives; the earlier one never did.
    await s.call("chat:send", {"club_id": str(own.id), "body": "my own club"})
    await s.wait_for(lambda c: len(c.of("chat:message")) == 1)
    assert [m["message"]["body"] for m in s.of("chat:message")] == ["my own club"]
    assert s.of("proposal:created", "vote:tally") == []


async def test_a_late_joiner_catches_up(clients: Any, http: Api) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    a: RoomClient = await clients(asha)
    await a.join(club)
    for n in range(3):
        await a.call("chat:send", {"club_id": str(club.id), "body": f"message {n}"})
    await create_proposal(http, asha.token, str(club.id))

    r: RoomClient = await clients(ravi)
    joined = await r.join(club, after_seq=0)
    missed = joined["missed"]
    assert [m["event"] for m in missed] == ["chat:message"] * 3 + ["proposal:created"]
    assert seqs([m["data"] for m in missed]) == list(range(1, 5)) and joined["seq"] == 4
    assert [m["data"]["message"]["body"] for m in missed[:3]] == [f"message {n}" for n in range(3)]
    # The snapshot says the same, and live events follow.
    state = await http.call("GET", f"/api/v1/clubs/{club.id}/room", token=ravi.token)
    assert state.status == 200 and state.body["seq"] == 4
    assert [m["body"] for m in state.body["messages"]] == [f"message {n}" for n in range(3)]
    await a.call("chat:send", {"club_id": str(club.id), "body": "welcome"})
    await r.wait_for(lambda c: len(c.of("chat:message")) == 1)
    assert r.of("chat:message")[0]["seq"] == 5


async def test_a_client_that_drops_and_reconnects_misses_nothing(clients: Any, http: Api) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    a: RoomClient = await clients(asha)
    await a.join(club)
    r: RoomClient = await clients(ravi)
    await r.join(club)
    await a.call("chat:send", {"club_id": str(club.id), "body": "before the drop"})
    await r.wait_for(lambda c: len(c.of("chat:message")) == 1)
    last_seen = r.of("chat:message")[-1]["seq"]
    await r.close()  # the network drops

    proposal = await create_proposal(http, asha.token, str(club.id))
    await a.call("chat:send", {"club_id": str(club.id), "body": "while you were away"})
    await a.call("vote:cast", {"proposal_id": proposal["id"], "choice": "yes"})
    edited = await a.call("chat:send", {"club_id": str(club.id), "body": "typo"})
    await a.call("chat:edit", {"message_id": edited["message"]["id"], "body": "fixed"})
    await a.wait_for(lambda c: len(c.of("chat:edited")) == 1)
    sent_while_away = [data for name, data in a.events
                       if name in ("chat:message", "proposal:created", "vote:tally",
                                   "chat:edited") and data["seq"] > last_seen]  # fmt: skip

    back: RoomClient = await clients(ravi)
    joined = await back.join(club, after_seq=last_seen)
    assert joined["ok"] and not joined["truncated"]
    assert [m["data"] for m in joined["missed"]] == sent_while_away
    assert [m["event"] for m in joined["missed"]] == [
        "proposal:created",
        "chat:message",
        "vote:tally",
        "chat:message",
        "chat:edited",
    ]
    await a.call("chat:send", {"club_id": str(club.id), "body": "and now live"})
    await back.wait_for(lambda c: len(c.of("chat:message")) == 1)
    assert back.of("chat:message")[0]["seq"] == joined["seq"] + 1


async def test_a_removed_member_leaves_the_room_at_once(clients: Any, http: Api) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    a: RoomClient = await clients(asha)
    r: RoomClient = await clients(ravi)
    await a.join(club)
    await r.join(club)
    await a.call("chat:send", {"club_id": str(club.id), "body": "hello both"})
    await r.wait_for(lambda c: len(c.of("chat:message")) == 1)

    await club_service.do_remove_member(str(club.id), asha.user_id, ravi.user_id)
    await r.wait_for(lambda c: len(c.of("room:removed")) == 1)
    assert r.of("room:removed")[0]["club_id"] == str(club.id)
    await a.wait_for(lambda c: any(p["user_id"] == ravi.user_id and not p["online"]
                                   for p in c.of("presence:update")))  # fmt: skip
    own = await club_of(ravi)  # a room Ravi still belongs to
    assert (await r.join(own))["ok"] is True
    await a.call("chat:send", {"club_id": str(club.id), "body": "after the removal"})
    await a.wait_for(lambda c: len(c.of("chat:message")) == 2)
    # A later message in Ravi's own room arrives; the one after his removal never did.
    await r.call("chat:send", {"club_id": str(own.id), "body": "my own club"})
    await r.wait_for(lambda c: len(c.of("chat:message")) == 2)
    assert [m["message"]["body"] for m in r.of("chat:message")] == ["hello both", "my own club"]
    sent = await r.call("chat:send", {"club_id": str(club.id), "body": "still here?"})
    assert sent["error"]["code"] == "club_not_found"
    rejoin = await r.join(club, after_seq=0)
    assert rejoin["error"]["code"] == "club_not_found"


async def test_edits_and_deletes_follow_the_rules(clients: Any, http: Api) -> None:
    asha, ravi, meera = await person("asha"), await person("ravi"), await person("meera")
    club = await club_of(asha, ravi, meera)
    r: RoomClient = await clients(ravi)
    m: RoomClient = await clients(meera)
    await m.join(club)
    mine = (await r.call("chat:send", {"club_id": str(club.id), "body": "draft"}))["message"]
    not_yours = await m.call("chat:edit", {"message_id": mine["id"], "body": "hijacked"})
    assert not_yours["error"]["code"] == "not_message_author"
    cannot = await m.call("chat:delete", {"message_id": mine["id"]})
    assert cannot["error"]["code"] == "not_message_author"
    # The owner (a club admin) may delete anyone's message; it stays as a tombstone.
    deleted = await http.call("DELETE", f"/api/v1/messages/{mine['id']}", token=asha.token)
    assert deleted.status == 200 and deleted.body["deleted"] and deleted.body["body"] == ""
    late_edit = await r.call("chat:edit", {"message_id": mine["id"], "body": "again"})
    assert late_edit["error"]["code"] == "message_deleted"
    await m.wait_for(lambda c: len(c.of("chat:deleted")) == 1)
    assert m.of("chat:deleted")[0]["message"]["deleted_by"] == asha.user_id
    # A resent client_id is the same message.
    first = await r.call("chat:send", {"club_id": str(club.id), "body": "once",
                                       "client_id": "c-1"})  # fmt: skip
    second = await r.call("chat:send", {"club_id": str(club.id), "body": "once",
                                        "client_id": "c-1"})  # fmt: skip
    assert first["message"] == second["message"]
    history = await http.call("GET", f"/api/v1/clubs/{club.id}/messages",
                              params={"limit": "1"}, token=meera.token)  # fmt: skip
    assert history.status == 200 and history.body["messages"][0]["body"] == "once"
    older = await http.call("GET", f"/api/v1/clubs/{club.id}/messages",
                            params={"before": str(history.body["next_before"])},
                            token=meera.token)  # fmt: skip
    assert [msg["deleted"] for msg in older.body["messages"]] == [True]
