"""Identity payloads seen by clients (HTTP request/response bodies and query strings)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator

from app.identity.documents import (
    KycStatus,
    NotificationPreferences,
    PlatformRole,
    SecurityEvent,
    User,
    UserStatus,
)

Email = Annotated[EmailStr, Field(max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9]{7,15}$")]
SixDigits = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$")]
# A TOTP code (6 digits) or a recovery code (``xxxxx-xxxxx``).
SecondFactor = Annotated[str, StringConstraints(strip_whitespace=True, min_length=6, max_length=32)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


def normalise_email(email: str) -> str:
    """Addresses are compared and stored lower-cased and trimmed."""
    return email.strip().lower()


class SignupRequest(BaseModel):
    """``POST /api/v1/auth/signup``."""

    email: Email
    password: Password
    full_name: FullName
    phone: Phone | None = None


class VerificationSent(BaseModel):
    """The same answer whether or not the address already has an account (no enumeration)."""

    status: Literal["verification_sent"] = "verification_sent"
    email: str
    code_expires_in: int = Field(description="seconds the mailed code stays valid")


class VerifyEmailRequest(BaseModel):
    """``POST /api/v1/auth/verify-email``."""

    email: Email
    code: SixDigits


class EmailRequest(BaseModel):
    """A request naming only an address (resend, forgot password)."""

    email: Email


class CodeSent(BaseModel):
    """Sent if the address has an account that can use it (the answer does not say)."""

    status: Literal["code_sent"] = "code_sent"
    email: str
    code_expires_in: int


class LoginRequest(BaseModel):
    """``POST /api/v1/auth/login``; ``otp`` (TOTP or recovery code) once MFA is enrolled."""

    email: Email
    password: Password
    otp: SecondFactor | None = None


class TokenPair(BaseModel):
    """A session: a 15-minute access JWT and a 7-day single-use refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="seconds until the access token expires")
    refresh_expires_in: int = Field(description="seconds until the refresh token expires")


class GuestToken(BaseModel):
    """An anonymous token for public market data over Socket.IO; no refresh token."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class TabRefreshRequest(BaseModel):
    """``POST /api/v1/auth/refresh/tab``."""

    refresh_token: Annotated[str, Field(min_length=16, max_length=256)]


class RefreshRequest(TabRefreshRequest):
    """``POST /api/v1/auth/refresh``: ``client_nonce``, optional, is a random value the client
    makes for this one refresh and keeps with the token until the answer arrives. Sent again
    with the same token (the answer was lost: the page reloaded mid-refresh) within 30 s, while
    the new token is unused, it gets the same new token instead of revoking the session."""

    client_nonce: Annotated[
        str | None, Field(default=None, min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")
    ] = None


class TabSession(BaseModel):
    """``POST /api/v1/auth/refresh/tab``: ``session`` replaces the caller's pair (its refresh
    token was rotated); ``tab`` is a new session for another tab of the same browser."""

    session: TokenPair
    tab: TokenPair


class LogoutRequest(BaseModel):
    """``POST /api/v1/auth/logout``: ends this session, or every session with ``all_sessions``."""

    all_sessions: bool = False


class LogoutResult(BaseModel):
    """How many sessions were ended."""

    revoked_sessions: int


class MfaLoginRequest(BaseModel):
    """``POST /api/v1/auth/mfa``: the second step after a ``mfa_required`` answer."""

    mfa_token: Annotated[str, Field(min_length=16, max_length=128)]
    otp: SecondFactor


class ResetPasswordRequest(BaseModel):
    """``POST /api/v1/auth/password/reset``."""

    email: Email
    code: SixDigits
    new_password: Password


class StatusOut(BaseModel):
    """A plain acknowledgement."""

    status: str


class MeOut(BaseModel):
    """The account as its holder sees it."""

    id: str
    email: str
    full_name: str
    phone: str | None
    status: UserStatus
    roles: list[PlatformRole]
    member_id: str | None
    email_verified: bool
    has_password: bool
    mfa_enabled: bool
    kyc_status: KycStatus
    notification_preferences: NotificationPreferences
    created_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> MeOut:
        """Render a stored user."""
        return cls(
            id=str(user.id),
            email=user.email,
            full_name=user.full_name,
            phone=user.phone,
            status=user.status,
            roles=user.roles,
            member_id=user.member_id,
            email_verified=user.email_verified_at is not None,
            has_password=user.password_hash is not None,
            mfa_enabled=user.mfa_enabled,
            kyc_status=user.kyc_status,
            notification_preferences=user.notification_preferences,
            created_at=user.created_at,
        )


class NotificationPreferencesPatch(BaseModel):
    """Only the channels given change."""

    email: bool | None = None
    sms: bool | None = None
    push: bool | None = None


class MePatch(BaseModel):
    """``PATCH /api/v1/me``: only the fields given change; ``phone: null`` removes it."""

    full_name: FullName | None = None
    phone: Phone | None = None
    notification_preferences: NotificationPreferencesPatch | None = None


class TotpEnrolment(BaseModel):
    """A TOTP secret to add to an authenticator app; confirm it with a code to enable MFA."""

    secret: str = Field(description="base32 secret, for manual entry")
    otpauth_uri: str
    qr_png_url: str = Field(description="GET it (with the bearer token) for a QR code PNG")


class CodeRequest(BaseModel):
    """A TOTP code."""

    code: SixDigits


class RecoveryCodes(BaseModel):
    """Single-use recovery codes, shown once: store them somewhere safe."""

    recovery_codes: list[str]


class AdminUserOut(MeOut):
    """The account as an admin sees it."""

    suspended_at: dt.datetime | None
    updated_at: dt.datetime
    oauth_providers: list[str]

    @classmethod
    def of_admin(cls, user: User) -> AdminUserOut:
        """Render a stored user for the admin console."""
        return cls(
            **MeOut.of(user).model_dump(),
            suspended_at=user.suspended_at,
            updated_at=user.updated_at,
            oauth_providers=sorted({link.provider for link in user.oauth}),
        )


class UserQuery(BaseModel):
    """``GET /api/v1/admin/users`` query: search text, filters, 1-based page."""

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    status: UserStatus | None = None
    role: PlatformRole | None = None
    page: int = Field(default=1, ge=1, le=10_000)
    page_size: int = Field(default=20, ge=1, le=100)


class UserList(BaseModel):
    """One page of users, newest first."""

    items: list[AdminUserOut]
    total: int
    page: int
    page_size: int


class SuspendRequest(BaseModel):
    """Why (kept in the audit log)."""

    reason: Reason


class RolesRequest(BaseModel):
    """The complete new set of platform roles (``user`` is always kept) and why."""

    roles: Annotated[list[PlatformRole], Field(min_length=1, max_length=6)]
    reason: Reason

    @field_validator("roles")
    @classmethod
    def _with_user(cls, roles: list[PlatformRole]) -> list[PlatformRole]:
        wanted = set(roles) | {PlatformRole.USER}
        return [role for role in PlatformRole if role in wanted]


class SecurityEventOut(BaseModel):
    """One recorded security event."""

    id: str
    kind: str
    user_id: str | None
    email: str | None
    at: dt.datetime
    ip: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: SecurityEvent) -> SecurityEventOut:
        """Render a stored event."""
        return cls(
            id=str(event.id),
            kind=event.kind.value,
            user_id=str(event.user_id) if event.user_id else None,
            email=event.email,
            at=event.at,
            ip=event.ip,
            details=event.details,
        )


class SecurityEventQuery(BaseModel):
    """``GET /api/v1/admin/security-events`` query."""

    user_id: str | None = None
    kind: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


class SecurityEventList(BaseModel):
    """Newest first."""

    items: list[SecurityEventOut]


class AuditRecordOut(BaseModel):
    """One record of the platform's hash-chained audit log."""

    seq: int
    at: dt.datetime
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditQuery(BaseModel):
    """``GET /api/v1/admin/audit`` query."""

    target_id: str | None = None
    limit: int = Field(default=50, ge=1, le=500)


class AuditList(BaseModel):
    """Newest first, and whether the whole platform chain verifies."""

    items: list[AuditRecordOut]
    chain_ok: bool
    chain_checked: int
