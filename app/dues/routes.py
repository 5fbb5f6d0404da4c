"""Dues over HTTP: ``GET /api/v1/clubs/{id}/dues`` (the members × months grid) and
``POST /api/v1/clubs/{id}/dues/waivers``."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.dues.schemas import DuesGrid, DuesQuery, WaiverCreate, WaiverOut
from app.dues.service import dues_service
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors

blueprint = Blueprint("dues", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


@blueprint.get("/clubs/<club_id>/dues")
@tag(["money"])
@require_auth
@validate_querystring(DuesQuery)
@validate_response(DuesGrid)
@document_errors(404, 422)
async def dues_grid(club_id: str, query_args: DuesQuery) -> DuesGrid:
    """The club's monthly dues: its rule and, per member and month, ``pending``, ``paid``,
    ``late``, ``waived`` or ``none`` (the treasury sees everyone, a member their own row).
    Errors: 404 ``club_not_found``."""
    return await dues_service.grid(club_id, _me(), query_args.months)


@blueprint.post("/clubs/<club_id>/dues/waivers")
@tag(["money"])
@require_auth
@validate_request(WaiverCreate)
@validate_response(WaiverOut, 201)
@document_errors(403, 404, 409, 422)
async def waive(club_id: str, data: WaiverCreate) -> tuple[WaiverOut, int]:
    """Excuse a member from one month's dues (owner/admin/treasurer), audited. Errors: 403
    ``role_required``; 404 ``club_not_found``, ``member_not_found``; 409 ``no_dues``,
    ``dues_settled``."""
    waiver = await dues_service.do_waive(
        club_id, _me(), user_id=data.user_id, month=data.month, reason=data.reason
    )
    out = WaiverOut(user_id=waiver.user_id, month=waiver.month, reason=waiver.reason,
                    waived_by=waiver.waived_by)  # fmt: skip
    return out, 201
