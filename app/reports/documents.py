"""Stored shape of a report job."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class ReportKind(StrEnum):
    """What a report shows (docs/domain.md, unit-value accounting: reports)."""

    VALUATION_STATEMENT = "valuation_statement"
    MEMBER_STATUS = "member_status"
    TRANSACTION_LEDGER = "transaction_ledger"
    MEMBER_STATEMENT = "member_statement"
    # chit funds (app/reports/chits.py): a closed month's auction minutes, a monthly report
    CHIT_AUCTION_MINUTES = "chit_auction_minutes"
    CHIT_MONTHLY_REPORT = "chit_monthly_report"
    CRM_PIPELINE = "crm_pipeline"  # the operator's CRM: its dashboard figures (app/crm)
    # crowdfunding (app/reports/campaign_figures.py): one person's, or one campaign's
    CAMPAIGN_INVESTOR_STATEMENT = "campaign_investor_statement"
    CAMPAIGN_STATEMENT = "campaign_statement"


CRM_KINDS = frozenset({ReportKind.CRM_PIPELINE})
CRM_SCOPE = "crm"
"""The ``club_id`` of a CRM report job: it belongs to no club; its figures are the
requester's CRM scope (their own leads, their team's, or all for admins)."""
CAMPAIGN_KINDS = (ReportKind.CAMPAIGN_INVESTOR_STATEMENT, ReportKind.CAMPAIGN_STATEMENT)


class ReportFormat(StrEnum):
    CSV = "csv"
    PDF = "pdf"


class JobStatus(StrEnum):
    """``queued`` (stored and published) → ``running`` → ``done`` | ``failed``."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ReportJob(Document):
    """One report request. ``percent`` is the last progress stored (and emitted); ``file_id``
    names the finished file (app/files/), which only ``requested_by`` may download."""

    club_id: str  # "" for a crowdfunding statement
    requested_by: str
    campaign_id: str | None = None  # a campaign statement's campaign
    kind: ReportKind
    format: ReportFormat
    as_of: str | None = None
    member_id: str | None = None
    # ``club`` (``club_id`` is a club) or ``chit`` (``club_id`` is a scheme, ``month`` its month)
    pool_type: str = "club"
    month: int | None = None
    status: JobStatus = JobStatus.QUEUED
    percent: int = 0
    file_id: str | None = None
    error_code: str | None = None
    error: str | None = None
    attempts: int = 0
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    class Settings:
        name = "report_jobs"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("requested_by", ASCENDING),
                        ("created_at", DESCENDING)], name="club_requester_time"),
        ]  # fmt: skip
