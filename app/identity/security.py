"""Security events of accounts (failed logins, lockouts, MFA changes, revocations): stored in
``security_events`` for the admin console and logged."""

from __future__ import annotations

from typing import Any

from app.identity import repository
from app.identity.documents import SecurityEvent, SecurityEventKind, User
from app.logging import get_logger

log = get_logger(__name__)


async def record(
    kind: SecurityEventKind,
    *,
    user: User | None = None,
    email: str | None = None,
    ip: str | None = None,
    **details: Any,
) -> None:
    """Store one security event (``email`` defaults to the user's) and log it."""
    await repository.add_security_event(
        SecurityEvent(
            kind=kind,
            user_id=user.id if user else None,
            email=email or (user.email if user else None),
            ip=ip,
            details=details,
        )
    )
    log.info("security event", kind=kind.value, email=email, ip=ip, **details)
