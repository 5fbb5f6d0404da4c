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


class InvalidValuation(AppError):
    """The valuation date or prices are not acceptable (422)."""

    status = 422
    code = "invalid_valuation"


class BackdatedEntry(AppError):
    """A trade dated before the club's last valuation would change a valuation already used to
    issue and redeem units (422)."""

    status = 422
    code = "backdated_entry"


class PriceMissing(AppError):
    """A held symbol has no price for the valuation (422, ``details.symbols``)."""

    status = 422
    code = "price_missing"


class NavNotPositive(AppError):
    """Units are outstanding but the NAV is zero or negative: no unit value (409)."""

    status = 409
    code = "nav_not_positive"


class WithdrawalRefused(AppError):
    """The withdrawal cannot be made as asked (409; ``details.reason``)."""

    status = 409
    code = "withdrawal_refused"


class InsufficientCash(AppError):
    """The club's cash does not cover the payment (409)."""

    status = 409
    code = "insufficient_cash"


class ContributionStateError(AppError):
    """The contribution is not in a state that allows this (409)."""

    status = 409
    code = "contribution_state"


class ContributionNotFound(NotFound):
    code = "contribution_not_found"


class InsufficientHoldings(AppError):
    """A sale of more shares than the club holds (409)."""

    status = 409
    code = "insufficient_holdings"
