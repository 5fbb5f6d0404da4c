"""Notifications over HTTP: ``/api/v1/notifications`` (list, unread count, mark read) and
``/api/v1/notifications/preferences`` (which kinds are e-mailed)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.identity.guards import current_principal, require_auth
from app.notifications.schemas import (
    EmailPreferences,
    EmailPreferencesUpdate,
    MarkedRead,
    MarkRead,
    NotificationOut,
    NotificationPage,
    NotificationQuery,
    UnreadCount,
)
from app.notifications.service import notification_service
from app.openapi import document_errors

blueprint = Blueprint("notifications", __name__, url_prefix="/api/v1/notifications")


def _me() -> str:
    return current_principal().user_id


@blueprint.get("")
@tag(["notifications"])
@require_auth
@validate_querystring(NotificationQuery)
@validate_response(NotificationPage)
@document_errors(422)
async def list_notifications(query_args: NotificationQuery) -> NotificationPage:
    """Your notifications, newest first (``unread=true``, ``before``), or oldest first after
    ``after_seq`` to catch up after a reconnect; with the unread count."""
    items, unread, next_before = await notification_service.page(
        _me(), unread=query_args.unread, before=query_args.before,
        after_seq=query_args.after_seq, limit=query_args.limit,
    )  # fmt: skip
    return NotificationPage(
        notifications=[NotificationOut.of(n) for n in items], unread_count=unread,
        next_before=next_before,
    )  # fmt: skip


@blueprint.get("/unread-count")
@tag(["notifications"])
@require_auth
@validate_response(UnreadCount)
async def unread_count() -> UnreadCount:
    """How many of your notifications are unread."""
    return UnreadCount(unread_count=await notification_service.unread_count(_me()))


@blueprint.post("/read")
@tag(["notifications"])
@require_auth
@validate_request(MarkRead)
@validate_response(MarkedRead)
@document_errors(422)
async def mark_read(data: MarkRead) -> MarkedRead:
    """Mark ``ids``, everything up to ``up_to_seq``, or ``all`` read; your other devices get
    ``notification:read``."""
    marked, unread = await notification_service.do_mark_read(
        _me(), ids=data.ids, up_to_seq=data.up_to_seq, everything=data.all
    )
    return MarkedRead(marked=marked, unread_count=unread)


@blueprint.get("/preferences")
@tag(["notifications"])
@require_auth
@validate_response(EmailPreferences)
async def preferences() -> EmailPreferences:
    """The kinds you get by e-mail (and whether your e-mail channel is on)."""
    return await notification_service.preferences(_me())


@blueprint.put("/preferences")
@tag(["notifications"])
@require_auth
@validate_request(EmailPreferencesUpdate)
@validate_response(EmailPreferences)
@document_errors(422)
async def set_preferences(data: EmailPreferencesUpdate) -> EmailPreferences:
    """Choose the kinds you get by e-mail (an empty list: none)."""
    return await notification_service.do_set_preferences(_me(), data.email_kinds)
