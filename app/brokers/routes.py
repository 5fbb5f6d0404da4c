"""``/api/v1/clubs/{id}/broker`` (link, view, log in, test, compare positions, remove) and the
brokers' own calls: Kite's login redirect and its postbacks. Thin over ``broker_service``."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import quote

from quart import Blueprint, redirect, request
from quart_schema import tag, validate_request, validate_response

from app.brokers.errors import BrokerLoginState, PostbackTooLarge
from app.brokers.schemas import BrokerEventsOut, BrokerLinkOut, LinkCreate, PostbackAck
from app.brokers.service import broker_service
from app.errors import AppError
from app.extensions import services
from app.identity.guards import client_ip, current_principal, require_auth
from app.inputs import parse_json
from app.openapi import document_errors, document_raw_response
from streams.topics import ORDER_FILLS

blueprint = Blueprint("brokers", __name__, url_prefix="/api/v1")

POSTBACK_MAX_BYTES = 64 * 1024


def _me() -> str:
    return current_principal().user_id


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def treasury_only(func: F) -> F:
    """Check that the caller manages the club's broker (owner/admin/treasurer) before the
    request body is validated: a member gets 403 whatever the fields, never a validation error
    (a body that is not readable JSON is still 400 ``malformed_json`` first, as everywhere).
    Goes below ``require_auth`` and above ``validate_request``."""

    @functools.wraps(func)
    async def wrapper(club_id: str, *args: Any, **kwargs: Any) -> Any:
        raw: bytes = await request.get_data(as_text=False)  # type: ignore[assignment]
        if raw:  # a body that is not JSON at all is 400 malformed_json for anyone, first
            parse_json(raw)
        await broker_service.check_treasury(club_id, _me())
        return await func(club_id, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@blueprint.get("/clubs/<club_id>/broker")
@tag(["brokers"])
@require_auth
@validate_response(BrokerLinkOut)
@document_errors(403, 404)
async def get_link(club_id: str) -> BrokerLinkOut:
    """The club's broker link (owner/admin/treasurer): provider, status, last characters of the
    key and secret, the last test and positions check. ``linked`` false: the paper broker."""
    return await broker_service.view(club_id, _me())


@blueprint.put("/clubs/<club_id>/broker")
@tag(["brokers"])
@require_auth
@treasury_only
@validate_request(LinkCreate)
@validate_response(BrokerLinkOut)
@document_errors(400, 403, 404, 409, 422)
async def put_link(club_id: str, data: LinkCreate) -> BrokerLinkOut:
    """Link (or re-link) the club's broker account (owner/admin/treasurer). Alpaca keys are
    tried at once; Kite answers ``login_url`` for the treasurer's login. Errors: 409
    ``broker_orders_open`` (orders still working at the current broker); 422
    ``broker_link_invalid`` (the broker refused the keys), ``validation_error``. Alpaca not
    answering keeps the keys untested (``test_ok`` false, ``test_message`` says why)."""
    return await broker_service.do_link(club_id, _me(), data)


@blueprint.delete("/clubs/<club_id>/broker")
@tag(["brokers"])
@require_auth
@document_errors(403, 404, 409)
@document_raw_response(204, description="removed")
async def delete_link(club_id: str) -> tuple[str, int]:
    """Remove the club's link (owner/admin/treasurer); orders go to the paper broker again.
    Errors: 404 ``broker_link_not_found``; 409 ``broker_orders_open``."""
    await broker_service.do_unlink(club_id, _me())
    return "", 204


@blueprint.post("/clubs/<club_id>/broker/login")
@tag(["brokers"])
@require_auth
@validate_response(BrokerLinkOut)
@document_errors(403, 404, 409)
async def start_login(club_id: str) -> BrokerLinkOut:
    """A fresh Kite login (``login_url``) for the club's link: first login, or the daily
    renewal. Errors: 404 ``broker_link_not_found``; 409 ``broker_login_state`` (not Kite)."""
    return await broker_service.do_login_url(club_id, _me())


@blueprint.post("/clubs/<club_id>/broker/test")
@tag(["brokers"])
@require_auth
@validate_response(BrokerLinkOut)
@document_errors(403, 404)
async def test_link(club_id: str) -> BrokerLinkOut:
    """Ask the broker who the link is; the answer is kept (``test_ok``, ``test_message``).
    Errors: 404 ``broker_link_not_found``."""
    return await broker_service.do_test(club_id, _me())


@blueprint.post("/clubs/<club_id>/broker/positions-check")
@tag(["brokers"])
@require_auth
@validate_response(BrokerLinkOut)
@document_errors(403, 404)
async def check_positions(club_id: str) -> BrokerLinkOut:
    """Compare the club's holdings with the broker's positions now (also done daily); a
    difference is shown, never corrected. Errors: 404 ``broker_link_not_found``."""
    return await broker_service.check_now(club_id, _me())


@blueprint.get("/clubs/<club_id>/broker/events")
@tag(["brokers"])
@require_auth
@validate_response(BrokerEventsOut)
@document_errors(403, 404)
async def broker_events(club_id: str) -> BrokerEventsOut:
    """What happened to the club's broker link (audited: linked, sessions, refused logins,
    orders changed at the broker), newest first, and refused postbacks that named its
    account (owner/admin/treasurer)."""
    return await broker_service.events(club_id, _me())


@blueprint.get("/brokers/kite/callback")
@tag(["brokers"])
@document_raw_response(302, description="back to the club's page", location=True)
async def kite_callback() -> Any:
    """Kite's redirect after the treasurer's login (``request_token``, ``status``, and the
    ``state`` we gave). 302 to the club's page: ``?broker=linked`` or ``?broker_error=<code>``
    (``broker_link_invalid``: Kite refused the secret or the login; the link's
    ``status_reason`` says which; ``/clubs`` only when the login belongs to no club).
    The one-time ``state`` is what ties the login to a club; it is used once."""
    args = request.args
    state, token = args.get("state", ""), args.get("request_token", "")
    if args.get("status", "success") != "success" or not token:
        return redirect("/clubs?broker_error=broker_login_cancelled", 302)
    try:
        link = await broker_service.do_complete_login(state, token)
    except BrokerLoginState:
        return redirect("/clubs?broker_error=broker_login_state", 302)
    except AppError as exc:
        # Back to the club's desk when the login belonged to a club: it says what failed.
        club_id = str(exc.details.get("club_id") or "")
        where = f"/clubs/{quote(club_id)}" if club_id else "/clubs"
        return redirect(f"{where}?broker_error={quote(exc.code)}", 302)
    return redirect(f"/clubs/{quote(link.club_id)}?broker=linked", 302)


@blueprint.post("/brokers/kite/postback")
@tag(["brokers"])
@validate_response(PostbackAck)
@document_errors(401, 413, 503)
async def kite_postback() -> PostbackAck:
    """Kite's order postback (JSON). Its ``checksum`` (SHA-256 of order_id + order_timestamp +
    the account's API secret) is verified before anything in it is used; the order's state and
    trades then go to the order-fills topic, reconciled like every broker update. Errors:
    401 ``postback_rejected`` (recorded); 413; 503 (Kafka did not acknowledge: Kite does not
    retry, the poll recovers it)."""
    if (request.content_length or 0) > POSTBACK_MAX_BYTES:
        raise PostbackTooLarge("postback body is too large")
    raw = await request.get_data(cache=False)
    assert isinstance(raw, bytes)
    updates = await broker_service.do_kite_postback(raw[:POSTBACK_MAX_BYTES], client_ip() or "")
    if updates:
        await services.require_producer().send_many(ORDER_FILLS, [(u.club_id, u) for u in updates])
    return PostbackAck(updates=len(updates))
