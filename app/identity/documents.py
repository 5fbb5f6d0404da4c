"""Stored shapes of the identity domain: users, e-mailed codes, security events, sequences.

Refresh-token families, login failures and rate limits are not here: they live in Redis
(repository.py), where they expire by themselves.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def utcnow() -> dt.datetime:
    """Now, UTC, truncated to the millisecond MongoDB keeps (so a read-back compares equal)."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class UserStatus(StrEnum):
    """PENDING until the e-mail is verified; SUSPENDED by an admin (every token stops at once);
    ERASED: anonymised on its holder's erasure request (``directory.do_erase_account``) — it
    can never sign in, refresh, reset a password or be reactivated; the record stays so that
    everything naming its id still resolves."""

    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERASED = "ERASED"


class PlatformRole(StrEnum):
    """Platform roles (docs/domain.md: not the per-club roles owner/admin/treasurer/member)."""

    USER = "user"
    ADMIN = "admin"
    FOREMAN = "foreman"
    ADVISOR = "advisor"
    CRM_AGENT = "crm_agent"
    CRM_MANAGER = "crm_manager"


class KycStatus(StrEnum):
    """Derived from the person's KYC documents by app/kyc/service.py (``derive_status``):
    ``verified`` (PAN and a proof of address verified and unexpired), ``pending`` (a document
    awaits review), ``rejected`` (the latest of a kind was rejected: re-submit), ``expired``
    (a verified document expired), ``incomplete`` (something is still missing),
    ``not_started`` (no documents)."""

    NOT_STARTED = "not_started"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    EXPIRED = "expired"
    INCOMPLETE = "incomplete"


class NotificationPreferences(BaseModel):
    """Channels a person accepts notifications on."""

    email: bool = True
    sms: bool = False
    push: bool = True


class TotpState(BaseModel):
    """TOTP MFA of one account. Secrets are AES-GCM encrypted (keys.py), never stored plain.

    ``pending_secret`` is set by enrolment and becomes ``secret`` on confirmation;
    ``last_step`` is the 30-second step of the last accepted code (a code of that step or an
    earlier one is refused: no replay); ``recovery_code_hashes`` are HMAC-SHA256 of the unused
    recovery codes.
    """

    secret: str | None = None
    pending_secret: str | None = None
    enabled_at: dt.datetime | None = None
    last_step: int = 0
    recovery_code_hashes: list[str] = Field(default_factory=list)


class OAuthLink(BaseModel):
    """An external identity (OpenID Connect ``iss`` + ``sub``) that logs in as this user."""

    provider: str
    subject: str
    linked_at: dt.datetime


class User(Document):
    """A person's account. ``email`` is stored lower-cased; ``password_hash`` is argon2id (None:
    an account created through OpenID Connect that never set a password)."""

    email: str
    full_name: str
    phone: str | None = None
    password_hash: str | None = None
    status: UserStatus = UserStatus.PENDING
    roles: list[PlatformRole] = Field(default_factory=lambda: [PlatformRole.USER])
    member_id: str | None = None  # UCFSIN-<year>-<6-digit sequence>, given on verification
    email_verified_at: dt.datetime | None = None
    notification_preferences: NotificationPreferences = Field(
        default_factory=NotificationPreferences
    )
    kyc_status: KycStatus = KycStatus.NOT_STARTED
    mfa: TotpState = Field(default_factory=TotpState)
    oauth: list[OAuthLink] = Field(default_factory=list)
    suspended_at: dt.datetime | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)

    @property
    def mfa_enabled(self) -> bool:
        """True once a TOTP secret has been confirmed."""
        return self.mfa.secret is not None

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
            IndexModel([("member_id", ASCENDING)], name="member_id"),
            IndexModel(
                [("oauth.provider", ASCENDING), ("oauth.subject", ASCENDING)], name="oauth_link"
            ),
            IndexModel([("created_at", DESCENDING)], name="created"),
        ]


class CodePurpose(StrEnum):
    """What an e-mailed code is for."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"


class EmailCode(Document):
    """The one live 6-digit code of a user for one purpose (a new code replaces the old one).

    ``code_hash`` is HMAC-SHA256 (keys.py) of purpose, user and code; ``attempts`` counts
    checks, at most ``email_code_max_attempts``; ``consumed_at`` is set by the one check that
    succeeded.
    """

    user_id: PydanticObjectId
    purpose: CodePurpose
    code_hash: str
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    attempts: int = 0
    consumed_at: dt.datetime | None = None

    class Settings:
        name = "email_codes"
        indexes = [
            IndexModel(
                [("user_id", ASCENDING), ("purpose", ASCENDING)], unique=True, name="user_purpose"
            ),
            # Spent and expired codes go away a day after expiry (TTL index).
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=86400, name="expiry"),
        ]


class SecurityEventKind(StrEnum):
    """What a security event records."""

    LOGIN_FAILED = "login_failed"
    LOGIN_LOCKED = "login_locked"
    MFA_FAILED = "mfa_failed"
    MFA_ENABLED = "mfa_enabled"
    MFA_DISABLED = "mfa_disabled"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    OAUTH_LINKED = "oauth_linked"
    SESSIONS_REVOKED = "sessions_revoked"


class SecurityEvent(Document):
    """Something a security reviewer (or the account holder) should be able to see later."""

    kind: SecurityEventKind
    user_id: PydanticObjectId | None = None
    email: str | None = None
    at: dt.datetime = Field(default_factory=utcnow)
    ip: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "security_events"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("at", DESCENDING)], name="user_time"),
            IndexModel([("kind", ASCENDING), ("at", DESCENDING)], name="kind_time"),
        ]


class Sequence(Document):
    """A named gapless counter (``member_id:2026``). Created with value 0 before it is first
    incremented, then moved only by ``$inc`` with ``return_document=AFTER`` inside the
    transaction that uses the number (docs/local-services.md: no concurrent upserts)."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "sequences"
