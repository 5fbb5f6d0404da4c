"""Stored shapes of notifications and per-person notification settings."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class NotificationKind(StrEnum):
    """What a notification is about."""

    MENTION = "mention"
    PROPOSAL_CREATED = "proposal_created"
    PROPOSAL_CLOSING_SOON = "proposal_closing_soon"
    PROPOSAL_CLOSED = "proposal_closed"
    CRM_REMINDER = "crm_reminder"
    CRM_KYC_EXPIRY = "crm_kyc_expiry"
    DRIFT_ALERT = "drift_alert"
    CONSULTATION_REMINDER = "consultation_reminder"
    STRATEGY_CHANGED = "strategy_changed"
    SCHEME_APPROVED = "scheme_approved"
    PAYMENT_DUE = "payment_due"
    PAYMENT_RECEIVED = "payment_received"
    AUCTION_REMINDER = "auction_reminder"
    CONTRIBUTION_PENDING = "contribution_pending"  # a manual contribution awaits the treasury
    CAMPAIGN = "campaign"  # crowdfunding: updates, funded/failed, refunds, payouts, reviews
    CAMPAIGN_REPORT_OVERDUE = "campaign_report_overdue"  # an owner's profit report is late
    MEMBER_CHARGE = "member_charge"  # a club charged the member (or cancelled a charge)
    CLUB_RULES_CHANGED = "club_rules_changed"  # a club's rules changed (by its owners or a vote)


# E-mailed unless the person turns them off (and only while their e-mail channel is on).
DEFAULT_EMAIL_KINDS = (
    NotificationKind.MENTION,
    NotificationKind.PROPOSAL_CREATED,
    NotificationKind.PROPOSAL_CLOSING_SOON,
    NotificationKind.PROPOSAL_CLOSED,
    NotificationKind.CRM_REMINDER,
    NotificationKind.CRM_KYC_EXPIRY,
    NotificationKind.SCHEME_APPROVED,
    NotificationKind.PAYMENT_DUE,
    NotificationKind.PAYMENT_RECEIVED,
    NotificationKind.AUCTION_REMINDER,
    NotificationKind.CONTRIBUTION_PENDING,
    NotificationKind.CAMPAIGN_REPORT_OVERDUE,
    NotificationKind.MEMBER_CHARGE,
    NotificationKind.CLUB_RULES_CHANGED,
)


class EmailStatus(StrEnum):
    """``none`` (not wanted) | ``pending`` → ``sending`` → ``sent`` | ``failed`` (after retries)."""

    NONE = "none"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(Document):
    """One notification of one person. ``seq`` increases by one per person (their inbox's
    cursor). ``dedupe_key`` makes a repeated cause (a re-run reminder) a no-op. Whether it is
    e-mailed is decided when it is stored (``email_status``) and done by the worker."""

    user_id: str
    seq: int
    kind: NotificationKind
    title: str
    body: str
    club_id: str | None = None
    ref_type: str | None = None  # message | proposal
    ref_id: str | None = None
    dedupe_key: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    read_at: dt.datetime | None = None
    email_status: EmailStatus = EmailStatus.NONE
    email_attempts: int = 0
    email_claimed_at: dt.datetime | None = None

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("seq", DESCENDING)], unique=True,
                       name="user_seq"),
            IndexModel([("user_id", ASCENDING), ("read_at", ASCENDING)], name="user_unread"),
            IndexModel([("dedupe_key", ASCENDING)], unique=True, name="dedupe",
                       partialFilterExpression={"dedupe_key": {"$type": "string"}}),
            IndexModel([("email_status", ASCENDING), ("created_at", ASCENDING)],
                       name="email_outbox"),
        ]  # fmt: skip


class NotificationSettings(Document):
    """Which kinds a person wants by e-mail (``_id`` is the user id). Absent: the defaults."""

    id: str  # type: ignore[assignment]
    email_kinds: list[NotificationKind] = Field(default_factory=lambda: list(DEFAULT_EMAIL_KINDS))
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notification_settings"
