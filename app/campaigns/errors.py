"""Failures of the campaigns domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError


class CampaignNotFound(AppError):
    """No such campaign, or the caller may not see it (404)."""

    status = 404
    code = "campaign_not_found"


class InvalidCampaign(AppError):
    """A campaign field breaks a rule (goal, limits, dates, share); ``details.field`` (422)."""

    status = 422
    code = "invalid_campaign"


class CampaignState(AppError):
    """The campaign is not in a state that allows this (``details.status``) (409)."""

    status = 409
    code = "campaign_state"


class NotCampaignOwner(AppError):
    """Only the campaign's owner may do this (403)."""

    status = 403
    code = "not_campaign_owner"


class OwnerKycRequired(AppError):
    """The business owner must be KYC-verified to submit a campaign (403)."""

    status = 403
    code = "owner_kyc_required"


class InvestmentRefused(AppError):
    """The pledge cannot be taken: ``details.reason`` is ``exceeds_remaining`` (with
    ``details.remaining``), ``all_reserved`` (the rest is reserved by people still paying; it
    may free up), ``goal_reached``, ``below_minimum``, ``above_maximum``, ``own_campaign``,
    ``not_open_yet`` (with ``details.opens_on``), ``campaign_closed`` or ``busy`` (409)."""

    status = 409
    code = "investment_refused"


class InvestmentLimitReached(AppError):
    """Without full KYC a person may put at most ``kyc_contribution_limit`` per financial
    year into campaigns and clubs together (``details.limit``, ``details.invested``: what
    they put in so far) (403)."""

    status = 403
    code = "investment_limit_reached"


class InvestmentNotFound(AppError):
    """No such investment of the caller (404)."""

    status = 404
    code = "investment_not_found"


class ProfitReportNotFound(AppError):
    """No such profit report (404)."""

    status = 404
    code = "profit_report_not_found"


class InvalidProfitReport(AppError):
    """The profit report breaks a rule (period, amount, document); ``details.field`` (422)."""

    status = 422
    code = "invalid_profit_report"


class ProfitReportState(AppError):
    """The report was decided already, or is not waiting for this (409)."""

    status = 409
    code = "profit_report_state"


class DisputeNotFound(AppError):
    """No such dispute (404)."""

    status = 404
    code = "dispute_not_found"


class DisputeState(AppError):
    """The dispute was resolved already (409)."""

    status = 409
    code = "dispute_state"


class NotAnInvestor(AppError):
    """Only someone who invested in the campaign may do this (403)."""

    status = 403
    code = "not_an_investor"


class TransferNotFound(AppError):
    """No such payout task (404)."""

    status = 404
    code = "transfer_not_found"


class CampaignFileNotFound(AppError):
    """The file is not one of the campaign's, or the caller may not read it yet (a draft's
    files, a cancelled campaign's); its existence is not revealed (404)."""

    status = 404
    code = "campaign_file_not_found"


class PayoutDestinationInvalid(AppError):
    """The provider could not verify the UPI id or bank account (``details.reason``), or it
    refused it (422). Nothing is stored."""

    status = 422
    code = "payout_destination_invalid"


class NoPayoutDestination(AppError):
    """The payee has no verified payout destination yet: the payout waits for one (409)."""

    status = 409
    code = "no_payout_destination"


class TransferNotRecorded(AppError):
    """A provider's webhook about a transfer whose sending is not recorded yet (409: not a
    2xx, so the provider delivers it again later)."""

    status = 409
    code = "transfer_not_recorded"
