"""Stored shape of a browser's push subscription."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.realtime.eventlog import utcnow


class PushSubscription(Document):
    """One browser's Push API subscription (``endpoint`` at its push service, with the
    browser's ``p256dh`` public key and ``auth`` secret, base64url) for one person, and the
    notification kinds pushed to it. One per endpoint: subscribing again replaces it."""

    endpoint: str
    user_id: str
    p256dh: str
    auth: str
    kinds: list[str]  # NotificationKind values (app/notifications)
    created_at: dt.datetime = Field(default_factory=utcnow)
    last_pushed_at: dt.datetime | None = None

    class Settings:
        name = "push_subscriptions"
        indexes = [
            IndexModel([("endpoint", ASCENDING)], unique=True, name="endpoint"),
            IndexModel([("user_id", ASCENDING)], name="user"),
        ]
