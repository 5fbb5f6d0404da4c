"""Login with a password (and the second factor once enrolled), the MFA hand-off, lockout.

Login answers ``invalid_credentials`` for an unknown address and a wrong password alike, after
the same argon2 work. ``login_lockout_threshold`` failures in a row lock the address for
``base × 2^(failures − threshold)`` seconds (capped at ``login_lockout_max_seconds``).
"""

from __future__ import annotations

import secrets

from app.config import get_settings
from app.extensions import services
from app.identity import errors, repository, security
from app.identity.documents import SecurityEventKind, User, UserStatus
from app.identity.mfa import second_factor
from app.identity.passwords import hash_password, needs_rehash, verify_password
from app.identity.schemas import TokenPair, normalise_email
from app.identity.sessions import open_session
from app.ratelimit import rate_limiter

MFA_HANDOFF_SECONDS = 300


def require_usable(user: User) -> None:
    """Refuse an account that may not log in. Raises ``AccountSuspended``,
    ``EmailNotVerified``."""
    if user.status is UserStatus.SUSPENDED:
        raise errors.AccountSuspended("this account is suspended")
    if user.status is UserStatus.ERASED:  # its address is a reserved one; belt and braces
        raise errors.InvalidCredentials("the e-mail or the password is not right")
    if user.status is UserStatus.PENDING:
        raise errors.EmailNotVerified("verify the e-mail address first")


async def login_failed(email: str, user: User | None, ip: str | None, why: str) -> None:
    """Count a failed login of ``email`` (recorded) and lock the address once the failures
    reach the threshold (recorded too)."""
    settings = get_settings()
    throttle = repository.LoginThrottle(services.require_redis())
    failures = await throttle.record_failure(email)
    await security.record(
        SecurityEventKind.LOGIN_FAILED, user=user, email=email, ip=ip, reason=why,
        failures=failures,
    )  # fmt: skip
    if failures >= settings.login_lockout_threshold:
        exponent = min(failures - settings.login_lockout_threshold, 20)
        seconds = min(
            settings.login_lockout_max_seconds,
            settings.login_lockout_base_seconds * 2**exponent,
        )
        await throttle.lock(email, seconds)
        await security.record(
            SecurityEventKind.LOGIN_LOCKED, user=user, email=email, ip=ip,
            failures=failures, seconds=seconds,
        )  # fmt: skip


async def mfa_handoff(user: User) -> errors.MfaRequired:
    """The ``mfa_required`` error to raise, carrying a single-use ``mfa_token`` (5 minutes)
    that ``do_complete_mfa`` accepts with the second factor."""
    token = secrets.token_urlsafe(32)
    await repository.HandOffs(services.require_redis()).put(
        "mfa", token, str(user.id), MFA_HANDOFF_SECONDS
    )
    return errors.MfaRequired(
        "this account needs its TOTP or a recovery code",
        details={"mfa_token": token, "expires_in": MFA_HANDOFF_SECONDS},
    )


async def do_login(email: str, password: str, otp: str | None, ip: str | None) -> TokenPair:
    """Password (+ second factor once enrolled) → a new session.

    Lockout: ``login_lockout_threshold`` failures in a row lock the address for
    ``base × 2^(failures − threshold)`` seconds (capped); a success clears the count.
    Raises ``InvalidCredentials``, ``AccountLocked``, ``EmailNotVerified``,
    ``AccountSuspended``, ``MfaRequired`` (with ``details.mfa_token``), ``InvalidMfaCode``,
    ``RateLimited``.
    """
    settings = get_settings()
    await rate_limiter().hit("login", settings.rate_limit_login, ip or "-")
    email = normalise_email(email)
    throttle = repository.LoginThrottle(services.require_redis())
    locked = await throttle.locked_for(email)
    if locked:
        raise errors.AccountLocked("too many failed logins; try again later", retry_after=locked)
    user = await repository.user_by_email(email)
    if not await verify_password(user.password_hash if user else None, password):
        await login_failed(email, user, ip, "password")
        raise errors.InvalidCredentials("wrong e-mail or password")
    assert user is not None and user.id is not None
    require_usable(user)
    amr = ["pwd"]
    if user.mfa_enabled:
        if not otp:
            raise await mfa_handoff(user)
        try:
            amr.append(await second_factor(user, otp, ip))
        except errors.InvalidMfaCode:
            await login_failed(email, user, ip, "mfa")
            raise
    await throttle.clear(email)
    if user.password_hash and needs_rehash(user.password_hash):
        await repository.update_user(user.id, {"password_hash": await hash_password(password)})
    return await open_session(user, amr)


async def do_complete_mfa(mfa_token: str, otp: str, ip: str | None) -> TokenPair:
    """Second step of a login that answered ``mfa_required``. The hand-off is single use.

    Raises ``InvalidMfaCode`` (also for an unknown or expired ``mfa_token``),
    ``AccountSuspended``, ``RateLimited``.
    """
    user_id = await repository.HandOffs(services.require_redis()).take("mfa", mfa_token)
    user = await repository.user_by_id(user_id) if user_id else None
    if user is None or not user.mfa_enabled:
        raise errors.InvalidMfaCode(
            "the MFA step expired; log in again", details={"reason": "unknown_mfa_token"}
        )
    require_usable(user)
    try:
        factor = await second_factor(user, otp, ip)
    except errors.InvalidMfaCode:
        await login_failed(user.email, user, ip, "mfa")
        raise
    await repository.LoginThrottle(services.require_redis()).clear(user.email)
    return await open_session(user, ["pwd" if user.password_hash else "oauth", factor])
