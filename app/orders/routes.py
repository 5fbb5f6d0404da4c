"""``/api/v1/clubs/{id}/orders`` (enter, list, view, submit to the broker, cancel),
``/positions`` and ``/portfolio`` (priced at the latest quotes)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_request, validate_response

from app.brokers.service import broker_service
from app.extensions import services
from app.idempotency import idempotent
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.orders.broker import Broker
from app.orders.schemas import (
    FillOut,
    OrderCreate,
    OrderDetail,
    OrderList,
    OrderModify,
    OrderOut,
)
from app.orders.service import order_service

blueprint = Blueprint("orders", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


async def _broker(club_id: str, sending: bool = True) -> Broker:
    """The club's broker: its linked account (Kite, Alpaca), else the paper broker (commands
    go to the order-commands topic). The caller's role is checked first, so nobody else
    learns the state of the club's link (``broker_link_unusable``)."""
    await broker_service.check_treasury(club_id, _me())
    return await broker_service.broker_for(club_id, services.require_producer(), sending)


@blueprint.get("/clubs/<club_id>/orders")
@tag(["orders"])
@require_auth
@validate_response(OrderList)
@document_errors(404)
async def list_orders(club_id: str) -> OrderList:
    """The club's orders, newest first (any member). Errors: 404 ``club_not_found``."""
    orders = await order_service.list_orders(club_id, _me())
    return OrderList(orders=[OrderOut.of(o) for o in orders])


@blueprint.post("/clubs/<club_id>/orders")
@tag(["orders"])
@require_auth
@idempotent(_me)
@validate_request(OrderCreate)
@validate_response(OrderOut, 201)
@document_errors(400, 403, 404, 422)
async def create_order(club_id: str, data: OrderCreate) -> tuple[OrderOut, int]:
    """Enter an order (owner/admin/treasurer); it waits to be submitted. Errors: 403
    ``role_required``; 404 ``unknown_symbol``; 422 ``currency_mismatch``, ``invalid_order``."""
    order = await order_service.do_create(club_id, _me(), data)
    return OrderOut.of(order), 201


@blueprint.get("/clubs/<club_id>/orders/<order_id>")
@tag(["orders"])
@require_auth
@validate_response(OrderDetail)
@document_errors(404)
async def get_order(club_id: str, order_id: str) -> OrderDetail:
    """One order with its fills (any member). Errors: 404 ``order_not_found``."""
    order, fills = await order_service.get(club_id, order_id, _me())
    return OrderDetail(order=OrderOut.of(order), fills=[FillOut.of(f) for f in fills])


@blueprint.post("/clubs/<club_id>/orders/<order_id>/submit")
@tag(["orders"])
@require_auth
@idempotent(_me)
@validate_response(OrderOut, 202)
@document_errors(400, 403, 404, 409, 422, 503)
async def submit_order(club_id: str, order_id: str) -> tuple[OrderOut, int]:
    """Send an order to the broker (owner/admin/treasurer); fills arrive as ``order:updated``.
    Errors: 409 ``order_state``, ``insufficient_cash``, ``insufficient_holdings``; 404
    ``no_quote`` (a market order needs a last price); 422 ``invalid_order``,
    ``currency_mismatch``; 503 ``service_unavailable``."""
    order = await order_service.do_submit(
        club_id, order_id, _me(), services.require_redis(), await _broker(club_id)
    )
    return OrderOut.of(order), 202


@blueprint.post("/clubs/<club_id>/orders/<order_id>/cancel")
@tag(["orders"])
@require_auth
@idempotent(_me)
@validate_response(OrderOut, 202)
@document_errors(400, 403, 404, 409, 503)
async def cancel_order(club_id: str, order_id: str) -> tuple[OrderOut, int]:
    """Cancel an order (owner/admin/treasurer): at once if not yet submitted, else through the
    broker (``order:updated`` with ``cancelled`` follows). Errors: 409 ``order_state``."""
    order = await order_service.do_cancel(
        club_id, order_id, _me(), await _broker(club_id, sending=False)
    )
    return OrderOut.of(order), 202


@blueprint.post("/clubs/<club_id>/orders/<order_id>/modify")
@tag(["orders"])
@require_auth
@idempotent(_me)
@validate_request(OrderModify)
@validate_response(OrderOut, 200)
@document_errors(400, 403, 404, 409, 422, 503)
async def modify_order(club_id: str, order_id: str, data: OrderModify) -> tuple[OrderOut, int]:
    """Change an open order's quantity and/or limit price (owner/admin/treasurer), through
    its broker (Kite modify, Alpaca replace, the paper broker); audited, ``order:updated``
    follows. A limit buy's hold follows its new terms. Errors: 409 ``order_state`` (not
    working at the broker, another change in progress, or the broker refused),
    ``insufficient_cash`` (a market buy growing), ``insufficient_holdings``; 422
    ``invalid_order``, ``change_exceeds_cash`` (the larger hold is more than the club's free
    cash); 503 (the broker did not answer: nothing changed)."""
    order = await order_service.do_modify(club_id, order_id, _me(), data, await _broker(club_id))
    return OrderOut.of(order), 200
