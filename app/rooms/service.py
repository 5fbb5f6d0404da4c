"""Club rooms: who may be in ``club:<id>`` (active members, checked on join and by every
handler), presence, catch-up from the room's event log, the state snapshot, and eviction of a
former member's sockets."""

from __future__ import annotations

import secrets

from pymongo.asynchronous.client_session import AsyncClientSession

from app.chat.documents import ChatMessage
from app.chat.schemas import MessageOut
from app.chat.service import chat_service
from app.clubs.errors import ClubNotFound
from app.clubs.service import club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.extensions import services
from app.logging import get_logger
from app.proposals.documents import Proposal
from app.proposals.schemas import ProposalOut
from app.proposals.service import proposal_service
from app.realtime import eventlog, events
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import club_room
from app.rooms.repository import Presence
from app.rooms.schemas import (
    EventPage,
    FeedJoined,
    MissedEvent,
    PresenceEvent,
    RoomJoined,
    RoomRemovedEvent,
    RoomState,
)

log = get_logger(__name__)

PRESENCE_UPDATE = "presence:update"
ROOM_REMOVED = "room:removed"
STATE_MESSAGES = 50


class RoomService:
    """Stateless; the socket layer passes the sid and the authenticated user id."""

    @staticmethod
    def _presence() -> Presence:
        return Presence(services.require_redis())

    async def do_join(
        self, club_id: str, user_id: str, sid: str, after_seq: int | None
    ) -> RoomJoined:
        """Check membership, record presence, and return what the socket missed after
        ``after_seq``. The caller puts the socket in the room *before* this reads the log, so
        nothing committed in between is lost (a duplicate is possible: clients drop a ``seq``
        they already have). Raises ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, user_id)
        came_online = await self._presence().add(club_id, user_id, sid)
        try:  # again, now that presence is recorded: a removal in between evicts or fails here
            await club_service.check_member(club_id, user_id)
        except ClubNotFound:
            await self._presence().remove(club_id, user_id, sid)
            raise
        if came_online:
            await self._announce(club_id, user_id, online=True)
        return await self.catch_up(club_id, user_id, after_seq, checked=True)

    async def catch_up(
        self, club_id: str, user_id: str, after_seq: int | None, *, checked: bool = False
    ) -> RoomJoined:
        """The events of the room after ``after_seq`` (none when it is None), at most
        ``room_catch_up_limit``. Raises ``ClubNotFound`` for non-members."""
        if not checked:
            await club_service.check_member(club_id, user_id)
        head, missed, truncated = await _catch_up(club_room(club_id), after_seq)
        return RoomJoined(
            club_id=club_id, seq=head, online=await self._presence().online(club_id),
            missed=missed, truncated=truncated,
        )  # fmt: skip

    async def feed(self, room: str, after_seq: int | None) -> FeedJoined:
        """A personal or everyone's log (``person:<id>``, ``broadcasts:all``; the caller chose
        the room from who is connected): its head and the events after ``after_seq`` (none
        when it is None), at most ``room_catch_up_limit``. The caller puts the socket in the
        room first, so nothing committed in between is lost."""
        head, missed, truncated = await _catch_up(room, after_seq)
        return FeedJoined(room=room, seq=head, missed=missed, truncated=truncated)

    async def events(self, club_id: str, user_id: str, after_seq: int, limit: int) -> EventPage:
        """Stored room events after ``after_seq`` (HTTP catch-up). Raises ``ClubNotFound``."""
        await club_service.check_member(club_id, user_id)
        room = club_room(club_id)
        found = await eventlog.since(room, after_seq, limit + 1)
        return EventPage(
            events=[MissedEvent(event=e.event, data=e.data) for e in found[:limit]],
            seq=await eventlog.head(room), truncated=len(found) > limit,
        )  # fmt: skip

    async def do_leave(self, club_id: str, user_id: str, sid: str) -> None:
        """The socket left the room (or disconnected)."""
        if await self._presence().remove(club_id, user_id, sid):
            await self._announce(club_id, user_id, online=False)

    async def state(self, club_id: str, user_id: str) -> RoomState:
        """One consistent snapshot of the room at its current ``seq`` (read in a snapshot
        transaction, so every event up to ``seq`` is in it and none after)."""
        await club_service.check_member(club_id, user_id)
        room = club_room(club_id)

        async def read(
            session: AsyncClientSession,
        ) -> tuple[int, list[ChatMessage], list[Proposal]]:
            seq = await eventlog.head(room, session)
            messages = await chat_service.recent(club_id, STATE_MESSAGES, session)
            proposals = await proposal_service.room_state(club_id, session)
            return seq, messages, proposals

        seq, messages, proposals = await run_in_transaction(read)
        return RoomState(
            club_id=club_id, seq=seq, messages=[MessageOut.of(m) for m in reversed(messages)],
            proposals=[ProposalOut.of(p) for p in proposals],
            online=await self._presence().online(club_id),
        )  # fmt: skip

    async def do_evict(self, club_id: str, user_id: str, reason: str) -> list[str]:
        """Take every socket of a former member out of the club's room, on whichever web
        process holds it, and tell them (``room:removed``). Returns the sids."""
        sids = await self._presence().take_member(club_id, user_id)
        room = club_room(club_id)
        for sid in sids:
            await events.remove_from_room(sid, room)
            event = RoomRemovedEvent(
                id=f"removed:{secrets.token_hex(8)}", ts=iso(utcnow()), club_id=club_id,
                reason=reason,
            )  # fmt: skip
            await events.send(sid, ROOM_REMOVED, event)
        if sids:
            await self._announce(club_id, user_id, online=False)
        return sids

    async def _announce(self, club_id: str, user_id: str, *, online: bool) -> None:
        event = PresenceEvent(
            id=f"presence:{secrets.token_hex(8)}", ts=iso(utcnow()), club_id=club_id,
            user_id=user_id, online=online, online_user_ids=await self._presence().online(club_id),
        )  # fmt: skip
        await events.send(club_room(club_id), PRESENCE_UPDATE, event)


room_service = RoomService()


async def _catch_up(room: str, after_seq: int | None) -> tuple[int, list[MissedEvent], bool]:
    """``room``'s head ``seq``, the events after ``after_seq`` (none when it is None or at the
    head), at most ``room_catch_up_limit``, and whether more were left out."""
    head = await eventlog.head(room)
    if after_seq is None or after_seq >= head:
        return head, [], False
    limit = get_settings().room_catch_up_limit
    found = await eventlog.since(room, after_seq, limit + 1)
    missed = [MissedEvent(event=e.event, data=e.data) for e in found[:limit]]
    return head, missed, len(found) > limit


async def on_membership_ended(club_id: str, user_id: str, reason: str) -> None:
    """Hook for the clubs domain: a member left or was removed — out of the room at once.
    Never raises (the membership change has committed); handlers re-check membership anyway."""
    try:
        await room_service.do_evict(club_id, user_id, reason)
    except Exception as exc:
        log.error("room eviction failed", club_id=club_id, user_id=user_id, error=str(exc))
