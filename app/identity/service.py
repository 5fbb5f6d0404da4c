"""Identity rules: sign-up and e-mail verification, login with lockout and MFA, sessions with
rotating refresh tokens, password reset, TOTP, OpenID Connect login, and the admin's actions.

``check_*`` validates, ``do_*`` changes state. One instance: ``identity_service``. Requests pass
the client's IP (for rate limits and security events) explicitly. Settings and clients are read
when called, inside the running loop.

Enumeration (which addresses have accounts) is not revealed by sign-up, resend or forgot
password: they answer the same for every address and mail the address instead ("you already
have an account"). Login answers ``invalid_credentials`` for an unknown address and a wrong
password alike, after the same argon2 work.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.documents import AuditRecord
from app.audit.service import PLATFORM_CHAIN, ChainReport, audit_service
from app.config import Settings, get_settings
from app.db import run_in_transaction
from app.extensions import services
from app.identity import errors, repository, totp
from app.identity.documents import (
    CodePurpose,
    EmailCode,
    OAuthLink,
    PlatformRole,
    SecurityEvent,
    SecurityEventKind,
    User,
    UserStatus,
    utcnow,
)
from app.identity.keys import code_hash, codes_equal, decrypt_secret, encrypt_secret
from app.identity.oauth import OidcProvider, decode_state, encode_state
from app.identity.passwords import (
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.identity.schemas import (
    CodeSent,
    GuestToken,
    MePatch,
    SignupRequest,
    TokenPair,
    TotpEnrolment,
    VerificationSent,
    normalise_email,
)
from app.identity.tokens import AccessClaims, issue_token, verify_token
from app.logging import get_logger
from app.mail.sender import send_mail
from app.ratelimit import rate_limiter
from app.realtime import control
from app.realtime.rooms import user_room

log = get_logger(__name__)

MEMBER_ID_PREFIX = "UCFSIN"
MFA_HANDOFF_SECONDS = 300
OAUTH_STATE_SECONDS = 600
SESSION_REVOKED_EVENT = "session:revoked"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the current stored user (status and roles as of now) and the token."""

    user: User
    claims: AccessClaims

    @property
    def user_id(self) -> str:
        """The user's id as a string."""
        return str(self.user.id)

    def has_role(self, *roles: PlatformRole) -> bool:
        """True when the user holds any of ``roles`` now."""
        return any(role in self.user.roles for role in roles)


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """What a socket's session keeps: the user (None for a guest) and roles at connect time."""

    user_id: str | None
    roles: list[str]
    family: str | None

    @property
    def is_guest(self) -> bool:
        """True for an anonymous market-data socket."""
        return self.user_id is None


def format_member_id(year: int, number: int) -> str:
    """``UCFSIN-<year>-<6-digit sequence>`` (docs/domain.md, chit funds: member id)."""
    return f"{MEMBER_ID_PREFIX}-{year}-{number:06d}"


class IdentityService:
    """Accounts, sessions and access. Stateless; reads settings and clients per call."""

    # -----------------------------------------------------------------------------------------
    # helpers

    @staticmethod
    def _settings() -> Settings:
        return get_settings()

    @staticmethod
    def _sessions() -> repository.SessionStore:
        return repository.SessionStore(services.require_redis())

    async def _event(
        self,
        kind: SecurityEventKind,
        *,
        user: User | None = None,
        email: str | None = None,
        ip: str | None = None,
        **details: Any,
    ) -> None:
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

    async def _mail_code(self, user: User, purpose: CodePurpose, *, charge: bool = True) -> bool:
        """Make a new code for ``purpose`` (replacing the live one) and mail it; return whether
        a mail went out. With ``charge`` the address's mail budget (``rate_limit_resend``) is
        counted here and an exhausted budget silently sends nothing."""
        settings = self._settings()
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
        if purpose is CodePurpose.VERIFY_EMAIL:
            subject = "Your Samooh verification code"
            body = (
                f"Hello {user.full_name},\n\nyour Samooh verification code is {code}\n\n"
                f"It expires in {minutes} minutes. If you did not sign up, ignore this mail.\n"
            )
        else:
            subject = "Your Samooh password reset code"
            body = (
                f"Hello {user.full_name},\n\nyour Samooh password reset code is {code}\n\n"
                f"It expires in {minutes} minutes. If you did not ask for it, ignore this mail: "
                "your password stays as it is.\n"
            )
        return await send_mail(settings, to=user.email, subject=subject, body=body)

    async def _check_code(self, user: User, purpose: CodePurpose, code: str) -> EmailCode:
        """Count one attempt and compare in constant time; return the matching, unconsumed code.

        Raises ``InvalidCode`` (wrong, or none), ``CodeExpired``, ``TooManyAttempts``.
        """
        settings = self._settings()
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

    async def _open_session(self, user: User, amr: list[str]) -> TokenPair:
        settings = self._settings()
        family = secrets.token_hex(16)
        refresh = secrets.token_urlsafe(48)
        await self._sessions().create(
            str(user.id), family, refresh, settings.refresh_token_ttl_seconds, amr
        )
        access = issue_token(
            settings,
            subject=str(user.id),
            token_type="access",
            roles=[role.value for role in user.roles],
            family=family,
            amr=amr,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=settings.access_token_ttl_seconds,
            refresh_expires_in=settings.refresh_token_ttl_seconds,
        )

    async def _activate(
        self, user: User, *, code: EmailCode | None, extra: dict[str, Any] | None = None
    ) -> User:
        """PENDING → ACTIVE with the next member id, in one transaction with consuming the code:
        a failed activation takes no number (no gaps), a number is never given twice."""
        now = utcnow()
        sequence = f"member_id:{now.year}"
        await repository.ensure_sequence(sequence)
        assert user.id is not None
        user_id = user.id

        async def body(tx: AsyncClientSession) -> User:
            if code is not None:
                assert code.id is not None
                if not await repository.consume_code(code.id, session=tx):
                    raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
            number = await repository.next_in_sequence(sequence, session=tx)
            updated = await repository.update_user(
                user_id,
                {
                    "status": UserStatus.ACTIVE.value,
                    "member_id": format_member_id(now.year, number),
                    "email_verified_at": now,
                    **(extra or {}),
                },
                guard={"status": UserStatus.PENDING.value},
                session=tx,
            )
            if updated is None:
                raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
            return updated

        return await run_in_transaction(body)

    async def _second_factor(self, user: User, code: str, ip: str | None) -> str:
        """Accept a TOTP code (later step than the last accepted) or an unused recovery code;
        return the ``amr`` value. Raises ``InvalidMfaCode`` (recorded) or ``RateLimited``."""
        settings = self._settings()
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
            digest = code_hash(
                settings, "recovery", str(user.id), totp.normalise_recovery_code(code)
            )
            if await repository.use_recovery_code(user.id, digest):
                fresh = await repository.user_by_id(user.id)
                left = len(fresh.mfa.recovery_code_hashes) if fresh else 0
                await self._event(
                    SecurityEventKind.RECOVERY_CODE_USED, user=user, ip=ip, remaining=left
                )
                return "recovery"
            reason = "wrong_recovery_code"
        await rate_limiter().count("mfa_failure", settings.rate_limit_mfa, str(user.id))
        await self._event(SecurityEventKind.MFA_FAILED, user=user, ip=ip, reason=reason)
        raise errors.InvalidMfaCode("the code is not valid", details={"reason": reason})

    async def _login_failed(self, email: str, user: User | None, ip: str | None, why: str) -> None:
        settings = self._settings()
        throttle = repository.LoginThrottle(services.require_redis())
        failures = await throttle.record_failure(email)
        await self._event(
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
            await self._event(
                SecurityEventKind.LOGIN_LOCKED, user=user, email=email, ip=ip,
                failures=failures, seconds=seconds,
            )  # fmt: skip

    async def _mfa_handoff(self, user: User) -> errors.MfaRequired:
        token = secrets.token_urlsafe(32)
        await repository.HandOffs(services.require_redis()).put(
            "mfa", token, str(user.id), MFA_HANDOFF_SECONDS
        )
        return errors.MfaRequired(
            "this account needs its TOTP or a recovery code",
            details={"mfa_token": token, "expires_in": MFA_HANDOFF_SECONDS},
        )

    @staticmethod
    def _require_usable(user: User) -> None:
        if user.status is UserStatus.SUSPENDED:
            raise errors.AccountSuspended("this account is suspended")
        if user.status is UserStatus.PENDING:
            raise errors.EmailNotVerified("verify the e-mail address first")

    async def _disconnect(self, user_id: str, reason: str) -> None:
        """Tell the user's sockets why, then disconnect them on every web process."""
        settings = self._settings()
        sids = await repository.SocketRegistry(services.require_redis()).take_all(user_id)
        now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
        await control.emit_to_room(
            settings.redis_url,
            SESSION_REVOKED_EVENT,
            {"id": secrets.token_hex(8), "ts": now, "reason": reason},
            user_room(user_id),
        )
        await control.disconnect_sids(settings.redis_url, sids)

    # -----------------------------------------------------------------------------------------
    # sign-up and verification

    async def do_signup(self, request: SignupRequest, ip: str | None) -> VerificationSent:
        """Create a PENDING account and mail a 6-digit code.

        An address that already has an account gets the same answer; an ACTIVE one is mailed a
        notice instead of a code, a PENDING one takes the new details (the earlier sign-up was
        never proven) and a new code. Raises ``WeakPassword``, ``RateLimited``.
        """
        settings = self._settings()
        await rate_limiter().hit("signup", settings.rate_limit_signup, ip or "-")
        email = normalise_email(request.email)
        check_password_policy(
            request.password, email=email, min_length=settings.password_min_length
        )
        password_hash = await hash_password(request.password)
        answer = VerificationSent(email=email, code_expires_in=settings.email_code_ttl_seconds)
        user = await repository.user_by_email(email)
        if user is None:
            try:
                user = await repository.insert_user(
                    User(
                        email=email,
                        full_name=request.full_name,
                        phone=request.phone,
                        password_hash=password_hash,
                    )
                )
            except DuplicateKeyError:
                user = await repository.user_by_email(email)
                if user is None:  # pragma: no cover - deleted in between
                    return answer
        elif user.status is UserStatus.PENDING:
            assert user.id is not None
            user = (
                await repository.update_user(
                    user.id,
                    {
                        "full_name": request.full_name,
                        "phone": request.phone,
                        "password_hash": password_hash,
                    },
                    guard={"status": UserStatus.PENDING.value},
                )
                or user
            )
        else:
            # Its own mail budget (same rate as codes): a notice never delays a real code.
            if await rate_limiter().test("notice_mail", settings.rate_limit_resend, email):
                await rate_limiter().hit("notice_mail", settings.rate_limit_resend, email)
                await send_mail(
                    settings,
                    to=email,
                    subject="You already have a Samooh account",
                    body=(
                        "Someone (maybe you) tried to sign up with this address, which already "
                        "has a Samooh account. Log in, or reset your password if you forgot it. "
                        "If it was not you, nothing has changed.\n"
                    ),
                )
            return answer
        if user.status is UserStatus.PENDING:
            await self._mail_code(user, CodePurpose.VERIFY_EMAIL)
        return answer

    async def do_resend_verification(self, email: str, ip: str | None) -> CodeSent:
        """Mail a new verification code to a PENDING account (same answer for any address).

        Raises ``RateLimited`` (429) when the address was mailed less than the throttle ago.
        """
        settings = self._settings()
        email = normalise_email(email)
        await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
        # Counted per address whether or not it has an account: no enumeration.
        await rate_limiter().hit(
            "code_mail", settings.rate_limit_resend, CodePurpose.VERIFY_EMAIL.value, email
        )
        user = await repository.user_by_email(email)
        if user is not None and user.status is UserStatus.PENDING:
            await self._mail_code(user, CodePurpose.VERIFY_EMAIL, charge=False)
        return CodeSent(email=email, code_expires_in=settings.email_code_ttl_seconds)

    async def do_verify_email(self, email: str, code: str, ip: str | None) -> User:
        """Check the code and activate the account with its member id.

        Raises ``InvalidCode``, ``CodeExpired``, ``TooManyAttempts``, ``RateLimited``.
        """
        settings = self._settings()
        await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
        user = await repository.user_by_email(normalise_email(email))
        if user is None or user.status is not UserStatus.PENDING:
            raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
        matched = await self._check_code(user, CodePurpose.VERIFY_EMAIL, code)
        return await self._activate(user, code=matched)

    async def do_provision_user(
        self,
        *,
        email: str,
        password: str | None,
        full_name: str,
        roles: list[PlatformRole] | None = None,
    ) -> User:
        """Create an ACTIVE, verified account directly (demo data, operator scripts, tests).

        Idempotent on the e-mail: an existing account is returned unchanged.
        """
        email = normalise_email(email)
        existing = await repository.user_by_email(email)
        if existing is not None:
            return existing
        user = User(
            email=email,
            full_name=full_name,
            password_hash=await hash_password(password) if password else None,
            roles=sorted(set(roles or []) | {PlatformRole.USER}, key=list(PlatformRole).index),
        )
        try:
            user = await repository.insert_user(user)
        except DuplicateKeyError:
            found = await repository.user_by_email(email)
            assert found is not None
            return found
        return await self._activate(user, code=None)

    # -----------------------------------------------------------------------------------------
    # login, MFA hand-off, refresh, logout

    async def do_login(
        self, email: str, password: str, otp: str | None, ip: str | None
    ) -> TokenPair:
        """Password (+ second factor once enrolled) → a new session.

        Lockout: ``login_lockout_threshold`` failures in a row lock the address for
        ``base × 2^(failures − threshold)`` seconds (capped); a success clears the count.
        Raises ``InvalidCredentials``, ``AccountLocked``, ``EmailNotVerified``,
        ``AccountSuspended``, ``MfaRequired`` (with ``details.mfa_token``), ``InvalidMfaCode``,
        ``RateLimited``.
        """
        settings = self._settings()
        await rate_limiter().hit("login", settings.rate_limit_login, ip or "-")
        email = normalise_email(email)
        throttle = repository.LoginThrottle(services.require_redis())
        locked = await throttle.locked_for(email)
        if locked:
            raise errors.AccountLocked(
                "too many failed logins; try again later", retry_after=locked
            )
        user = await repository.user_by_email(email)
        if not await verify_password(user.password_hash if user else None, password):
            await self._login_failed(email, user, ip, "password")
            raise errors.InvalidCredentials("wrong e-mail or password")
        assert user is not None and user.id is not None
        self._require_usable(user)
        amr = ["pwd"]
        if user.mfa_enabled:
            if not otp:
                raise await self._mfa_handoff(user)
            try:
                amr.append(await self._second_factor(user, otp, ip))
            except errors.InvalidMfaCode:
                await self._login_failed(email, user, ip, "mfa")
                raise
        await throttle.clear(email)
        if user.password_hash and needs_rehash(user.password_hash):
            await repository.update_user(user.id, {"password_hash": await hash_password(password)})
        return await self._open_session(user, amr)

    async def do_complete_mfa(self, mfa_token: str, otp: str, ip: str | None) -> TokenPair:
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
        self._require_usable(user)
        try:
            factor = await self._second_factor(user, otp, ip)
        except errors.InvalidMfaCode:
            await self._login_failed(user.email, user, ip, "mfa")
            raise
        await repository.LoginThrottle(services.require_redis()).clear(user.email)
        return await self._open_session(user, ["pwd" if user.password_hash else "oauth", factor])

    async def do_refresh(self, refresh_token: str, ip: str | None) -> TokenPair:
        """Rotate: the token is spent, a new one of the same session is returned with a fresh
        access token. A spent token presented again revokes the session (recorded).

        Raises ``RefreshTokenInvalid``, ``RefreshTokenReused``, ``SessionRevoked``,
        ``AccountSuspended``, ``RateLimited``.
        """
        settings = self._settings()
        await rate_limiter().hit("refresh", settings.rate_limit_refresh, ip or "-")
        sessions = self._sessions()
        new_token = secrets.token_urlsafe(48)
        rotation = await sessions.rotate(
            refresh_token, new_token, settings.refresh_token_ttl_seconds
        )
        if rotation.outcome == "invalid":
            raise errors.RefreshTokenInvalid("unknown or expired refresh token")
        user = await repository.user_by_id(rotation.user_id)
        if rotation.outcome == "reused":
            await self._event(
                SecurityEventKind.REFRESH_TOKEN_REUSED, user=user, ip=ip, family=rotation.family
            )
            raise errors.RefreshTokenReused(
                "this refresh token was already used: the session is revoked"
            )
        if rotation.outcome == "revoked":
            raise errors.SessionRevoked("the session was ended; log in again")
        if user is None or user.status is not UserStatus.ACTIVE:
            await sessions.revoke(rotation.user_id, rotation.family)
            if user is not None and user.status is UserStatus.SUSPENDED:
                raise errors.AccountSuspended("this account is suspended")
            raise errors.SessionRevoked("the session was ended; log in again")
        access = issue_token(
            settings,
            subject=str(user.id),
            token_type="access",
            roles=[role.value for role in user.roles],
            family=rotation.family,
            amr=await sessions.amr(rotation.family),
        )
        return TokenPair(
            access_token=access,
            refresh_token=new_token,
            expires_in=settings.access_token_ttl_seconds,
            refresh_expires_in=settings.refresh_token_ttl_seconds,
        )

    async def do_logout(self, principal: Principal, all_sessions: bool) -> int:
        """End the caller's session (its access and refresh tokens stop at once), or all of
        the user's sessions; return how many ended."""
        sessions = self._sessions()
        if all_sessions:
            count = await sessions.revoke_all(principal.user_id)
            await self._event(
                SecurityEventKind.SESSIONS_REVOKED, user=principal.user, count=count,
                reason="logout_all",
            )  # fmt: skip
            return count
        assert principal.claims.family is not None
        await sessions.revoke(principal.user_id, principal.claims.family)
        return 1

    async def issue_guest_token(self, ip: str | None) -> GuestToken:
        """An anonymous token for public market data over Socket.IO (no account, no refresh).
        Raises ``RateLimited``."""
        settings = self._settings()
        await rate_limiter().hit("guest", settings.rate_limit_guest, ip or "-")
        token = issue_token(
            settings, subject=f"guest:{secrets.token_hex(8)}", token_type="guest", roles=["guest"]
        )
        return GuestToken(access_token=token, expires_in=settings.guest_token_ttl_seconds)

    # -----------------------------------------------------------------------------------------
    # access checks

    async def authenticate(self, token: str) -> Principal:
        """Verify an access token and load its user as of now.

        Raises the token errors of ``tokens.verify_token``, ``GuestTokenNotAccepted``,
        ``AccountSuspended`` (suspension works at once), ``SessionRevoked``.
        """
        claims = verify_token(self._settings(), token)
        if claims.is_guest:
            raise errors.GuestTokenNotAccepted("this needs an account's access token")
        user = await repository.user_by_id(claims.subject)
        if user is None:
            raise errors.SessionRevoked("the account no longer exists")
        if user.status is UserStatus.SUSPENDED:
            raise errors.AccountSuspended("this account is suspended")
        if user.status is not UserStatus.ACTIVE:
            raise errors.SessionRevoked("the account is not active")
        assert claims.family is not None
        if not await self._sessions().is_active(claims.family):
            raise errors.SessionRevoked("the session was ended; log in again")
        return Principal(user=user, claims=claims)

    async def authenticate_socket(self, auth: Any) -> SocketIdentity:
        """The identity of a Socket.IO connection from its ``auth`` payload ``{"token": …}``.

        Raises ``Unauthenticated`` (no token) and everything ``authenticate`` raises.
        """
        token = auth.get("token") if isinstance(auth, dict) else None
        if isinstance(token, str) and token.lower().startswith("bearer "):
            token = token[7:]
        if not isinstance(token, str) or not token:
            raise errors.Unauthenticated(
                'a connection needs an access token: auth = {"token": "<JWT>"}'
            )
        claims = verify_token(self._settings(), token)
        if claims.is_guest:
            return SocketIdentity(user_id=None, roles=["guest"], family=None)
        principal = await self.authenticate(token)
        return SocketIdentity(
            user_id=principal.user_id,
            roles=[role.value for role in principal.user.roles],
            family=claims.family,
        )

    async def do_track_socket(self, user_id: str, sid: str, connected: bool) -> None:
        """Remember (or forget) a user's socket so suspension can disconnect it."""
        registry = repository.SocketRegistry(services.require_redis())
        if connected:
            await registry.add(user_id, sid)
        else:
            await registry.remove(user_id, sid)

    async def check_step_up(self, principal: Principal, code: str | None, ip: str | None) -> None:
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
            await self._second_factor(user, code.strip(), ip)
        except errors.InvalidMfaCode as exc:
            raise errors.StepUpFailed("the step-up code is not valid", details=exc.details) from exc

    # -----------------------------------------------------------------------------------------
    # password reset

    async def do_forgot_password(self, email: str, ip: str | None) -> CodeSent:
        """Mail a reset code to an ACTIVE account; the same answer for every address.
        Raises ``RateLimited`` (per client IP)."""
        settings = self._settings()
        await rate_limiter().hit("reset", settings.rate_limit_reset, ip or "-")
        email = normalise_email(email)
        user = await repository.user_by_email(email)
        if user is not None and user.status is UserStatus.ACTIVE:
            sent = await self._mail_code(user, CodePurpose.PASSWORD_RESET)
            await self._event(
                SecurityEventKind.PASSWORD_RESET_REQUESTED, user=user, ip=ip, mailed=sent
            )
        return CodeSent(email=email, code_expires_in=settings.email_code_ttl_seconds)

    async def do_reset_password(
        self, email: str, code: str, new_password: str, ip: str | None
    ) -> None:
        """Check the code, set the new password, end every session, clear the lockout.

        Raises ``WeakPassword`` (before the code is tried), ``InvalidCode``, ``CodeExpired``,
        ``TooManyAttempts``, ``RateLimited``.
        """
        settings = self._settings()
        await rate_limiter().hit("verify", settings.rate_limit_verify, ip or "-")
        email = normalise_email(email)
        check_password_policy(new_password, email=email, min_length=settings.password_min_length)
        user = await repository.user_by_email(email)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
        assert user.id is not None
        matched = await self._check_code(user, CodePurpose.PASSWORD_RESET, code)
        assert matched.id is not None
        if not await repository.consume_code(matched.id):
            raise errors.InvalidCode("the code is not valid", details={"attempts_left": 0})
        await repository.update_user(user.id, {"password_hash": await hash_password(new_password)})
        revoked = await self._sessions().revoke_all(str(user.id))
        await repository.LoginThrottle(services.require_redis()).clear(email)
        await self._event(SecurityEventKind.PASSWORD_RESET, user=user, ip=ip, sessions=revoked)
        await self._disconnect(str(user.id), "password_reset")
        await send_mail(
            settings,
            to=email,
            subject="Your Samooh password was changed",
            body="Your password was just reset and every session was logged out. If this was "
            "not you, reset it again at once and contact support.\n",
        )

    # -----------------------------------------------------------------------------------------
    # profile and MFA

    async def do_update_profile(self, user: User, patch: MePatch) -> User:
        """Apply the fields present in ``patch``; return the user after."""
        assert user.id is not None
        changes: dict[str, Any] = {}
        given = patch.model_fields_set
        if "full_name" in given and patch.full_name is not None:
            changes["full_name"] = patch.full_name
        if "phone" in given:
            changes["phone"] = patch.phone
        if patch.notification_preferences is not None:
            for channel, value in patch.notification_preferences.model_dump().items():
                if value is not None:
                    changes[f"notification_preferences.{channel}"] = value
        if not changes:
            return user
        updated = await repository.update_user(user.id, changes)
        if updated is None:
            raise errors.UserNotFound("no such user")
        return updated

    async def do_enrol_totp(self, user: User) -> TotpEnrolment:
        """Start (or restart) TOTP enrolment. Raises ``MfaAlreadyEnabled``."""
        if user.mfa_enabled:
            raise errors.MfaAlreadyEnabled("TOTP is already enabled")
        settings = self._settings()
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

    def totp_qr_png(self, user: User) -> bytes:
        """The QR code of the pending enrolment. Raises ``MfaNotPending``."""
        if not user.mfa.pending_secret:
            raise errors.MfaNotPending("no TOTP enrolment in progress")
        settings = self._settings()
        secret = decrypt_secret(settings, user.mfa.pending_secret, str(user.id))
        return totp.qr_png(totp.provisioning_uri(secret, user.email, settings.totp_issuer))

    async def do_confirm_totp(self, user: User, code: str, ip: str | None) -> list[str]:
        """Enable TOTP with a code from the app; return new recovery codes (shown once).

        Raises ``MfaNotPending``, ``MfaAlreadyEnabled``, ``InvalidMfaCode``, ``RateLimited``.
        """
        settings = self._settings()
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
            await self._event(SecurityEventKind.MFA_FAILED, user=user, ip=ip, reason="enrolment")
            raise errors.InvalidMfaCode("the code is not valid", details={"reason": "wrong_totp"})
        codes = totp.new_recovery_codes()
        updated = await repository.update_user(
            user.id,
            {
                "mfa.secret": user.mfa.pending_secret,
                "mfa.pending_secret": None,
                "mfa.enabled_at": utcnow(),
                "mfa.last_step": step,
                "mfa.recovery_code_hashes": self._recovery_hashes(user, codes),
            },
            guard={"mfa.secret": None},
        )
        if updated is None:
            raise errors.MfaAlreadyEnabled("TOTP is already enabled")
        await self._event(SecurityEventKind.MFA_ENABLED, user=user, ip=ip)
        return codes

    def _recovery_hashes(self, user: User, codes: list[str]) -> list[str]:
        settings = self._settings()
        return [
            code_hash(settings, "recovery", str(user.id), totp.normalise_recovery_code(code))
            for code in codes
        ]

    async def do_regenerate_recovery_codes(self, user: User, ip: str | None) -> list[str]:
        """Replace every recovery code (after a step-up). Raises ``MfaNotEnabled``."""
        if not user.mfa_enabled:
            raise errors.MfaNotEnabled("TOTP is not enabled")
        assert user.id is not None
        codes = totp.new_recovery_codes()
        await repository.update_user(
            user.id, {"mfa.recovery_code_hashes": self._recovery_hashes(user, codes)}
        )
        await self._event(SecurityEventKind.RECOVERY_CODES_REGENERATED, user=user, ip=ip)
        return codes

    async def do_disable_totp(self, user: User, ip: str | None) -> User:
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
        await self._event(SecurityEventKind.MFA_DISABLED, user=user, ip=ip)
        assert updated is not None
        return updated

    # -----------------------------------------------------------------------------------------
    # OpenID Connect

    async def do_start_oauth(self) -> str:
        """A new authorization URL at the provider; its state is kept 10 minutes, single use.
        Raises ``OAuthNotConfigured``, ``ProviderUnavailable``."""
        provider = OidcProvider(self._settings())
        request = await provider.authorization_request()
        await repository.HandOffs(services.require_redis()).put(
            "oauth", request.state, encode_state(request), OAUTH_STATE_SECONDS
        )
        return request.url

    async def do_finish_oauth(
        self, *, code: str | None, state: str | None, error: str | None, ip: str | None
    ) -> TokenPair:
        """The provider's redirect: check state (single use), trade the code with the PKCE
        verifier, verify the ID token (nonce included), then log in the linked account — or
        link the verified account with that e-mail, or create one.

        A PENDING account with the address is taken over: its unproven password is dropped
        (pre-account-hijacking defence). Raises ``OAuthStateMismatch``, ``OAuthFailed``,
        ``OAuthEmailUnverified``, ``AccountSuspended``, ``MfaRequired``, ``ProviderUnavailable``.
        """
        settings = self._settings()
        provider = OidcProvider(settings)
        await rate_limiter().hit("login", settings.rate_limit_login, ip or "-")
        stored = (
            await repository.HandOffs(services.require_redis()).take("oauth", state)
            if state
            else None
        )
        if stored is None:
            raise errors.OAuthStateMismatch("unknown or expired state: start the login again")
        if error:
            raise errors.OAuthFailed("the provider did not authorise", details={"reason": error})
        if not code:
            raise errors.OAuthFailed("no authorization code", details={"reason": "no_code"})
        verifier, nonce = decode_state(stored)
        identity = await provider.verify_id_token(
            await provider.exchange_code(code, verifier), nonce
        )
        if not identity.email_verified:
            raise errors.OAuthEmailUnverified("the provider does not vouch for this e-mail")
        link = OAuthLink(provider=provider.name, subject=identity.subject, linked_at=utcnow())
        user = await repository.user_by_oauth(provider.name, identity.subject)
        if user is None:
            user = await self._link_or_create(identity.email, identity.name, link, ip)
        self._require_usable(user)
        if user.mfa_enabled:
            raise await self._mfa_handoff(user)
        return await self._open_session(user, ["oauth"])

    async def _link_or_create(
        self, email: str, name: str | None, link: OAuthLink, ip: str | None
    ) -> User:
        user = await repository.user_by_email(email)
        if user is None:
            try:
                user = await repository.insert_user(
                    User(email=email, full_name=name or email.split("@")[0])
                )
            except DuplicateKeyError:
                user = await repository.user_by_email(email)
                assert user is not None
        assert user.id is not None
        user_id = user.id
        link_doc = link.model_dump()
        if user.status is UserStatus.PENDING:
            user = await self._activate(
                user, code=None, extra={"password_hash": None, "oauth": [link_doc]}
            )
        elif user.status is UserStatus.ACTIVE:
            user = await repository.add_oauth_link(user_id, link_doc) or user
        await self._event(SecurityEventKind.OAUTH_LINKED, user=user, ip=ip, provider=link.provider)
        return user

    # -----------------------------------------------------------------------------------------
    # admin

    async def list_users(
        self,
        *,
        query: str | None,
        status: UserStatus | None,
        role: PlatformRole | None,
        page: int,
        page_size: int,
    ) -> repository.UserPage:
        """Search users (e-mail, name, member id), newest first."""
        return await repository.search_users(
            query=query,
            status=status,
            role=role.value if role else None,
            page=page,
            page_size=page_size,
        )

    async def _target(self, actor: Principal, user_id: str) -> User:
        user = await repository.user_by_id(user_id)
        if user is None:
            raise errors.UserNotFound("no such user", details={"user_id": user_id})
        if str(user.id) == actor.user_id:
            raise errors.CannotChangeSelf("another admin must do this to your own account")
        return user

    async def _audited_update(
        self,
        actor: Principal,
        target: User,
        action: str,
        changes: dict[str, Any],
        guard: dict[str, Any],
        details: dict[str, Any],
    ) -> User | None:
        assert target.id is not None
        target_id = target.id

        async def body(tx: AsyncClientSession) -> User | None:
            updated = await repository.update_user(target_id, changes, guard=guard, session=tx)
            if updated is not None:
                await audit_service.do_append(
                    chain=PLATFORM_CHAIN,
                    actor_id=actor.user_id,
                    action=action,
                    target_type="user",
                    target_id=str(target_id),
                    details=details,
                    session=tx,
                )
            return updated

        return await run_in_transaction(body)

    async def do_suspend(self, actor: Principal, user_id: str, reason: str, ip: str | None) -> User:
        """Suspend: status SUSPENDED, every session revoked, open sockets disconnected on every
        web process, audited. Idempotent. Raises ``UserNotFound``, ``CannotChangeSelf``."""
        target = await self._target(actor, user_id)
        updated = await self._audited_update(
            actor, target, "user.suspend",
            {"status": UserStatus.SUSPENDED.value, "suspended_at": utcnow()},
            {"status": {"$ne": UserStatus.SUSPENDED.value}},
            {"reason": reason, "previous_status": target.status.value, "ip": ip},
        )  # fmt: skip
        revoked = await self._sessions().revoke_all(user_id)
        await self._disconnect(user_id, "account_suspended")
        if updated is not None:
            await self._event(
                SecurityEventKind.SESSIONS_REVOKED, user=target, ip=ip, count=revoked,
                reason="suspended",
            )  # fmt: skip
        return updated or target

    async def do_reactivate(
        self, actor: Principal, user_id: str, reason: str, ip: str | None
    ) -> User:
        """Lift a suspension (back to ACTIVE, or PENDING if the e-mail was never verified);
        audited; idempotent. Raises ``UserNotFound``, ``CannotChangeSelf``."""
        target = await self._target(actor, user_id)
        status = UserStatus.ACTIVE if target.email_verified_at else UserStatus.PENDING
        updated = await self._audited_update(
            actor, target, "user.reactivate",
            {"status": status.value, "suspended_at": None},
            {"status": UserStatus.SUSPENDED.value},
            {"reason": reason, "new_status": status.value, "ip": ip},
        )  # fmt: skip
        return updated or target

    async def do_set_roles(
        self,
        actor: Principal,
        user_id: str,
        roles: list[PlatformRole],
        reason: str,
        ip: str | None,
    ) -> User:
        """Replace the user's platform roles (``user`` always kept); audited with before and
        after. Callers put it behind the step-up check. Raises ``UserNotFound``,
        ``CannotChangeSelf``."""
        target = await self._target(actor, user_id)
        before = [role.value for role in target.roles]
        after = [role.value for role in roles]
        if before == after:
            return target
        updated = await self._audited_update(
            actor, target, "user.roles.change",
            {"roles": after},
            {"roles": before},
            {"before": before, "after": after, "reason": reason, "ip": ip},
        )  # fmt: skip
        if updated is None:
            raise errors.UserNotFound("the user changed meanwhile; reload and retry")
        return updated

    async def security_events(
        self, *, user_id: str | None, kind: str | None, limit: int
    ) -> list[SecurityEvent]:
        """Newest security events (of one user / kind)."""
        oid = None
        if user_id:
            try:
                oid = PydanticObjectId(user_id)
            except Exception as exc:
                raise errors.UserNotFound("no such user") from exc
        return await repository.security_events(user_id=oid, kind=kind, limit=limit)

    async def platform_audit(
        self, target_id: str | None, limit: int
    ) -> tuple[list[AuditRecord], ChainReport]:
        """The newest platform audit records (of one target) and a verification of the chain."""
        records = await repository.audit_records(PLATFORM_CHAIN, target_id, limit)
        return records, await audit_service.verify(PLATFORM_CHAIN)


identity_service = IdentityService()
