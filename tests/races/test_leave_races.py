"""Leaving with money in flight (issue #20, part A): a member cannot leave (or be removed)
while a contribution of theirs has not become units or a withdrawal or charge has not
settled (409 ``member_has_pending_money``); a manual contribution of someone who is no longer a
member cannot be approved; and a leave racing the approval never both succeed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.books.errors import ContributionStateError
from app.books.service import books_service
from app.clubs import repository as clubs_repository
from app.clubs.documents import MembershipStatus
from app.clubs.errors import ClubNotFound, MemberNotFound, PendingMoney
from app.clubs.service import club_service
from tests.clubs.factories import club_with_members, paid_contribution
from tests.identity.conftest import Api
from tests.races.harness import race, split
from tests.rooms.conftest import club_of, person

pytestmark = pytest.mark.usefixtures("services")


async def test_no_leaving_with_a_manual_contribution_pending_approval() -> None:
    club, (owner, alice) = await club_with_members(2)
    club_id = str(club.id)
    pending = await books_service.do_open_contribution(
        club_id, alice, amount=50_000, method="manual", note="bank transfer"
    )
    with pytest.raises(PendingMoney) as refused:
        await club_service.do_leave(club_id, alice)
    assert (refused.value.status, refused.value.code) == (409, "member_has_pending_money")
    assert refused.value.details == {"contributions": 1}
    with pytest.raises(PendingMoney):  # nor can she be removed meanwhile
        await club_service.do_remove_member(club_id, owner, alice)
    member = await club_service.membership(club_id, alice)
    assert member is not None and member.status is MembershipStatus.ACTIVE
    await books_service.do_reject_manual(club_id, str(pending.id), owner, "no such transfer")
    await club_service.do_leave(club_id, alice)  # nothing in flight any more
    member = await club_service.membership(club_id, alice)
    assert member is not None and member.status is MembershipStatus.LEFT


async def test_no_leaving_with_an_online_payment_pending_or_a_charge_pending() -> None:
    club, (_, alice, bob) = await club_with_members(3)
    club_id = str(club.id)
    await books_service.do_open_contribution(club_id, alice, amount=10_000, method="online")
    with pytest.raises(PendingMoney) as refused:
        await club_service.do_leave(club_id, alice)
    assert refused.value.details == {"contributions": 1}
    # the club's own late fee (the platform charges it: Bob holds no units yet to pay a
    # charge a treasurer makes)
    await books_service.do_charge_member(
        club_id, None, user_id=bob, amount=5_000, reason="late fee"
    )
    with pytest.raises(PendingMoney) as refused:
        await club_service.do_leave(club_id, bob)
    assert refused.value.details == {"charges": 1}


async def test_no_leaving_with_money_received_but_not_yet_units() -> None:
    club, (_, alice) = await club_with_members(2)
    await paid_contribution(club, alice, 10_000, dt.date(2026, 1, 2))  # received, no valuation
    with pytest.raises(PendingMoney) as refused:
        await club_service.do_leave(str(club.id), alice)
    assert refused.value.details == {"contributions": 1}


async def test_an_ex_members_pending_contribution_cannot_be_approved() -> None:
    club, (owner, alice) = await club_with_members(2)
    club_id = str(club.id)
    pending = await books_service.do_open_contribution(
        club_id, alice, amount=50_000, method="manual"
    )
    # She left before this guard existed (the state the race trial found).
    member = await clubs_repository.get_membership(club_id, alice)
    assert member is not None
    await clubs_repository.update_membership(
        member.id, {"status": MembershipStatus.LEFT.value}, None
    )
    with pytest.raises(ContributionStateError) as refused:
        await books_service.do_approve_manual(club_id, str(pending.id), owner, None)
    assert refused.value.details == {"reason": "not_a_member"}
    await books_service.do_reject_manual(club_id, str(pending.id), owner, "member left")


async def test_a_leave_racing_the_approval_never_both_succeed() -> None:
    club, (owner, alice) = await club_with_members(2)
    club_id = str(club.id)
    pending = await books_service.do_open_contribution(
        club_id, alice, amount=50_000, method="manual"
    )
    results = await race([
        lambda: club_service.do_leave(club_id, alice),
        lambda: books_service.do_approve_manual(club_id, str(pending.id), owner, None),
    ])  # fmt: skip
    accepted, refused = split(results, PendingMoney, ContributionStateError)
    assert len(accepted) == len(refused) == 1
    member = await club_service.membership(club_id, alice)
    assert member is not None
    if isinstance(refused[0], PendingMoney):  # the approval went through: she is still in
        assert member.status is MembershipStatus.ACTIVE
    else:
        assert member.status is MembershipStatus.LEFT


async def test_leaving_over_http_with_money_pending_answers_409(http: Api) -> None:
    owner, member = await person("owner"), await person("member")
    club = await club_of(owner, member)
    paid = await http.call(
        "POST", f"/api/v1/clubs/{club.id}/contributions", token=member.token,
        json={"amount": "250.00", "method": "manual", "note": "cash at the meeting"},
        headers={"Idempotency-Key": f"leave-{uuid.uuid4().hex}"},
    )  # fmt: skip
    assert paid.status == 201, paid.body
    left = await http.call("POST", f"/api/v1/clubs/{club.id}/leave", token=member.token)
    assert (left.status, left.code) == (409, "member_has_pending_money"), left.body
    assert left.body["error"]["details"] == {"contributions": 1}
    still = await club_service.membership(str(club.id), member.user_id)
    assert still is not None and still.status is MembershipStatus.ACTIVE


async def test_a_leave_racing_a_new_contribution_never_both_succeed() -> None:
    """A contribution opened while its member leaves: either it is stored and the leave sees it
    (409), or the leave committed and the contribution is refused — never a contribution of an
    ex-member. Ten members, each racing their own leave."""
    club, (_, *members) = await club_with_members(11)
    club_id = str(club.id)
    outcomes: list[str] = []
    for alice in members:
        results = await race([
            lambda alice=alice: club_service.do_leave(club_id, alice),
            lambda alice=alice: books_service.do_open_contribution(
                club_id, alice, amount=10_000, method="manual"),
        ])  # fmt: skip
        accepted, refused = split(results, PendingMoney, ClubNotFound)
        assert len(accepted) == len(refused) == 1, results
        member = await club_service.membership(club_id, alice)
        assert member is not None
        opened = await books_service.pending_money(club_id, alice, None)
        if isinstance(refused[0], PendingMoney):  # the contribution won: she is still in
            assert member.status is MembershipStatus.ACTIVE
            assert opened["contributions"] == 1
            outcomes.append("contributed")
        else:
            assert member.status is MembershipStatus.LEFT
            assert opened["contributions"] == 0
            outcomes.append("left")
    assert len(outcomes) == 10


async def test_a_leave_racing_a_charge_on_the_member_never_both_succeed() -> None:
    """A treasurer charges a member at the moment they leave: either the charge is stored and
    the leave sees it (409), or the leave committed and the charge is refused — never a charge
    pending on an ex-member. Ten members, each racing their own leave."""
    club, (_, *members) = await club_with_members(11)
    club_id = str(club.id)
    for alice in members:
        results = await race([
            lambda alice=alice: club_service.do_leave(club_id, alice),
            lambda alice=alice: books_service.do_charge_member(  # the club's own late fee
                club_id, None, user_id=alice, amount=1_000, reason="late fee"),
        ])  # fmt: skip
        accepted, refused = split(results, PendingMoney, MemberNotFound)
        assert len(accepted) == len(refused) == 1, results
        member = await club_service.membership(club_id, alice)
        charged = (await books_service.pending_money(club_id, alice, None))["charges"]
        assert member is not None
        if isinstance(refused[0], PendingMoney):  # the charge won: she is still in
            assert (member.status, charged) == (MembershipStatus.ACTIVE, 1)
        else:
            assert (member.status, charged) == (MembershipStatus.LEFT, 0)
