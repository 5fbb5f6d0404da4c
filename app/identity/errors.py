"""Failures of the identity domain, each with its HTTP status and stable code.

Token failures are 401 and each kind has its own code, so a client knows whether to refresh
(``token_expired``), to log in again (``session_revoked``) or that something is wrong.
"""

from __future__ import annotations

from typing import Any

from app.errors import AppError, NotFound, RateLimited

BEARER = {"WWW-Authenticate": 'Bearer realm="samooh"'}


class Unauthenticated(AppError):
    """Base of the 401s: the request carries no acceptable credentials."""

    status = 401
    code = "authentication_required"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers=BEARER)


class TokenMalformed(Unauthenticated):
    """Not a compact JWS, or its header/claims are not JSON."""

    code = "token_malformed"


class TokenAlgorithmNotAllowed(Unauthenticated):
    """The header names an algorithm outside the allow-list (``none`` included)."""

    code = "token_algorithm_not_allowed"


class TokenSignatureInvalid(Unauthenticated):
    """Signed by another key, or the header or claims were changed after signing."""

    code = "token_signature_invalid"


class TokenExpired(Unauthenticated):
    """``exp`` is in the past: refresh, then retry."""

    code = "token_expired"


class TokenNotYetValid(Unauthenticated):
    """``nbf`` (or ``iat``) is in the future."""

    code = "token_not_yet_valid"


class TokenAudienceInvalid(Unauthenticated):
    """``aud`` is not this API."""

    code = "token_audience_invalid"


class TokenIssuerInvalid(Unauthenticated):
    """``iss`` is not this platform."""

    code = "token_issuer_invalid"


class TokenClaimsInvalid(Unauthenticated):
    """A required claim (``sub``, ``jti``, ``exp``, ``nbf``, ``iat``, ``typ``) is missing or
    wrong."""

    code = "token_claims_invalid"


class SessionRevoked(Unauthenticated):
    """The session behind the token was logged out, reset, or revoked for reuse."""

    code = "session_revoked"


class GuestTokenNotAccepted(Unauthenticated):
    """A guest (market-data) token was presented where an account is needed."""

    code = "account_required"


class InvalidCredentials(Unauthenticated):
    """Wrong e-mail or password — the same answer for both, so accounts are not revealed."""

    code = "invalid_credentials"


class MfaRequired(Unauthenticated):
    """The password was right and the account has MFA: send the code (``otp``), or post it
    with ``details.mfa_token`` to ``/api/v1/auth/mfa``."""

    code = "mfa_required"


class InvalidMfaCode(Unauthenticated):
    """The TOTP or recovery code is wrong, used already, or outside the time window."""

    code = "invalid_mfa_code"


class RefreshTokenInvalid(Unauthenticated):
    """Unknown or expired refresh token."""

    code = "refresh_token_invalid"


class RefreshTokenReused(Unauthenticated):
    """A refresh token was presented a second time: its whole family is now revoked."""

    code = "refresh_token_reused"


class AccountSuspended(AppError):
    """The account is suspended; nothing works until an admin reactivates it (403)."""

    status = 403
    code = "account_suspended"


class EmailNotVerified(AppError):
    """The account has not verified its e-mail yet (403)."""

    status = 403
    code = "email_not_verified"


class Forbidden(AppError):
    """The account lacks the platform role the action needs (403, ``details.required``)."""

    status = 403
    code = "forbidden"


class StepUpRequired(AppError):
    """A high-value action needs a fresh TOTP or recovery code in the ``X-Step-Up-Code``
    header (403)."""

    status = 403
    code = "step_up_required"


class MfaEnrollmentRequired(AppError):
    """High-value actions need TOTP MFA enrolled first (403)."""

    status = 403
    code = "mfa_enrollment_required"


class WeakPassword(AppError):
    """The password breaks the policy (422); ``details.reasons`` lists ``too_short``,
    ``too_long``, ``too_common``, ``contains_email``."""

    status = 422
    code = "weak_password"


class InvalidCode(AppError):
    """Wrong e-mailed code (or no code for that address); ``details.attempts_left`` (400)."""

    status = 400
    code = "invalid_code"


class CodeExpired(AppError):
    """The e-mailed code is older than its lifetime: ask for a new one (400)."""

    status = 400
    code = "code_expired"


class TooManyAttempts(AppError):
    """The code was tried the maximum number of times: ask for a new one (400)."""

    status = 400
    code = "too_many_attempts"


class AccountLocked(RateLimited):
    """Too many failed logins for this e-mail: locked for ``retry_after`` seconds (429)."""

    code = "account_locked"


class MfaAlreadyEnabled(AppError):
    """TOTP is already confirmed on this account (409)."""

    status = 409
    code = "mfa_already_enabled"


class MfaNotPending(AppError):
    """No enrolment to confirm or show: call enrol first (409)."""

    status = 409
    code = "mfa_not_enrolling"


class MfaNotEnabled(AppError):
    """The account has no TOTP MFA (409)."""

    status = 409
    code = "mfa_not_enabled"


class UserNotFound(NotFound):
    """No such user (404)."""

    code = "user_not_found"


class CannotChangeSelf(AppError):
    """An admin cannot suspend themselves or change their own roles (409): another admin must."""

    status = 409
    code = "cannot_change_own_account"


class OAuthNotConfigured(NotFound):
    """The provider has no client id configured here (404)."""

    code = "oauth_not_configured"


class OAuthStateMismatch(AppError):
    """The callback's ``state`` is unknown, used or expired: start again (400)."""

    status = 400
    code = "oauth_state_mismatch"


class OAuthFailed(AppError):
    """The provider refused the code, or its ID token failed verification (401,
    ``details.reason``)."""

    status = 401
    code = "oauth_failed"


class OAuthEmailUnverified(AppError):
    """The provider does not vouch for the e-mail address (403)."""

    status = 403
    code = "oauth_email_unverified"


class ProviderUnavailable(AppError):
    """The identity provider or the mail relay did not answer (503, ``details.service``)."""

    status = 503
    code = "service_unavailable"


class StepUpFailed(AppError):
    """The step-up code is wrong, already used or outside its time window (403)."""

    status = 403
    code = "step_up_failed"
