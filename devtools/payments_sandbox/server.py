"""The sandbox payment provider: a local stand-in for Razorpay that dev, demo and tests use.

It follows Razorpay's API shape (sources: Razorpay docs "Orders API", "Payments API",
"Webhooks", "Payment verification"): ``POST /v1/orders`` and ``GET /v1/orders/{id}``,
``GET /v1/orders/{id}/payments``, ``GET /v1/payments/{id}`` with basic auth
``key_id:key_secret``; amounts in paise; error bodies ``{"error": {"code":
"BAD_REQUEST_ERROR", "description", "field", …}}``. Paying sends signed webhooks to the
configured URL like Razorpay does: ``X-Razorpay-Signature`` (hex HMAC-SHA256 of the raw body
with the webhook secret) and ``X-Razorpay-Event-Id``; ``payment.authorized``,
``payment.captured`` and ``order.paid`` for a capture, ``payment.failed`` for a failure; every
delivery retried with exponential backoff until it gets a 2xx.

A person pays at ``/checkout/{order_id}`` (a plain page with "Pay" and "Fail"); a test pays
with ``POST /v1/orders/{id}/pay`` (sandbox only). ``/sandbox/control`` sets how webhooks are
delivered — duplicates, shuffled order, held back until ``/sandbox/flush``, delay, lost
responses, retry timing — and ``/sandbox/deliveries`` shows every attempt. State is in memory:
it is a test double of an external system, and restarting it forgets everything.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import random
import secrets
import string
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

import aiohttp
from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from app.logging import get_logger
from app.money import format_minor

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
MIN_AMOUNT = 100  # Razorpay's minimum order amount: ₹1.00 (100 paise)
MAX_NOTES = 15  # Razorpay: at most 15 note pairs, 256 characters each
ACCOUNT_ID = "acc_SamoohSandbox1"
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    """A Razorpay-style id: ``<prefix>_`` + 14 letters and digits."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def sign(secret: str, message: bytes) -> str:
    """Hex HMAC-SHA256 of ``message`` with ``secret`` (Razorpay's webhook and checkout scheme)."""
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SandboxConfig:
    """The sandbox's merchant account: API key pair, webhook secret and URL, display name."""

    key_id: str
    key_secret: str
    webhook_secret: str
    webhook_url: str
    merchant_name: str = "Samooh (sandbox)"
    return_url: str | None = None  # "back to the shop" link on the result page


class DeliveryOptions(BaseModel):
    """How webhooks are delivered (``POST /sandbox/control`` changes any of these).

    Fields:
        webhook_url: where webhooks go.
        duplicates: extra deliveries of every event (same event id and body), sent concurrently.
        shuffle: start each batch's deliveries in random order (a batch: one payment's events,
            or everything released by ``/sandbox/flush``).
        hold: queue deliveries until ``POST /sandbox/flush``.
        delay_ms: wait before the first attempt; stagger_ms: gap between starting the
            deliveries of one batch.
        lose_responses: count the first N answers of every delivery as lost (no answer), even
            a 2xx, so the receiver sees retries of events it already accepted.
        retry_base_ms, retry_max_ms, max_attempts: attempt n waits
            ``min(retry_base_ms × 2^(n−1), retry_max_ms)`` after a failure; after
            ``max_attempts`` the delivery is given up (``failed``).
        timeout_ms: how long one attempt waits for an answer.
        authorized_event, order_paid_event: also send ``payment.authorized`` before and
            ``order.paid`` after ``payment.captured``, as Razorpay does with auto-capture.
    """

    model_config = ConfigDict(extra="forbid")

    webhook_url: str = Field(min_length=1, max_length=2000)
    duplicates: int = Field(default=0, ge=0, le=20)
    shuffle: bool = False
    hold: bool = False
    delay_ms: int = Field(default=0, ge=0, le=600_000)
    stagger_ms: int = Field(default=20, ge=0, le=60_000)
    lose_responses: int = Field(default=0, ge=0, le=10)
    retry_base_ms: int = Field(default=2000, ge=1, le=3_600_000)
    retry_max_ms: int = Field(default=300_000, ge=1, le=86_400_000)
    max_attempts: int = Field(default=8, ge=1, le=50)
    timeout_ms: int = Field(default=5000, ge=50, le=60_000)
    authorized_event: bool = True
    order_paid_event: bool = True


class PayRequest(BaseModel):
    """``POST /v1/orders/{id}/pay``: ``outcome`` ``captured`` | ``failed``; ``method``;
    ``paid_at`` (ISO-8601 with a zone) dates the payment and its events, default now — so a
    test can pay "last Tuesday"."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["captured", "failed"] = "captured"
    method: Literal["upi", "card", "netbanking", "wallet"] = "upi"
    paid_at: AwareDatetime | None = None


class FlushRequest(BaseModel):
    """``POST /sandbox/flush``: ``shuffle`` overrides the option for this release."""

    model_config = ConfigDict(extra="forbid")

    shuffle: bool | None = None


DeliveryState = Literal["held", "pending", "delivered", "failed"]


@dataclass
class Delivery:
    """One delivery of one event (a duplicate is another delivery with the same event id)."""

    id: str
    event_id: str
    event: str
    order_id: str
    payment_id: str
    body: bytes
    options: DeliveryOptions
    state: DeliveryState = "pending"
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The delivery as ``GET /sandbox/deliveries`` shows it (without the body)."""
        return {
            "id": self.id,
            "event_id": self.event_id,
            "event": self.event,
            "order_id": self.order_id,
            "payment_id": self.payment_id,
            "state": self.state,
            "attempts": self.attempts,
        }


class Sandbox:
    """The provider's state (orders, payments, deliveries) and its webhook sender."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.options = DeliveryOptions(webhook_url=config.webhook_url)
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None

    # -- orders and payments -------------------------------------------------------------

    def create_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate like Razorpay's Orders API and store a ``created`` order.

        Raises ``BadRequest`` naming the field."""
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise BadRequest("The amount must be an integer.", "amount")
        if amount < MIN_AMOUNT:
            raise BadRequest("The amount must be atleast INR 1.00.", "amount")
        currency = body.get("currency", "INR")
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise BadRequest("The currency is invalid.", "currency")
        receipt = body.get("receipt")
        if receipt is not None and (not isinstance(receipt, str) or len(receipt) > 40):
            raise BadRequest("The receipt may not be greater than 40 characters.", "receipt")
        notes = body.get("notes") or {}
        if not isinstance(notes, dict) or len(notes) > MAX_NOTES:
            raise BadRequest("notes must be an object of at most 15 keys.", "notes")
        if any(not isinstance(v, str | int) or len(str(v)) > 256 for v in notes.values()):
            raise BadRequest("Each note may not be greater than 256 characters.", "notes")
        order: dict[str, Any] = {
            "id": new_id("order"),
            "entity": "order",
            "amount": amount,
            "amount_paid": 0,
            "amount_due": amount,
            "currency": currency.upper(),
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": {str(k): str(v) for k, v in notes.items()},
            "created_at": int(time.time()),
        }
        self.orders[order["id"]] = order
        return order

    def pay(
        self, order_id: str, outcome: str, method: str, paid_at: int | None = None
    ) -> dict[str, Any]:
        """Make one payment attempt on an order and queue its webhooks.

        Returns ``{"payment", "razorpay_order_id", "razorpay_payment_id",
        "razorpay_signature"}`` (the signature is what Checkout hands back: HMAC of
        ``order_id|payment_id`` with the key secret). ``paid_at`` (Unix seconds) dates the
        payment and its events; default now. Raises ``BadRequest`` if already paid."""
        order = self.orders.get(order_id)
        if order is None:
            raise NotFoundError("The id provided does not exist")
        if order["status"] == "paid":
            raise BadRequest("Order has already been paid.", "order_id")
        now = paid_at if paid_at is not None else int(time.time())
        captured = outcome == "captured"
        payment: dict[str, Any] = {
            "id": new_id("pay"),
            "entity": "payment",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": "captured" if captured else "failed",
            "order_id": order_id,
            "invoice_id": None,
            "international": False,
            "method": method,
            "amount_refunded": 0,
            "refund_status": None,
            "captured": captured,
            "description": order.get("receipt"),
            "vpa": "success@razorpay" if method == "upi" else None,
            "email": "payer@example.com",
            "contact": "+919000090000",
            "notes": dict(order["notes"]),
            "fee": 0,
            "tax": 0,
            "error_code": None if captured else "BAD_REQUEST_ERROR",
            "error_description": None if captured else "Payment was declined by the payer.",
            "error_source": None if captured else "customer",
            "error_step": None if captured else "payment_authentication",
            "error_reason": None if captured else "payment_cancelled",
            "created_at": now,
        }
        order["attempts"] += 1
        if captured:
            order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        else:
            order["status"] = "attempted"
        self.payments[payment["id"]] = payment
        self._queue(self._events_for(order, payment, now))
        return {
            "payment": payment,
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment["id"],
            "razorpay_signature": sign(
                self.config.key_secret, f"{order_id}|{payment['id']}".encode()
            ),
        }

    def _events_for(
        self, order: dict[str, Any], payment: dict[str, Any], now: int
    ) -> list[tuple[str, dict[str, Any]]]:
        def event(name: str, entity: dict[str, Any], with_order: bool = False) -> dict[str, Any]:
            payload: dict[str, Any] = {"payment": {"entity": entity}}
            if with_order:
                payload["order"] = {"entity": dict(order)}
            return {
                "entity": "event",
                "account_id": ACCOUNT_ID,
                "event": name,
                "contains": ["payment", "order"] if with_order else ["payment"],
                "payload": payload,
                "created_at": now,
            }

        options = self.options
        if payment["status"] == "failed":
            return [("payment.failed", event("payment.failed", payment))]
        events = []
        if options.authorized_event:
            authorized = {**payment, "status": "authorized", "captured": False}
            events.append(("payment.authorized", event("payment.authorized", authorized)))
        events.append(("payment.captured", event("payment.captured", payment)))
        if options.order_paid_event:
            events.append(("order.paid", event("order.paid", payment, with_order=True)))
        return events

    # -- webhook delivery ----------------------------------------------------------------

    def _queue(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        options = self.options
        batch: list[Delivery] = []
        for name, body in events:
            event_id = new_id("evt")
            raw = json.dumps(body, separators=(",", ":")).encode()
            payment = body["payload"]["payment"]["entity"]
            for _ in range(1 + options.duplicates):
                delivery = Delivery(
                    id=new_id("dlv"),
                    event_id=event_id,
                    event=name,
                    order_id=payment["order_id"],
                    payment_id=payment["id"],
                    body=raw,
                    options=options,
                    state="held" if options.hold else "pending",
                )
                self.deliveries.append(delivery)
                batch.append(delivery)
        if not options.hold:
            self._launch(batch, options.shuffle)

    def flush(self, shuffle: bool | None) -> int:
        """Release every held delivery (in random order if ``shuffle``); return how many."""
        held = [d for d in self.deliveries if d.state == "held"]
        for delivery in held:
            delivery.state = "pending"
        self._launch(held, self.options.shuffle if shuffle is None else shuffle)
        return len(held)

    def _launch(self, batch: list[Delivery], shuffle: bool) -> None:
        if shuffle:
            random.shuffle(batch)
        for index, delivery in enumerate(batch):
            start = (delivery.options.delay_ms + index * delivery.options.stagger_ms) / 1000
            task = asyncio.create_task(self._deliver(delivery, start))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery, start_after: float) -> None:
        """Attempt until a 2xx (that is not a simulated lost answer) or ``max_attempts``."""
        options = delivery.options
        await asyncio.sleep(start_after)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Samooh-Sandbox-Webhooks/1.0",
            SIGNATURE_HEADER: sign(self.config.webhook_secret, delivery.body),
            EVENT_ID_HEADER: delivery.event_id,
        }
        for attempt in range(1, options.max_attempts + 1):
            record: dict[str, Any] = {"attempt": attempt, "at": time.time()}
            try:
                async with self._session().post(
                    options.webhook_url,
                    data=delivery.body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=options.timeout_ms / 1000),
                ) as response:
                    await response.read()
                    record["status"] = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                record["error"] = type(exc).__name__
            ok = 200 <= record.get("status", 0) < 300
            if ok and attempt <= options.lose_responses:
                record["lost"] = True
                ok = False
            delivery.attempts.append(record)
            if ok:
                delivery.state = "delivered"
                return
            if attempt < options.max_attempts:
                backoff = min(options.retry_base_ms * 2 ** (attempt - 1), options.retry_max_ms)
                await asyncio.sleep(backoff / 1000)
        delivery.state = "failed"
        log.warning(
            "sandbox webhook given up", event_id=delivery.event_id, event_type=delivery.event
        )

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        """Cancel deliveries in flight and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()

    # -- auth ----------------------------------------------------------------------------

    def authorised(self, request: web.Request) -> bool:
        """Basic auth with the key pair, compared in constant time."""
        value = request.headers.get("Authorization", "")
        if not value.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(value[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        key_id, _, key_secret = decoded.partition(":")
        return hmac.compare_digest(key_id.encode(), self.config.key_id.encode()) & (
            hmac.compare_digest(key_secret.encode(), self.config.key_secret.encode())
        )


class BadRequest(Exception):
    """A Razorpay-style 400: ``{"error": {"code": "BAD_REQUEST_ERROR", "description",
    "field"}}``."""

    def __init__(self, description: str, field_name: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.field = field_name


class NotFoundError(Exception):
    """A Razorpay-style 400 for an unknown id (Razorpay answers 400, not 404)."""


def _error(status: int, description: str, field_name: str | None = None) -> web.Response:
    body: dict[str, Any] = {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "business" if status == 400 else "NA",
            "step": "payment_initiation" if status == 400 else "NA",
            "reason": "input_validation_failed" if status == 400 else "NA",
            "metadata": {},
            "field": field_name,
        }
    }
    return web.json_response(body, status=status)


SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)


@web.middleware
async def _errors(
    request: web.Request, handler: Any
) -> web.StreamResponse:  # aiohttp's handler type is untyped
    try:
        response: web.StreamResponse = await handler(request)
    except BadRequest as exc:
        return _error(400, exc.description, exc.field)
    except NotFoundError as exc:
        return _error(400, str(exc), "id")
    except ValidationError as exc:
        first = exc.errors()[0]
        return _error(400, first["msg"], ".".join(str(p) for p in first["loc"]) or None)
    return response


def _api(handler: Any) -> Any:
    """Require basic auth (Razorpay answers 401 ``Authentication failed``)."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        if not request.app[SANDBOX_KEY].authorised(request):
            return _error(401, "Authentication failed")
        response: web.StreamResponse = await handler(request)
        return response

    return wrapped


async def _json(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest("The request body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


# -- API (Razorpay shape) --------------------------------------------------------------------


async def create_order(request: web.Request) -> web.Response:
    """``POST /v1/orders`` → the order entity."""
    return web.json_response(request.app[SANDBOX_KEY].create_order(await _json(request)))


async def get_order(request: web.Request) -> web.Response:
    """``GET /v1/orders/{id}`` → the order entity."""
    order = request.app[SANDBOX_KEY].orders.get(request.match_info["order_id"])
    if order is None:
        raise NotFoundError("The id provided does not exist")
    return web.json_response(order)


async def order_payments(request: web.Request) -> web.Response:
    """``GET /v1/orders/{id}/payments`` → ``{"entity": "collection", "count", "items"}``."""
    sandbox = request.app[SANDBOX_KEY]
    order_id = request.match_info["order_id"]
    if order_id not in sandbox.orders:
        raise NotFoundError("The id provided does not exist")
    items = [p for p in sandbox.payments.values() if p["order_id"] == order_id]
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def get_payment(request: web.Request) -> web.Response:
    """``GET /v1/payments/{id}`` → the payment entity."""
    payment = request.app[SANDBOX_KEY].payments.get(request.match_info["payment_id"])
    if payment is None:
        raise NotFoundError("The id provided does not exist")
    return web.json_response(payment)


async def pay_order(request: web.Request) -> web.Response:
    """``POST /v1/orders/{id}/pay`` (sandbox only): pay without a browser."""
    body = PayRequest.model_validate(await _json(request))
    paid_at = int(body.paid_at.timestamp()) if body.paid_at else None
    result = request.app[SANDBOX_KEY].pay(
        request.match_info["order_id"], body.outcome, body.method, paid_at
    )
    return web.json_response(result)


# -- test controls ---------------------------------------------------------------------------


async def get_control(request: web.Request) -> web.Response:
    """``GET /sandbox/control`` → the delivery options in force."""
    return web.json_response(request.app[SANDBOX_KEY].options.model_dump())


async def set_control(request: web.Request) -> web.Response:
    """``POST /sandbox/control`` with any option fields → the options now in force.

    ``{"reset": true}`` first restores the defaults (keeping the webhook URL)."""
    sandbox = request.app[SANDBOX_KEY]
    body = await _json(request)
    base = sandbox.options.model_dump()
    if body.pop("reset", False):
        base = DeliveryOptions(webhook_url=sandbox.options.webhook_url).model_dump()
    sandbox.options = DeliveryOptions.model_validate({**base, **body})
    return web.json_response(sandbox.options.model_dump())


async def flush(request: web.Request) -> web.Response:
    """``POST /sandbox/flush`` → ``{"released": n}``: held deliveries start now."""
    body = FlushRequest.model_validate(await _json(request))
    return web.json_response({"released": request.app[SANDBOX_KEY].flush(body.shuffle)})


async def deliveries(request: web.Request) -> web.Response:
    """``GET /sandbox/deliveries[?order_id=…]`` → every delivery and its attempts."""
    order_id = request.query.get("order_id")
    items = [
        d.public()
        for d in request.app[SANDBOX_KEY].deliveries
        if order_id is None or d.order_id == order_id
    ]
    return web.json_response({"count": len(items), "items": items})


async def health(request: web.Request) -> web.Response:
    """``GET /healthz`` → ``{"ok": true}``."""
    return web.json_response({"ok": True})


# -- pages a person clicks through -----------------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f6fb;margin:0;color:#1b2433}
main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;
box-shadow:0 4px 24px #0001}
h1{font-size:1.1rem;margin:0 0 .25rem}.amount{font-size:2.2rem;font-weight:700;margin:1rem 0}
.muted{color:#667;font-size:.85rem}.row{display:flex;gap:.75rem;margin-top:1.5rem}
button{flex:1;padding:.8rem;border:0;border-radius:8px;font-size:1rem;cursor:pointer}
.pay{background:#1f6feb;color:#fff}.fail{background:#e8ebf2;color:#1b2433}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:99px;background:#e8ebf2}
.ok{background:#d8f5e0;color:#145c2c}.bad{background:#fde2e1;color:#8a1c17}
code{word-break:break-all;font-size:.8rem}
"""


def _page(title: str, body: str) -> web.Response:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return web.Response(text=html, content_type="text/html")


def _amount(order: dict[str, Any]) -> str:
    text = format_minor(order["amount"])
    return f"₹{text}" if order["currency"] == "INR" else f"{order['currency']} {text}"


async def checkout_page(request: web.Request) -> web.Response:
    """``GET /checkout/{order_id}``: the amount, the merchant, "Pay" and "Fail"."""
    sandbox = request.app[SANDBOX_KEY]
    order = sandbox.orders.get(request.match_info["order_id"])
    if order is None:
        return _page("Unknown order", "<h1>Unknown order</h1><p>No such order here.</p>")
    merchant = escape(sandbox.config.merchant_name)
    if order["status"] == "paid":
        return _page(
            "Already paid",
            f"<h1>{merchant}</h1><p class='badge ok' data-testid=status>Already paid</p>"
            f"<div class=amount>{escape(_amount(order))}</div>",
        )
    receipt = escape(order.get("receipt") or "")
    action = escape(f"/checkout/{order['id']}")
    return _page(
        f"Pay {_amount(order)}",
        f"<h1 data-testid=merchant>{merchant}</h1>"
        f"<div class=muted>Sandbox checkout — no real money moves</div>"
        f"<div class=amount data-testid=amount>{escape(_amount(order))}</div>"
        f"<div class=muted>Order <code>{escape(order['id'])}</code>"
        f"{' · receipt ' + receipt if receipt else ''}</div>"
        f"<form method=post action='{action}' class=row>"
        "<button class=pay name=outcome value=captured data-testid=pay>Pay</button>"
        "<button class=fail name=outcome value=failed data-testid=fail>Fail</button>"
        "</form>",
    )


async def checkout_submit(request: web.Request) -> web.Response:
    """``POST /checkout/{order_id}`` (the form): pay or fail, then show the result."""
    sandbox = request.app[SANDBOX_KEY]
    form = await request.post()
    outcome = "failed" if form.get("outcome") == "failed" else "captured"
    order_id = request.match_info["order_id"]
    try:
        result = sandbox.pay(order_id, outcome, "upi")
    except (BadRequest, NotFoundError) as exc:
        return _page("Not paid", f"<h1>Not paid</h1><p>{escape(str(exc))}</p>")
    payment = result["payment"]
    ok = payment["status"] == "captured"
    back = (
        f"<p><a href='{escape(sandbox.config.return_url)}'>Back to Samooh</a></p>"
        if sandbox.config.return_url
        else ""
    )
    return _page(
        "Paid" if ok else "Payment failed",
        f"<h1>{escape(sandbox.config.merchant_name)}</h1>"
        f"<p class='badge {'ok' if ok else 'bad'}' data-testid=status>"
        f"{'Payment successful' if ok else 'Payment failed'}</p>"
        f"<div class=amount>{escape(_amount(sandbox.orders[order_id]))}</div>"
        f"<p class=muted>Payment <code data-testid=payment-id>{escape(payment['id'])}</code></p>"
        f"<p class=muted>Signature <code>{escape(result['razorpay_signature'])}</code></p>{back}",
    )


async def index(request: web.Request) -> web.Response:
    """``GET /``: the latest orders, each linking to its checkout."""
    sandbox = request.app[SANDBOX_KEY]
    rows = "".join(
        f"<li><a href='/checkout/{escape(o['id'])}'>{escape(o['id'])}</a> "
        f"{escape(_amount(o))} <span class=badge>{escape(o['status'])}</span></li>"
        for o in list(sandbox.orders.values())[-20:][::-1]
    )
    return _page(
        "Sandbox payments",
        f"<h1>{escape(sandbox.config.merchant_name)} — sandbox payment provider</h1>"
        f"<p class=muted>{len(sandbox.orders)} orders, {len(sandbox.deliveries)} webhook "
        f"deliveries. Webhooks go to <code>{escape(sandbox.options.webhook_url)}</code></p>"
        f"<ul>{rows or '<li>No orders yet.</li>'}</ul>",
    )


def create_sandbox_app(config: SandboxConfig) -> web.Application:
    """The aiohttp application of the sandbox provider (see the module docstring)."""
    app = web.Application(middlewares=[_errors], client_max_size=64 * 1024)
    sandbox = Sandbox(config)
    app[SANDBOX_KEY] = sandbox

    async def _close(_app: web.Application) -> None:
        await sandbox.close()

    app.on_cleanup.append(_close)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", health)
    app.router.add_post("/v1/orders", _api(create_order))
    app.router.add_get("/v1/orders/{order_id}", _api(get_order))
    app.router.add_get("/v1/orders/{order_id}/payments", _api(order_payments))
    app.router.add_post("/v1/orders/{order_id}/pay", _api(pay_order))
    app.router.add_get("/v1/payments/{payment_id}", _api(get_payment))
    app.router.add_get("/sandbox/control", _api(get_control))
    app.router.add_post("/sandbox/control", _api(set_control))
    app.router.add_post("/sandbox/flush", _api(flush))
    app.router.add_get("/sandbox/deliveries", _api(deliveries))
    app.router.add_get("/checkout/{order_id}", checkout_page)
    app.router.add_post("/checkout/{order_id}", checkout_submit)
    return app
