"""Each proposal has its own discussion thread (issue #14, "proposals with context"): members
comment (trimmed, at most 2,000 characters, never empty), the thread is ordered by the club
room's log seq and every comment is a ``proposal:comment`` room event — so a screen that was
away catches up on it from the log like on every other room event; non-members see nothing; a
withdrawn proposal's thread is closed; refusals change nothing."""

from __future__ import annotations

import datetime as dt

from app.proposals.documents import ProposalComment
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.http import login
from tests.identity.conftest import Api


async def test_a_proposal_has_its_own_discussion(api: Api) -> None:
    alice, bob, outsider = await login(api), await login(api), await login(api)
    club = await alice.ok("POST", "/api/v1/clubs", {"name": "Talk Club"}, status=201)
    club_id = club["id"]
    invite = await alice.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    await bob.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    first, second = [
        await alice.ok("POST", f"/api/v1/clubs/{club_id}/proposals",
                       {"kind": "general", "title": title, "deadline": deadline}, status=201)
        for title in ("Meet monthly", "Meet weekly")
    ]  # fmt: skip
    thread = f"/api/v1/proposals/{first['id']}/comments"
    head = await eventlog.head(club_room(club_id))

    made = await bob.ok("POST", thread, {"body": "  Monthly suits me.  "}, status=201)
    assert (made["body"], made["author_id"], made["proposal_id"]) == (
        "Monthly suits me.", bob.id, first["id"])  # fmt: skip
    reply = await alice.ok("POST", thread, {"body": "x" * 2000}, status=201)
    await alice.ok("POST", f"/api/v1/proposals/{second['id']}/comments", {"body": "Other"},
                   status=201)  # fmt: skip

    # Refused: too long, empty, not a member — and nothing is stored for them.
    before = await ProposalComment.find({"club_id": club_id}).count()
    too_long = await bob.call("POST", thread, {"body": "x" * 2001})
    blank = await bob.call("POST", thread, {"body": "   "})
    stranger = await outsider.call("POST", thread, {"body": "Hello"})
    peek = await outsider.call("GET", thread)
    assert [(r.status, r.code) for r in (too_long, blank, stranger, peek)] == [
        (422, "validation_error"), (422, "validation_error"),
        (404, "proposal_not_found"), (404, "proposal_not_found")]  # fmt: skip
    assert await ProposalComment.find({"club_id": club_id}).count() == before

    # The thread is this proposal's only, oldest first, ordered by the room's seq.
    listed = await bob.ok("GET", thread)
    assert [c["id"] for c in listed["comments"]] == [made["id"], reply["id"]]
    assert made["seq"] < reply["seq"] and listed["next_after"] is None
    everything = await bob.ok("GET", f"{thread}?after=0&limit=200")
    assert everything["comments"] == listed["comments"]
    page = await bob.ok("GET", f"{thread}?after={made['seq']}&limit=1")
    assert [c["id"] for c in page["comments"]] == [reply["id"]]

    # A screen away since `head` catches up from the room's log: the same comments, same seqs.
    logged = [
        (e.data["seq"], e.data["comment"]["id"], e.data["comment"]["body"])
        for e in await eventlog.since(club_room(club_id), head, 50)
        if e.event == "proposal:comment" and e.data["proposal_id"] == first["id"]
    ]
    assert logged == [(made["seq"], made["id"], "Monthly suits me."),
                      (reply["seq"], reply["id"], "x" * 2000)]  # fmt: skip

    # A withdrawn proposal's discussion is closed.
    await alice.ok("POST", f"/api/v1/proposals/{second['id']}/cancel", {"reason": "merged"})
    closed = await bob.call("POST", f"/api/v1/proposals/{second['id']}/comments", {"body": "Hm"})
    assert (closed.status, closed.code) == (409, "proposal_not_open")
