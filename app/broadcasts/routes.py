"""Broadcasts over HTTP: the admin console (``/api/v1/admin/broadcasts``) and what a person
was sent (``/api/v1/broadcasts``)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.broadcasts.schemas import BroadcastCreate, BroadcastList, BroadcastOut, BroadcastQuery
from app.broadcasts.service import broadcast_service
from app.identity.documents import PlatformRole
from app.identity.guards import current_principal, require_auth, require_role
from app.openapi import document_errors

blueprint = Blueprint("broadcasts", __name__, url_prefix="/api/v1")


@blueprint.post("/admin/broadcasts")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(BroadcastCreate)
@validate_response(BroadcastOut, 201)
@document_errors(404, 422)
async def send(data: BroadcastCreate) -> tuple[BroadcastOut, int]:
    """Send a broadcast to everyone or to one club (platform admin; audited); delivered live
    as ``broadcast:message``. Errors: 403 ``forbidden``, 404 ``club_not_found``."""
    broadcast = await broadcast_service.do_send(
        current_principal().user_id, audience=data.audience, club_id=data.club_id,
        title=data.title, body=data.body, severity=data.severity,
    )  # fmt: skip
    return BroadcastOut.of(broadcast), 201


@blueprint.get("/admin/broadcasts")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(BroadcastQuery)
@validate_response(BroadcastList)
async def list_all(query_args: BroadcastQuery) -> BroadcastList:
    """Every broadcast, newest first (platform admin)."""
    items = await broadcast_service.list_all(query_args.limit)
    return BroadcastList(broadcasts=[BroadcastOut.of(b) for b in items])


@blueprint.get("/broadcasts")
@tag(["broadcasts"])
@require_auth
@validate_querystring(BroadcastQuery)
@validate_response(BroadcastList)
async def mine(query_args: BroadcastQuery) -> BroadcastList:
    """Broadcasts sent to everyone and to your clubs, newest first."""
    items = await broadcast_service.list_for(current_principal().user_id, query_args.limit)
    return BroadcastList(broadcasts=[BroadcastOut.of(b) for b in items])
