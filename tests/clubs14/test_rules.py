"""Owners change a club's rules after creation, audited with the rules before and after; open
proposals keep the rules they were opened with (issue #14, "changing the rules")."""

from __future__ import annotations

import datetime as dt

from app.audit.documents import AuditRecord
from tests.clubs.http import login
from tests.identity.conftest import Api


async def test_owners_change_the_rules_audited_before_and_after(api: Api) -> None:
    owner, member = await login(api), await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Rules Club"}, status=201)
    club_id = club["id"]
    invite = await owner.ok("POST", f"/api/v1/clubs/{club_id}/invites", {}, status=201)
    await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    deadline = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    opened = await member.ok("POST", f"/api/v1/clubs/{club_id}/proposals",
                             {"kind": "general", "title": "Meet monthly", "deadline": deadline},
                             status=201)  # fmt: skip

    refused = await member.call("PATCH", f"/api/v1/clubs/{club_id}/rules",
                                {"approval_threshold_bps": 5000})  # fmt: skip
    assert (refused.status, refused.code) == (403, "role_required")
    bad = await owner.call("PATCH", f"/api/v1/clubs/{club_id}/rules",
                           {"approval_threshold_bps": 0})  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["message"].startswith("Approval threshold:")

    changed = await owner.ok("PATCH", f"/api/v1/clubs/{club_id}/rules",
                             {"approval_threshold_bps": 7500, "quorum_bps": 5000,
                              "tie_rule": "approve", "withdrawal_fee_bps": 150})  # fmt: skip
    assert (changed["approval_threshold_bps"], changed["quorum_bps"], changed["tie_rule"],
            changed["withdrawal_fee_bps"], changed["voting_mode"]) == (
        7500, 5000, "approve", 150, "simple")  # fmt: skip
    cleared = await owner.ok("PATCH", f"/api/v1/clubs/{club_id}/rules", {"quorum_bps": None})
    assert (cleared["quorum_bps"], cleared["approval_threshold_bps"]) == (None, 7500)
    # The member is told each change, from what to what; the owner who made it is not.
    told = [n for n in (await member.ok("GET", "/api/v1/notifications"))["notifications"]
            if n["kind"] == "club_rules_changed"]  # fmt: skip
    assert [n["title"] for n in told] == ["The rules of Rules Club changed"] * 2
    assert "approval threshold: 60 % → 75 %" in told[1]["body"], told
    assert "quorum: none → 50 %" in told[1]["body"] and "withdrawal fee: 0 % → 1.5 %" in (
        told[1]["body"])  # fmt: skip
    assert told[0]["body"] == "quorum: 50 % → none."
    mine = (await owner.ok("GET", "/api/v1/notifications"))["notifications"]
    assert not [n for n in mine if n["kind"] == "club_rules_changed"]

    records = (
        await AuditRecord.find({"chain": f"club:{club_id}", "action": "club.rules_changed"})
        .sort("+seq")
        .to_list()
    )
    assert [r.actor_id for r in records] == [owner.id, owner.id]
    first = records[0].details
    threshold = (
        first["before"]["approval_threshold_bps"],
        first["after"]["approval_threshold_bps"],
    )
    assert threshold == (6000, 7500)
    assert (first["before"]["quorum_bps"], first["after"]["quorum_bps"]) == (None, 5000)
    assert (first["before"]["tie_rule"], first["after"]["tie_rule"]) == ("reject", "approve")
    assert (records[1].details["before"]["quorum_bps"],
            records[1].details["after"]["quorum_bps"]) == (5000, None)  # fmt: skip

    # The open proposal keeps its rules; a new one takes the club's new threshold.
    still = await member.ok("GET", f"/api/v1/proposals/{opened['id']}")
    assert still["threshold_bps"] == 6000
    later = await member.ok("POST", f"/api/v1/clubs/{club_id}/proposals",
                            {"kind": "general", "title": "Meet weekly", "deadline": deadline},
                            status=201)  # fmt: skip
    assert later["threshold_bps"] == 7500
