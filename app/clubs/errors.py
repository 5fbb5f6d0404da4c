"""Failures of the clubs domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class ClubNotFound(NotFound):
    """No such club — also what a non-member sees, so a club's existence is not revealed."""

    code = "club_not_found"


class RoleRequired(AppError):
    """The member's club role does not allow the action (403)."""

    status = 403
    code = "role_required"


class InviteUnusable(AppError):
    """The invite link is unknown, revoked, expired or used up (410, ``invite_unusable``;
    ``details.reason`` says which)."""

    status = 410
    code = "invite_unusable"


class AlreadyMember(AppError):
    status = 409
    code = "already_member"


class MemberNotFound(NotFound):
    code = "member_not_found"


class LastOwner(AppError):
    """The club would be left without an owner (409)."""

    status = 409
    code = "last_owner"


class UnitsOutstanding(AppError):
    """A member holding units cannot leave or be removed; withdraw in full first (409)."""

    status = 409
    code = "units_outstanding"


class PendingMoney(AppError):
    """A member with money still in flight (a contribution not yet turned into units, a
    withdrawal or a charge not yet settled) cannot leave or be removed (409)."""

    status = 409
    code = "member_has_pending_money"


class RulesNeedVote(AppError):
    """The club changes its rules by a members' vote: an owner cannot patch them (409)."""

    status = 409
    code = "rules_need_vote"


class RulesByOwners(AppError):
    """The club's owners change its rules directly; it takes no rules proposals (409)."""

    status = 409
    code = "rules_by_owners"


class NoRulesChange(AppError):
    """A rules proposal that would change nothing (422)."""

    status = 422
    code = "no_rules_change"


class PersonalAccount(AppError):
    """A personal advice account has one member: it takes no invites (409)."""

    status = 409
    code = "personal_account"
