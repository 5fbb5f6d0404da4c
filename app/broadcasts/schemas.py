"""Broadcast payloads: the admin's request, what people see, and ``broadcast:message``."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from app.broadcasts.documents import Audience, Broadcast, Severity
from app.realtime.contract import LoggedEvent
from app.realtime.eventlog import iso


class BroadcastCreate(BaseModel):
    """``POST /api/v1/admin/broadcasts``: ``audience`` ``everyone``, or ``club`` with
    ``club_id``."""

    audience: Audience
    club_id: str | None = Field(default=None, max_length=64)
    title: str = Field(min_length=1, max_length=140)
    body: str = Field(min_length=1, max_length=5000)
    severity: Severity = Severity.INFO

    @model_validator(mode="after")
    def _target(self) -> BroadcastCreate:
        if (self.audience is Audience.CLUB) != (self.club_id is not None):
            raise ValueError("club_id is required for audience=club, and only then")
        if not self.title.strip() or not self.body.strip():
            raise ValueError("title and body need some text")
        return self


class BroadcastOut(BaseModel):
    id: str
    audience: Audience
    club_id: str | None
    title: str
    body: str
    severity: Severity
    sent_by: str
    recipients: int
    created_at: str

    @classmethod
    def of(cls, b: Broadcast) -> BroadcastOut:
        return cls(
            id=str(b.id), audience=b.audience, club_id=b.club_id, title=b.title, body=b.body,
            severity=b.severity, sent_by=b.sent_by, recipients=b.recipients,
            created_at=iso(b.created_at),
        )  # fmt: skip


class BroadcastList(BaseModel):
    broadcasts: list[BroadcastOut]


class BroadcastQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=200)


class BroadcastEvent(LoggedEvent):
    """``broadcast:message``, with its ``seq``: in the log of broadcasts to everyone
    (``broadcasts:all``) or in each member's own log (``person:<id>``, one club); replayed by
    ``feed:join``. Listed later at ``GET /api/v1/broadcasts``."""

    broadcast: BroadcastOut
