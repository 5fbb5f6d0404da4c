"""Dev and test only (never registered in production, where these paths are 404):
``GET /api/v1/dev/outbox?to=<email>`` — what the local mail server received, newest first — and
``GET /dev/mail``, the same as a page for a person running ``make run``."""

from __future__ import annotations

import html
from pathlib import Path

from pydantic import BaseModel, Field
from quart import Blueprint, Response
from quart_schema import tag, validate_querystring, validate_response

from app.config import get_settings
from app.mail.outbox import read_outbox

blueprint = Blueprint("dev_mail", __name__)

ROOT = Path(__file__).resolve().parent.parent.parent


class OutboxQuery(BaseModel):
    """Only messages to ``to`` when given; at most ``limit``."""

    to: str | None = None
    limit: int = Field(default=20, ge=1, le=200)


class OutboxMessage(BaseModel):
    """One received message; ``code`` is the first 6-digit code in its body, if any."""

    id: str
    received_at: str
    mail_from: str
    to: list[str]
    subject: str
    body: str
    code: str | None


class Outbox(BaseModel):
    """Newest first."""

    messages: list[OutboxMessage]


def _folder() -> Path:
    folder = Path(get_settings().dev_mailbox_dir)
    return folder if folder.is_absolute() else ROOT / folder


def _messages(to: str | None, limit: int) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            id=item["id"],
            received_at=item["received_at"],
            mail_from=item.get("from") or "",
            to=item.get("to", []),
            subject=item.get("subject", ""),
            body=item.get("body", ""),
            code=item.get("code"),
        )
        for item in read_outbox(_folder(), to=to, limit=limit)
    ]


@blueprint.get("/api/v1/dev/outbox")
@tag(["dev"])
@validate_querystring(OutboxQuery)
@validate_response(Outbox)
async def outbox(query_args: OutboxQuery) -> Outbox:
    """Mail the local SMTP server received (dev and test configurations only)."""
    return Outbox(messages=_messages(query_args.to, query_args.limit))


@blueprint.get("/dev/mail")
async def mail_page() -> Response:
    """The last 50 received messages as a page (dev and test configurations only)."""
    rows = "".join(
        "<article><header><b>{subject}</b> → {to} <small>{at}</small>{code}</header>"
        "<pre>{body}</pre></article>".format(
            subject=html.escape(m.subject),
            to=html.escape(", ".join(m.to)),
            at=html.escape(m.received_at),
            code=f" <mark>code {html.escape(m.code)}</mark>" if m.code else "",
            body=html.escape(m.body),
        )
        for m in _messages(None, 50)
    )
    page = (
        "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5>"
        "<title>Samooh dev mail</title><style>body{font:15px system-ui;margin:2rem;max-width:"
        "60rem}article{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}"
        "pre{white-space:pre-wrap}</style><h1>Mail received by the local SMTP server</h1>"
        + (rows or "<p>No mail yet.</p>")
    )
    return Response(page, content_type="text/html; charset=utf-8")
