"""Chat payloads: requests (HTTP and socket), the message as clients see it, and the room events
``chat:message``, ``chat:edited``, ``chat:deleted``."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from app.chat.documents import ChatMessage
from app.inputs import PositiveInt64
from app.realtime.contract import RoomEvent
from app.realtime.eventlog import iso

MAX_BODY = 4000
MAX_MENTIONS = 20


def _clean_body(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("a message needs some text")
    return value


class MessageSend(BaseModel):
    """Send a message: ``body`` (1–4000 characters), optional ``reply_to`` (a message id of the
    same club), ``mentions`` (user ids of members to notify) and ``client_id`` (your own id for
    the message; sending the same one again returns the first message and changes nothing)."""

    body: str = Field(min_length=1, max_length=MAX_BODY)
    reply_to: str | None = Field(default=None, max_length=64)
    mentions: list[str] = Field(default_factory=list, max_length=MAX_MENTIONS)
    client_id: str | None = Field(default=None, min_length=1, max_length=64)

    _body = field_validator("body")(_clean_body)


class SocketMessageSend(MessageSend):
    """``chat:send``: ``MessageSend`` plus the club."""

    club_id: str = Field(min_length=1, max_length=64)


class MessageEdit(BaseModel):
    """Edit your own message's text."""

    body: str = Field(min_length=1, max_length=MAX_BODY)

    _body = field_validator("body")(_clean_body)


class SocketMessageEdit(MessageEdit):
    """``chat:edit``."""

    message_id: str = Field(min_length=1, max_length=64)


class SocketMessageDelete(BaseModel):
    """``chat:delete``."""

    message_id: str = Field(min_length=1, max_length=64)


class TypingRequest(BaseModel):
    """``chat:typing``: tell the room you are typing (not stored)."""

    club_id: str = Field(min_length=1, max_length=64)


class MessageOut(BaseModel):
    """A message as every member sees it. A deleted one has ``deleted: true`` and an empty
    ``body`` and ``mentions``."""

    id: str
    club_id: str
    author_id: str
    body: str
    reply_to: str | None
    mentions: list[str]
    seq: int
    created_at: str
    edited_at: str | None
    deleted: bool
    deleted_by: str | None

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        deleted = message.deleted_at is not None
        return cls(
            id=str(message.id), club_id=message.club_id, author_id=message.author_id,
            body="" if deleted else message.body, reply_to=message.reply_to,
            mentions=[] if deleted else message.mentions, seq=message.seq,
            created_at=iso(message.created_at),
            edited_at=iso(message.edited_at) if message.edited_at else None,
            deleted=deleted, deleted_by=message.deleted_by,
        )  # fmt: skip


class MessagePage(BaseModel):
    """Newest first. ``next_before``: pass it as ``before`` for the older page (null: no more)."""

    messages: list[MessageOut]
    next_before: int | None


class HistoryQuery(BaseModel):
    """``before``: only messages with a smaller ``seq``; ``limit``: 1–100 (default 50)."""

    before: PositiveInt64 | None = None
    limit: int = Field(default=50, ge=1, le=100)


class ChatMessageEvent(RoomEvent):
    """``chat:message``: a new message in the room."""

    message: MessageOut


class ChatEditedEvent(RoomEvent):
    """``chat:edited``: a message's new text (the whole message)."""

    message: MessageOut


class ChatDeletedEvent(RoomEvent):
    """``chat:deleted``: a message became a tombstone (the whole message)."""

    message: MessageOut


class ChatTypingEvent(BaseModel):
    """``chat:typing``: a member is typing (not stored, not sequenced)."""

    id: str
    ts: str
    club_id: str
    user_id: str
