"""Chat rules: who may send, edit and delete; replies and @mentions. Every change is stored with
its room event in one transaction and emitted after the commit; a mention notifies the member."""

from __future__ import annotations

import secrets

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.chat import repository
from app.chat.documents import ChatMessage
from app.chat.errors import MessageDeleted, MessageNotFound, NotMessageAuthor
from app.chat.schemas import (
    ChatDeletedEvent,
    ChatEditedEvent,
    ChatMessageEvent,
    ChatTypingEvent,
    MessageOut,
)
from app.clubs.documents import Club
from app.clubs.errors import ClubNotFound
from app.clubs.service import MANAGERS, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.ratelimit import rate_limiter
from app.realtime import eventlog, events
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import club_room

CHAT_MESSAGE = "chat:message"
CHAT_TYPING = "chat:typing"
CHAT_EDITED = "chat:edited"
CHAT_DELETED = "chat:deleted"


def _snippet(text: str, length: int = 140) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


class ChatService:
    """Messages of club rooms. Takes the acting user's id explicitly."""

    async def do_send(
        self,
        club_id: str,
        author_id: str,
        *,
        body: str,
        reply_to: str | None = None,
        mentions: list[str] | None = None,
        client_id: str | None = None,
    ) -> ChatMessage:
        """Post a message. Mentions of people who are not active members (or of oneself) are
        dropped; the rest get a ``mention`` notification. A repeated ``client_id`` returns the
        first message unchanged.

        Raises:
            ClubNotFound: not an active member. MessageNotFound: ``reply_to`` is not a message
            of this club. RateLimited: more than ``rate_limit_chat``.
        """
        club, _ = await club_service.check_member(club_id, author_id)
        if client_id is not None:
            earlier = await repository.by_client_id(club_id, author_id, client_id)
            if earlier is not None:
                return earlier
        await rate_limiter().hit("chat", get_settings().rate_limit_chat, club_id, author_id)
        members = {m.user_id for m in await club_service.active_members(club_id)}
        mentioned = list(dict.fromkeys(u for u in (mentions or []) if u in members and
                                       u != author_id))  # fmt: skip
        room = club_room(club_id)
        await events.ensure_room(room)
        await notification_service.prepare(mentioned)

        async def do(session: AsyncClientSession) -> ChatMessage:
            await club_service.check_member(club_id, author_id, session=session)
            if reply_to is not None:
                parent = await repository.get(reply_to, session)
                if parent is None or parent.club_id != club_id:
                    raise MessageNotFound("the message you reply to is not in this club")
            message = ChatMessage(
                club_id=club_id, author_id=author_id, body=body, reply_to=reply_to,
                mentions=mentioned, client_id=client_id, created_at=utcnow(),
            )  # fmt: skip
            # The message takes its room seq from the counter, then the event is appended with
            # the very same number (both inside this transaction).
            message.seq = await eventlog.head(room, session) + 1
            await repository.insert(message, session)
            event = await events.room_event(
                session, room, CHAT_MESSAGE, ChatMessageEvent, club_id=club_id,
                message=MessageOut.of(message),
            )  # fmt: skip
            assert event.data["seq"] == message.seq
            await notification_service.do_store(session, self._mention_drafts(club, message))
            return message

        try:
            message = await run_in_transaction(do)
        except DuplicateKeyError:  # the same client_id sent twice at once
            earlier = await repository.by_client_id(club_id, author_id, client_id or "")
            if earlier is None:
                raise
            return earlier
        return message

    def _mention_drafts(self, club: Club, message: ChatMessage) -> list[Draft]:
        return [
            Draft(user_id=user_id, kind=NotificationKind.MENTION,
                  title=f"You were mentioned in {club.name}", body=_snippet(message.body),
                  club_id=message.club_id, ref_type="message", ref_id=str(message.id))
            for user_id in message.mentions
        ]  # fmt: skip

    async def do_edit(self, message_id: str, actor_id: str, body: str) -> ChatMessage:
        """Change the text of one's own message.

        Raises: MessageNotFound (also for non-members), NotMessageAuthor, MessageDeleted.
        """
        return await self._change(message_id, actor_id, body=body)

    async def do_delete(self, message_id: str, actor_id: str) -> ChatMessage:
        """Delete a message: its author, or a club owner/admin. Deleting twice is a no-op.

        Raises: MessageNotFound (also for non-members), NotMessageAuthor.
        """
        return await self._change(message_id, actor_id, body=None)

    async def _change(self, message_id: str, actor_id: str, *, body: str | None) -> ChatMessage:
        found = await repository.get(message_id)
        if found is None:
            raise MessageNotFound("no such message")
        club_id = found.club_id
        room = club_room(club_id)
        await events.ensure_room(room)

        async def do(session: AsyncClientSession) -> ChatMessage:
            try:
                _, membership = await club_service.check_member(club_id, actor_id, session=session)
            except ClubNotFound as exc:
                raise MessageNotFound("no such message") from exc
            message = await repository.get(message_id, session)
            if message is None:
                raise MessageNotFound("no such message")
            is_author = message.author_id == actor_id
            if body is not None:  # edit
                if not is_author:
                    raise NotMessageAuthor("only the author can edit a message")
                if message.deleted_at is not None:
                    raise MessageDeleted("this message was deleted")
                if message.body == body:
                    return message
                message.body, message.edited_at = body, utcnow()
                await repository.set_fields(
                    message, {"body": body, "edited_at": message.edited_at}, session
                )
                await events.room_event(
                    session, room, CHAT_EDITED, ChatEditedEvent, club_id=club_id,
                    message=MessageOut.of(message),
                )  # fmt: skip
                return message
            if not is_author and membership.role not in MANAGERS:
                raise NotMessageAuthor("only the author or a club admin can delete a message")
            if message.deleted_at is not None:
                return message
            message.deleted_at, message.deleted_by = utcnow(), actor_id
            await repository.set_fields(
                message, {"deleted_at": message.deleted_at, "deleted_by": actor_id}, session
            )
            await events.room_event(
                session, room, CHAT_DELETED, ChatDeletedEvent, club_id=club_id,
                message=MessageOut.of(message),
            )  # fmt: skip
            return message

        return await run_in_transaction(do)

    async def do_typing(self, club_id: str, user_id: str) -> None:
        """Tell the club's room that ``user_id`` is typing (``chat:typing``, not logged: it
        is stale in seconds; the typist's own screens ignore their own). Raises
        ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, user_id)
        event = ChatTypingEvent(
            id=f"typing:{secrets.token_hex(8)}", ts=iso(utcnow()), club_id=club_id,
            user_id=user_id,
        )  # fmt: skip
        await events.send(club_room(club_id), CHAT_TYPING, event)

    async def recent(
        self, club_id: str, limit: int, session: AsyncClientSession | None = None
    ) -> list[ChatMessage]:
        """The club's latest ``limit`` messages, newest first (for the room snapshot, read in
        the caller's snapshot transaction; membership checked by the caller)."""
        return await repository.history(club_id, None, limit, session)

    async def history(
        self, club_id: str, actor_id: str, before: int | None, limit: int
    ) -> tuple[list[ChatMessage], int | None]:
        """A page of the club's messages, newest first, and the cursor of the next page.

        Raises ClubNotFound for non-members."""
        await club_service.check_member(club_id, actor_id)
        messages = await repository.history(club_id, before, limit)
        next_before = messages[-1].seq if len(messages) == limit and messages[-1].seq > 1 else None
        return messages, next_before


chat_service = ChatService()
