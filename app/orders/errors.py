"""Failures of the orders domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class OrderNotFound(NotFound):
    """No such order in this club (404)."""

    code = "order_not_found"


class OrderStateError(AppError):
    """The order is not in a state that allows this (409): e.g. submitting one already sent,
    cancelling a filled one."""

    status = 409
    code = "order_state"


class InvalidOrder(AppError):
    """The order cannot be placed as given (422): e.g. an amount smaller than one share."""

    status = 422
    code = "invalid_order"


class CurrencyMismatch(AppError):
    """The instrument is quoted in another currency than the club's (422). A club trades only
    instruments in its own currency; no FX conversion is made."""

    status = 422
    code = "currency_mismatch"


class BrokerLoginRequiredError(AppError):
    """The club's linked broker refused its session (503): the treasurer must log in to the
    broker again (Kite sessions end every morning). The order is kept and re-sent after."""

    status = 503
    code = "broker_login_required"


class ChangeExceedsCash(AppError):
    """A change of an open buy order (more shares, a higher limit) would set aside more than
    the club's free cash less what its other open orders hold (422). Nothing was changed:
    not the order, not its hold, not the broker's order. ``details``: ``available`` and
    ``needed`` (the extra), two-place strings of the club's currency."""

    status = 422
    code = "change_exceeds_cash"
