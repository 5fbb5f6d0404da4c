"""Notifications: stored before they are emitted to ``user:<id>``, unread counts, marking read
on one device updates the others, catching up after a reconnect, and e-mail only for the kinds
a person opted into."""

from __future__ import annotations

from typing import Any

from app.notifications.documents import EmailStatus, Notification
from tests.identity.conftest import Api, eventually
from tests.rooms.conftest import RoomClient, club_of, person


async def test_mentions_notify_live_count_unread_and_mark_read_everywhere(
    clients: Any, http: Api
) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    phone: RoomClient = await clients(asha)  # not in the room: notifications reach user:<id>
    laptop: RoomClient = await clients(asha)
    r: RoomClient = await clients(ravi)
    for n in range(3):
        mentions = [asha.user_id, "nobody", ravi.user_id]
        sent = await r.call(
            "chat:send", {"club_id": str(club.id), "body": f"@asha {n}", "mentions": mentions}
        )
        assert sent["ok"] and sent["message"]["mentions"] == [asha.user_id]
    await phone.wait_for(lambda c: len(c.of("notification:new")) == 3)
    assert [n["unread_count"] for n in phone.of("notification:new")] == [1, 2, 3]
    assert [n["notification"]["seq"] for n in phone.of("notification:new")] == [1, 2, 3]
    assert r.of("notification:new") == []  # no self-mention

    listed = await http.call("GET", "/api/v1/notifications", token=asha.token)
    assert listed.status == 200 and listed.body["unread_count"] == 3
    stored = [n["id"] for n in listed.body["notifications"]]
    assert stored == [n["notification"]["id"] for n in reversed(phone.of("notification:new"))]

    # Catch up after a reconnect: everything after the last seq seen.
    after = await http.call("GET", "/api/v1/notifications", params={"after_seq": "1"},
                            token=asha.token)  # fmt: skip
    assert [n["seq"] for n in after.body["notifications"]] == [2, 3]

    marked = await http.call("POST", "/api/v1/notifications/read", token=asha.token,
                             json={"ids": [stored[0]]})  # fmt: skip
    assert marked.status == 200 and marked.body == {"marked": 1, "unread_count": 2}
    await laptop.wait_for(lambda c: len(c.of("notification:read")) == 1)
    assert laptop.of("notification:read")[0]["unread_count"] == 2
    everything = await http.call("POST", "/api/v1/notifications/read", token=asha.token,
                                 json={"all": True})  # fmt: skip
    assert everything.body == {"marked": 2, "unread_count": 0}
    count = await http.call("GET", "/api/v1/notifications/unread-count", token=asha.token)
    assert count.body == {"unread_count": 0}
    bad = await http.call("POST", "/api/v1/notifications/read", token=asha.token,
                          json={"all": True, "up_to_seq": 3})  # fmt: skip
    assert bad.status == 422 and bad.code == "validation_error"


async def test_email_goes_only_to_kinds_the_person_opted_into(clients: Any, http: Api) -> None:
    asha, ravi = await person("asha"), await person("ravi")
    club = await club_of(asha, ravi)
    r: RoomClient = await clients(ravi)
    prefs = await http.call("GET", "/api/v1/notifications/preferences", token=asha.token)
    assert "mention" in prefs.body["email_kinds"] and prefs.body["email_channel_on"] is True

    await r.call("chat:send", {"club_id": str(club.id), "body": "@asha please vote",
                               "mentions": [asha.user_id]})  # fmt: skip
    await eventually(lambda: _mailed(http, asha.email, "You were mentioned"))

    off = await http.call("PUT", "/api/v1/notifications/preferences", token=asha.token,
                          json={"email_kinds": ["proposal_closed"]})  # fmt: skip
    assert off.status == 200 and off.body["email_kinds"] == ["proposal_closed"]
    await r.call("chat:send", {"club_id": str(club.id), "body": "@asha again",
                               "mentions": [asha.user_id]})  # fmt: skip
    newest = await Notification.find({"user_id": asha.user_id}).sort("-seq").first_or_none()
    assert newest is not None and newest.email_status is EmailStatus.NONE
    first = await Notification.find({"user_id": asha.user_id}).sort("+seq").first_or_none()
    assert first is not None and first.email_status is EmailStatus.SENT


async def _mailed(http: Api, email: str, subject: str) -> bool:
    return any(subject in m["subject"] for m in await http.outbox(email))
