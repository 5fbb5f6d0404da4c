"""TOTP second factor: enrolment, confirmation, recovery codes, turning it off, and the checks
that accept a second factor (at login and as a high-value action's step-up).

A TOTP code is accepted once and only for a later time step than the last accepted one; a
recovery code once. Five wrong codes in five minutes block the account's second factor
(``rate_limit_mfa``).
"""

from __future__ import annotations

from app.config import get_settings
from app.identity import errors, repository, security, totp
from app.identity.documents import SecurityEventKind, User, utcnow
from app.identity.keys import code_hash, decrypt_secret, encrypt_secret
from app.identity.schemas import TotpEnrolment
from app.identity.sessions import Principal
from app.ratelimit import rate_limiter


async def second_factor(user: User, code: str, ip: str | None) -> str:
    """Accept a TOTP code (later step than the last accepted) or an unused recovery code;
    return the ``amr`` value. Raises ``InvalidMfaCode`` (recorded) or ``RateLimited``."""
    settings = get_settings()
    assert user.id is not None and user.mfa.secret is not None
    # Only failures count: 5 wrong codes in 5 minutes block the account's second factor.
    await rate_limiter().check("mfa_failure", settings.rate_limit_mfa, str(user.id))
    if totp.looks_like_totp(code):
        secret = decrypt_secret(settings, user.mfa.secret, str(user.id))
        step = totp.matching_step(secret, code)
        if step is not None and await repository.accept_totp_step(user.id, step):
            return "otp"
        reason = "replayed" if step is not None else "wrong_totp"
    else:
        digest = code_hash(settings, "recovery", str(user.id), totp.normalise_recovery_code(code))
        if await repository.use_recovery_code(user.id, digest):
            fresh = await repository.user_by_id(user.id)
            left = len(fresh.mfa.recovery_code_hashes) if fresh else 0
            await security.record(
                SecurityEventKind.RECOVERY_CODE_USED, user=user, ip=ip, remaining=left
            )
            return "recovery"
        reason = "wrong_recovery_code"
    await rate_limiter().count("mfa_failure", settings.rate_limit_mfa, str(user.id))
    await security.record(SecurityEventKind.MFA_FAILED, user=user, ip=ip, reason=reason)
    raise errors.InvalidMfaCode("the code is not valid", details={"reason": reason})


def recovery_hashes(user: User, codes: list[str]) -> list[str]:
    """The keyed hashes stored for ``user``'s recovery ``codes``."""
    settings = get_settings()
    return [
        code_hash(settings, "recovery", str(user.id), totp.normalise_recovery_code(code))
        for code in codes
    ]


async def do_enrol_totp(user: User) -> TotpEnrolment:
    """Start (or restart) TOTP enrolment. Raises ``MfaAlreadyEnabled``."""
    if user.mfa_enabled:
        raise errors.MfaAlreadyEnabled("TOTP is already enabled")
    settings = get_settings()
    assert user.id is not None
    secret = totp.new_secret()
    await repository.update_user(
        user.id, {"mfa.pending_secret": encrypt_secret(settings, secret, str(user.id))}
    )
    return TotpEnrolment(
        secret=secret,
        otpauth_uri=totp.provisioning_uri(secret, user.email, settings.totp_issuer),
        qr_png_url="/api/v1/me/mfa/totp/qr.png",
    )


def totp_qr_png(user: User) -> bytes:
    """The QR code of the pending enrolment. Raises ``MfaNotPending``."""
    if not user.mfa.pending_secret:
        raise errors.MfaNotPending("no TOTP enrolment in progress")
    settings = get_settings()
    secret = decrypt_secret(settings, user.mfa.pending_secret, str(user.id))
    return totp.qr_png(totp.provisioning_uri(secret, user.email, settings.totp_issuer))


async def do_confirm_totp(user: User, code: str, ip: str | None) -> list[str]:
    """Enable TOTP with a code from the app; return new recovery codes (shown once).

    Raises ``MfaNotPending``, ``MfaAlreadyEnabled``, ``InvalidMfaCode``, ``RateLimited``.
    """
    settings = get_settings()
    assert user.id is not None
    if user.mfa_enabled:
        raise errors.MfaAlreadyEnabled("TOTP is already enabled")
    if not user.mfa.pending_secret:
        raise errors.MfaNotPending("no TOTP enrolment in progress")
    await rate_limiter().check("mfa_failure", settings.rate_limit_mfa, str(user.id))
    secret = decrypt_secret(settings, user.mfa.pending_secret, str(user.id))
    step = totp.matching_step(secret, code)
    if step is None:
        await rate_limiter().count("mfa_failure", settings.rate_limit_mfa, str(user.id))
        await security.record(SecurityEventKind.MFA_FAILED, user=user, ip=ip, reason="enrolment")
        raise errors.InvalidMfaCode("the code is not valid", details={"reason": "wrong_totp"})
    codes = totp.new_recovery_codes()
    updated = await repository.update_user(
        user.id,
        {
            "mfa.secret": user.mfa.pending_secret,
            "mfa.pending_secret": None,
            "mfa.enabled_at": utcnow(),
            "mfa.last_step": step,
            "mfa.recovery_code_hashes": recovery_hashes(user, codes),
        },
        guard={"mfa.secret": None},
    )
    if updated is None:
        raise errors.MfaAlreadyEnabled("TOTP is already enabled")
    await security.record(SecurityEventKind.MFA_ENABLED, user=user, ip=ip)
    return codes


async def do_regenerate_recovery_codes(user: User, ip: str | None) -> list[str]:
    """Replace every recovery code (after a step-up). Raises ``MfaNotEnabled``."""
    if not user.mfa_enabled:
        raise errors.MfaNotEnabled("TOTP is not enabled")
    assert user.id is not None
    codes = totp.new_recovery_codes()
    await repository.update_user(
        user.id, {"mfa.recovery_code_hashes": recovery_hashes(user, codes)}
    )
    await security.record(SecurityEventKind.RECOVERY_CODES_REGENERATED, user=user, ip=ip)
    return codes


async def do_disable_totp(user: User, ip: str | None) -> User:
    """Turn TOTP off (after a step-up). Raises ``MfaNotEnabled``."""
    if not user.mfa_enabled:
        raise errors.MfaNotEnabled("TOTP is not enabled")
    assert user.id is not None
    updated = await repository.update_user(
        user.id,
        {
            "mfa.secret": None,
            "mfa.pending_secret": None,
            "mfa.enabled_at": None,
            "mfa.recovery_code_hashes": [],
        },
    )
    await security.record(SecurityEventKind.MFA_DISABLED, user=user, ip=ip)
    assert updated is not None
    return updated


async def check_step_up(principal: Principal, code: str | None, ip: str | None) -> None:
    """A high-value action's check: a fresh TOTP (or recovery) code from an account with
    MFA. Raises ``MfaEnrollmentRequired``, ``StepUpRequired``, ``StepUpFailed``,
    ``RateLimited``."""
    user = principal.user
    if not user.mfa_enabled:
        raise errors.MfaEnrollmentRequired("enrol TOTP MFA before this action")
    if not code or not code.strip():
        raise errors.StepUpRequired(
            "this action needs a fresh TOTP code", details={"header": "X-Step-Up-Code"}
        )
    try:
        await second_factor(user, code.strip(), ip)
    except errors.InvalidMfaCode as exc:
        raise errors.StepUpFailed("the step-up code is not valid", details=exc.details) from exc
