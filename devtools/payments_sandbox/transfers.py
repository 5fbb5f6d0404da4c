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
payout created the first time; ``GET /v1/payouts/{id}``. "Account Validation": fund accounts of
``account_type`` ``bank_account`` (``name``, ``ifsc``, ``account_number``) too, and ``POST
/v1/fund_accounts/validations`` / ``GET /v1/fund_accounts/validations/{id}``.

Test controls: ``POST /sandbox/payouts/control`` ``{"fail_next": n}`` makes the next n payout
requests fail with a 5xx (a provider outage), ``{"reject_next": n}`` with a 400;
``webhook_url`` turns on signed ``payout.*`` / ``refund.*`` webhooks (``webhook_duplicates``
extra copies), ``payout_async`` answers payouts ``processing`` and ends them by webhook
(``reverse_next``: reversed), ``refund_fail_next`` bounces refunds, ``refund_async`` answers
refunds ``pending`` and processes them a moment later (``GET
/v1/payments/{id}/refunds/{refund_id}`` shows the state now); ``POST
/sandbox/payouts/{id}/reverse`` reverses a processed payout later.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from devtools.payments_sandbox.server import (
    EVENT_ID_HEADER,
    SANDBOX_KEY,
    SIGNATURE_HEADER,
    BadRequest,
    NotFoundError,
    _api,
    _error,
    _json,
    new_id,
    sign,
)

PAYOUT_IDEMPOTENCY_HEADER = "X-Payout-Idempotency"
IFSC_RE = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
# bank codes (the first four letters of an IFSC) the sandbox's bank knows
KNOWN_BANKS = {
    "SBIN": "State Bank of India", "HDFC": "HDFC Bank", "ICIC": "ICICI Bank",
    "UTIB": "Axis Bank", "PUNB": "Punjab National Bank", "BARB": "Bank of Baroda",
    "CNRB": "Canara Bank", "KKBK": "Kotak Mahindra Bank", "UBIN": "Union Bank of India",
    "IDIB": "Indian Bank", "YESB": "Yes Bank", "IOBA": "Indian Overseas Bank",
}  # fmt: skip


@dataclass
class TransferBook:
    """Refunds, contacts, fund accounts and payouts the sandbox made."""

    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    fund_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payouts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payout_keys: dict[str, str] = field(default_factory=dict)
    validations: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0
    reject_next: int = 0
    validation_delay: int = 0
    # webhooks about payouts and refunds (RazorpayX lets an account have a webhook of its
    # own for payout.* and refund.* events): where they go, how many extra copies of each,
    # payouts left "processing" until their webhook, the next n async payouts reversed, the
    # next n refunds failed (answered "pending", then refund.failed)
    webhook_url: str | None = None
    webhook_duplicates: int = 0
    payout_async: bool = False
    reverse_next: int = 0
    refund_fail_next: int = 0
    refund_async: bool = False  # refunds answered "pending", processed a moment later
    sent_events: list[dict[str, Any]] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


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
    if book.refund_fail_next > 0:  # the bank bounces it: pending now, refund.failed later
        book.refund_fail_next -= 1
        refund["status"] = "pending"
        failed = {**refund, "status": "failed"}

        def bounce() -> None:
            payment["amount_refunded"] -= amount
            payment["status"], payment["refund_status"] = "captured", None
            book.refunds[refund["id"]] = failed

        _later(request.app, "refund.failed", "refund", failed, before=bounce)
        return web.json_response(refund)
    if book.refund_async:  # the bank takes a moment: pending now, processed later
        refund["status"] = "pending"
        done = {**refund, "status": "processed"}

        def settle() -> None:
            book.refunds[refund["id"]] = done

        _later(request.app, "refund.processed", "refund", done, before=settle)
        return web.json_response(refund)
    _later(request.app, "refund.processed", "refund", refund)
    return web.json_response(refund)


async def payment_refunds(request: web.Request) -> web.Response:
    """``GET /v1/payments/{id}/refunds`` → ``{"entity": "collection", "count", "items"}``."""
    sandbox, book = request.app[SANDBOX_KEY], request.app[BOOK_KEY]
    payment_id = request.match_info["payment_id"]
    if payment_id not in sandbox.payments:
        raise NotFoundError("The id provided does not exist")
    items = [r for r in book.refunds.values() if r["payment_id"] == payment_id]
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def get_refund(request: web.Request) -> web.Response:
    """``GET /v1/payments/{id}/refunds/{refund_id}`` → the refund entity as it is now
    (Razorpay's "Fetch a Specific Refund for a Payment"); 404 for another payment's refund."""
    book = request.app[BOOK_KEY]
    refund = book.refunds.get(request.match_info["refund_id"])
    if refund is None or refund["payment_id"] != request.match_info["payment_id"]:
        raise NotFoundError("The id provided does not exist")
    return web.json_response(refund)


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
    account: dict[str, Any] = {"id": new_id("fa"), "entity": "fund_account",
                               "contact_id": contact_id, "account_type": body.get("account_type"),
                               "batch_id": None, "active": True,
                               "created_at": int(time.time())}  # fmt: skip
    if body.get("account_type") == "vpa":
        vpa = body.get("vpa") if isinstance(body.get("vpa"), dict) else {}
        address = vpa.get("address") if isinstance(vpa, dict) else None
        if not isinstance(address, str) or "@" not in address:
            raise BadRequest("The vpa address is invalid.", "vpa.address")
        account["vpa"] = {"address": address}
    elif body.get("account_type") == "bank_account":
        raw = body.get("bank_account")
        bank: dict[str, Any] = raw if isinstance(raw, dict) else {}
        name, ifsc, number = (bank.get(k) for k in ("name", "ifsc", "account_number"))
        if not isinstance(name, str) or len(name.strip()) < 3:
            raise BadRequest("The name must be at least 3 characters.", "bank_account.name")
        if not isinstance(ifsc, str) or not IFSC_RE.fullmatch(ifsc):
            raise BadRequest("The ifsc must be 11 characters.", "bank_account.ifsc")
        if ifsc[:4] not in KNOWN_BANKS:
            raise BadRequest("Invalid IFSC Code in Bank Account", "bank_account.ifsc")
        if not isinstance(number, str) or not re.fullmatch(r"\d{5,35}", number):
            raise BadRequest("The account number is invalid.", "bank_account.account_number")
        account["bank_account"] = {"name": name, "ifsc": ifsc, "account_number": number,
                                   "bank_name": KNOWN_BANKS[ifsc[:4]]}  # fmt: skip
    else:
        raise BadRequest("The account type must be vpa or bank_account.", "account_type")
    book.fund_accounts[account["id"]] = account
    return web.json_response(account, status=201)


def _account_valid(account: dict[str, Any]) -> bool:
    """The sandbox's bank: an account number ending 0000 or a UPI id starting ``invalid``
    does not exist; everything else is an active account."""
    if account["account_type"] == "vpa":
        return not str(account["vpa"]["address"]).lower().startswith("invalid")
    return not str(account["bank_account"]["account_number"]).endswith("0000")


async def create_validation(request: web.Request) -> web.Response:
    """``POST /v1/fund_accounts/validations`` → a ``fund_account.validation``, completed at
    once (``results.account_status`` ``active`` or ``invalid``, ``registered_name``).
    ``{"validation_delay": n}`` on the control answers the next n validations ``created``
    first (completed on the first fetch)."""
    book = request.app[BOOK_KEY]
    body = await _json(request)
    fund = body.get("fund_account")
    fund_id = fund.get("id") if isinstance(fund, dict) else None
    account = book.fund_accounts.get(fund_id) if isinstance(fund_id, str) else None
    if account is None:
        raise BadRequest("The fund account id does not exist.", "fund_account.id")
    if not isinstance(body.get("account_number"), str):
        raise BadRequest("The account number is required.", "account_number")
    contact = book.contacts.get(account["contact_id"], {})
    valid = _account_valid(account)
    registered = (
        (account.get("bank_account", {}).get("name") or contact.get("name")) if valid else None
    )
    validation = {"id": new_id("fav"), "entity": "fund_account.validation",
                  "fund_account": account, "status": "completed",
                  "amount": body.get("amount", 100), "currency": body.get("currency", "INR"),
                  "notes": body.get("notes") or {},
                  "results": {"account_status": "active" if valid else "invalid",
                              "registered_name": registered},
                  "created_at": int(time.time()), "utr": new_id("utr")}  # fmt: skip
    book.validations[validation["id"]] = validation
    if book.validation_delay > 0:
        book.validation_delay -= 1
        return web.json_response(
            {
                **validation,
                "status": "created",
                "results": {"account_status": None, "registered_name": None},
            }
        )
    return web.json_response(validation)


async def get_validation(request: web.Request) -> web.Response:
    """``GET /v1/fund_accounts/validations/{id}`` → the validation."""
    validation = request.app[BOOK_KEY].validations.get(request.match_info["validation_id"])
    if validation is None:
        raise NotFoundError("The id provided does not exist")
    return web.json_response(validation)


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
    if book.payout_async:  # answered "processing"; the webhook tells how it ended
        answer = {**payout, "status": "processing", "utr": None}
        if book.reverse_next > 0:
            book.reverse_next -= 1
            why = "Beneficiary bank rejected it"
            payout.update(status="reversed", failure_reason=why,
                          status_details={"reason": "beneficiary_bank_rejected",
                                          "description": why})  # fmt: skip
        name = "payout.processed" if payout["status"] == "processed" else "payout.reversed"
        book.payouts[payout["id"]] = answer

        def settle() -> None:
            book.payouts[payout["id"]] = payout

        _later(request.app, name, "payout", payout, before=settle)
        return web.json_response(answer)
    _later(request.app, "payout.processed", "payout", payout)
    return web.json_response(payout)


async def reverse_payout(request: web.Request) -> web.Response:
    """``POST /sandbox/payouts/{id}/reverse``: the bank returns a processed payout later
    (status ``reversed``, ``payout.reversed`` sent)."""
    book = request.app[BOOK_KEY]
    payout = book.payouts.get(request.match_info["payout_id"])
    if payout is None:
        raise NotFoundError("The id provided does not exist")
    if payout["status"] != "processed":
        raise BadRequest("Only a processed payout can be reversed.", "status")
    why = "Account closed at the beneficiary bank"
    payout.update(status="reversed", failure_reason=why,
                  status_details={"reason": "beneficiary_account_closed",
                                  "description": why})  # fmt: skip
    _later(request.app, "payout.reversed", "payout", payout)
    return web.json_response(payout)


def _later(
    app: web.Application, name: str, kind: str, entity: dict[str, Any], before: Any = None
) -> None:
    """Send a signed ``name`` webhook about ``entity`` (plus ``webhook_duplicates`` copies,
    same event id) to ``webhook_url`` a moment after answering, retrying a non-2xx answer
    (at most 8 attempts, 0.1 s doubling). ``before`` runs first (the entity's final state)."""
    book = app[BOOK_KEY]
    if before is None and book.webhook_url is None:
        return
    event_id = new_id("evt")

    async def deliver() -> None:
        await asyncio.sleep(0.05)
        if before is not None:
            before()
        url = book.webhook_url
        if url is None:
            return
        event = {"entity": "event", "account_id": "acc_sandbox", "event": name,
                 "contains": [kind], "payload": {kind: {"entity": entity}},
                 "created_at": int(time.time())}  # fmt: skip
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(app[SANDBOX_KEY].config.webhook_secret, body),
                   EVENT_ID_HEADER: event_id}  # fmt: skip
        record: dict[str, Any] = {"event_id": event_id, "event": name, "id": entity["id"],
                                  "answers": []}  # fmt: skip
        book.sent_events.append(record)

        async def one() -> None:
            for attempt in range(8):
                try:
                    async with (
                        app[SANDBOX_KEY]
                        ._session()
                        .post(
                            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=5)
                        ) as response
                    ):
                        await response.read()
                        record["answers"].append(response.status)
                        if 200 <= response.status < 300:
                            return
                except (aiohttp.ClientError, TimeoutError) as exc:
                    record["answers"].append(type(exc).__name__)
                await asyncio.sleep(0.1 * 2**attempt)

        await asyncio.gather(*(one() for _ in range(1 + book.webhook_duplicates)))

    task = asyncio.get_running_loop().create_task(deliver())
    book.tasks.add(task)
    task.add_done_callback(book.tasks.discard)


async def sent_events(request: web.Request) -> web.Response:
    """``GET /sandbox/transfer-webhooks``: the payout and refund webhooks sent, with the
    answers each delivery got (test inspection)."""
    return web.json_response({"items": request.app[BOOK_KEY].sent_events})


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
    for name in ("fail_next", "reject_next", "validation_delay", "webhook_duplicates",
                 "reverse_next", "refund_fail_next"):  # fmt: skip
        value = body.get(name, getattr(book, name))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise BadRequest(f"{name} must be 0–100", name)
        setattr(book, name, value)
    for flag in ("payout_async", "refund_async"):
        if flag in body:
            if not isinstance(body[flag], bool):
                raise BadRequest(f"{flag} must be true or false", flag)
            setattr(book, flag, body[flag])
    if "webhook_url" in body:
        url = body["webhook_url"]
        if url is not None and (not isinstance(url, str) or not url.startswith("http")):
            raise BadRequest("webhook_url must be an http(s) URL or null", "webhook_url")
        book.webhook_url = url
    return web.json_response({"fail_next": book.fail_next, "reject_next": book.reject_next,
                              "validation_delay": book.validation_delay,
                              "webhook_url": book.webhook_url,
                              "webhook_duplicates": book.webhook_duplicates,
                              "payout_async": book.payout_async, "reverse_next": book.reverse_next,
                              "refund_fail_next": book.refund_fail_next,
                              "refund_async": book.refund_async})  # fmt: skip


def add_transfer_routes(app: web.Application) -> None:
    """Attach the refund and payout endpoints (and their state) to the sandbox app."""
    app[BOOK_KEY] = TransferBook()
    app.router.add_post("/v1/payments/{payment_id}/refund", _api(refund_payment))
    app.router.add_get("/v1/payments/{payment_id}/refunds", _api(payment_refunds))
    app.router.add_get("/v1/payments/{payment_id}/refunds/{refund_id}", _api(get_refund))
    app.router.add_post("/v1/contacts", _api(create_contact))
    app.router.add_post("/v1/fund_accounts", _api(create_fund_account))
    app.router.add_post("/v1/fund_accounts/validations", _api(create_validation))
    app.router.add_get("/v1/fund_accounts/validations/{validation_id}", _api(get_validation))
    app.router.add_post("/v1/payouts", _api(create_payout))
    app.router.add_get("/v1/payouts", _api(list_payouts))
    app.router.add_get("/v1/payouts/{payout_id}", _api(get_payout))
    app.router.add_post("/sandbox/payouts/control", _api(payouts_control))
    app.router.add_post("/sandbox/payouts/{payout_id}/reverse", _api(reverse_payout))
    app.router.add_get("/sandbox/transfer-webhooks", _api(sent_events))

    async def _stop(_app: web.Application) -> None:
        for task in list(app[BOOK_KEY].tasks):
            task.cancel()

    app.on_cleanup.append(_stop)
