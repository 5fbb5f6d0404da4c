"""Alpaca Trading API v2 adapter (https://docs.alpaca.markets/reference), also used against the
local sandbox, which follows the same API shape.

* Every request carries ``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY``; the base URL picks
  paper (``https://paper-api.alpaca.markets``) or live (``https://api.alpaca.markets``).
* ``POST /v2/orders`` (JSON ``symbol``, ``qty``, ``side``, ``type`` market|limit,
  ``time_in_force`` day, ``limit_price``, ``client_order_id`` — our order id, so a repeated
  submit finds it with ``GET /v2/orders:by_client_order_id``); ``GET``/``PATCH``/``DELETE
  /v2/orders/{id}``; ``GET /v2/positions``; ``GET /v2/account``;
  ``GET /v2/account/activities/FILL`` (executions: ``id`` = ``<time>::<execution id>``,
  ``qty``, ``price``, ``order_id``, ``transaction_time``).
* Errors: ``{"code": …, "message": …}``; 401 → the keys no longer work
  (``BrokerLoginRequired``); 403 (e.g. insufficient buying power) and 422 → the order is
  refused (``BrokerRejected``).
* The ``trade_updates`` stream: websocket ``<base>/stream``; send ``{"action": "auth", "key",
  "secret"}``, then ``{"action": "listen", "data": {"streams": ["trade_updates"]}}``; events
  ``{"stream": "trade_updates", "data": {"event": "fill"|"partial_fill"|"new"|"canceled"|
  "rejected"|…, "execution_id", "qty", "price", "timestamp", "order": {…}}}``.

Changing an order is Alpaca's replace (``PATCH /v2/orders/{id}``): Alpaca makes a NEW order
(new ``id``, ``replaces`` the old one) and ends the old one ``replaced`` (``replaced_by``). The
new order trades the ``qty`` it is given, while what the old one filled stays its own, so the
replacement is sent ``qty`` = the order's new total − what the broker filled of it so far, and
a ``client_order_id`` ``<our order id>.<random>`` (a replacement's events name our order even
before its new id is stored). The order's ``broker_order_id`` becomes the new id; its former
ids (``Order.replaced_broker_ids``) keep counting: their fills are the order's fills. The old
order's ``replaced`` event and status change nothing here.

Alpaca charges no commission; on a sale it passes on the SEC fee and FINRA's trading activity
fee: each fill's fee is those at the published rates (app/orders/charges.py; nothing on a buy),
recorded by name on the fill. Prices are decimal strings of
dollars, turned into cents half-even.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from app.brokers.http import broker_update, call, to_decimal, to_minor
from app.logging import get_logger
from app.orders.broker import BrokerCosts, BrokerLoginRequired, BrokerRejected
from app.orders.charges import alpaca_charges
from app.orders.documents import Order
from app.orders.service import order_service
from streams.records import BrokerUpdateV1, OrderCommandV1

log = get_logger(__name__)

LIVE_API = "https://api.alpaca.markets"
PAPER_API = "https://paper-api.alpaca.markets"


class AlpacaApi:
    """Alpaca's Trading API v2 over aiohttp."""

    def __init__(self, root: str, key_id: str, secret: str) -> None:
        self.root = root.rstrip("/")
        self.key_id = key_id
        self.secret = secret

    @property
    def stream_url(self) -> str:
        """The ``trade_updates`` websocket: the base URL's ``/stream`` over ws(s)."""
        return "ws" + self.root.removeprefix("http") + "/stream"

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        headers = {"APCA-API-KEY-ID": self.key_id, "APCA-API-SECRET-KEY": self.secret}
        status, answer = await call(
            method, f"{self.root}{path}", headers=headers, body=body, params=params
        )
        if status < 300:
            return answer
        if status == 404 and missing_ok:
            return None
        message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
        if status == 401:
            raise BrokerLoginRequired(message or "Alpaca refused the API keys")
        raise BrokerRejected(message or f"Alpaca answered {status}")

    async def account(self) -> dict[str, Any]:
        """``GET /v2/account``."""
        return dict(await self._call("GET", "/v2/account") or {})

    async def place_order(self, body: dict[str, str]) -> dict[str, Any]:
        """``POST /v2/orders``; the order as Alpaca keeps it."""
        return dict(await self._call("POST", "/v2/orders", body) or {})

    async def order_by_client_id(self, client_order_id: str) -> dict[str, Any] | None:
        """``GET /v2/orders:by_client_order_id``; None if Alpaca has no such order."""
        found = await self._call(
            "GET",
            "/v2/orders:by_client_order_id",
            params={"client_order_id": client_order_id},
            missing_ok=True,
        )
        return None if found is None else dict(found)

    async def order(self, order_id: str) -> dict[str, Any]:
        """``GET /v2/orders/{id}``."""
        return dict(await self._call("GET", f"/v2/orders/{order_id}") or {})

    async def replace_order(self, order_id: str, body: dict[str, str]) -> dict[str, Any]:
        """``PATCH /v2/orders/{id}`` (qty, limit_price, time_in_force): the new order."""
        return dict(await self._call("PATCH", f"/v2/orders/{order_id}", body) or {})

    async def cancel_order(self, order_id: str) -> None:
        """``DELETE /v2/orders/{id}``."""
        await self._call("DELETE", f"/v2/orders/{order_id}")

    async def positions(self) -> list[dict[str, Any]]:
        """``GET /v2/positions``."""
        return list(await self._call("GET", "/v2/positions") or [])

    async def fills(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """``GET /v2/account/activities/FILL`` (of one order when ``order_id`` is given)."""
        found = await self._call("GET", "/v2/account/activities/FILL")
        return [a for a in found or [] if order_id is None or a.get("order_id") == order_id]


class AlpacaBroker:
    """The ``Broker`` of a club linked to Alpaca: submit posts the order with our order id as
    ``client_order_id`` (a repeated submit finds it and posts nothing); cancel deletes it."""

    name = "alpaca"

    def __init__(self, api: AlpacaApi) -> None:
        self.api = api

    async def send(self, command: OrderCommandV1) -> str | None:
        """Submit, modify (replace) or cancel at Alpaca. Raises ``BrokerUnavailable``,
        ``BrokerLoginRequired``, ``BrokerRejected``."""
        if command.action in ("cancel", "modify"):
            # The stored id first: after a replace it names the replacement, while the
            # client order id still finds the replaced one.
            order = await order_service.order(command.order_id)
            if order is not None and order.broker_order_id:
                known: dict[str, Any] | None = {"id": order.broker_order_id}
            else:
                known = await self.api.order_by_client_id(command.order_id)
            if known is None:
                raise BrokerRejected("the broker never took this order")
        else:
            known = await self.api.order_by_client_id(command.order_id)
        if command.action == "cancel":
            assert known is not None
            await self.api.cancel_order(str(known["id"]))
            return str(known["id"])
        if command.action == "modify":
            # ``PATCH /v2/orders/{id}`` replaces the order with a new one, which trades only
            # what is left: the new total less what every id of the order filled.
            assert known is not None
            chain = {*(order.replaced_broker_ids if order else []), str(known["id"])}
            filled = sum(int(str(a["qty"])) for a in await self.api.fills() if a.get(
                "order_id") in chain)  # fmt: skip
            left = command.quantity - filled
            if left <= 0:
                raise BrokerRejected(f"{filled} shares have filled at Alpaca already")
            change = {
                "qty": str(left),
                "client_order_id": f"{command.order_id}.{secrets.token_hex(6)}",
            }
            if command.limit_price is not None:
                change["limit_price"] = to_decimal(command.limit_price)
            replaced = await self.api.replace_order(str(known["id"]), change)
            return str(replaced.get("id") or known["id"])
        if known is not None:
            return str(known["id"])
        if command.currency != "USD":  # Alpaca trades US instruments only
            raise BrokerRejected(f"Alpaca trades US instruments in USD, not {command.currency}")
        body = {
            "symbol": command.symbol,
            "qty": str(command.quantity),
            "side": command.side,
            "type": command.kind,
            "time_in_force": "day",
            "client_order_id": command.order_id,
        }
        if command.limit_price is not None:
            body["limit_price"] = to_decimal(command.limit_price)
        placed = await self.api.place_order(body)
        if placed.get("status") == "rejected":
            raise BrokerRejected(str(placed.get("reject_reason") or "rejected by Alpaca"))
        return str(placed["id"])

    async def updates(self, order: Order, costs: BrokerCosts) -> list[BrokerUpdateV1]:
        """What Alpaca says of ``order`` now (the order and its fill activities), as broker
        updates: accepted, fills, then a final cancel or rejection."""
        assert order.broker_order_id is not None
        state = await self.api.order(order.broker_order_id)
        # a replacement made but never recorded (the process died after Alpaca answered):
        # follow ``replaced_by`` to the order Alpaca works now, and remember it
        for _ in range(5):
            newer = state.get("replaced_by") if state.get("status") == "replaced" else None
            if not newer:
                break
            await order_service.do_note_broker_replacement(order, str(newer))
            state = await self.api.order(str(newer))
        chain = {*order.replaced_broker_ids, str(order.broker_order_id)}
        fills = [a for a in await self.api.fills() if a.get("order_id") in chain]
        return alpaca_updates(order, state, fills, costs)


def fill_update(
    order: Order,
    execution_id: str,
    qty: object,
    price: object,
    when: object,
    cumulative: int,
    costs: BrokerCosts,
) -> BrokerUpdateV1:
    """One Alpaca execution as a fill update (``fill_id`` ``alpaca:<execution id>``); its fee
    is Alpaca's regulatory fees on a sale (``alpaca_charges``)."""
    quantity, minor = int(str(qty)), to_minor(price)
    charges = alpaca_charges(order.side.value, quantity, quantity * minor)
    return broker_update(
        order,
        f"fill:alpaca:{execution_id}",
        "filled" if cumulative >= (order.quantity or 0) else "partially_filled",
        fill_id=f"alpaca:{execution_id}",
        fill_quantity=quantity,
        fill_price=minor,
        fee=sum(charges.values()),
        charges=charges,
        cumulative_quantity=cumulative,
        trade_date=str(when or "")[:10],
    )


def status_update(order: Order, state: dict[str, Any]) -> BrokerUpdateV1 | None:
    """Alpaca's order ``status`` as a status update (fills are reported by executions)."""
    status = str(state.get("status", ""))
    filled = int(str(state.get("filled_qty") or 0))
    if status == "replaced":
        return None  # a former id of the order: its replacement carries on
    if status in {"new", "accepted", "pending_new", "partially_filled", "filled"}:
        return broker_update(order, "alpaca:accepted", "accepted")
    if status in {"canceled", "expired", "done_for_day"}:
        return broker_update(
            order,
            "alpaca:cancelled",
            "cancelled",
            cumulative_quantity=filled,
            reason="cancelled_by_user" if status == "canceled" else status,
        )
    if status == "rejected":
        return broker_update(
            order,
            "alpaca:rejected",
            "rejected",
            cumulative_quantity=filled,
            reason=str(state.get("reject_reason") or "rejected_by_broker"),
        )
    return None


def alpaca_updates(
    order: Order, state: dict[str, Any], fills: list[dict[str, Any]], costs: BrokerCosts
) -> list[BrokerUpdateV1]:
    """Broker updates from an Alpaca order and its fill activities (pure)."""
    out: list[BrokerUpdateV1] = []
    first = status_update(order, {"status": "accepted"} if fills else state)
    final = status_update(order, state)
    if first is not None and first.status == "accepted":
        out.append(first)
    cumulative = 0
    for activity in sorted(fills, key=lambda a: str(a.get("id", ""))):
        cumulative += int(str(activity["qty"]))
        execution = str(activity["id"]).rsplit("::", 1)[-1]
        out.append(
            fill_update(
                order,
                execution,
                activity["qty"],
                activity["price"],
                activity.get("transaction_time"),
                cumulative,
                costs,
            )
        )
    if final is not None and final.status != "accepted":
        out.append(final)
    return out


def stream_event_updates(
    order: Order, data: dict[str, Any], costs: BrokerCosts
) -> list[BrokerUpdateV1]:
    """One ``trade_updates`` event about ``order`` as broker updates."""
    event = str(data.get("event", ""))
    state = dict(data.get("order") or {})
    if event in {"replaced", "pending_replace"}:
        return []  # the old order of a replace: nothing changes (its replacement carries on)
    if event in {"fill", "partial_fill"}:
        return [
            broker_update(order, "alpaca:accepted", "accepted"),
            fill_update(
                order,
                str(data["execution_id"]),
                data["qty"],
                data["price"],
                data.get("timestamp"),
                int(str(state.get("filled_qty") or 0)),
                costs,
            ),
        ]
    found = status_update(order, state if state else {"status": event})
    return [] if found is None else [found]


@dataclass
class ReconnectBackoff:
    """When a dropped stream may be opened again, per key (a club): at once the first time,
    then after ``base`` × 2^(failures − 1) seconds, at most ``cap``; a stream that stayed up
    ``steady`` seconds or more counts as healthy again. A broker that cannot be reached (a
    wrong endpoint, an outage) is then tried about once a minute instead of every look."""

    base: float = 2.0
    cap: float = 60.0
    steady: float = 60.0
    failures: dict[str, int] = field(default_factory=dict)
    not_before: dict[str, float] = field(default_factory=dict)

    def ended(self, key: str, ran_for: float, now: float) -> None:
        """The stream of ``key`` ended after ``ran_for`` seconds (``now``: monotonic)."""
        failures = 1 if ran_for >= self.steady else self.failures.get(key, 0) + 1
        self.failures[key] = failures
        self.not_before[key] = now + min(self.base * 2 ** (failures - 1), self.cap)

    def may_open(self, key: str, now: float) -> bool:
        """Whether the stream of ``key`` may be opened at ``now`` (monotonic seconds)."""
        return now >= self.not_before.get(key, 0.0)

    def forget(self, key: str) -> None:
        """``key`` is gone or changed (new keys): start afresh."""
        self.failures.pop(key, None)
        self.not_before.pop(key, None)


async def listen(
    api: AlpacaApi, on_event: Callable[[dict[str, Any]], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Read ``trade_updates`` until ``stop`` is set or the stream ends; each event's ``data``
    goes to ``on_event``. Raises ``BrokerLoginRequired`` if the keys are refused and
    ``aiohttp.ClientError`` / ``OSError`` if the stream cannot be reached."""
    async with aiohttp.ClientSession() as http, http.ws_connect(api.stream_url, heartbeat=20) as ws:
        await ws.send_json({"action": "auth", "key": api.key_id, "secret": api.secret})
        reply = await ws.receive_json(timeout=10)
        if reply.get("data", {}).get("status") != "authorized":
            raise BrokerLoginRequired("Alpaca refused the stream's keys")
        await ws.send_json({"action": "listen", "data": {"streams": ["trade_updates"]}})
        while not stop.is_set():
            try:
                message = await ws.receive(timeout=1)
            except TimeoutError:
                continue
            if message.type in (
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
                aiohttp.WSMsgType.CLOSE,
            ):
                return
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                continue
            try:
                item = json.loads(message.data)
            except ValueError:
                log.warning("unreadable trade_updates message ignored")
                continue
            if isinstance(item, dict) and item.get("stream") == "trade_updates":
                await on_event(dict(item.get("data") or {}))
