"""Chat over HTTP: ``/api/v1/clubs/{id}/messages`` (history, send) and
``/api/v1/messages/{id}`` (edit, delete). The same service calls as the socket handlers."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.chat.schemas import HistoryQuery, MessageEdit, MessageOut, MessagePage, MessageSend
from app.chat.service import chat_service
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors

blueprint = Blueprint("chat", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


@blueprint.get("/clubs/<club_id>/messages")
@tag(["chat"])
@require_auth
@validate_querystring(HistoryQuery)
@validate_response(MessagePage)
@document_errors(404, 422)
async def history(club_id: str, query_args: HistoryQuery) -> MessagePage:
    """The club's messages, newest first; page back with ``before``. Errors: 404
    ``club_not_found``."""
    messages, next_before = await chat_service.history(
        club_id, _me(), query_args.before, query_args.limit
    )
    return MessagePage(messages=[MessageOut.of(m) for m in messages], next_before=next_before)


@blueprint.post("/clubs/<club_id>/messages")
@tag(["chat"])
@require_auth
@validate_request(MessageSend)
@validate_response(MessageOut, 201)
@document_errors(404, 422, 429)
async def send(club_id: str, data: MessageSend) -> tuple[MessageOut, int]:
    """Post a message (also sent live as ``chat:message``). Errors: 404 ``club_not_found``,
    ``message_not_found`` (``reply_to``), 429 ``rate_limited``."""
    message = await chat_service.do_send(
        club_id, _me(), body=data.body, reply_to=data.reply_to, mentions=data.mentions,
        client_id=data.client_id,
    )  # fmt: skip
    return MessageOut.of(message), 201


@blueprint.patch("/messages/<message_id>")
@tag(["chat"])
@require_auth
@validate_request(MessageEdit)
@validate_response(MessageOut)
@document_errors(403, 404, 409, 422)
async def edit(message_id: str, data: MessageEdit) -> MessageOut:
    """Edit your message. Errors: 403 ``not_message_author``, 404 ``message_not_found``, 409
    ``message_deleted``."""
    return MessageOut.of(await chat_service.do_edit(message_id, _me(), data.body))


@blueprint.delete("/messages/<message_id>")
@tag(["chat"])
@require_auth
@validate_response(MessageOut)
@document_errors(403, 404)
async def delete(message_id: str) -> MessageOut:
    """Delete a message (yours, or any as a club owner/admin); it stays as a tombstone.
    Errors: 403 ``not_message_author``, 404 ``message_not_found``."""
    return MessageOut.of(await chat_service.do_delete(message_id, _me()))
