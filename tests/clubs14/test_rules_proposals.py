"""Rules proposals (issue #14, "changing the rules … or — when the club's rules say so — through
a rules proposal that the members vote on"): owners let the members decide
(``rules_changed_by: vote``), after which owners no longer patch the rules; a member proposes a
change, the club votes with the investment proposals' machinery, and on approval the rules
change — audited with before, after and the proposal — and every open screen hears
``club:rules_changed`` through the room's log. A rejected one changes nothing."""

from __future__ import annotations

import datetime as dt

from app.audit.documents import AuditRecord
from app.realtime import eventlog
from app.realtime.rooms import club_room
from tests.clubs.http import Member, login
from tests.identity.conftest import Api


def _deadline() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()


async def club_of_two(api: Api) -> tuple[str, Member, Member]:
    owner, member = await login(api), await login(api)
    club = await owner.ok("POST", "/api/v1/clubs", {"name": "Vote Rules Club"}, status=201)
    invite = await owner.ok("POST", f"/api/v1/clubs/{club['id']}/invites", {}, status=201)
    await member.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    return club["id"], owner, member


def rules_proposal(rules: dict[str, object], **extra: object) -> dict[str, object]:
    return {"kind": "rules", "title": "Lower the bar", "deadline": _deadline(), "rules": rules,
            **extra}  # fmt: skip


async def test_members_vote_a_change_of_rules(api: Api) -> None:
    club_id, owner, member = await club_of_two(api)
    proposals = f"/api/v1/clubs/{club_id}/proposals"

    # Owners decide until they hand the rules to the members' vote.
    early = await member.call("POST", proposals, rules_proposal({"approval_threshold_bps": 5000}))
    assert (early.status, early.code) == (409, "rules_by_owners")
    handed = await owner.ok("PATCH", f"/api/v1/clubs/{club_id}/rules",
                            {"rules_changed_by": "vote"})  # fmt: skip
    assert handed["rules_changed_by"] == "vote"
    patched = await owner.call("PATCH", f"/api/v1/clubs/{club_id}/rules",
                               {"approval_threshold_bps": 5000})  # fmt: skip
    assert (patched.status, patched.code) == (409, "rules_need_vote")

    # Bad rules proposals change nothing.
    same = await member.call("POST", proposals, rules_proposal({"approval_threshold_bps": 6000}))
    assert (same.status, same.code) == (422, "no_rules_change")
    mixed = await member.call("POST", proposals,
                              rules_proposal({"quorum_bps": 5000}, symbol="AAPL"))  # fmt: skip
    assert mixed.status == 422
    empty = await member.call("POST", proposals, rules_proposal({}))
    assert empty.status == 422
    general = await member.call("POST", proposals, {
        "kind": "general", "title": "Meet", "deadline": _deadline(),
        "rules": {"quorum_bps": 5000}})  # fmt: skip
    assert general.status == 422

    head = await eventlog.head(club_room(club_id))
    opened = await member.ok("POST", proposals,
                             rules_proposal({"approval_threshold_bps": 5000, "quorum_bps": 5000}),
                             status=201)  # fmt: skip
    assert (opened["kind"], opened["rules"]) == (
        "rules", {"approval_threshold_bps": 5000, "quorum_bps": 5000})  # fmt: skip
    assert opened["threshold_bps"] == 6000  # voted under the rules in force
    for voter in (owner, member):
        await voter.ok("POST", f"/api/v1/proposals/{opened['id']}/votes", {"choice": "yes"})
    closed = await owner.ok("POST", f"/api/v1/proposals/{opened['id']}/close")
    assert closed["status"] == "approved"

    club = await member.ok("GET", f"/api/v1/clubs/{club_id}")
    assert (club["approval_threshold_bps"], club["quorum_bps"], club["rules_changed_by"]) == (
        5000, 5000, "vote")  # fmt: skip

    [record] = await AuditRecord.find(
        {"chain": f"club:{club_id}", "action": "club.rules_changed",
         "details.proposal_id": opened["id"]}
    ).to_list()  # fmt: skip
    assert record.actor_id is None  # the members decided, not a person
    assert (record.details["before"]["approval_threshold_bps"],
            record.details["after"]["approval_threshold_bps"]) == (6000, 5000)  # fmt: skip
    assert (record.details["before"]["quorum_bps"], record.details["after"]["quorum_bps"]) == (
        None, 5000)  # fmt: skip

    # Every open screen hears it through the room's log, after the outcome.
    logged = [(e.event, e.data) for e in await eventlog.since(club_room(club_id), head, 20)]
    names = [name for name, _ in logged]
    assert names.index("proposal:closed") > names.index("proposal:created")
    [changed] = [data for name, data in logged if name == "club:rules_changed"]
    assert (changed["proposal_id"], changed["changed_by"]) == (opened["id"], None)
    assert (changed["rules"]["approval_threshold_bps"], changed["rules"]["quorum_bps"]) == (
        5000, 5000)  # fmt: skip
    assert changed["before"]["approval_threshold_bps"] == 6000
    # Both members are told, the owner too: nobody in particular made the change.
    for who in (owner, member):
        told = [n for n in (await who.ok("GET", "/api/v1/notifications"))["notifications"]
                if n["kind"] == "club_rules_changed"
                and n["body"].endswith("(voted by the members).")]  # fmt: skip
        assert len(told) == 1 and "approval threshold: 60 % → 50 %" in told[0]["body"], told

    # Amounts go both ways as decimal strings, like every amount at the API.
    dues = await member.ok("POST", proposals, rules_proposal({"dues_amount": "500.00"}),
                           status=201)  # fmt: skip
    assert dues["rules"] == {"dues_amount": "500.00"}


async def test_a_rejected_rules_proposal_changes_nothing(api: Api) -> None:
    club_id, owner, member = await club_of_two(api)
    await owner.ok("PATCH", f"/api/v1/clubs/{club_id}/rules", {"rules_changed_by": "vote"})
    back = rules_proposal({"rules_changed_by": "owners"})
    opened = await member.ok("POST", f"/api/v1/clubs/{club_id}/proposals", back, status=201)
    await owner.ok("POST", f"/api/v1/proposals/{opened['id']}/votes", {"choice": "no"})
    await member.ok("POST", f"/api/v1/proposals/{opened['id']}/votes", {"choice": "yes"})
    closed = await owner.ok("POST", f"/api/v1/proposals/{opened['id']}/close")
    assert closed["status"] == "rejected"  # 50 % yes < 60 %
    club = await owner.ok("GET", f"/api/v1/clubs/{club_id}")
    assert club["rules_changed_by"] == "vote"
    records = await AuditRecord.find(
        {"chain": f"club:{club_id}", "action": "club.rules_changed"}
    ).to_list()
    assert len(records) == 1  # only the owners' hand-over
