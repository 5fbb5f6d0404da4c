"""How a route requires an account, a platform role, or a step-up code — one decorator each:

    @blueprint.put("/users/<user_id>/roles")
    @require_role(PlatformRole.ADMIN)   # 401 without a valid token, 403 without the role
    @validate_request(RolesRequest)
    @require_step_up                    # 403 unless X-Step-Up-Code holds a fresh TOTP code
    async def set_roles(user_id: str, data: RolesRequest) -> …:
        principal = current_principal()

Put ``require_auth``/``require_role`` above ``validate_request`` so an anonymous caller gets
401, not 422, and ``require_step_up`` below it, so a malformed request never uses up a
one-time code. They document
the bearer scheme and their error statuses in the OpenAPI spec.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from quart import g, request
from quart_schema import security_scheme

from app.config import get_settings
from app.identity.documents import PlatformRole
from app.identity.errors import Forbidden, Unauthenticated
from app.identity.mfa import check_step_up
from app.identity.sessions import Principal, authenticate
from app.openapi import document_errors

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

STEP_UP_HEADER = "X-Step-Up-Code"


def client_ip() -> str | None:
    """The caller's address: the socket peer, or — behind ``trusted_proxy_hops`` proxies — the
    address the outermost trusted proxy saw (X-Forwarded-For, counted from the right)."""
    hops = get_settings().trusted_proxy_hops
    if hops:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr


def bearer_token() -> str:
    """The token of ``Authorization: Bearer <token>``. Raises ``Unauthenticated``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <access token>")
    return token.strip()


def current_principal() -> Principal:
    """The authenticated caller of this request (set by ``require_auth``/``require_role``)."""
    principal = g.get("principal")
    if principal is None:
        raise RuntimeError("current_principal() outside a route decorated with require_auth")
    return cast(Principal, principal)


def require_auth(func: F) -> F:
    """Reject the request unless it carries a valid access token of an ACTIVE account whose
    session is live (401 ``token_*`` / ``session_revoked``, 403 ``account_suspended``)."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.principal = await authenticate(bearer_token())
        return await func(*args, **kwargs)

    documented = document_errors(401, 403)(security_scheme([{"bearer": []}])(wrapper))
    return cast(F, documented)


def require_role(*roles: PlatformRole) -> Callable[[F], F]:
    """``require_auth`` plus: the account holds one of ``roles`` now (403 ``forbidden``)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().has_role(*roles):
                raise Forbidden(
                    "your platform role does not allow this",
                    details={"required": [role.value for role in roles]},
                )
            return await func(*args, **kwargs)

        return require_auth(cast(F, wrapper))

    return decorate


def require_step_up(func: F) -> F:
    """The high-value-action check: the ``X-Step-Up-Code`` header must hold a fresh TOTP (or
    an unused recovery code) of the caller, whose account must have MFA. Use below
    ``require_auth``/``require_role``. 403 ``mfa_enrollment_required``, ``step_up_required``,
    ``step_up_failed``; 429 when codes are tried too often."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        await check_step_up(current_principal(), request.headers.get(STEP_UP_HEADER), client_ip())
        return await func(*args, **kwargs)

    return cast(F, document_errors(403, 429)(wrapper))


async def step_up_for_amount(amount_minor: int | None) -> None:
    """The step-up check of a money action whose size is known only inside the route: required
    when the caller has MFA, and at or above ``step_up_threshold`` (minor units) MFA itself is
    required too. Same errors as ``require_step_up`` (403 ``mfa_enrollment_required``,
    ``step_up_required``, ``step_up_failed``; 429)."""
    principal = current_principal()
    large = amount_minor is not None and amount_minor >= get_settings().step_up_threshold
    if principal.user.mfa_enabled or large:
        await check_step_up(principal, request.headers.get(STEP_UP_HEADER), client_ip())
