"""Clubs HTTP API (``/api/v1/clubs/…``, ``/api/v1/invites/…``): parse → service → schema.

Every route needs an access token; a club's data answers 404 ``club_not_found`` to non-members.
Money-moving POSTs need an ``Idempotency-Key``. High-value actions (role changes, payouts,
withdrawals at or above ``step_up_threshold``) need the step-up TOTP code (``X-Step-Up-Code``)
when the actor has MFA — and, at or above the threshold, MFA itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.clubs.documents import Club, Membership
from app.clubs.schemas import (
    AdminClubList,
    AdminClubOut,
    AdminClubQuery,
    ClubCreate,
    ClubList,
    ClubOut,
    InviteCreate,
    InviteOut,
    InvitePreview,
    JoinOut,
    LeftClub,
    MemberList,
    MemberOut,
    MemberRemoved,
    RoleChange,
    RulesChange,
    Watchlist,
)
from app.clubs.service import club_service
from app.config import get_settings
from app.identity.directory import users_by_id
from app.identity.documents import PlatformRole
from app.identity.guards import (
    current_principal,
    require_auth,
    require_role,
    step_up_for_amount,
)
from app.money import format_minor
from app.openapi import document_errors

blueprint = Blueprint("clubs", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


def _club_out(club: Club, membership: Membership) -> ClubOut:
    return ClubOut(
        id=str(club.id), name=club.name, description=club.description, currency=club.currency,
        starting_unit_value=format_minor(club.starting_unit_value),
        voting_mode=club.voting_mode, approval_threshold_bps=club.approval_threshold_bps,
        quorum_bps=club.quorum_bps, tie_rule=club.tie_rule,
        withdrawal_fee_bps=club.withdrawal_fee_bps,
        hide_running_results=club.hide_running_results, rules_changed_by=club.rules_changed_by,
        dues_amount=format_minor(club.dues_amount), dues_day=club.dues_day,
        dues_grace_days=club.dues_grace_days, dues_late_fee=format_minor(club.dues_late_fee),
        dues_since=club.dues_since, created_at=club.created_at,
        last_valuation_date=club.last_valuation_date, my_role=membership.role,
        personal=club.personal,
    )  # fmt: skip


# ---- clubs and membership ---------------------------------------------------------------


@blueprint.post("/clubs")
@tag(["clubs"])
@require_auth
@validate_request(ClubCreate)
@validate_response(ClubOut, 201)
@document_errors(422)
async def create_club(data: ClubCreate) -> tuple[ClubOut, int]:
    """Create a club; the caller becomes its owner. Errors: 422 ``validation_error``."""
    club, owner = await club_service.do_create_club(_me(), **data.model_dump())
    return _club_out(club, owner), 201


@blueprint.get("/clubs")
@tag(["clubs"])
@require_auth
@validate_response(ClubList)
async def my_clubs() -> ClubList:
    """The clubs the caller belongs to, with the caller's role in each (personal advice
    accounts are listed under ``/api/v1/portfolios``, not here)."""
    pairs = await club_service.list_clubs(_me())
    return ClubList(clubs=[_club_out(club, m) for club, m in pairs])


@blueprint.get("/clubs/<club_id>")
@tag(["clubs"])
@require_auth
@validate_response(ClubOut)
@document_errors(404)
async def get_club(club_id: str) -> ClubOut:
    """One club. Errors: 404 ``club_not_found`` (also for non-members)."""
    club, membership = await club_service.check_member(club_id, _me())
    return _club_out(club, membership)


@blueprint.patch("/clubs/<club_id>/rules")
@tag(["clubs"])
@require_auth
@validate_request(RulesChange)
@validate_response(ClubOut)
@document_errors(403, 404, 409, 422)
async def change_rules(club_id: str, data: RulesChange) -> ClubOut:
    """Change the club's rules (owners): only the fields sent change; audited with the rules
    before and after; every open screen hears ``club:rules_changed``. Open proposals keep their
    rules. A club whose ``rules_changed_by`` is ``vote`` changes them only by a rules proposal.
    Errors: 403 ``role_required``; 409 ``rules_need_vote``."""
    club, membership = await club_service.do_change_rules(club_id, _me(), data.changes())
    return _club_out(club, membership)


@blueprint.get("/clubs/<club_id>/members")
@tag(["clubs"])
@require_auth
@validate_response(MemberList)
@document_errors(404)
async def list_members(club_id: str) -> MemberList:
    """Active members and their roles. Errors: 404 ``club_not_found``."""
    members = await club_service.members(club_id, _me())
    users = await users_by_id([m.user_id for m in members])
    return MemberList(
        members=[
            MemberOut(
                user_id=m.user_id, role=m.role, joined_at=m.joined_at,
                full_name=users[m.user_id].full_name if m.user_id in users else None,
                member_id=users[m.user_id].member_id if m.user_id in users else None,
            )
            for m in members
        ]
    )  # fmt: skip


@blueprint.post("/clubs/<club_id>/invites")
@tag(["clubs"])
@require_auth
@validate_request(InviteCreate)
@validate_response(InviteOut, 201)
@document_errors(403, 404, 409, 422)
async def create_invite(club_id: str, data: InviteCreate) -> tuple[InviteOut, int]:
    """An invite link (owner/admin). The token is shown only here. Errors: 403
    ``role_required``, 404 ``club_not_found``, 409 ``personal_account`` (a personal advice
    account takes no invites)."""
    invite, token = await club_service.do_create_invite(
        club_id, _me(), expires_in=dt.timedelta(hours=data.expires_in_hours),
        max_uses=data.max_uses, emails=[str(e) for e in data.emails],
        inviter_name=current_principal().user.full_name,
    )  # fmt: skip
    return InviteOut(
        id=str(invite.id), club_id=club_id, expires_at=invite.expires_at,
        max_uses=invite.max_uses, uses=0, revoked=False, token=token,
        url=f"{get_settings().public_url}/join/{token}",
    ), 201  # fmt: skip


@blueprint.delete("/clubs/<club_id>/invites/<invite_id>")
@tag(["clubs"])
@require_auth
@validate_response(InviteOut)
@document_errors(403, 404, 410)
async def revoke_invite(club_id: str, invite_id: str) -> InviteOut:
    """Revoke an invite (owner/admin). Errors: 403, 404, 410 ``invite_unusable``."""
    invite = await club_service.do_revoke_invite(club_id, invite_id, _me())
    return InviteOut(id=str(invite.id), club_id=club_id, expires_at=invite.expires_at,
                     max_uses=invite.max_uses, uses=invite.uses, revoked=True)  # fmt: skip


@blueprint.get("/invites/<token>")
@tag(["clubs"])
@validate_response(InvitePreview)
@document_errors(410)
async def preview_invite(token: str) -> InvitePreview:
    """What an invite link leads to: the club, who invited you and its rules — public, so a
    person opening the link signed out sees what they are invited to before signing up (it
    shows only what the invite page shows; the link's token is the secret). Errors: 410
    ``invite_unusable`` (``details.reason``: unknown, revoked, expired, used_up)."""
    invite, club = await club_service.check_invite(token)
    inviter = (await users_by_id([invite.created_by])).get(invite.created_by)
    members = await club_service.active_members(invite.club_id)
    return InvitePreview(
        club_id=str(club.id), club_name=club.name, description=club.description,
        currency=club.currency, invited_by=inviter.full_name if inviter else "A club member",
        members=len(members), voting_mode=club.voting_mode,
        approval_threshold_bps=club.approval_threshold_bps, quorum_bps=club.quorum_bps,
        tie_rule=club.tie_rule, withdrawal_fee_bps=club.withdrawal_fee_bps,
        starting_unit_value=format_minor(club.starting_unit_value), expires_at=invite.expires_at,
    )  # fmt: skip


@blueprint.post("/invites/<token>/accept")
@tag(["clubs"])
@require_auth
@validate_response(JoinOut)
@document_errors(409, 410)
async def accept_invite(token: str) -> JoinOut:
    """Join a club by invite. Errors: 410 ``invite_unusable`` (``details.reason``: unknown,
    revoked, expired, used_up), 409 ``already_member``."""
    club, membership = await club_service.do_accept_invite(token, _me())
    return JoinOut(club=_club_out(club, membership))


@blueprint.post("/clubs/<club_id>/leave")
@tag(["clubs"])
@require_auth
@validate_response(LeftClub)
@document_errors(404, 409)
async def leave_club(club_id: str) -> tuple[dict[str, Any], int]:
    """Leave the club. Errors: 409 ``last_owner``, ``units_outstanding``."""
    await club_service.do_leave(club_id, _me())
    return {"left": True}, 200


@blueprint.delete("/clubs/<club_id>/members/<user_id>")
@tag(["clubs"])
@require_auth
@validate_response(MemberRemoved)
@document_errors(403, 404, 409)
async def remove_member(club_id: str, user_id: str) -> tuple[dict[str, Any], int]:
    """Remove a member (owner/admin). Errors: 403 ``role_required``, 404 ``member_not_found``,
    409 ``last_owner`` / ``units_outstanding``."""
    await club_service.do_remove_member(club_id, _me(), user_id)
    return {"removed": True}, 200


@blueprint.put("/clubs/<club_id>/members/<user_id>/role")
@tag(["clubs"])
@require_auth
@validate_request(RoleChange)
@validate_response(MemberOut)
@document_errors(403, 404, 409, 429)
async def change_role(club_id: str, user_id: str, data: RoleChange) -> MemberOut:
    """Change a member's role (owner/admin; ownership only by an owner). Needs
    ``X-Step-Up-Code`` when the actor has MFA. Errors: 403 ``role_required``,
    ``step_up_required``, ``step_up_failed``; 404; 409 ``last_owner``."""
    await club_service.check_member(club_id, _me())
    await step_up_for_amount(None)  # with MFA enrolled, a role change needs a fresh code
    membership = await club_service.do_change_role(club_id, _me(), user_id, data.role)
    return MemberOut(user_id=membership.user_id, role=membership.role,
                     joined_at=membership.joined_at)  # fmt: skip


@blueprint.get("/admin/clubs")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(AdminClubQuery)
@validate_response(AdminClubList)
async def admin_clubs(query_args: AdminClubQuery) -> AdminClubList:
    """Every club on the platform (platform admins): name search, newest first, paged."""
    clubs, counts, total = await club_service.search(
        query_args.q, query_args.page, query_args.page_size
    )
    return AdminClubList(
        clubs=[
            AdminClubOut(id=str(c.id), name=c.name, currency=c.currency,
                         voting_mode=c.voting_mode, members=counts.get(str(c.id), 0),
                         last_valuation_date=c.last_valuation_date, created_at=c.created_at,
                         created_by=c.created_by)
            for c in clubs
        ],
        total=total, page=query_args.page, page_size=query_args.page_size,
    )  # fmt: skip


# ---- market: watch-list ------------------------------------------------------------------


@blueprint.get("/clubs/<club_id>/watchlist")
@tag(["clubs"])
@require_auth
@validate_response(Watchlist)
@document_errors(404)
async def get_watchlist(club_id: str) -> Watchlist:
    """The symbols the club follows live; members in the club's room get their quotes."""
    club, _ = await club_service.check_member(club_id, _me())
    return Watchlist(symbols=club.watchlist)


@blueprint.put("/clubs/<club_id>/watchlist")
@tag(["clubs"])
@require_auth
@validate_request(Watchlist)
@validate_response(Watchlist)
@document_errors(403, 404, 422)
async def set_watchlist(club_id: str, data: Watchlist) -> Watchlist:
    """Replace the watch-list (owner/admin/treasurer). Errors: 404 ``unknown_symbol``, 403."""
    club = await club_service.do_set_watchlist(club_id, _me(), data.symbols)
    return Watchlist(symbols=club.watchlist)
