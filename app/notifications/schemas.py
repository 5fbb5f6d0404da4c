"""Notification payloads: HTTP shapes and the ``notification:new`` / ``notification:read``
events sent to ``user:<id>``."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from app.inputs import NonNegativeInt64, PositiveInt64
from app.notifications.documents import Notification, NotificationKind
from app.realtime.contract import ServerEvent
from app.realtime.eventlog import iso


class NotificationOut(BaseModel):
    """One notification. ``seq`` increases by one per person."""

    id: str
    seq: int
    kind: NotificationKind
    title: str
    body: str
    club_id: str | None
    ref_type: str | None
    ref_id: str | None
    created_at: str
    read: bool

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=str(n.id), seq=n.seq, kind=n.kind, title=n.title, body=n.body, club_id=n.club_id,
            ref_type=n.ref_type, ref_id=n.ref_id, created_at=iso(n.created_at),
            read=n.read_at is not None,
        )  # fmt: skip


class NotificationPage(BaseModel):
    """Newest first; ``next_before`` pages back (null: no more). ``after_seq`` queries return
    oldest first instead (catching up after a reconnect)."""

    notifications: list[NotificationOut]
    unread_count: int
    next_before: int | None


class NotificationQuery(BaseModel):
    """``unread``: only unread ones; ``before``: seq below; ``after_seq``: catch up (oldest
    first); ``limit`` 1–100."""

    unread: bool = False
    before: PositiveInt64 | None = None
    after_seq: NonNegativeInt64 | None = None
    limit: int = Field(default=50, ge=1, le=100)


class UnreadCount(BaseModel):
    unread_count: int


class MarkRead(BaseModel):
    """Mark ``ids`` read, or everything up to ``up_to_seq``, or ``all``. Exactly one of them."""

    ids: list[str] | None = Field(default=None, min_length=1, max_length=200)
    up_to_seq: PositiveInt64 | None = None
    all: bool = False

    @model_validator(mode="after")
    def _one(self) -> MarkRead:
        given = sum([self.ids is not None, self.up_to_seq is not None, self.all])
        if given != 1:
            raise ValueError("give exactly one of ids, up_to_seq or all=true")
        return self


class MarkedRead(BaseModel):
    marked: int
    unread_count: int


class EmailPreferences(BaseModel):
    """The kinds you want by e-mail (also needs the e-mail channel on in ``/api/v1/me``)."""

    email_kinds: list[NotificationKind]
    email_channel_on: bool = Field(
        default=True, description="read-only: your e-mail channel in /api/v1/me"
    )


class EmailPreferencesUpdate(BaseModel):
    email_kinds: list[NotificationKind] = Field(max_length=len(NotificationKind))


class NotificationNewEvent(ServerEvent):
    """``notification:new`` to ``user:<id>``: a stored notification and the new unread count."""

    notification: NotificationOut
    unread_count: int


class NotificationReadEvent(ServerEvent):
    """``notification:read`` to ``user:<id>``: notifications were marked read (on any device)."""

    ids: list[str]
    up_to_seq: int | None
    unread_count: int
