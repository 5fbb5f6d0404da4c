"""Stored shape of a broadcast."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class Audience(StrEnum):
    EVERYONE = "everyone"
    CLUB = "club"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Broadcast(Document):
    """One broadcast: to ``everyone`` or to the members of ``club_id``."""

    audience: Audience
    club_id: str | None = None
    title: str
    body: str
    severity: Severity = Severity.INFO
    sent_by: str
    recipients: int = 0  # members of the club at sending (0 for everyone: not counted)
    created_at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "broadcasts"
        indexes = [
            IndexModel([("created_at", DESCENDING)], name="time"),
            IndexModel([("club_id", ASCENDING), ("created_at", DESCENDING)], name="club_time"),
        ]
