"""The invite page's answer: the club, who invited you and the club's rules, before joining;
an unusable link says why (issue #14, "the invite page names the club, inviter and rules")."""

from __future__ import annotations

import uuid

from tests.clubs.http import login
from tests.identity.conftest import Api


async def test_an_invite_names_the_club_the_inviter_and_the_rules(api: Api) -> None:
    owner, guest = await login(api), await login(api)
    club = await owner.ok(
        "POST", "/api/v1/clubs",
        {"name": "Neem Circle", "description": "Index funds, monthly.",
         "approval_threshold_bps": 7500, "withdrawal_fee_bps": 100},
        status=201,
    )  # fmt: skip
    invite = await owner.ok("POST", f"/api/v1/clubs/{club['id']}/invites", {"max_uses": 1},
                            status=201)  # fmt: skip
    seen = await guest.ok("GET", f"/api/v1/invites/{invite['token']}")
    assert seen["club_name"] == "Neem Circle" and seen["description"] == "Index funds, monthly."
    assert seen["invited_by"] == "Clubber"  # login() provisions accounts with the tag as name
    assert (seen["approval_threshold_bps"], seen["withdrawal_fee_bps"], seen["members"]) == (
        7500, 100, 1)  # fmt: skip
    assert (seen["voting_mode"], seen["tie_rule"], seen["currency"]) == ("simple", "reject", "INR")

    # Looking changes nothing; joining uses the link up, and then it says so.
    await guest.ok("POST", f"/api/v1/invites/{invite['token']}/accept")
    used = await guest.call("GET", f"/api/v1/invites/{invite['token']}")
    assert (used.status, used.code) == (410, "invite_unusable")
    assert used.body["error"]["details"]["reason"] == "used_up"
    unknown = await guest.call("GET", "/api/v1/invites/not-a-real-token")
    assert (unknown.status, unknown.body["error"]["details"]["reason"]) == (410, "unknown")


async def test_an_invite_can_be_mailed_naming_the_club_and_the_inviter(api: Api) -> None:
    owner = await login(api)
    rules = {"name": "Peepal Savers", "approval_threshold_bps": 6667}
    club = await owner.ok("POST", "/api/v1/clubs", rules, status=201)
    friend = f"friend-{uuid.uuid4().hex[:10]}@example.com"
    invite = await owner.ok("POST", f"/api/v1/clubs/{club['id']}/invites",
                            {"max_uses": 2, "emails": [friend, friend]}, status=201)  # fmt: skip
    [mail] = await api.outbox(friend)  # the same address twice is mailed once
    assert mail["subject"] == "Clubber invites you to Peepal Savers"
    assert invite["url"] in mail["body"]
    assert "66.67 %" in mail["body"] and "One member, one vote." in mail["body"]
    bad = await owner.call("POST", f"/api/v1/clubs/{club['id']}/invites",
                           {"emails": ["not-an-address"]})  # fmt: skip
    assert bad.status == 422 and bad.body["error"]["message"].startswith("Emails: ")
