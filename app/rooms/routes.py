"""Room state over HTTP: ``GET /api/v1/clubs/{id}/room`` (snapshot at a seq) and
``GET /api/v1/clubs/{id}/events`` (stored events after a seq)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_response

from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.rooms.schemas import EventPage, EventQuery, RoomState
from app.rooms.service import room_service

blueprint = Blueprint("rooms", __name__, url_prefix="/api/v1")


@blueprint.get("/clubs/<club_id>/room")
@tag(["rooms"])
@require_auth
@validate_response(RoomState)
@document_errors(404)
async def room_state(club_id: str) -> RoomState:
    """The room at its latest ``seq``: recent messages, open and recent proposals, who is
    online. Join the room first (``room:join``), then fetch this, then apply live events with a
    greater ``seq``. Errors: 404 ``club_not_found``."""
    return await room_service.state(club_id, current_principal().user_id)


@blueprint.get("/clubs/<club_id>/events")
@tag(["rooms"])
@require_auth
@validate_querystring(EventQuery)
@validate_response(EventPage)
@document_errors(404, 422)
async def room_events(club_id: str, query_args: EventQuery) -> EventPage:
    """Stored room events after ``after_seq``, oldest first, as they were emitted. Errors: 404
    ``club_not_found``."""
    return await room_service.events(
        club_id, current_principal().user_id, query_args.after_seq, query_args.limit
    )
