"""Zerodha Kite Connect v3 adapter (https://kite.trade/docs/connect/v3/), also used against the
local sandbox, which follows the same API shape.

* Login: the treasurer opens ``<login>/connect/login?v=3&api_key=…&redirect_params=…``; Kite
  redirects to the app's registered redirect URL with ``request_token`` (and the
  ``redirect_params`` given); ``POST /session/token`` (form ``api_key``, ``request_token``,
  ``checksum`` = hex SHA-256 of api_key + request_token + api_secret) returns the
  ``access_token``, valid until ~6 AM the next day. Requests carry ``X-Kite-Version: 3`` and
  ``Authorization: token <api_key>:<access_token>``.
* Answers are ``{"status": "success", "data": …}`` or ``{"status": "error", "message": …,
  "error_type": …}``: ``TokenException`` (403) → the session ended (``BrokerLoginRequired``);
  ``InputException``/``OrderException``/… → the order is refused (``BrokerRejected``).
* Orders: ``POST /orders/{variety}`` (form ``tradingsymbol``, ``exchange``,
  ``transaction_type``, ``order_type``, ``quantity``, ``product``, ``validity``, ``price``,
  ``tag`` ≤ 20 chars) → ``order_id``; ``PUT``/``DELETE /orders/{variety}/{order_id}`` modify
  and cancel; ``GET /orders`` (the day's order book), ``GET /orders/{id}`` (history),
  ``GET /orders/{id}/trades`` (executions: ``trade_id``, ``quantity``, ``average_price``,
  ``fill_timestamp``); ``GET /portfolio/positions`` (``net``, ``day``).
* Postbacks: JSON of the order with ``checksum`` = hex SHA-256 of order_id + order_timestamp +
  api_secret (verified before anything else in it is used).

The official SDK (``kiteconnect``) is synchronous (``requests``): its shapes are followed here
with aiohttp so the event loop never blocks. Mapping: a club's symbol ``X`` is ``NSE:X`` unless
it names its exchange (``BSE:X``); product ``CNC`` (delivery: a club invests), variety
``regular``, validity ``DAY``. Kite trades carry no charges (the contract note does): each
fill's fee is Zerodha's charges on it at the published rates (app/orders/charges.py), recorded
by name on the fill.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from app.brokers.http import broker_update, call, to_decimal, to_minor
from app.money import round_ratio
from app.orders.broker import BrokerCosts, BrokerLoginRequired, BrokerRejected
from app.orders.charges import KITE_CHARGES, KITE_EXCHANGE, kite_charges
from app.orders.documents import Order
from app.orders.service import order_service
from streams.records import BrokerUpdateV1, OrderCommandV1

LIVE_API = "https://api.kite.trade"
LIVE_LOGIN = "https://kite.zerodha.com/connect/login"
VARIETY = "regular"
PRODUCT = "CNC"
VALIDITY = "DAY"


def session_checksum(api_key: str, request_token: str, api_secret: str) -> str:
    """``POST /session/token``'s checksum: hex SHA-256 of api_key + request_token + secret."""
    return hashlib.sha256(f"{api_key}{request_token}{api_secret}".encode()).hexdigest()


def postback_checksum(order_id: str, order_timestamp: str, api_secret: str) -> str:
    """A postback's checksum: hex SHA-256 of order_id + order_timestamp + api_secret."""
    return hashlib.sha256(f"{order_id}{order_timestamp}{api_secret}".encode()).hexdigest()


def postback_valid(payload: dict[str, Any], api_secret: str) -> bool:
    """Constant-time check of a postback's ``checksum`` field."""
    given = payload.get("checksum")
    order_id, stamp = payload.get("order_id"), payload.get("order_timestamp")
    if not all(isinstance(v, str) for v in (given, order_id, stamp)):
        return False
    expected = postback_checksum(str(order_id), str(stamp), api_secret)
    return hmac.compare_digest(expected.encode(), str(given).encode())


def login_url(login_root: str, api_key: str, state: str) -> str:
    """Where the treasurer logs in; ``state`` comes back in the redirect."""
    query = urlencode(
        {"v": "3", "api_key": api_key, "redirect_params": urlencode({"state": state})}
    )
    return f"{login_root}?{query}"


def instrument(symbol: str) -> tuple[str, str]:
    """(exchange, tradingsymbol) of a club's symbol: ``BSE:X`` → (BSE, X), else (NSE, X)."""
    exchange, _, name = symbol.partition(":")
    return (exchange, name) if name else ("NSE", symbol)


def tag_of(order_id: str) -> str:
    """The ``tag`` (≤ 20 chars) naming our order at Kite: the last 20 hex digits of its id."""
    return order_id[-20:]


class KiteApi:
    """Kite Connect v3 over aiohttp. ``root``: ``https://api.kite.trade`` or the sandbox's."""

    def __init__(self, root: str, api_key: str, access_token: str | None = None) -> None:
        self.root = root.rstrip("/")
        self.api_key = api_key
        self.access_token = access_token

    def _headers(self) -> dict[str, str]:
        headers = {"X-Kite-Version": "3"}
        if self.access_token:
            headers["Authorization"] = f"token {self.api_key}:{self.access_token}"
        return headers

    async def _call(
        self, method: str, path: str, form: dict[str, str] | None = None, body: Any = None
    ) -> Any:
        status, body = await call(
            method, f"{self.root}{path}", headers=self._headers(), form=form, body=body
        )
        if isinstance(body, dict) and body.get("status") == "success":
            return body.get("data")
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        kind = str(body.get("error_type", "")) if isinstance(body, dict) else ""
        if kind == "TokenException" or status == 403:
            raise BrokerLoginRequired(message or "the Kite session ended")
        raise BrokerRejected(message or f"Kite answered {status}")

    async def generate_session(self, request_token: str, api_secret: str) -> dict[str, Any]:
        """Exchange a login's ``request_token`` for a session (``access_token``, ``user_id``)."""
        data = await self._call(
            "POST",
            "/session/token",
            {
                "api_key": self.api_key,
                "request_token": request_token,
                "checksum": session_checksum(self.api_key, request_token, api_secret),
            },
        )
        return dict(data or {})

    async def profile(self) -> dict[str, Any]:
        """``GET /user/profile``: the logged-in user (``user_id``, ``user_name``)."""
        return dict(await self._call("GET", "/user/profile") or {})

    async def place_order(self, **params: str) -> str:
        """``POST /orders/regular``; the broker's order id."""
        data = await self._call("POST", f"/orders/{VARIETY}", params)
        return str(data["order_id"])

    async def modify_order(self, order_id: str, **params: str) -> str:
        """``PUT /orders/regular/{order_id}`` (quantity, price, order_type, validity)."""
        data = await self._call("PUT", f"/orders/{VARIETY}/{order_id}", params)
        return str(data["order_id"])

    async def cancel_order(self, order_id: str) -> str:
        """``DELETE /orders/regular/{order_id}``."""
        data = await self._call("DELETE", f"/orders/{VARIETY}/{order_id}")
        return str(data["order_id"])

    async def orders(self) -> list[dict[str, Any]]:
        """``GET /orders``: the day's order book."""
        return list(await self._call("GET", "/orders") or [])

    async def order_history(self, order_id: str) -> list[dict[str, Any]]:
        """``GET /orders/{order_id}``: the order's states, oldest first."""
        return list(await self._call("GET", f"/orders/{order_id}") or [])

    async def order_trades(self, order_id: str) -> list[dict[str, Any]]:
        """``GET /orders/{order_id}/trades``: its executions."""
        return list(await self._call("GET", f"/orders/{order_id}/trades") or [])

    async def positions(self) -> dict[str, Any]:
        """``GET /portfolio/positions``: ``{"net": [...], "day": [...]}``."""
        return dict(await self._call("GET", "/portfolio/positions") or {})

    async def order_charges(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``POST /charges/orders`` (the virtual contract note) for the day's executed
        ``orders`` (``charges_request``): their charges, in the order asked (Kite's answer
        names no order id)."""
        return list(await self._call("POST", "/charges/orders", body=orders) or [])


class KiteBroker:
    """The ``Broker`` of a club linked to Kite: submit places a ``regular`` ``CNC`` order
    tagged with our order id (a repeated submit finds the tagged order in the day's book and
    places nothing); cancel cancels the broker's order."""

    name = "kite"

    def __init__(
        self, api: KiteApi, session_ended: Callable[[str], Awaitable[None]] | None = None
    ) -> None:
        self.api = api
        self.session_ended = session_ended

    async def send(self, command: OrderCommandV1) -> str | None:
        """Submit, modify (``PUT /orders/regular/{id}``) or cancel at Kite. Raises
        ``BrokerUnavailable``, ``BrokerLoginRequired`` (after telling ``session_ended``),
        ``BrokerRejected``."""
        try:
            return await self._send(command)
        except BrokerLoginRequired as exc:
            if self.session_ended is not None:
                await self.session_ended(str(exc))
            raise

    async def _send(self, command: OrderCommandV1) -> str | None:
        if command.action in ("cancel", "modify"):
            order = await order_service.order(command.order_id)
            if order is None or not order.broker_order_id:
                raise BrokerRejected("the broker never took this order")
            if command.action == "cancel":
                await self.api.cancel_order(order.broker_order_id)
                return order.broker_order_id
            # Kite's modify takes the order's new total quantity (and price of a limit order).
            params = {
                "quantity": str(command.quantity),
                "order_type": "LIMIT" if command.kind == "limit" else "MARKET",
                "validity": VALIDITY,
            }
            if command.limit_price is not None:
                params["price"] = to_decimal(command.limit_price)
            return await self.api.modify_order(order.broker_order_id, **params)
        if command.currency != "INR":  # Kite trades Indian instruments only: never NSE:IBM
            raise BrokerRejected(f"Kite trades Indian instruments in INR, not {command.currency}")
        tag = tag_of(command.order_id)
        for known in await self.api.orders():
            if known.get("tag") == tag:
                return str(known["order_id"])
        exchange, symbol = instrument(command.symbol)
        params = {
            "tradingsymbol": symbol,
            "exchange": exchange,
            "transaction_type": command.side.upper(),
            "quantity": str(command.quantity),
            "product": PRODUCT,
            "validity": VALIDITY,
            "tag": tag,
            "order_type": "LIMIT" if command.kind == "limit" else "MARKET",
        }
        if command.limit_price is not None:
            params["price"] = to_decimal(command.limit_price)
        return await self.api.place_order(**params)

    async def updates(
        self, order: Order, costs: BrokerCosts, state: dict[str, Any] | None = None
    ) -> list[BrokerUpdateV1]:
        """What Kite says of ``order`` now (its latest state — from a postback, or the order's
        history — and every trade) as broker updates, in order: accepted, fills, then a final
        cancel or rejection."""
        assert order.broker_order_id is not None
        if state is None:
            history = await self.api.order_history(order.broker_order_id)
            state = history[-1] if history else {}
        trades = await self.api.order_trades(order.broker_order_id)
        return kite_updates(order, state, trades, costs)


def kite_updates(
    order: Order, state: dict[str, Any], trades: list[dict[str, Any]], costs: BrokerCosts
) -> list[BrokerUpdateV1]:
    """Broker updates from Kite's order ``state`` and ``trades`` (pure). Fill ids are
    ``kite:<order_id>:<trade_id>``; the reconciler books each once."""
    out: list[BrokerUpdateV1] = []
    status = str(state.get("status", "")).upper()
    if status in {"OPEN", "UPDATE", "COMPLETE", "TRIGGER PENDING", "MODIFIED"} or trades:
        out.append(broker_update(order, "kite:accepted", "accepted"))
    cumulative = 0
    total = order.quantity or 0
    for trade in sorted(
        trades, key=lambda t: (str(t.get("fill_timestamp", "")), str(t.get("trade_id", "")))
    ):
        quantity = int(trade["quantity"])
        price = to_minor(trade["average_price"])
        # A trade id is the exchange's number of the trade, unique on its day only: the
        # broker's order id makes it unique for ever.
        ref = trade.get("order_id") or order.broker_order_id
        fill_id = f"{ref}:{trade['trade_id']}" if ref else str(trade["trade_id"])
        cumulative += quantity
        exchange = str(trade.get("exchange") or "NSE")
        if exchange not in KITE_EXCHANGE:
            exchange = "NSE"
        charges = kite_charges(order.side.value, quantity * price, exchange)
        out.append(
            broker_update(
                order,
                f"fill:kite:{fill_id}",
                "filled" if cumulative >= total else "partially_filled",
                fill_id=f"kite:{fill_id}",
                fill_quantity=quantity,
                fill_price=price,
                fee=sum(charges.values()),
                charges=charges,
                cumulative_quantity=cumulative,
                trade_date=str(
                    trade.get("fill_timestamp") or trade.get("exchange_timestamp") or ""
                )[:10],
            )
        )
    if status == "CANCELLED":
        out.append(
            broker_update(
                order,
                "kite:cancelled",
                "cancelled",
                cumulative_quantity=cumulative,
                reason=str(state.get("status_message") or "cancelled_by_user"),
            )
        )
    elif status == "REJECTED":
        out.append(
            broker_update(
                order,
                "kite:rejected",
                "rejected",
                cumulative_quantity=cumulative,
                reason=str(state.get("status_message") or "rejected_by_broker"),
            )
        )
    return out


def charges_request(order: Order) -> dict[str, Any]:
    """One executed order as Kite's contract note API takes it: its broker id, instrument,
    side, quantity filled and average price (rupees, two places)."""
    exchange, symbol = instrument(order.symbol)
    average = round_ratio(order.filled_value, order.filled_quantity)
    return {
        "order_id": order.broker_order_id,
        "exchange": exchange,
        "tradingsymbol": symbol,
        "transaction_type": order.side.value.upper(),
        "variety": VARIETY,
        "product": PRODUCT,
        "order_type": "LIMIT" if order.kind.value == "limit" else "MARKET",
        "quantity": order.filled_quantity,
        "average_price": float(to_decimal(average)),
    }


def contract_note_charges(note: dict[str, Any]) -> dict[str, int]:
    """One order's charges from Kite's contract note answer, named as ``KITE_CHARGES`` in
    paise, each rounded half-even once from the rupees Kite gives (``gst`` is its ``total``).

    Raises:
        KeyError, TypeError, ValueError: not a contract note's shape.
    """
    charges = note["charges"]
    gst = charges.get("gst") or {}
    rupees = {
        "brokerage": charges.get("brokerage", 0),
        "stt": charges.get("transaction_tax", 0),
        "exchange": charges.get("exchange_turnover_charge", 0),
        "sebi": charges.get("sebi_turnover_charge", 0),
        "stamp_duty": charges.get("stamp_duty", 0),
        "gst": gst.get("total", 0) if isinstance(gst, dict) else gst,
    }
    return {name: to_minor(rupees[name]) for name in KITE_CHARGES}
