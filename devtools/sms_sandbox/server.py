"""The sandbox SMS provider: a local stand-in for MSG91 that dev, demo and tests use instead of
sending real text messages.

It follows MSG91's "Send SMS via Flow" API (sources: MSG91 API docs "Send SMS via FLOW",
``https://control.msg91.com/api/v5/flow``; MSG91 help "Map SMS Content Template on MSG91
API/Panel"): ``POST /api/v5/flow`` with the ``authkey`` header and a JSON body
``{"template_id", "sender", "short_url", "recipients": [{"mobiles": "91XXXXXXXXXX", "VAR1":
…}]}``; it answers ``{"type": "success", "message": "<request id>"}`` or ``{"type": "error",
"message": …}`` (401 for a wrong auth key, 400 for a bad request). As on MSG91, every template
is registered with its DLT template id (TRAI's TCCCPR 2018: commercial SMS in India go only
through templates and sender ids registered on a DLT platform): the sandbox knows the
templates it is started with (``--templates``) and refuses any other, and refuses a sender id
(DLT header) that is not six letters.

Test controls (no auth key needed, sandbox only): ``GET /sandbox/messages`` lists every message
it accepted (newest last, with the rendered text), ``POST /sandbox/control`` ``{"fail_next":
n}`` makes the next n sends answer 503 (an outage), ``{"reject_next": n}`` a 400, and
``{"reset": true}`` forgets the messages. State is in memory.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from app.logging import get_logger

log = get_logger(__name__)

MOBILE_RE = re.compile(r"^91[6-9][0-9]{9}$")  # an Indian mobile in MSG91's international form
SENDER_RE = re.compile(r"^[A-Z]{6}$")  # a DLT header (sender id): six letters
VAR_RE = re.compile(r"##(VAR[0-9]+)##")


@dataclass
class SmsBook:
    """What the sandbox knows: the auth key, templates (id → DLT id and text) and messages."""

    auth_key: str
    templates: dict[str, dict[str, str]]
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    reject_next: int = 0


BOOK: web.AppKey[SmsBook] = web.AppKey("sms_book", SmsBook)


def render(text: str, values: dict[str, Any]) -> str:
    """``text`` with each ``##VARn##`` replaced by its value."""

    def value(match: re.Match[str]) -> str:
        return str(values[match.group(1)])

    return VAR_RE.sub(value, text)


def _fail(status: int, message: str) -> web.Response:
    return web.json_response({"type": "error", "message": message}, status=status)


async def send_flow(request: web.Request) -> web.Response:
    """``POST /api/v5/flow`` → ``{"type": "success", "message": <request id>}``."""
    book = request.app[BOOK]
    if request.headers.get("authkey") != book.auth_key:
        return _fail(401, "Authentication failure")
    if book.fail_next > 0:
        book.fail_next -= 1
        return _fail(503, "Service temporarily unavailable")
    try:
        body = await request.json()
    except ValueError:
        return _fail(400, "Invalid JSON")
    if not isinstance(body, dict):
        return _fail(400, "Invalid JSON")
    if book.reject_next > 0:
        book.reject_next -= 1
        return _fail(400, "Template is not approved on DLT")
    template_id = body.get("template_id") or body.get("flow_id")
    template = book.templates.get(str(template_id))
    if template is None:
        return _fail(400, "Template ID is missing or invalid")
    sender = body.get("sender")
    if not isinstance(sender, str) or not SENDER_RE.match(sender):
        return _fail(400, "Sender ID is invalid")
    recipients = body.get("recipients")
    if not isinstance(recipients, list) or not recipients or len(recipients) > 100:
        return _fail(400, "Recipients are missing")
    needed = set(VAR_RE.findall(template["text"]))
    for recipient in recipients:
        if not isinstance(recipient, dict) or not MOBILE_RE.match(str(recipient.get("mobiles"))):
            return _fail(400, "Mobile number is invalid")
        missing = needed - set(recipient)
        if missing:
            return _fail(400, f"Variable {sorted(missing)[0]} is missing")
    request_id = secrets.token_hex(12)
    for recipient in recipients:
        text = render(template["text"], recipient)
        book.messages.append({
            "request_id": request_id, "template_id": template_id,
            "dlt_template_id": template["dlt_template_id"], "sender": sender,
            "mobiles": recipient["mobiles"], "text": text, "at": time.time(),
            "variables": {k: v for k, v in recipient.items() if k != "mobiles"},
        })  # fmt: skip
    return web.json_response({"type": "success", "message": request_id})


async def messages(request: web.Request) -> web.Response:
    """``GET /sandbox/messages[?mobiles=91…]`` → ``{"count", "items"}``."""
    items = request.app[BOOK].messages
    wanted = request.query.get("mobiles")
    if wanted:
        items = [m for m in items if m["mobiles"] == wanted]
    return web.json_response({"count": len(items), "items": items})


async def control(request: web.Request) -> web.Response:
    """``POST /sandbox/control`` ``{"fail_next": n, "reject_next": n, "reset": bool}``."""
    book = request.app[BOOK]
    try:
        body = await request.json()
    except ValueError:
        return _fail(400, "Invalid JSON")
    if body.get("reset"):
        book.messages.clear()
        book.fail_next = book.reject_next = 0
    for name in ("fail_next", "reject_next"):
        value = body.get(name, getattr(book, name))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            return _fail(400, f"{name} must be 0-100")
        setattr(book, name, value)
    return web.json_response({"fail_next": book.fail_next, "reject_next": book.reject_next})


async def healthz(request: web.Request) -> web.Response:
    """``GET /healthz`` → ``{"ok": true}``."""
    return web.json_response({"ok": True})


def create_sms_app(auth_key: str, templates: dict[str, dict[str, str]]) -> web.Application:
    """The sandbox's aiohttp application; ``templates`` maps a template id to its
    ``dlt_template_id`` and ``text`` (with ``##VAR1##``-style variables)."""
    app = web.Application()
    app[BOOK] = SmsBook(auth_key=auth_key, templates=templates)
    app.router.add_post("/api/v5/flow", send_flow)
    app.router.add_post("/api/v5/flow/", send_flow)
    app.router.add_get("/sandbox/messages", messages)
    app.router.add_post("/sandbox/control", control)
    app.router.add_get("/healthz", healthz)
    return app
