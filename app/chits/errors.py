"""Failures of the chit funds domain, each with its HTTP status and stable code (clients switch
on ``code``). A refused action changes nothing."""

from __future__ import annotations

from app.chits.rules import InvalidScheme
from app.errors import AppError, NotFound

__all__ = [
    "AlreadySubscribed",
    "AuctionClosed",
    "AuctionNotOpen",
    "BidRefused",
    "ChitForbidden",
    "InsufficientCollections",
    "InvalidScheme",
    "KycRequiredForChit",
    "NotEligible",
    "NothingDue",
    "NothingOverdue",
    "PaymentNotFound",
    "PrizeAlreadyPaid",
    "PrizePayoutInProgress",
    "PrizePayoutState",
    "SchemeFull",
    "SchemeNotFound",
    "SchemeStateError",
    "SubscriptionNotFound",
    "SubscriptionStateError",
]


class SchemeNotFound(NotFound):
    """No such scheme — also what someone sees who may not look at it."""

    code = "scheme_not_found"


class SubscriptionNotFound(NotFound):
    """No such subscription, or not yours to see."""

    code = "subscription_not_found"


class PaymentNotFound(NotFound):
    """No such chit payment, or not yours to see."""

    code = "chit_payment_not_found"


class ChitForbidden(AppError):
    """Only the scheme's foreman (or an admin, where stated) may do this (403)."""

    status = 403
    code = "chit_forbidden"


class KycRequiredForChit(AppError):
    """The foreman (to create a scheme) or subscriber (to join) is not KYC-verified (403)."""

    status = 403
    code = "kyc_required"


class SchemeStateError(AppError):
    """The scheme is not in a state that allows this (409); ``details.status`` says its state."""

    status = 409
    code = "scheme_state"


class SubscriptionStateError(AppError):
    """The subscription is not in a state that allows this (409); ``details.reason``."""

    status = 409
    code = "subscription_state"


class SchemeFull(AppError):
    """Every ticket is taken (409)."""

    status = 409
    code = "scheme_full"


class AlreadySubscribed(AppError):
    """The person already holds a ticket of this scheme (409)."""

    status = 409
    code = "already_subscribed"


class NothingDue(AppError):
    """The subscription owes nothing now (409)."""

    status = 409
    code = "nothing_due"


class NothingOverdue(AppError):
    """A subscriber may be removed as a defaulter only with an instalment unpaid past its due
    date and the scheme's grace days (409); ``details``: ``overdue`` (amount), ``grace_days``,
    ``next_deadline`` (the day after which the oldest unpaid month would be overdue)."""

    status = 409
    code = "nothing_overdue"


class AuctionNotOpen(AppError):
    """No auction of this scheme takes bids now (409; ``details.opens_at`` when scheduled)."""

    status = 409
    code = "auction_not_open"


class AuctionClosed(AppError):
    """The auction has closed (409)."""

    status = 409
    code = "auction_closed"


class NotEligible(AppError):
    """The bidder may not bid this month (403): ``details.reason`` is ``not_subscriber``,
    ``not_paid_up``, ``already_prized`` or ``defaulted``."""

    status = 403
    code = "not_eligible"


class BidRefused(AppError):
    """A bid broke a rule (422); the code is the rule: ``bid_below_minimum``,
    ``bid_above_maximum``, ``bid_off_step`` or ``bid_not_above_best`` (409)."""

    status = 422

    def __init__(self, code: str, message: str, details: dict[str, object]) -> None:
        super().__init__(message, details=details)
        self.code = code
        if code == "bid_not_above_best":
            self.status = 409


class PrizeAlreadyPaid(AppError):
    """The month's prize was paid before (409)."""

    status = 409
    code = "prize_already_paid"


class InsufficientCollections(AppError):
    """The scheme's collected cash does not cover the payout yet (409)."""

    status = 409
    code = "insufficient_collections"


class PrizePayoutInProgress(AppError):
    """The month's prize is being sent through the payout provider (409;
    ``details.payment_id``): it cannot also be recorded by hand."""

    status = 409
    code = "prize_payout_in_progress"


class PrizePayoutState(AppError):
    """The prize payout is not in a state that allows this (409; ``details.status``): only a
    FAILED payout is retried, only a closed month with a winner is paid."""

    status = 409
    code = "prize_payout_state"
