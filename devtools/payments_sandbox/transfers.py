"""Money going out of the sandbox provider: refunds of captured payments (Razorpay's Refunds
API) and payouts to bank accounts / UPI ids (RazorpayX's Payouts API), in memory like the rest
of the sandbox.

Sources (Razorpay docs): "Refunds API" — ``POST /v1/payments/{id}/refund`` with ``amount``
(paise), ``speed``, ``notes``, ``receipt``; answers the ``refund`` entity (``rfnd_…``,
``status`` ``processed``); a refund above the captured amount not yet refunded is a 400
"The refund amount provided is greater than amount captured"; ``GET /v1/payments/{id}/refunds``
lists a payment's refunds. "RazorpayX Payouts": ``POST /v1/contacts``, ``POST
/v1/fund_accounts`` (``account_type`` ``vpa``), ``POST /v1/payouts`` with ``account_number``,
``fund_account_id``, ``amount``, ``currency``, ``mode``, ``purpose``, ``reference_id``,
``narration`` and the mandatory ``X-Payout-Idempotency`` header: a repeated key answers the
payout created the first time; ``GET /v1/payouts/{id}``.

Test controls: ``POST /sandbox/payouts/control`` ``{"fail_next": n}`` makes the next n payout
requests fail with a 5xx (a provider outage), ``{"reject_next": n}`` with a 400.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from devtools.payments_sandbox.server import (
    SANDBOX_KEY,
    BadRequest,
    NotFoundError,
    _api,
    _error,
    _json,
    new_id,
)

PAYOUT_IDEMPOTENCY_HEADER = "X-Payout-Idempotency"


@dataclass
class TransferBook:
    """Refunds, contacts, fund accounts and payouts the sandbox made."""

    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    fund_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payout_keys: dict[str, str] = field(default_factory=dict)
    fail_next: int = 0
    reject_next: int = 0


BOOK_KEY: web.AppKey[TransferBook] = web.AppKey("transfer_book", TransferBook)


def _amount(body: dict[str, Any], default: int | None = None) -> int:
    amount = body.get("amount", default)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 100:
        raise BadRequest("The amount must be an integer of at least 100 paise.", "amount")
    return amount


async def refund_payment(request: web.Request) -> web.Response:
    """``POST /v1/payments/{id}/refund`` → the refund entity."""
    sandbox, book = request.app[SANDBOX_KEY], request.app[BOOK_KEY]
    payment = sandbox.payments.get(request.match_info["payment_id"])
    if payment is None:
        raise NotFoundError("The id provided does not exist")
    if payment["status"] not in ("captured", "refunded"):
        raise BadRequest("The payment has not been captured.", "payment_id")
    body = await _json(request)
    amount = _amount(body, payment["amount"] - payment["amount_refunded"])
    if amount > payment["amount"] - payment["amount_refunded"]:
        raise BadRequest("The refund amount provided is greater than amount captured.", "amount")
    refund = {
        "id": new_id("rfnd"), "entity": "refund", "amount": amount,
        "currency": payment["currency"], "payment_id": payment["id"],
        "notes": body.get("notes") or {}, "receipt": body.get("receipt"),
        "acquirer_data": {"arn": None}, "created_at": int(time.time()),
        "batch_id": None, "status": "processed", "speed_processed": "normal",
        "speed_requested": body.get("speed", "normal"),
    }  # fmt: skip
    payment["amount_refunded"] += amount
    payment["refund_status"] = (
        "full" if payment["amount_refunded"] == payment["amount"] else "partial"
    )
    if payment["refund_status"] == "full":
        payment["status"] = "refunded"
    book.refunds[refund["id"]] = refund
    return web.json_response(refund)


async def payment_refunds(request: web.Request) -> web.Response:
    """``GET /v1/payments/{id}/refunds`` → ``{"entity": "collection", "count", "items"}``."""
    sandbox, book = request.app[SANDBOX_KEY], request.app[BOOK_KEY]
    payment_id = request.match_info["payment_id"]
    if payment_id not in sandbox.payments:
        raise NotFoundError("The id provided does not exist")
    items = [r for r in book.refunds.values() if r["payment_id"] == payment_id]
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def create_contact(request: web.Request) -> web.Response:
    """``POST /v1/contacts`` → the contact (the same one again for the same reference_id)."""
    book = request.app[BOOK_KEY]
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("The name field is required.", "name")
    reference = body.get("reference_id")
    for contact in book.contacts.values():
        if reference and contact["reference_id"] == reference:
            return web.json_response(contact)
    contact = {"id": new_id("cont"), "entity": "contact", "name": name,
               "type": body.get("type"), "reference_id": reference, "active": True,
               "created_at": int(time.time())}  # fmt: skip
    book.contacts[contact["id"]] = contact
    return web.json_response(contact, status=201)


async def create_fund_account(request: web.Request) -> web.Response:
    """``POST /v1/fund_accounts`` (``account_type`` ``vpa``) → the fund account."""
    book = request.app[BOOK_KEY]
    body = await _json(request)
    contact_id = body.get("contact_id")
    if contact_id not in book.contacts:
        raise BadRequest("The contact id does not exist.", "contact_id")
    if body.get("account_type") != "vpa":
        raise BadRequest("The sandbox pays UPI ids (account_type vpa) only.", "account_type")
    vpa = body.get("vpa") if isinstance(body.get("vpa"), dict) else {}
    address = vpa.get("address") if isinstance(vpa, dict) else None
    if not isinstance(address, str) or "@" not in address:
        raise BadRequest("The vpa address is invalid.", "vpa.address")
    account = {"id": new_id("fa"), "entity": "fund_account", "contact_id": contact_id,
               "account_type": "vpa", "vpa": {"address": address}, "active": True,
               "created_at": int(time.time())}  # fmt: skip
    book.fund_accounts[account["id"]] = account
    return web.json_response(account, status=201)


async def create_payout(request: web.Request) -> web.Response:
    """``POST /v1/payouts`` → the payout (``processed`` at once in the sandbox). The same
    ``X-Payout-Idempotency`` key answers the first payout again."""
    book = request.app[BOOK_KEY]
    key = request.headers.get(PAYOUT_IDEMPOTENCY_HEADER, "")
    if not key:
        raise BadRequest("X-Payout-Idempotency header is required.", "X-Payout-Idempotency")
    if key in book.payout_keys:
        return web.json_response(book.payouts[book.payout_keys[key]])
    if book.fail_next > 0:
        book.fail_next -= 1
        return _error(503, "The server is temporarily unavailable.")
    body = await _json(request)
    if book.reject_next > 0:
        book.reject_next -= 1
        raise BadRequest("Your account does not have enough balance.", "amount")
    amount = _amount(body)
    if body.get("fund_account_id") not in book.fund_accounts:
        raise BadRequest("The fund account id does not exist.", "fund_account_id")
    if not isinstance(body.get("account_number"), str):
        raise BadRequest("The account number is required.", "account_number")
    payout = {"id": new_id("pout"), "entity": "payout", "fund_account_id": body["fund_account_id"],
              "amount": amount, "currency": body.get("currency", "INR"), "fees": 0, "tax": 0,
              "status": "processed", "purpose": body.get("purpose"), "mode": body.get("mode"),
              "reference_id": body.get("reference_id"), "narration": body.get("narration"),
              "notes": body.get("notes") or {}, "utr": new_id("utr"),
              "created_at": int(time.time())}  # fmt: skip
    book.payouts[payout["id"]] = payout
    book.payout_keys[key] = payout["id"]
    return web.json_response(payout)


async def get_payout(request: web.Request) -> web.Response:
    """``GET /v1/payouts/{id}`` → the payout."""
    payout = request.app[BOOK_KEY].payouts.get(request.match_info["payout_id"])
    if payout is None:
        raise NotFoundError("The id provided does not exist")
    return web.json_response(payout)


async def list_payouts(request: web.Request) -> web.Response:
    """``GET /v1/payouts`` → every payout (test inspection)."""
    items = list(request.app[BOOK_KEY].payouts.values())
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def payouts_control(request: web.Request) -> web.Response:
    """``POST /sandbox/payouts/control`` ``{"fail_next": n, "reject_next": n}``."""
    book = request.app[BOOK_KEY]
    body = await _json(request)
    for name in ("fail_next", "reject_next"):
        value = body.get(name, getattr(book, name))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise BadRequest(f"{name} must be 0–100", name)
        setattr(book, name, value)
    return web.json_response({"fail_next": book.fail_next, "reject_next": book.reject_next})


def add_transfer_routes(app: web.Application) -> None:
    """Attach the refund and payout endpoints (and their state) to the sandbox app."""
    app[BOOK_KEY] = TransferBook()
    app.router.add_post("/v1/payments/{payment_id}/refund", _api(refund_payment))
    app.router.add_get("/v1/payments/{payment_id}/refunds", _api(payment_refunds))
    app.router.add_post("/v1/contacts", _api(create_contact))
    app.router.add_post("/v1/fund_accounts", _api(create_fund_account))
    app.router.add_post("/v1/payouts", _api(create_payout))
    app.router.add_get("/v1/payouts", _api(list_payouts))
    app.router.add_get("/v1/payouts/{payout_id}", _api(get_payout))
    app.router.add_post("/sandbox/payouts/control", _api(payouts_control))
