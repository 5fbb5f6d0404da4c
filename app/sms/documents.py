"""Stored shapes of the SMS domain: a person's mobile number (verified by a code sent to it)
and the outbox of messages (each sent once, retried while the provider is away)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.realtime.eventlog import utcnow


class MobileNumber(Document):
    """``user_id``'s mobile number in E.164 (``+91…``). ``verified_at`` is set when the code
    sent to it was entered; a new number starts unverified. The code is stored hashed."""

    user_id: str
    e164: str
    verified_at: dt.datetime | None = None
    code_hash: str | None = None
    code_expires_at: dt.datetime | None = None
    attempts: int = 0
    updated_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "sms_numbers"
        indexes = [IndexModel([("user_id", ASCENDING)], unique=True, name="user")]


class SmsStatus(StrEnum):
    """PENDING (to send or to retry) → SENT | FAILED (refused, or out of attempts)."""

    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class SmsMessage(Document):
    """One text message to one number, stored before it is sent (``dedupe_key`` unique: the
    same reminder is never queued twice); ``text`` is what the person receives."""

    user_id: str
    e164: str
    template: str
    dlt_template_id: str
    variables: dict[str, str]
    text: str
    dedupe_key: str
    status: SmsStatus = SmsStatus.PENDING
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    provider: str | None = None
    provider_ref: str | None = None
    last_error: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None

    class Settings:
        name = "sms_messages"
        indexes = [
            IndexModel([("dedupe_key", ASCENDING)], unique=True, name="dedupe"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due"),
            IndexModel([("user_id", ASCENDING), ("created_at", ASCENDING)], name="user_time"),
        ]


SMS_DOCUMENTS: list[type[Document]] = [MobileNumber, SmsMessage]
"""Every document of this domain, registered in app/documents.py."""
