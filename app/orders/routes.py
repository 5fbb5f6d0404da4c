"""``GET /api/v1/clubs/{id}/orders``: what the club approved and waits to be executed."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import tag, validate_response

from app.clubs.service import club_service
from app.identity.guards import current_principal, require_auth
from app.openapi import document_errors
from app.orders.documents import Order
from app.orders.schemas import OrderList, OrderOut

blueprint = Blueprint("orders", __name__, url_prefix="/api/v1")


@blueprint.get("/clubs/<club_id>/orders")
@tag(["orders"])
@require_auth
@validate_response(OrderList)
@document_errors(404)
async def list_orders(club_id: str) -> OrderList:
    """The club's orders, newest first (any member). Errors: 404 ``club_not_found``."""
    await club_service.check_member(club_id, current_principal().user_id)
    orders = await Order.find({"club_id": club_id}).sort("-created_at").limit(200).to_list()
    return OrderList(orders=[OrderOut.of(o) for o in orders])
