"""Stored shape of chat messages."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.realtime.eventlog import utcnow


class ChatMessage(Document):
    """One message in a club's chat. ``seq`` is the room seq of its ``chat:message`` event (the
    history's cursor). A deleted message keeps its place with an empty body (a tombstone), so
    replies still point somewhere. ``client_id`` (optional, from the sender) makes a re-sent
    message a no-op."""

    club_id: str
    author_id: str
    body: str
    reply_to: str | None = None
    mentions: list[str] = Field(default_factory=list)
    seq: int = 0
    client_id: str | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    edited_at: dt.datetime | None = None
    deleted_at: dt.datetime | None = None
    deleted_by: str | None = None

    class Settings:
        name = "chat_messages"
        indexes = [
            IndexModel([("club_id", ASCENDING), ("seq", DESCENDING)], name="club_seq"),
            IndexModel(
                [("club_id", ASCENDING), ("author_id", ASCENDING), ("client_id", ASCENDING)],
                unique=True, name="club_author_client_id",
                partialFilterExpression={"client_id": {"$type": "string"}},
            ),
        ]  # fmt: skip
