"""Failures of robo-advice, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class NoRiskProfile(NotFound):
    """The person has not taken the risk questionnaire yet (404)."""

    code = "no_risk_profile"


class InvalidAnswers(AppError):
    """Questionnaire answers missing or not among the options (422); ``details.problems``."""

    status = 422
    code = "invalid_answers"


class AccountNotFound(NotFound):
    """No such advisory account, or not one of the person's (404)."""

    code = "advisory_account_not_found"


class RecommendationNotFound(NotFound):
    """No such recommendation for this account (404)."""

    code = "recommendation_not_found"


class RebalanceNotFound(NotFound):
    """No such rebalance for this account (404)."""

    code = "rebalance_not_found"


class NoTargets(AppError):
    """The account has no target allocation yet: adopt a recommendation first (409)."""

    status = 409
    code = "no_targets"


class InsufficientHistory(AppError):
    """The chosen symbols and window do not give enough common price history (422)."""

    status = 422
    code = "insufficient_history"


class InvalidPolicy(AppError):
    """An investment policy or recommendation request that cannot hold (422): e.g. a maximum
    weight too small for the number of symbols."""

    status = 422
    code = "invalid_policy"


class AlreadyExecuted(AppError):
    """This rebalance was already turned into proposals or orders (409)."""

    status = 409
    code = "rebalance_already_executed"


class StaleRebalance(AppError):
    """Another rebalance of the account was executed after this one was previewed: preview
    again, so trades already under way are not placed twice (409)."""

    status = 409
    code = "rebalance_stale"


class RebalanceNotApproved(AppError):
    """A club's rebalance can be sent to the broker only once the members approved it, and
    only once (409); ``details.status`` is the run's state."""

    status = 409
    code = "rebalance_not_approved"


class NoCashToInvest(AppError):
    """The account holds neither cash nor shares: there is nothing to invest or rebalance yet
    (409); pay money in first."""

    status = 409
    code = "no_cash_to_invest"


class NothingToTrade(AppError):
    """The rebalance has no trades (409)."""

    status = 409
    code = "nothing_to_trade"


class NoPrice(AppError):
    """A symbol has neither a quote nor a close to value it at (422)."""

    status = 422
    code = "no_price"


class NotAnAdvisor(AppError):
    """Only a verified advisor (platform role ``advisor`` and KYC verified) may do this (403)."""

    status = 403
    code = "advisor_required"


class SlotUnavailable(AppError):
    """The slot is not offered, is in the past, or someone booked it first (409)."""

    status = 409
    code = "slot_unavailable"


class BookingNotFound(NotFound):
    """No such booking of yours (404)."""

    code = "booking_not_found"


class NotEngaged(NotFound):
    """The advisor has no booked consultation with this person (404: their data stays hidden)."""

    code = "not_engaged"


class StrategyNotFound(NotFound):
    """No such model strategy (404)."""

    code = "strategy_not_found"


class SlotNotFound(NotFound):
    """No such slot of yours (404)."""

    code = "slot_not_found"


class SlotBooked(AppError):
    """A booked slot cannot be removed; cancel the consultation first (409)."""

    status = 409
    code = "slot_booked"


class SlotOverlap(AppError):
    """A slot would overlap another of the advisor's (or another in the same request): one
    advisor cannot be in two consultations at once (409); ``details.starts``."""

    status = 409
    code = "slot_overlap"


class InvalidPeriod(AppError):
    """A performance period whose start is not before its end (422)."""

    status = 422
    code = "invalid_period"


class UnknownPeriod(AppError):
    """A performance ``period`` that is none of ``details.allowed`` (1M, 3M, 6M, 1Y, start), or
    one given with an explicit ``start`` (422)."""

    status = 422
    code = "unknown_period"
