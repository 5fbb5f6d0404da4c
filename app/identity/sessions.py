"""Sessions: opening one (a refresh-token family in Redis and an access token), rotating its
refresh token, logout, guest tokens, and the checks that turn a token into a caller (HTTP and
Socket.IO); also ending an account's open sockets.

A session is bound to its user: an access token is accepted only for the user the session
(``fam`` claim) was opened for.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from app.config import get_settings
from app.extensions import services
from app.identity import errors, repository, security
from app.identity.documents import PlatformRole, SecurityEventKind, User, UserStatus
from app.identity.keys import refresh_successor
from app.identity.schemas import GuestToken, TokenPair
from app.identity.tokens import AccessClaims, issue_token, verify_token
from app.logging import get_logger
from app.ratelimit import rate_limiter
from app.realtime import events
from app.realtime.contract import SessionRevokedEvent
from app.realtime.eventlog import iso, utcnow
from app.realtime.rooms import user_room

log = get_logger(__name__)

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


def store() -> repository.SessionStore:
    """The session store on the running loop's Redis client."""
    return repository.SessionStore(services.require_redis())


async def open_session(user: User, amr: list[str], *, parent: str | None = None) -> TokenPair:
    """Start a new session of ``user`` authenticated by ``amr`` (``pwd``, ``otp``, ``oauth``,
    ``recovery``); return its first access and refresh tokens. With ``parent`` (a session
    family) it is a tab session of that session's login, revoked with it on token reuse.

    Raises:
        SessionRevoked (401) when ``parent`` was revoked meanwhile.
    """
    settings = get_settings()
    family = secrets.token_hex(16)
    refresh = secrets.token_urlsafe(48)
    ttl = settings.refresh_token_ttl_seconds
    if parent is None:
        await store().create(str(user.id), family, refresh, ttl, amr)
    elif not await store().create_tab(str(user.id), parent, family, refresh, ttl, amr):
        raise errors.SessionRevoked("the session was ended; log in again")
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


async def disconnect(user_id: str, reason: str) -> None:
    """Tell the user's sockets why (``session:revoked`` to ``user:<id>``), then disconnect them
    on every web process. Both go through the event path: after the commit when a change is
    being collected, at once otherwise, in this order."""
    sids = await repository.SocketRegistry(services.require_redis()).take_all(user_id)
    await events.send(
        user_room(user_id),
        SESSION_REVOKED_EVENT,
        SessionRevokedEvent(id=secrets.token_hex(8), ts=iso(utcnow()), reason=reason),
    )

    await events.disconnect(sids)


async def do_refresh(refresh_token: str, ip: str | None, nonce: str | None = None) -> TokenPair:
    """Rotate: the token is spent, a new one of the same session is returned with a fresh
    access token. A spent token presented again revokes the session (recorded), unless it comes
    back with the same client ``nonce`` within ``refresh_retry_grace_seconds`` while its
    successor is unused (the client lost the answer): then the same successor is answered.

    Raises ``RefreshTokenInvalid``, ``RefreshTokenReused``, ``SessionRevoked``,
    ``AccountSuspended``, ``RateLimited``.
    """
    pair, _ = await _rotate(refresh_token, ip, nonce)
    return pair


async def do_open_tab(refresh_token: str, ip: str | None) -> tuple[TokenPair, TokenPair]:
    """A signed-in tab opens a session for another tab of the same browser (a link opened in a
    second tab stays signed in, issue #14): the caller's refresh token is rotated exactly as
    ``do_refresh`` does (so only its holder can ask, and a spent token still revokes), and a new
    session — its own refresh-token family, authenticated the same way — is opened for the new
    tab. Two families never race over one single-use token. The tab session belongs to the
    caller's login: a reused refresh token of any session of it revokes them all, and a tab is
    never opened from a session revoked meanwhile (``SessionRevoked``). Returns (the caller's
    new pair, the new tab's pair); raises what ``do_refresh`` raises."""
    mine, user = await _rotate(refresh_token, ip)
    claims = verify_token(get_settings(), mine.access_token)
    assert claims.family is not None
    return mine, await open_session(user, claims.amr, parent=claims.family)


async def _rotate(
    refresh_token: str, ip: str | None, nonce: str | None = None
) -> tuple[TokenPair, User]:
    """``do_refresh``'s rotation, also answering the session's (active) user."""
    settings = get_settings()
    await rate_limiter().hit("refresh", settings.rate_limit_refresh, ip or "-")
    sessions = store()
    new_token = secrets.token_urlsafe(48)
    if nonce is not None:
        new_token = refresh_successor(settings, refresh_token, nonce)
    rotation = await sessions.rotate(
        refresh_token, new_token, settings.refresh_token_ttl_seconds,
        nonce=nonce, grace_seconds=settings.refresh_retry_grace_seconds,
    )  # fmt: skip
    if rotation.outcome == "invalid":
        raise errors.RefreshTokenInvalid("unknown or expired refresh token")
    user = await repository.user_by_id(rotation.user_id)
    if rotation.outcome == "reused":
        await security.record(
            SecurityEventKind.REFRESH_TOKEN_REUSED, user=user, ip=ip, family=rotation.family
        )
        raise errors.RefreshTokenReused(
            "this refresh token was already used: the session is revoked"
        )
    if rotation.outcome == "retried":  # its first answer was lost: not theft (see _ROTATE)
        log.info("refresh answered again for the same client nonce", family=rotation.family)
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
    pair = TokenPair(
        access_token=access,
        refresh_token=new_token,
        expires_in=settings.access_token_ttl_seconds,
        refresh_expires_in=settings.refresh_token_ttl_seconds,
    )
    return pair, user


async def do_logout(principal: Principal, all_sessions: bool) -> int:
    """End the caller's session (its access and refresh tokens stop at once), or all of
    the user's sessions; return how many ended."""
    sessions = store()
    if all_sessions:
        count = await sessions.revoke_all(principal.user_id)
        await security.record(
            SecurityEventKind.SESSIONS_REVOKED, user=principal.user, count=count,
            reason="logout_all",
        )  # fmt: skip
        return count
    assert principal.claims.family is not None
    await sessions.revoke(principal.user_id, principal.claims.family)
    return 1


async def issue_guest_token(ip: str | None) -> GuestToken:
    """An anonymous token for public market data over Socket.IO (no account, no refresh).
    Raises ``RateLimited``."""
    settings = get_settings()
    await rate_limiter().hit("guest", settings.rate_limit_guest, ip or "-")
    token = issue_token(
        settings, subject=f"guest:{secrets.token_hex(8)}", token_type="guest", roles=["guest"]
    )
    return GuestToken(access_token=token, expires_in=settings.guest_token_ttl_seconds)


async def authenticate(token: str) -> Principal:
    """Verify an access token and load its user as of now.

    The token's session (``fam``) must belong to the token's subject (``sub``): a token naming
    another user than the session's owner is refused before that user is even loaded.
    Raises the token errors of ``tokens.verify_token``, ``TokenClaimsInvalid`` (subject is not
    the session's owner), ``GuestTokenNotAccepted``, ``AccountSuspended`` (suspension works at
    once), ``SessionRevoked``.
    """
    claims = verify_token(get_settings(), token)
    if claims.is_guest:
        raise errors.GuestTokenNotAccepted("this needs an account's access token")
    assert claims.family is not None
    owner = await store().owner(claims.family)
    if owner is not None and owner != claims.subject:
        raise errors.TokenClaimsInvalid("the token's subject is not its session's owner")
    user = await repository.user_by_id(claims.subject)
    if user is None:
        raise errors.SessionRevoked("the account no longer exists")
    if user.status is UserStatus.SUSPENDED:
        raise errors.AccountSuspended("this account is suspended")
    if user.status is not UserStatus.ACTIVE:
        raise errors.SessionRevoked("the account is not active")
    if owner is None:
        raise errors.SessionRevoked("the session was ended; log in again")
    return Principal(user=user, claims=claims)


async def authenticate_socket(auth: Any) -> SocketIdentity:
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
    claims = verify_token(get_settings(), token)
    if claims.is_guest:
        return SocketIdentity(user_id=None, roles=["guest"], family=None)
    principal = await authenticate(token)
    return SocketIdentity(
        user_id=principal.user_id,
        roles=[role.value for role in principal.user.roles],
        family=claims.family,
    )


async def do_track_socket(user_id: str, sid: str, connected: bool) -> None:
    """Remember (or forget) a user's socket so suspension can disconnect it."""
    registry = repository.SocketRegistry(services.require_redis())
    if connected:
        await registry.add(user_id, sid)
    else:
        await registry.remove(user_id, sid)
