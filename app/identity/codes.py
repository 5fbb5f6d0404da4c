"""One-time e-mail codes (verification, password reset): made, mailed, checked.

A code is stored only as a keyed hash; each check counts one attempt, compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import secrets

from app.config import get_settings
from app.identity import errors, mailtexts, repository
from app.identity.documents import CodePurpose, EmailCode, User, utcnow
from app.identity.keys import code_hash, codes_equal
from app.mail.sender import send_mail
from app.ratelimit import rate_limiter


async def mail_code(user: User, purpose: CodePurpose, *, charge: bool = True) -> bool:
    """Make a new code for ``purpose`` (replacing the live one) and mail it; return whether
    a mail went out. With ``charge`` the address's mail budget (``rate_limit_resend``) is
    counted here and an exhausted budget silently sends nothing."""
    settings = get_settings()
    if charge:
        budget = ("code_mail", settings.rate_limit_resend, purpose.value, user.email)
        if not await rate_limiter().test(*budget):
            return False
        await rate_limiter().hit(*budget)
    assert user.id is not None
    code = f"{secrets.randbelow(10**6):06d}"
    minutes = settings.email_code_ttl_seconds // 60
    await repository.store_code(
        user.id,
        purpose,
        code_hash(settings, purpose.value, str(user.id), code),
        utcnow() + dt.timedelta(seconds=settings.email_code_ttl_seconds),
    )
    subject, body = mailtexts.code_mail(purpose, user.full_name, code, minutes)
    return await send_mail(settings, to=user.email, subject=subject, body=body)


async def check_code(user: User, purpose: CodePurpose, code: str) -> EmailCode:
    """Count one attempt and compare in constant time; return the matching, unconsumed code.

    Raises ``InvalidCode`` (wrong, or none), ``CodeExpired``, ``TooManyAttempts``.
    """
    settings = get_settings()
    assert user.id is not None
    current = await repository.live_code(user.id, purpose)
    if current is None or current.consumed_at is not None:
        raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
    if current.expires_at.astimezone(dt.UTC) <= dt.datetime.now(dt.UTC):
        raise errors.CodeExpired("the code has expired; ask for a new one")
    counted = await repository.count_code_attempt(
        user.id, purpose, settings.email_code_max_attempts
    )
    if counted is None:
        raise errors.TooManyAttempts("too many attempts; ask for a new code")
    expected = code_hash(settings, purpose.value, str(user.id), code)
    if not codes_equal(expected, counted.code_hash):
        left = max(0, settings.email_code_max_attempts - counted.attempts)
        raise errors.InvalidCode("the code is not valid", details={"attempts_left": left})
    return counted
