"""Password reset by a code mailed to the address.

Forgot-password answers the same for every address (no enumeration). A reset ends every session
of the account, disconnects its sockets and clears the login lockout.
"""

from __future__ import annotations

from app.config import get_settings
from app.extensions import services
from app.identity import codes, errors, mailtexts, repository, security, sessions
from app.identity.documents import CodePurpose, SecurityEventKind, UserStatus
from app.identity.passwords import check_password_policy, hash_password
from app.identity.schemas import CodeSent, normalise_email
from app.mail.sender import send_mail
from app.ratelimit import rate_limiter


async def do_forgot_password(email: str, ip: str | None) -> CodeSent:
    """Mail a reset code to an ACTIVE account; the same answer for every address.
    Raises ``RateLimited`` (per client IP)."""
    settings = get_settings()
    await rate_limiter().hit("reset", settings.rate_limit_reset, ip or "-")
    email = normalise_email(email)
    user = await repository.user_by_email(email)
    if user is not None and user.status is UserStatus.ACTIVE:
        sent = await codes.mail_code(user, CodePurpose.PASSWORD_RESET)
        await security.record(
            SecurityEventKind.PASSWORD_RESET_REQUESTED, user=user, ip=ip, mailed=sent
        )
    return CodeSent(email=email, code_expires_in=settings.email_code_ttl_seconds)


async def do_reset_password(email: str, code: str, new_password: str, ip: str | None) -> None:
    """Check the code, set the new password, end every session, clear the lockout.

    Raises ``WeakPassword`` (before the code is tried), ``InvalidCode``, ``CodeExpired``,
    ``TooManyAttempts``, ``RateLimited``.
    """
    settings = get_settings()
    await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
    email = normalise_email(email)
    check_password_policy(new_password, email=email, min_length=settings.password_min_length)
    user = await repository.user_by_email(email)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
    assert user.id is not None
    matched = await codes.check_code(user, CodePurpose.PASSWORD_RESET, code)
    assert matched.id is not None
    if not await repository.consume_code(matched.id):
        raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
    await repository.update_user(user.id, {"password_hash": await hash_password(new_password)})
    revoked = await sessions.store().revoke_all(str(user.id))
    await repository.LoginThrottle(services.require_redis()).clear(email)
    await security.record(SecurityEventKind.PASSWORD_RESET, user=user, ip=ip, sessions=revoked)
    await sessions.disconnect(str(user.id), "password_reset")
    subject, body = mailtexts.PASSWORD_CHANGED
    await send_mail(settings, to=email, subject=subject, body=body)
