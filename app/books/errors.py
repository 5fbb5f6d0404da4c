"""Errors of the books domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class InvalidValuation(AppError):
    """The valuation date or prices are not acceptable (422)."""

    status = 422
    code = "invalid_valuation"


class BackdatedEntry(AppError):
    """A trade, payout or money received dated before the club's last valuation would change
    a valuation already used to issue and redeem units (422)."""

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


class FutureDate(AppError):
    """Money is booked only on a day that has happened: a payout, trade or charge dated in the
    future is refused (422, ``details.field``)."""

    status = 422
    code = "future_date"


class NotTradable(AppError):
    """The symbol names an index, which cannot be bought or sold (422)."""

    status = 422
    code = "not_tradable"


class ChargeRefused(AppError):
    """A member charge cannot be made as asked (422; ``details.reason``: ``no_units`` — the
    member holds no units to pay it with; ``exceeds_value`` — more than the member's value at
    the last valuation less the charges still pending, named in ``details``)."""

    status = 422
    code = "charge_refused"


class ChargeNotPending(AppError):
    """The charge was settled or cancelled already (409; ``details.status``)."""

    status = 409
    code = "charge_not_pending"


class ChargeNotFound(AppError):
    """No such charge in this club (404)."""

    status = 404
    code = "charge_not_found"
