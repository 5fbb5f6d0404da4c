"""Notifications: stored inside the transaction of the change that causes them, emitted to
``user:<id>`` after it commits, read marks, e-mail preferences and the e-mail outbox the worker
drains (``do_send_due_emails``)."""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession

from app.config import get_settings
from app.db import run_in_transaction
from app.identity import directory
from app.logging import get_logger
from app.mail.sender import send_mail
from app.notifications import repository
from app.notifications.documents import (
    DEFAULT_EMAIL_KINDS,
    EmailStatus,
    Notification,
    NotificationKind,
    NotificationSettings,
)
from app.notifications.schemas import (
    EmailPreferences,
    NotificationNewEvent,
    NotificationOut,
    NotificationReadEvent,
)
from app.push.service import push_service
from app.realtime import eventlog, events
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import user_room

log = get_logger(__name__)

NOTIFICATION_NEW = "notification:new"
NOTIFICATION_READ = "notification:read"
EMAIL_MAX_ATTEMPTS = 3
EMAIL_STALE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Draft:
    """What to tell one person; ``dedupe_key`` makes a repeat a no-op."""

    user_id: str
    kind: NotificationKind
    title: str
    body: str
    club_id: str | None = None
    ref_type: str | None = None
    ref_id: str | None = None
    dedupe_key: str | None = None


class NotificationService:
    """Stateless; acts for the user id it is given."""

    async def prepare(self, user_ids: list[str]) -> None:
        """Create the recipients' inbox counters; call before the transaction that notifies."""
        for user_id in set(user_ids):
            await events.ensure_room(user_room(user_id))

    async def do_store(
        self, session: AsyncClientSession, drafts: list[Draft]
    ) -> list[Notification]:
        """Store notifications inside the caller's transaction (their inboxes' counters must
        exist: ``prepare``). Drafts whose ``dedupe_key`` was stored before are skipped. Each is
        marked for e-mail when its person has the e-mail channel on and wants the kind."""
        if not drafts:
            return []
        keys = [d.dedupe_key for d in drafts if d.dedupe_key]
        taken = await repository.dedupe_keys_taken(keys, session) if keys else set()
        wanted = await self._email_wanted({d.user_id for d in drafts})
        stored = []
        for draft in drafts:
            if draft.dedupe_key and draft.dedupe_key in taken:
                continue
            seq = await eventlog.next_seq(session, user_room(draft.user_id))
            notification = Notification(
                user_id=draft.user_id, seq=seq, kind=draft.kind, title=draft.title,
                body=draft.body, club_id=draft.club_id, ref_type=draft.ref_type,
                ref_id=draft.ref_id, dedupe_key=draft.dedupe_key,
                email_status=(EmailStatus.PENDING if draft.kind in wanted.get(draft.user_id, ())
                              else EmailStatus.NONE),
            )  # fmt: skip
            await repository.insert(notification, session)
            stored.append(notification)
        if stored:  # each person's feed hears of them once the change commits
            await events.after_commit(functools.partial(self.deliver, stored))
        return stored

    async def _email_wanted(self, user_ids: set[str]) -> dict[str, set[NotificationKind]]:
        chosen = await repository.settings_of(sorted(user_ids))
        out: dict[str, set[NotificationKind]] = {}
        for user_id in user_ids:
            user = await directory.user(user_id)
            if user is None or not user.notification_preferences.email:
                continue
            settings = chosen.get(user_id)
            out[user_id] = set(settings.email_kinds if settings else DEFAULT_EMAIL_KINDS)
        return out

    async def deliver(self, notifications: list[Notification]) -> None:
        """Emit stored notifications to their people (after the commit; at most once), and
        push them to the browsers that subscribed to their kinds (app/push)."""
        for n in notifications:
            event = NotificationNewEvent(
                id=f"notification:{n.id}", ts=iso(n.created_at),
                notification=NotificationOut.of(n),
                unread_count=await repository.unread_count(n.user_id),
            )  # fmt: skip
            await events.send(user_room(n.user_id), NOTIFICATION_NEW, event)
        await push_service.deliver(notifications)  # browsers subscribed to these kinds

    async def do_forget_about(self, ref_type: str, ref_ids: list[str]) -> int:
        """Erasure of the person a notification was about (``ref_type``/``ref_ids``, e.g. a
        CRM follow-up naming the lead): its title becomes ``(erased)`` and its body empty, so
        no inbox keeps their name or details. Returns how many changed."""
        ids = [i for i in ref_ids if i]
        if not ids:
            return 0
        return await repository.redact({"ref_type": ref_type, "ref_id": {"$in": ids}},
                                       "(erased)")  # fmt: skip

    async def do_forget_recipient(self, user_id: str) -> int:
        """Erasure of an account: the notifications addressed to it keep their kind and time
        but lose their title and body (which may name the person). Returns how many changed."""
        return await repository.redact({"user_id": user_id}, "(erased)")

    async def do_notify(self, drafts: list[Draft]) -> list[Notification]:
        """Store and deliver notifications in a transaction of their own."""
        await self.prepare([d.user_id for d in drafts])

        async def body(session: AsyncClientSession) -> list[Notification]:
            return await self.do_store(session, drafts)

        return await run_in_transaction(body)

    async def page(
        self, user_id: str, *, unread: bool, before: int | None, after_seq: int | None,
        limit: int,
    ) -> tuple[list[Notification], int, int | None]:  # fmt: skip
        """A page of the person's notifications, their unread count and the next cursor."""
        items = await repository.page(
            user_id, unread=unread, before=before, after_seq=after_seq, limit=limit
        )
        next_before = items[-1].seq if len(items) == limit and after_seq is None else None
        return items, await repository.unread_count(user_id), next_before

    async def unread_count(self, user_id: str) -> int:
        return await repository.unread_count(user_id)

    async def do_mark_read(
        self, user_id: str, *, ids: list[str] | None, up_to_seq: int | None, everything: bool
    ) -> tuple[int, int]:
        """Mark notifications read; tell the person's other devices. Returns (marked, unread)."""
        changed = await repository.mark_read(
            user_id, ids=ids, up_to_seq=up_to_seq, now=utcnow()
        ) if (ids is not None or up_to_seq is not None or everything) else []  # fmt: skip
        unread = await repository.unread_count(user_id)
        if changed:
            event = NotificationReadEvent(
                id=f"read:{secrets.token_hex(8)}", ts=iso(utcnow()), ids=changed,
                up_to_seq=up_to_seq, unread_count=unread,
            )  # fmt: skip
            await events.send(user_room(user_id), NOTIFICATION_READ, event)
        return len(changed), unread

    async def preferences(self, user_id: str) -> EmailPreferences:
        chosen = (await repository.settings_of([user_id])).get(user_id)
        user = await directory.user(user_id)
        return EmailPreferences(
            email_kinds=list(chosen.email_kinds if chosen else DEFAULT_EMAIL_KINDS),
            email_channel_on=bool(user and user.notification_preferences.email),
        )

    async def do_set_preferences(
        self, user_id: str, kinds: list[NotificationKind]
    ) -> EmailPreferences:
        unique = [k for k in NotificationKind if k in set(kinds)]
        await repository.save_settings(NotificationSettings(id=user_id, email_kinds=unique))
        return await self.preferences(user_id)

    async def do_send_due_emails(self, limit: int = 50) -> int:
        """Send up to ``limit`` pending notification e-mails (the worker's outbox drain).

        Each is claimed first (one sender per notification across workers); a failed send goes
        back to pending until ``EMAIL_MAX_ATTEMPTS``, then ``failed``. Returns how many were sent.
        """
        settings = get_settings()
        sent = 0
        for _ in range(limit):
            now = utcnow()
            stale = now - dt.timedelta(seconds=EMAIL_STALE_SECONDS)
            n = await repository.claim_email(now, stale)
            if n is None:
                break
            user = await directory.user(n.user_id)
            if user is None or not user.notification_preferences.email:
                await repository.finish_email(n.id, EmailStatus.NONE)
                continue
            body = f"{n.body}\n\nOpen Samooh to see it: {settings.public_url}\n"
            ok = await send_mail(settings, to=user.email, subject=f"Samooh: {n.title}", body=body)
            if ok:
                sent += 1
                await repository.finish_email(n.id, EmailStatus.SENT)
            else:
                retry = n.email_attempts < EMAIL_MAX_ATTEMPTS
                await repository.finish_email(
                    n.id, EmailStatus.PENDING if retry else EmailStatus.FAILED
                )
                break  # the relay is down: try again on the next sweep
        return sent


notification_service = NotificationService()
