"""Failures of the chat domain, each with its HTTP status and stable code."""

from __future__ import annotations

from app.errors import AppError, NotFound


class MessageNotFound(NotFound):
    """No such message in this club (or it is not visible to the caller)."""

    code = "message_not_found"


class NotMessageAuthor(AppError):
    """Only the author may edit a message; only the author or a club admin may delete it."""

    status = 403
    code = "not_message_author"


class MessageDeleted(AppError):
    """The message was deleted: it cannot be edited (409)."""

    status = 409
    code = "message_deleted"
