"""Failures of the brokers domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class BrokerLinkNotFound(NotFound):
    """The club has no linked broker account (404)."""

    code = "broker_link_not_found"


class BrokerLinkInvalid(AppError):
    """The broker refused the credentials or the login (422): wrong key or secret, an expired
    or reused ``request_token``."""

    status = 422
    code = "broker_link_invalid"


class BrokerLoginState(AppError):
    """The Kite login does not belong to a link waiting for it (409): no link, another club's
    state, or a login already completed."""

    status = 409
    code = "broker_login_state"


class PostbackRejected(AppError):
    """A broker postback whose checksum does not match, or that names no known account
    (401); it is refused before anything in it is used, and recorded."""

    status = 401
    code = "postback_rejected"


class PostbackTooLarge(AppError):
    """A postback larger than 64 KB (413)."""

    status = 413
    code = "payload_too_large"


class BrokerOrdersOpen(AppError):
    """The club has orders still working at its linked broker (409): the link cannot change or
    go until they are filled or cancelled (their updates come through it)."""

    status = 409
    code = "broker_orders_open"


class BrokerLinkUnusable(AppError):
    """The club's broker link cannot take orders now (409): its keys were never checked
    (Alpaca did not answer when they were saved: test the link) or the broker refused them
    (change the keys). The order is not sent and nothing changes."""

    status = 409
    code = "broker_link_unusable"


class BrokerCurrencyMismatch(AppError):
    """The broker trades in another currency than the club keeps (422): Kite Connect trades
    Indian instruments (INR clubs), Alpaca US ones (USD clubs)."""

    status = 422
    code = "broker_currency_mismatch"


class BrokerAccountTaken(AppError):
    """The broker account is the linked account of another club already (409): one account
    serves one club, or their orders, fills and positions would mix (and a postback could not
    tell which club it is for). Nothing changes."""

    status = 409
    code = "broker_account_taken"
