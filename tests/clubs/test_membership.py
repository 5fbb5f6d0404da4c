"""Clubs, invites, roles (docs/domain.md, roles), against the real database."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.audit.documents import AuditRecord
from app.audit.service import audit_service, club_chain
from app.clubs import repository
from app.clubs.documents import ClubRole, Invite, MembershipStatus
from app.clubs.errors import (
    AlreadyMember,
    ClubNotFound,
    InviteUnusable,
    LastOwner,
    RoleRequired,
    UnitsOutstanding,
)
from app.clubs.service import club_service
from tests.clubs.factories import club_with_members, new_user, paid_contribution

pytestmark = pytest.mark.usefixtures("services")


async def test_creator_is_owner_and_defaults_follow_the_domain() -> None:
    club, (owner,) = await club_with_members(1)
    assert (club.currency, club.starting_unit_value, club.approval_threshold_bps) == (
        "INR", 1000, 6000)  # fmt: skip
    assert club.tie_rule == "reject" and club.voting_mode == "simple" and club.quorum_bps is None
    _, membership = await club_service.check_member(str(club.id), owner)
    assert membership.role == ClubRole.OWNER


async def test_non_members_cannot_tell_a_club_exists() -> None:
    club, _ = await club_with_members(1)
    stranger = new_user()
    for club_id in (str(club.id), "000000000000000000000000", "not-an-id"):
        with pytest.raises(ClubNotFound):
            await club_service.check_member(club_id, stranger)
    with pytest.raises(ClubNotFound):
        await club_service.members(str(club.id), stranger)


async def test_an_invite_is_used_at_most_max_uses_times_under_concurrency() -> None:
    club, (owner,) = await club_with_members(1)
    _, token = await club_service.do_create_invite(
        str(club.id), owner, expires_in=dt.timedelta(hours=1), max_uses=3
    )
    users = [new_user() for _ in range(10)]
    results = await asyncio.gather(
        *(club_service.do_accept_invite(token, u) for u in users), return_exceptions=True
    )
    joined = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InviteUnusable)]
    assert len(joined) == 3 and len(refused) == 7
    invite = await Invite.find_one({"club_id": str(club.id)})
    assert invite is not None and invite.uses == 3
    assert len(await club_service.members(str(club.id), owner)) == 4


async def test_unusable_invites_say_why() -> None:
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    with pytest.raises(InviteUnusable) as unknown:
        await club_service.do_accept_invite("no-such-token", new_user())
    assert unknown.value.details["reason"] == "unknown"
    invite, token = await club_service.do_create_invite(
        club_id, owner, expires_in=dt.timedelta(hours=1), max_uses=5
    )
    with pytest.raises(AlreadyMember):
        await club_service.do_accept_invite(token, member)
    assert (await Invite.get(invite.id)).uses == 0  # type: ignore[union-attr]
    await club_service.do_revoke_invite(club_id, str(invite.id), owner)
    with pytest.raises(InviteUnusable) as revoked:
        await club_service.do_accept_invite(token, new_user())
    assert revoked.value.details["reason"] == "revoked"
    _, stale = await club_service.do_create_invite(
        club_id, owner, expires_in=dt.timedelta(seconds=-1), max_uses=5
    )
    with pytest.raises(InviteUnusable) as expired:
        await club_service.do_accept_invite(stale, new_user())
    assert expired.value.details["reason"] == "expired"
    with pytest.raises(RoleRequired):  # a plain member cannot invite
        await club_service.do_create_invite(club_id, member, expires_in=dt.timedelta(hours=1),
                                            max_uses=1)  # fmt: skip


async def test_role_changes_follow_the_rules_and_are_audited() -> None:
    club, (owner, alice, bob) = await club_with_members(3)
    club_id = str(club.id)
    await club_service.do_change_role(club_id, owner, alice, ClubRole.ADMIN)
    with pytest.raises(RoleRequired):  # only an owner makes owners
        await club_service.do_change_role(club_id, alice, bob, ClubRole.OWNER)
    with pytest.raises(RoleRequired):  # a member changes nothing
        await club_service.do_change_role(club_id, bob, alice, ClubRole.MEMBER)
    await club_service.do_change_role(club_id, alice, bob, ClubRole.TREASURER)
    with pytest.raises(LastOwner):
        await club_service.do_change_role(club_id, owner, owner, ClubRole.ADMIN)
    with pytest.raises(LastOwner):
        await club_service.do_leave(club_id, owner)
    await club_service.do_change_role(club_id, owner, alice, ClubRole.OWNER)
    await club_service.do_change_role(club_id, alice, owner, ClubRole.MEMBER)  # now allowed
    roles = {m.user_id: m.role for m in await club_service.members(club_id, owner)}
    assert roles == {owner: ClubRole.MEMBER, alice: ClubRole.OWNER, bob: ClubRole.TREASURER}
    changes = (
        await AuditRecord.find({"chain": club_chain(club_id), "action": "member.role_changed"})
        .sort("+seq")
        .to_list()
    )
    assert [(r.target_id, r.details["to"]) for r in changes] == [
        (alice, "admin"), (bob, "treasurer"), (alice, "owner"), (owner, "member")]  # fmt: skip
    assert (await audit_service.verify(club_chain(club_id))).ok


async def test_leaving_and_removal() -> None:
    club, (owner, alice, bob) = await club_with_members(3)
    club_id = str(club.id)
    await paid_contribution(club, alice, 10_000, dt.date(2026, 1, 2))
    from app.books.service import books_service

    await books_service.do_record_valuation(
        club_id, owner, valuation_date=dt.date(2026, 1, 3), prices={}
    )
    with pytest.raises(UnitsOutstanding):
        await club_service.do_leave(club_id, alice)
    with pytest.raises(RoleRequired):
        await club_service.do_remove_member(club_id, bob, owner)
    await club_service.do_leave(club_id, bob)
    bob_m = await repository.get_membership(club_id, bob)
    assert bob_m is not None and bob_m.status == MembershipStatus.LEFT
    with pytest.raises(ClubNotFound):  # gone means gone
        await club_service.members(club_id, bob)
    _, token = await club_service.do_create_invite(
        club_id, owner, expires_in=dt.timedelta(hours=1), max_uses=1
    )
    await club_service.do_accept_invite(token, bob)  # may come back by a new invite
    await club_service.do_remove_member(club_id, owner, bob)
    bob_m = await repository.get_membership(club_id, bob)
    assert bob_m is not None and bob_m.status == MembershipStatus.REMOVED
