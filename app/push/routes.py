"""Web Push over HTTP: ``GET /api/v1/push/key`` (the VAPID public key a service worker
subscribes with) and ``/api/v1/push/subscriptions`` (list, subscribe, unsubscribe)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.identity.guards import current_principal, require_auth
from app.notifications.documents import NotificationKind
from app.notifications.service import notification_service
from app.openapi import document_errors
from app.push.schemas import (
    SubscribeRequest,
    SubscriptionList,
    SubscriptionOut,
    UnsubscribeRequest,
    VapidKey,
)
from app.push.service import push_service
from app.realtime.eventlog import iso

blueprint = Blueprint("push", __name__, url_prefix="/api/v1/push")


@blueprint.get("/key")
@tag(["notifications"])
@validate_response(VapidKey)
async def vapid_key() -> VapidKey:
    """The server's VAPID public key (``applicationServerKey``, base64url)."""
    return VapidKey(public_key=push_service.public_key())


@blueprint.get("/subscriptions")
@tag(["notifications"])
@require_auth
@validate_response(SubscriptionList)
async def list_subscriptions() -> SubscriptionList:
    """Your browsers subscribed to pushes, with the kinds each gets."""
    return await _listing(current_principal().user_id)


async def _listing(user_id: str) -> SubscriptionList:
    items = await push_service.subscriptions(user_id)
    return SubscriptionList(
        subscriptions=[
            SubscriptionOut(endpoint=s.endpoint, kinds=s.kinds, created_at=iso(s.created_at))
            for s in items
        ]
    )


@blueprint.post("/subscriptions")
@tag(["notifications"])
@require_auth
@validate_request(SubscribeRequest)
@validate_response(SubscriptionOut, 201)
@document_errors(422)
async def subscribe(data: SubscribeRequest) -> tuple[SubscriptionOut, int]:
    """Subscribe this browser (its ``PushSubscription.toJSON()``) to pushes of ``kinds``
    (omitted: the kinds you get by e-mail)."""
    user_id = current_principal().user_id
    preferences = await notification_service.preferences(user_id)
    stored = await push_service.do_subscribe(
        user_id, data.endpoint, data.keys, data.kinds,
        [str(k) for k in preferences.email_kinds], {str(k) for k in NotificationKind},
    )  # fmt: skip
    out = SubscriptionOut(endpoint=stored.endpoint, kinds=stored.kinds,
                          created_at=iso(stored.created_at))  # fmt: skip
    return out, 201


@blueprint.delete("/subscriptions")
@tag(["notifications"])
@require_auth
@validate_request(UnsubscribeRequest)
@validate_response(SubscriptionList)
@document_errors(404, 422)
async def unsubscribe(data: UnsubscribeRequest) -> SubscriptionList:
    """Stop pushes to this browser; answers your remaining subscriptions. Errors: 404
    ``push_subscription_not_found``."""
    user_id = current_principal().user_id
    await push_service.do_unsubscribe(user_id, data.endpoint)
    return await _listing(user_id)
