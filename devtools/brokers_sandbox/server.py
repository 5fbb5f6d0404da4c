"""The broker sandbox server: one aiohttp app speaking Kite Connect v3 (under ``/kite``) and
Alpaca's Trading API v2 (under ``/alpaca``), with an in-memory book per account filled against
the market ticks on Kafka by the paper broker's own rules (``app.orders.broker.decide_fill``:
market orders at the first tick after acceptance ± slippage, limit orders at or better than
their limit, the per-tick volume or notional cap), so a club trading through the sandbox ends
with the same portfolio as one trading with the paper broker on the same ticks.

Updates leave as Kite postbacks (POST to the app's postback URL with the documented checksum)
and Alpaca ``trade_updates`` websocket events. ``POST /_control`` sets switches for tests:
``drop`` (the next N updates are lost), ``duplicate`` (each update is sent twice), ``delay_ms``,
``reorder`` (each update is held and sent after the next one), ``outage`` (every API call
answers 503 and updates are lost), ``reject_next`` (the next order is refused with that
reason), ``expire_sessions`` (every Kite access token ends), ``reset``.
Registered apps and accounts: ``POST /_control/kite/apps`` and ``/_control/alpaca/accounts``.

Changing an order follows each API: Kite's modify keeps the order (same ``order_id``); Alpaca's
replace (``PATCH /v2/orders/{id}``) makes a new order with a new id that trades the ``qty`` it
was given, and the old one ends ``replaced`` (``replaced_by``), its fills staying its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import html
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from aiokafka import AIOKafkaConsumer

from app.brokers.http import to_decimal, to_minor
from app.orders.broker import BrokerCosts, decide_fill
from app.orders.charges import kite_charges
from app.orders.documents import OrderKind, OrderSide
from streams.records import MarketTickV1

NO_BUDGET = 10**15  # sandbox accounts never run out of cash (cash rules are the club's)


@dataclass
class KiteApp:
    """A Kite Connect app (developer console): key, secret, redirect and postback URLs, and the
    Kite user who logs in through it."""

    api_key: str
    api_secret: str
    redirect_url: str
    postback_url: str
    user_id: str = "SB1234"


@dataclass
class AlpacaAccount:
    key_id: str
    secret: str
    account_number: str = "PA3SANDBOX"


@dataclass
class Book:
    """One order at the sandbox broker (the attributes ``decide_fill`` reads, plus the API
    view)."""

    id: str
    provider: str
    account: str
    client_ref: str
    symbol: str
    exchange: str
    side: OrderSide
    kind: OrderKind
    quantity: int
    limit_price: int | None
    after_seq: int
    seen_volume: int | None
    seen_date: str
    placed_at: str
    status: str = "open"  # open | filled | cancelled | rejected | replaced (Alpaca)
    reason: str = ""
    replaces: str | None = None  # Alpaca: the order this one replaced
    replaced_by: str | None = None  # Alpaca: the order that replaced this one
    replaced_at: str | None = None
    filled: int = 0
    spent: int = 0
    reserved: int = NO_BUDGET
    last_tick_seq: int = 0
    fills: list[dict[str, Any]] = field(default_factory=list)

    @property
    def average(self) -> int:
        value = sum(f["quantity"] * f["price"] for f in self.fills)
        return value // self.filled if self.filled else 0


@dataclass
class Switches:
    drop: int = 0
    duplicate: bool = False
    delay_ms: int = 0
    reorder: bool = False
    outage: bool = False
    reject_next: str = ""


class Sandbox:
    """State of the sandbox broker (in memory: a restart forgets everything)."""

    def __init__(self, costs: BrokerCosts, tick_topic: str, kafka: str) -> None:
        self.costs = costs
        self.tick_topic = tick_topic
        self.kafka = kafka
        self.switches = Switches()
        self.kite_apps: dict[str, KiteApp] = {}
        self.alpaca_accounts: dict[str, AlpacaAccount] = {}
        self.request_tokens: dict[str, str] = {}  # request_token → api_key
        self.access_tokens: dict[str, str] = {}  # access_token → api_key
        self.books: dict[str, Book] = {}
        self.last_ticks: dict[str, MarketTickV1] = {}
        self.adjust: dict[tuple[str, str], int] = {}  # (account, symbol) → extra shares
        self.streams: dict[str, set[web.WebSocketResponse]] = {}
        self.held: list[tuple[str, dict[str, Any]]] = []
        self.delivered: list[dict[str, Any]] = []
        self.ids = itertools.count(1)
        self.run = f"{secrets.randbelow(10**9):09d}"  # this run's part of Kite's order ids
        self.tasks: set[asyncio.Task[None]] = set()

    # ---- ticks -------------------------------------------------------------------------

    def on_tick(self, tick: MarketTickV1) -> None:
        """Fill open orders of the tick's symbol (the paper broker's rules)."""
        for book in list(self.books.values()):
            if book.symbol != tick.symbol:
                continue
            if (
                book.status != "open"
                or tick.seq <= book.after_seq
                or tick.seq <= book.last_tick_seq
            ):
                continue
            decision = decide_fill(book, tick, self.costs)  # type: ignore[arg-type]
            book.last_tick_seq, book.seen_volume, book.seen_date = (
                tick.seq,
                tick.volume,
                tick.trade_date,
            )
            if not decision.quantity:
                continue
            book.filled += decision.quantity
            book.spent += decision.quantity * decision.price + decision.fee
            fill = {
                "id": f"{next(self.ids):08d}",
                "execution_id": str(uuid.uuid4()),
                "quantity": decision.quantity,
                "price": decision.price,
                "trade_date": tick.trade_date,
                "cumulative": book.filled,
            }
            book.fills.append(fill)
            if book.filled >= book.quantity:
                book.status = "filled"
            self.report(book, fill)
        self.last_ticks[tick.symbol] = tick

    async def consume_ticks(self) -> None:
        """Read the market-ticks topic from now on (its own consumer group)."""
        consumer = AIOKafkaConsumer(
            self.tick_topic,
            bootstrap_servers=self.kafka,
            group_id=f"broker-sandbox-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="latest",
            enable_auto_commit=True,
        )
        await consumer.start()
        try:
            async for message in consumer:
                try:
                    raw = json.loads(message.value or b"{}")
                    data = {k: raw[k] for k in MarketTickV1._options.fields}
                    self.on_tick(MarketTickV1(**data))
                except (ValueError, KeyError, TypeError):
                    continue
        finally:
            await consumer.stop()

    # ---- orders ------------------------------------------------------------------------

    def place(
        self,
        provider: str,
        account: str,
        client_ref: str,
        symbol: str,
        exchange: str,
        side: str,
        kind: str,
        quantity: int,
        limit_price: int | None,
    ) -> Book:
        last = self.last_ticks.get(symbol)
        # Kite's order ids are unique for ever (the day, then a sequence): a restarted sandbox
        # must not give an order the id of one a club's books already know.
        order_id = (f"{time.strftime('%y%m%d', time.gmtime())}{self.run}{next(self.ids):06d}"
                    if provider == "kite" else str(uuid.uuid4()))  # fmt: skip
        book = Book(
            id=order_id,
            provider=provider,
            account=account,
            client_ref=client_ref,
            symbol=symbol,
            exchange=exchange,
            side=OrderSide(side),
            kind=OrderKind(kind),
            quantity=quantity,
            limit_price=limit_price,
            after_seq=time.time_ns() // 1000,
            seen_volume=last.volume if last else None,
            seen_date=last.trade_date if last else "",
            placed_at=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        )
        self.books[order_id] = book
        if self.switches.reject_next:
            book.status, book.reason = "rejected", self.switches.reject_next
            self.switches.reject_next = ""
        self.report(book, None)
        return book

    def replace(self, book: Book, quantity: int, limit_price: int | None, client_ref: str) -> Book:
        """Alpaca's replace: a NEW order (new id, ``replaces`` the old one) with the given
        terms, trading ``quantity`` shares from now on (what the old one filled stays its
        own); the old one ends ``replaced`` with ``replaced_by`` naming the new one. Both are
        reported (``replaced``, then ``new``)."""
        last = self.last_ticks.get(book.symbol)
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        new = Book(
            id=str(uuid.uuid4()),
            provider=book.provider,
            account=book.account,
            client_ref=client_ref,
            symbol=book.symbol,
            exchange=book.exchange,
            side=book.side,
            kind=book.kind,
            quantity=quantity,
            limit_price=limit_price,
            after_seq=time.time_ns() // 1000,
            seen_volume=last.volume if last else None,
            seen_date=last.trade_date if last else "",
            placed_at=now,
            replaces=book.id,
        )
        self.books[new.id] = new
        book.status, book.replaced_by, book.replaced_at = "replaced", new.id, now
        self.report(book, None)
        self.report(new, None)
        return new

    def cancel(self, book: Book) -> None:
        if book.status == "open":
            book.status, book.reason = "cancelled", "cancelled"
            self.report(book, None)

    def positions(self, provider: str, account: str) -> dict[str, int]:
        held: dict[str, int] = {}
        for book in self.books.values():
            if book.provider == provider and book.account == account and book.filled:
                sign = 1 if book.side is OrderSide.BUY else -1
                held[book.symbol] = held.get(book.symbol, 0) + sign * book.filled
        for (acct, symbol), extra in self.adjust.items():
            if acct == account:
                held[symbol] = held.get(symbol, 0) + extra
        return held

    # ---- updates out -------------------------------------------------------------------

    def report(self, book: Book, fill: dict[str, Any] | None) -> None:
        """Queue the update this change makes (postback or stream event), through the
        switches."""
        if book.provider == "kite":
            app = self.kite_apps.get(book.account)
            if app is None:
                return
            payload = kite_postback(book, app)
            self.deliver("kite:" + app.postback_url, payload)
        else:
            self.deliver("alpaca:" + book.account, alpaca_event(book, fill))

    def deliver(self, target: str, payload: dict[str, Any]) -> None:
        s = self.switches
        if s.outage:
            return
        if s.drop > 0:
            s.drop -= 1
            self.delivered.append({"target": target, "dropped": True, "payload": payload})
            return
        items = [(target, payload)]
        if s.reorder:
            self.held.append((target, payload))
            if len(self.held) < 2:
                self._spawn(self._flush_held_later())
                return
            items = list(reversed(self.held))
            self.held = []
        for item in items:
            for _ in range(2 if s.duplicate else 1):
                self._spawn(self._send(*item, delay=s.delay_ms / 1000))

    async def _flush_held_later(self) -> None:
        await asyncio.sleep(3.0)  # a held update with no successor still goes out
        held, self.held = self.held, []
        for target, payload in held:
            await self._send(target, payload, 0)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, target: str, payload: dict[str, Any], delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        self.delivered.append({"target": target, "dropped": False, "payload": payload})
        kind, _, where = target.partition(":")
        if kind == "kite":
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, OSError):
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
                    await http.post(where, json=payload)
            return
        for ws in list(self.streams.get(where, ())):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json({"stream": "trade_updates", "data": payload})


# ---- shapes ---------------------------------------------------------------------------------

KITE_STATUS = {
    "open": "OPEN",
    "filled": "COMPLETE",
    "cancelled": "CANCELLED",
    "rejected": "REJECTED",
}


def kite_order(book: Book, app: KiteApp | None = None) -> dict[str, Any]:
    """An order as Kite's ``GET /orders`` shows it."""
    status = KITE_STATUS[book.status]
    return {
        "order_id": book.id,
        "exchange_order_id": f"X{book.id}",
        "parent_order_id": None,
        "placed_by": app.user_id if app else "",
        "variety": "regular",
        "status": status,
        "status_message": book.reason or None,
        "tradingsymbol": book.symbol,
        "exchange": book.exchange,
        "instrument_token": 0,
        "transaction_type": book.side.value.upper(),
        "order_type": "LIMIT" if book.kind is OrderKind.LIMIT else "MARKET",
        "product": "CNC",
        "validity": "DAY",
        "quantity": book.quantity,
        "disclosed_quantity": 0,
        "trigger_price": 0,
        "price": float(to_decimal(book.limit_price)) if book.limit_price else 0,
        "average_price": float(to_decimal(book.average)),
        "filled_quantity": book.filled,
        "pending_quantity": book.quantity - book.filled if book.status == "open" else 0,
        "cancelled_quantity": book.quantity - book.filled if book.status == "cancelled" else 0,
        "order_timestamp": book.placed_at,
        "exchange_timestamp": book.placed_at,
        "tag": book.client_ref or None,
        "guid": book.id,
    }


def kite_postback(book: Book, app: KiteApp) -> dict[str, Any]:
    """Kite's postback: the order, ``user_id``, ``app_id``, ``checksum`` = SHA-256 of order_id +
    order_timestamp + api_secret; ``UPDATE`` while partly filled."""
    body = kite_order(book, app)
    if body["status"] == "OPEN" and book.filled:
        body["status"] = "UPDATE"
    body.update(
        user_id=app.user_id,
        app_id=0,
        unfilled_quantity=book.quantity - book.filled,
        checksum=hashlib.sha256(f"{book.id}{book.placed_at}{app.api_secret}".encode()).hexdigest(),
    )
    return body


def kite_trades(book: Book) -> list[dict[str, Any]]:
    return [
        {
            "trade_id": f["id"],
            "order_id": book.id,
            "exchange_order_id": f"X{book.id}",
            "tradingsymbol": book.symbol,
            "exchange": book.exchange,
            "product": "CNC",
            "transaction_type": book.side.value.upper(),
            "quantity": f["quantity"],
            "average_price": float(to_decimal(f["price"])),
            "fill_timestamp": f"{f['trade_date']} 10:00:00",
            "exchange_timestamp": f"{f['trade_date']} 10:00:00",
        }
        for f in book.fills
    ]


ALPACA_STATUS = {
    "open": "new",
    "filled": "filled",
    "cancelled": "canceled",
    "rejected": "rejected",
    "replaced": "replaced",
}


def alpaca_order(book: Book) -> dict[str, Any]:
    status = ALPACA_STATUS[book.status]
    if status == "new" and book.filled:
        status = "partially_filled"
    return {
        "id": book.id,
        "client_order_id": book.client_ref,
        "symbol": book.symbol,
        "asset_class": "us_equity",
        "qty": str(book.quantity),
        "filled_qty": str(book.filled),
        "filled_avg_price": to_decimal(book.average) if book.filled else None,
        "side": book.side.value,
        "type": book.kind.value,
        "time_in_force": "day",
        "limit_price": to_decimal(book.limit_price) if book.limit_price else None,
        "status": status,
        "submitted_at": book.placed_at.replace(" ", "T") + "Z",
        "reject_reason": book.reason if book.status == "rejected" else None,
        "replaced_at": None
        if book.replaced_at is None
        else book.replaced_at.replace(" ", "T") + "Z",
        "replaced_by": book.replaced_by,
        "replaces": book.replaces,
    }


def alpaca_event(book: Book, fill: dict[str, Any] | None) -> dict[str, Any]:
    order = alpaca_order(book)
    if fill is None:
        event = {
            "open": "new",
            "cancelled": "canceled",
            "rejected": "rejected",
            "replaced": "replaced",
        }.get(book.status, "new")
        return {"event": event, "timestamp": order["submitted_at"], "order": order}
    return {
        "event": "fill" if fill["cumulative"] >= book.quantity else "partial_fill",
        "execution_id": fill["execution_id"],
        "price": to_decimal(fill["price"]),
        "qty": str(fill["quantity"]),
        "position_qty": str(fill["cumulative"]),
        "timestamp": f"{fill['trade_date']}T14:30:00Z",
        "order": order,
    }


def alpaca_activity(book: Book, fill: dict[str, Any]) -> dict[str, Any]:
    stamp = fill["trade_date"].replace("-", "") + "143000000"
    return {
        "id": f"{stamp}::{fill['execution_id']}",
        "activity_type": "FILL",
        "transaction_time": f"{fill['trade_date']}T14:30:00Z",
        "type": "fill" if fill["cumulative"] >= book.quantity else "partial_fill",
        "price": to_decimal(fill["price"]),
        "qty": str(fill["quantity"]),
        "side": book.side.value,
        "symbol": book.symbol,
        "leaves_qty": str(book.quantity - fill["cumulative"]),
        "cum_qty": str(fill["cumulative"]),
        "order_id": book.id,
        "order_status": "filled",
    }


# ---- HTTP ------------------------------------------------------------------------------------

SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


def _kite_error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response(
        {"status": "error", "error_type": kind, "message": message}, status=status
    )


def _kite_ok(data: Any) -> web.Response:
    return web.json_response({"status": "success", "data": data})


def _alpaca_error(status: int, message: str) -> web.Response:
    return web.json_response({"code": status * 100000, "message": message}, status=status)


@web.middleware
async def outage(request: web.Request, handler: Any) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    path = request.path
    if sandbox.switches.outage and not path.startswith(("/_control", "/healthz")):
        if path.startswith("/kite"):
            return _kite_error(503, "NetworkException", "the sandbox broker is down")
        return _alpaca_error(503, "service unavailable")
    return await handler(request)


def _kite_app(request: web.Request) -> KiteApp | web.Response:
    """The app of a request's ``Authorization: token key:access_token``."""
    sandbox = request.app[SANDBOX]
    if request.headers.get("X-Kite-Version") != "3":
        return _kite_error(400, "InputException", "X-Kite-Version 3 is required")
    scheme, _, creds = request.headers.get("Authorization", "").partition(" ")
    key, _, token = creds.partition(":")
    if scheme != "token" or sandbox.access_tokens.get(token) != key or key not in sandbox.kite_apps:
        return _kite_error(403, "TokenException", "Incorrect `api_key` or `access_token`.")
    return sandbox.kite_apps[key]


async def kite_login_page(request: web.Request) -> web.Response:
    """``GET /kite/connect/login?v=3&api_key=…&redirect_params=…``: the login page."""
    sandbox = request.app[SANDBOX]
    key = request.query.get("api_key", "")
    app = sandbox.kite_apps.get(key)
    if app is None or request.query.get("v") != "3":
        return web.Response(status=400, text="Invalid api_key or version")
    params = html.escape(request.query.get("redirect_params", ""))
    page = (
        "<!doctype html><html><head><meta name=viewport content='width=device-width'>"
        "<title>Kite sandbox login</title></head><body style='font-family:sans-serif;"
        "max-width:28rem;margin:3rem auto'><h1>Kite (sandbox)</h1>"
        f"<p>Log in as <b>{html.escape(app.user_id)}</b> to authorise this app.</p>"
        "<form method=post><input type=hidden name=api_key value='"
        f"{html.escape(key)}'><input type=hidden name=redirect_params value='{params}'>"
        "<button id=kite-login-authorise type=submit>Log in and authorise</button></form>"
        "</body></html>"
    )
    return web.Response(text=page, content_type="text/html")


async def kite_login_submit(request: web.Request) -> web.Response:
    """The login form: 302 to the app's redirect URL with ``request_token``."""
    sandbox = request.app[SANDBOX]
    form = await request.post()
    app = sandbox.kite_apps.get(str(form.get("api_key", "")))
    if app is None:
        return web.Response(status=400, text="Invalid api_key")
    token = secrets.token_urlsafe(16)
    sandbox.request_tokens[token] = app.api_key
    query = [("request_token", token), ("action", "login"), ("status", "success")]
    query += parse_qsl(str(form.get("redirect_params", "")))
    sep = "&" if "?" in app.redirect_url else "?"
    raise web.HTTPFound(f"{app.redirect_url}{sep}{urlencode(query)}")


async def kite_session(request: web.Request) -> web.Response:
    """``POST /kite/session/token``: checksum = SHA-256(api_key + request_token + secret)."""
    sandbox = request.app[SANDBOX]
    form = await request.post()
    key, token = str(form.get("api_key", "")), str(form.get("request_token", ""))
    app = sandbox.kite_apps.get(key)
    if app is None or sandbox.request_tokens.get(token) != key:
        return _kite_error(403, "TokenException", "Token is invalid or has expired.")
    expected = hashlib.sha256(f"{key}{token}{app.api_secret}".encode()).hexdigest()
    if form.get("checksum") != expected:
        return _kite_error(403, "TokenException", "Invalid checksum")
    del sandbox.request_tokens[token]
    access = secrets.token_urlsafe(24)
    sandbox.access_tokens[access] = key
    return _kite_ok(
        {
            "user_id": app.user_id,
            "user_name": "Sandbox Treasurer",
            "api_key": key,
            "access_token": access,
            "public_token": secrets.token_hex(8),
            "login_time": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )


async def kite_profile(request: web.Request) -> web.Response:
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    return _kite_ok(
        {
            "user_id": app.user_id,
            "user_name": "Sandbox Treasurer",
            "exchanges": ["NSE", "BSE"],
            "products": ["CNC", "MIS", "NRML"],
        }
    )


async def kite_place(request: web.Request) -> web.Response:
    """``POST /kite/orders/{variety}``."""
    sandbox = request.app[SANDBOX]
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    form = await request.post()
    variety = request.match_info["variety"]
    try:
        quantity = int(str(form.get("quantity", "")))
        order_type = str(form.get("order_type", ""))
        price = to_minor(form["price"]) if order_type == "LIMIT" else None
    except (ValueError, KeyError):
        return _kite_error(400, "InputException", "Invalid `quantity` or `price`.")
    side = str(form.get("transaction_type", ""))
    problems = [
        variety not in {"regular", "amo"},
        quantity <= 0,
        order_type not in {"MARKET", "LIMIT"},
        side not in {"BUY", "SELL"},
        form.get("exchange") not in {"NSE", "BSE"},
        form.get("product") not in {"CNC", "MIS", "NRML"},
        form.get("validity", "DAY") not in {"DAY", "IOC"},
        not form.get("tradingsymbol"),
        len(str(form.get("tag", ""))) > 20,
    ]
    if any(problems):
        return _kite_error(400, "InputException", "Invalid order parameters.")
    book = sandbox.place(
        "kite",
        app.api_key,
        str(form.get("tag", "")),
        str(form["tradingsymbol"]),
        str(form["exchange"]),
        side.lower(),
        order_type.lower(),
        quantity,
        price,
    )
    return _kite_ok({"order_id": book.id})


def _kite_book(request: web.Request, app: KiteApp) -> Book | web.Response:
    book = request.app[SANDBOX].books.get(request.match_info["order_id"])
    if book is None or book.provider != "kite" or book.account != app.api_key:
        return _kite_error(400, "InputException", "Couldn't find that `order_id`.")
    return book


async def kite_modify(request: web.Request) -> web.Response:
    """``PUT /kite/orders/{variety}/{order_id}`` (quantity, price)."""
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    book = _kite_book(request, app)
    if isinstance(book, web.Response):
        return book
    if book.status != "open":
        return _kite_error(400, "OrderException", "Order cannot be modified as it is not open.")
    form = await request.post()
    try:
        if "quantity" in form:
            book.quantity = max(int(str(form["quantity"])), book.filled)
        if "price" in form and book.kind is OrderKind.LIMIT:
            book.limit_price = to_minor(form["price"])
    except ValueError:
        return _kite_error(400, "InputException", "Invalid `quantity` or `price`.")
    request.app[SANDBOX].report(book, None)
    return _kite_ok({"order_id": book.id})


async def kite_cancel(request: web.Request) -> web.Response:
    """``DELETE /kite/orders/{variety}/{order_id}``."""
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    book = _kite_book(request, app)
    if isinstance(book, web.Response):
        return book
    if book.status != "open":
        return _kite_error(400, "OrderException", "Order cannot be cancelled as it is not open.")
    request.app[SANDBOX].cancel(book)
    return _kite_ok({"order_id": book.id})


async def kite_orders(request: web.Request) -> web.Response:
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    books = request.app[SANDBOX].books.values()
    return _kite_ok(
        [kite_order(b, app) for b in books if b.provider == "kite" and b.account == app.api_key]
    )


async def kite_history(request: web.Request) -> web.Response:
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    book = _kite_book(request, app)
    if isinstance(book, web.Response):
        return book
    return _kite_ok([kite_order(book, app)])


async def kite_order_trades(request: web.Request) -> web.Response:
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    book = _kite_book(request, app)
    if isinstance(book, web.Response):
        return book
    return _kite_ok(kite_trades(book))


async def kite_positions(request: web.Request) -> web.Response:
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    held = request.app[SANDBOX].positions("kite", app.api_key)
    net = [
        {"tradingsymbol": s, "exchange": "NSE", "product": "CNC", "quantity": q}
        for s, q in sorted(held.items())
    ]
    return _kite_ok({"net": net, "day": net})


async def kite_order_charges(request: web.Request) -> web.Response:
    """``POST /charges/orders``: the virtual contract note — each order given (JSON array of
    ``exchange``, ``tradingsymbol``, ``transaction_type``, ``quantity``, ``average_price`` …)
    charged at Zerodha's delivery rates on its whole value (STT rounded per order, as a
    contract note does), in rupees, in the order asked."""
    app = _kite_app(request)
    if isinstance(app, web.Response):
        return app
    try:
        asked = await request.json()
        if not isinstance(asked, list) or not asked:
            raise ValueError("a JSON array of orders is expected")
        notes = []
        for item in asked:
            side = str(item["transaction_type"]).lower()
            if side not in ("buy", "sell"):
                raise ValueError(f"transaction_type {item['transaction_type']!r}")
            quantity = int(item["quantity"])
            value = quantity * to_minor(item["average_price"])
            charges = kite_charges(side, value, str(item.get("exchange") or "NSE"))
            rupees = {k: float(to_decimal(v)) for k, v in charges.items()}
            notes.append({
                "transaction_type": side.upper(), "tradingsymbol": item["tradingsymbol"],
                "exchange": item.get("exchange") or "NSE", "variety": item.get("variety"),
                "product": item.get("product"), "order_type": item.get("order_type"),
                "quantity": quantity, "price": item["average_price"],
                "charges": {
                    "transaction_tax": rupees["stt"], "transaction_tax_type": "stt",
                    "exchange_turnover_charge": rupees["exchange"],
                    "sebi_turnover_charge": rupees["sebi"], "brokerage": rupees["brokerage"],
                    "stamp_duty": rupees["stamp_duty"],
                    "gst": {"igst": rupees["gst"], "cgst": 0, "sgst": 0,
                            "total": rupees["gst"]},
                    "total": float(to_decimal(sum(charges.values()))),
                },
            })  # fmt: skip
    except (ValueError, TypeError, KeyError) as exc:
        return _kite_error(400, "InputException", f"bad orders: {exc}")
    return _kite_ok(notes)


def _alpaca_account(request: web.Request) -> AlpacaAccount | web.Response:
    sandbox = request.app[SANDBOX]
    key = request.headers.get("APCA-API-KEY-ID", "")
    account = sandbox.alpaca_accounts.get(key)
    if account is None or request.headers.get("APCA-API-SECRET-KEY") != account.secret:
        return _alpaca_error(401, "request is not authorized")
    return account


async def alpaca_account(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    return web.json_response(
        {
            "id": account.key_id,
            "account_number": account.account_number,
            "status": "ACTIVE",
            "currency": "USD",
            "cash": "100000000.00",
            "buying_power": "100000000.00",
        }
    )


async def alpaca_place(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    try:
        body = await request.json()
        quantity = int(str(body["qty"]))
        kind = str(body.get("type", "market"))
        price = to_minor(body["limit_price"]) if kind == "limit" else None
        side = str(body["side"])
        symbol = str(body["symbol"])
    except (ValueError, KeyError, TypeError):
        return _alpaca_error(422, "invalid order request")
    if quantity <= 0 or kind not in {"market", "limit"} or side not in {"buy", "sell"}:
        return _alpaca_error(422, "invalid order request")
    client = str(body.get("client_order_id") or uuid.uuid4())
    if any(b.client_ref == client and b.account == account.key_id for b in sandbox.books.values()):
        return _alpaca_error(422, "client_order_id must be unique")
    if sandbox.switches.reject_next:
        reason, sandbox.switches.reject_next = sandbox.switches.reject_next, ""
        return _alpaca_error(403, reason)
    book = sandbox.place("alpaca", account.key_id, client, symbol, "", side, kind, quantity, price)
    return web.json_response(alpaca_order(book))


def _alpaca_book(request: web.Request, account: AlpacaAccount) -> Book | web.Response:
    book = request.app[SANDBOX].books.get(request.match_info["order_id"])
    if book is None or book.provider != "alpaca" or book.account != account.key_id:
        return _alpaca_error(404, "order not found")
    return book


async def alpaca_orders(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    books = request.app[SANDBOX].books.values()
    return web.json_response(
        [alpaca_order(b) for b in books if b.provider == "alpaca" and b.account == account.key_id]
    )


async def alpaca_by_client_id(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    wanted = request.query.get("client_order_id", "")
    for book in request.app[SANDBOX].books.values():
        if (
            book.provider == "alpaca"
            and book.account == account.key_id
            and book.client_ref == wanted
        ):
            return web.json_response(alpaca_order(book))
    return _alpaca_error(404, "order not found")


async def alpaca_get(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    book = _alpaca_book(request, account)
    return book if isinstance(book, web.Response) else web.json_response(alpaca_order(book))


async def alpaca_cancel(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    book = _alpaca_book(request, account)
    if isinstance(book, web.Response):
        return book
    if book.status != "open":
        return _alpaca_error(422, "order is not cancelable")
    request.app[SANDBOX].cancel(book)
    return web.Response(status=204)


async def alpaca_replace(request: web.Request) -> web.Response:
    """``PATCH /v2/orders/{order_id}`` (``qty``, ``limit_price``, ``time_in_force``,
    ``client_order_id``): as Alpaca documents it, a new order replaces the open one — the
    answer is the new order (its own id, ``replaces`` the old); the old one becomes
    ``replaced`` with ``replaced_by``. Parameters not given keep the old order's values (the
    quantity: what it has left to fill)."""
    sandbox = request.app[SANDBOX]
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    book = _alpaca_book(request, account)
    if isinstance(book, web.Response):
        return book
    if book.status != "open":
        return _alpaca_error(422, "order is not replaceable")
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise TypeError("the body must be a JSON object")
        quantity = int(str(body["qty"])) if "qty" in body else book.quantity - book.filled
        limit = book.limit_price
        if "limit_price" in body and book.kind is OrderKind.LIMIT:
            limit = to_minor(body["limit_price"])
    except (ValueError, TypeError):
        return _alpaca_error(422, "invalid replace request")
    if quantity <= 0 or (limit is not None and limit <= 0):
        return _alpaca_error(422, "invalid replace request")
    client = str(body.get("client_order_id") or uuid.uuid4())
    if any(b.client_ref == client and b.account == account.key_id for b in sandbox.books.values()):
        return _alpaca_error(422, "client_order_id must be unique")
    new = sandbox.replace(book, quantity, limit, client)
    return web.json_response(alpaca_order(new))


async def alpaca_positions(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    held = request.app[SANDBOX].positions("alpaca", account.key_id)
    return web.json_response(
        [
            {
                "symbol": s,
                "qty": str(q),
                "side": "long" if q >= 0 else "short",
                "asset_class": "us_equity",
            }
            for s, q in sorted(held.items())
        ]
    )


async def alpaca_fills(request: web.Request) -> web.Response:
    account = _alpaca_account(request)
    if isinstance(account, web.Response):
        return account
    books = request.app[SANDBOX].books.values()
    return web.json_response(
        [
            alpaca_activity(b, f)
            for b in books
            if b.provider == "alpaca" and b.account == account.key_id
            for f in b.fills
        ]
    )


async def alpaca_stream(request: web.Request) -> web.StreamResponse:
    """``GET /alpaca/stream`` (websocket): auth, listen, then ``trade_updates``."""
    sandbox = request.app[SANDBOX]
    ws = web.WebSocketResponse(heartbeat=20)
    await ws.prepare(request)
    account: AlpacaAccount | None = None
    try:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            try:
                item = json.loads(message.data)
            except ValueError:
                continue
            if item.get("action") == "auth":
                found = sandbox.alpaca_accounts.get(str(item.get("key", "")))
                ok = found is not None and found.secret == item.get("secret")
                account = found if ok else None
                await ws.send_json(
                    {
                        "stream": "authorization",
                        "data": {
                            "status": "authorized" if ok else "unauthorized",
                            "action": "authenticate",
                        },
                    }
                )
                if not ok:
                    await ws.close()
            elif item.get("action") == "listen" and account is not None:
                sandbox.streams.setdefault(account.key_id, set()).add(ws)
                await ws.send_json({"stream": "listening", "data": {"streams": ["trade_updates"]}})
    finally:
        if account is not None:
            sandbox.streams.get(account.key_id, set()).discard(ws)
    return ws


def _adjustment(body: dict[str, Any]) -> tuple[str, str, int] | None:
    """``adjust_position``: ``{"account", "symbol", "quantity"}`` (whole shares, may be
    negative) read strictly. Raises ``ValueError`` / ``TypeError`` / ``KeyError``."""
    if "adjust_position" not in body:
        return None
    adj = body["adjust_position"]
    if not isinstance(adj, dict):
        raise ValueError("adjust_position must be an object of account, symbol and quantity")
    account, symbol, quantity = adj["account"], adj["symbol"], adj["quantity"]
    if not isinstance(account, str) or not account or not isinstance(symbol, str) or not symbol:
        raise ValueError("adjust_position needs an account and a symbol (strings)")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValueError("adjust_position's quantity must be a whole number of shares")
    return account, symbol, quantity


async def control(request: web.Request) -> web.Response:
    """``GET``/``POST /_control``: the switches (see the module docstring)."""
    sandbox = request.app[SANDBOX]
    if request.method == "POST":
        try:
            body = await request.json()
            adjust = _adjustment(body) if isinstance(body, dict) else None
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            for name in ("drop", "delay_ms"):
                if name in body:
                    int(body[name])
        except (ValueError, TypeError, KeyError) as exc:
            return web.json_response(
                {"error": {"code": "bad_control", "message": str(exc) or "bad switches"}},
                status=400,
            )
        s = sandbox.switches
        if body.get("reset"):
            sandbox.switches = s = Switches()
            sandbox.held.clear()
            sandbox.adjust.clear()
            sandbox.delivered.clear()
        for name in ("drop", "delay_ms"):
            if name in body:
                setattr(s, name, int(body[name]))
        for name in ("duplicate", "reorder", "outage"):
            if name in body:
                setattr(s, name, bool(body[name]))
        if "reject_next" in body:
            s.reject_next = str(body["reject_next"])
        if body.get("expire_sessions"):
            sandbox.access_tokens.clear()
        if adjust is not None:
            account, symbol, quantity = adjust
            sandbox.adjust[(account, symbol)] = quantity
    s = sandbox.switches
    return web.json_response(
        {
            "drop": s.drop,
            "duplicate": s.duplicate,
            "delay_ms": s.delay_ms,
            "reorder": s.reorder,
            "outage": s.outage,
            "reject_next": s.reject_next,
            "delivered": sandbox.delivered[-200:],
            "sessions": len(sandbox.access_tokens),
        }
    )


async def control_kite_app(request: web.Request) -> web.Response:
    """Register (or replace) a Kite app: api_key, api_secret, redirect_url, postback_url."""
    body = await request.json()
    app = KiteApp(
        str(body["api_key"]),
        str(body["api_secret"]),
        str(body["redirect_url"]),
        str(body["postback_url"]),
        str(body.get("user_id", "SB1234")),
    )
    request.app[SANDBOX].kite_apps[app.api_key] = app
    return web.json_response({"api_key": app.api_key, "user_id": app.user_id})


async def control_alpaca_account(request: web.Request) -> web.Response:
    """Register (or replace) an Alpaca key pair: key_id, secret, account_number."""
    body = await request.json()
    account = AlpacaAccount(
        str(body["key_id"]), str(body["secret"]), str(body.get("account_number", "PA3SANDBOX"))
    )
    request.app[SANDBOX].alpaca_accounts[account.key_id] = account
    return web.json_response({"key_id": account.key_id})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_sandbox_app(sandbox: Sandbox, consume: bool = True) -> web.Application:
    """The aiohttp app; with ``consume`` it reads the tick topic while it serves."""
    app = web.Application(middlewares=[outage])
    app[SANDBOX] = sandbox
    r = app.router
    r.add_get("/healthz", healthz)
    r.add_route("*", "/_control", control)
    r.add_post("/_control/kite/apps", control_kite_app)
    r.add_post("/_control/alpaca/accounts", control_alpaca_account)
    r.add_get("/kite/connect/login", kite_login_page)
    r.add_post("/kite/connect/login", kite_login_submit)
    r.add_post("/kite/session/token", kite_session)
    r.add_get("/kite/user/profile", kite_profile)
    r.add_get("/kite/orders", kite_orders)
    r.add_post("/kite/orders/{variety}", kite_place)
    r.add_put("/kite/orders/{variety}/{order_id}", kite_modify)
    r.add_delete("/kite/orders/{variety}/{order_id}", kite_cancel)
    r.add_get("/kite/orders/{order_id}", kite_history)
    r.add_get("/kite/orders/{order_id}/trades", kite_order_trades)
    r.add_get("/kite/portfolio/positions", kite_positions)
    r.add_post("/kite/charges/orders", kite_order_charges)
    r.add_get("/alpaca/v2/account", alpaca_account)
    r.add_get("/alpaca/v2/orders:by_client_order_id", alpaca_by_client_id)
    r.add_post("/alpaca/v2/orders", alpaca_place)
    r.add_get("/alpaca/v2/orders", alpaca_orders)
    r.add_get("/alpaca/v2/orders/{order_id}", alpaca_get)
    r.add_delete("/alpaca/v2/orders/{order_id}", alpaca_cancel)
    r.add_patch("/alpaca/v2/orders/{order_id}", alpaca_replace)
    r.add_get("/alpaca/v2/positions", alpaca_positions)
    r.add_get("/alpaca/v2/account/activities/FILL", alpaca_fills)
    r.add_get("/alpaca/stream", alpaca_stream)

    if consume:

        async def ticks(app: web.Application) -> Any:
            task = asyncio.create_task(sandbox.consume_ticks())
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

        app.cleanup_ctx.append(ticks)
    return app
