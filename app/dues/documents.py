"""Stored shapes of the dues domain: waivers and the once-only claims of late fees."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.realtime.eventlog import utcnow


class DuesWaiver(Document):
    """A treasurer excused ``user_id`` from the dues of ``month`` ("YYYY-MM"), with a reason;
    one per (club, member, month)."""

    club_id: str
    user_id: str
    month: str
    reason: str
    waived_by: str
    at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dues_waivers"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("user_id", ASCENDING), ("month", ASCENDING)],
                       unique=True, name="club_user_month"),
        ]  # fmt: skip


class DuesLateFee(Document):
    """The claim that the late fee of ``month`` was charged to ``user_id`` (at most once: a
    unique index, so every worker's timer may try), and the member charge it created."""

    club_id: str
    user_id: str
    month: str
    charge_id: str | None = None
    at: dt.datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dues_late_fees"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("user_id", ASCENDING), ("month", ASCENDING)],
                       unique=True, name="club_user_month"),
        ]  # fmt: skip
