"""Send e-mail over SMTP with aiosmtplib to ``settings.smtp_url``.

``smtp://[user:pass@]host:port`` plain (the local dev server), ``smtp+starttls://…`` upgrades
with STARTTLS, ``smtps://…`` is TLS from the first byte (production relays).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from app.config import Settings
from app.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to reach the relay."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URLs. Raises ``ValueError``."""
    parts = urlsplit(url)
    schemes = {"smtp": (False, False), "smtp+starttls": (False, True), "smtps": (True, False)}
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"not an SMTP URL: {parts.scheme}://{parts.hostname or ''}")
    use_tls, start_tls = schemes[parts.scheme]
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if use_tls else 587 if start_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
    )


def build_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from ``settings.mail_from``."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="samooh.in")
    message.set_content(body)
    return message


async def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> bool:
    """Send one message; return whether the relay accepted it.

    Failures are logged, not raised: a caller answering "check your mail" must answer the same
    whether or not the relay is up (no account enumeration), and the person can ask again.
    """
    target = parse_smtp_url(settings.smtp_url.get_secret_value())
    message = build_message(settings, to=to, subject=subject, body=body)
    try:
        await asyncio.wait_for(
            aiosmtplib.send(
                message,
                hostname=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.use_tls,
                start_tls=target.start_tls,
                timeout=settings.mail_timeout_seconds,
            ),
            settings.mail_timeout_seconds + 1,
        )
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        log.error("mail not sent", to=to, subject=subject, host=target.host, error=str(exc))
        return False
    return True
