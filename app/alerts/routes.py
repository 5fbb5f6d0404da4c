"""Price alerts of a club (``/api/v1/clubs/{id}/alerts``): thin, they call ``alert_service``."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.alerts.documents import PriceAlert
from app.alerts.schemas import AlertCreate, AlertList, AlertOut
from app.alerts.service import alert_service
from app.extensions import services
from app.identity.guards import current_principal, require_auth
from app.money import format_minor
from app.openapi import document_errors

blueprint = Blueprint("alerts", __name__, url_prefix="/api/v1")


def _out(alert: PriceAlert) -> AlertOut:
    return AlertOut(
        id=str(alert.id), club_id=alert.club_id, created_by=alert.created_by,
        symbol=alert.symbol, kind=alert.kind,
        price=None if alert.threshold is None else format_minor(alert.threshold),
        move_bps=alert.move_bps, window_seconds=alert.window_seconds, rearm=alert.rearm,
        note=alert.note, active=alert.active, fired_count=alert.fired_count,
        last_fired_at=alert.last_fired_at, created_at=alert.created_at,
    )  # fmt: skip


@blueprint.post("/clubs/<club_id>/alerts")
@tag(["market"])
@require_auth
@validate_request(AlertCreate)
@validate_response(AlertOut, 201)
@document_errors(404, 422)
async def create_alert(club_id: str, data: AlertCreate) -> tuple[AlertOut, int]:
    """Alert the club when ``symbol`` crosses above/below ``price``, or moves ``move_bps``
    within ``window_seconds``; ``rearm`` to fire at every new crossing. ``alert:triggered``
    goes to the club's room (and its log). Errors: 404 ``club_not_found``,
    ``unknown_symbol``; 422 ``validation_error``."""
    alert = await alert_service.do_create(club_id, current_principal().user_id, data,
                                          services.require_redis())  # fmt: skip
    return _out(alert), 201


@blueprint.get("/clubs/<club_id>/alerts")
@tag(["market"])
@require_auth
@validate_response(AlertList)
@document_errors(404)
async def list_alerts(club_id: str) -> AlertList:
    """The club's alerts, newest first, with how often each fired."""
    alerts = await alert_service.list_alerts(club_id, current_principal().user_id)
    return AlertList(alerts=[_out(a) for a in alerts])


@blueprint.delete("/clubs/<club_id>/alerts/<alert_id>")
@tag(["market"])
@require_auth
@validate_response(AlertOut)
@document_errors(403, 404)
async def cancel_alert(club_id: str, alert_id: str) -> AlertOut:
    """Cancel an alert (its creator, or owner/admin/treasurer). Errors: 404
    ``alert_not_found``, 403 ``role_required``."""
    return _out(await alert_service.do_cancel(club_id, alert_id, current_principal().user_id))
