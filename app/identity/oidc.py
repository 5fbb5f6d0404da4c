"""OpenID Connect login (``oauth.py`` speaks to the provider; this module decides): start,
finish, and linking the provider's account to ours.

A PENDING account with the address is taken over at the first OIDC login: its unproven password
is dropped (pre-account-hijacking defence).
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from app.config import get_settings
from app.extensions import services
from app.identity import errors, repository, security
from app.identity.documents import OAuthLink, SecurityEventKind, User, UserStatus, utcnow
from app.identity.login import mfa_handoff, require_usable
from app.identity.oauth import OidcProvider, decode_state, encode_state
from app.identity.schemas import TokenPair
from app.identity.sessions import open_session
from app.identity.signup import activate
from app.ratelimit import rate_limiter

OAUTH_STATE_SECONDS = 600


async def do_start_oauth() -> str:
    """A new authorization URL at the provider; its state is kept 10 minutes, single use.
    Raises ``OAuthNotConfigured``, ``ProviderUnavailable``."""
    provider = OidcProvider(get_settings())
    request = await provider.authorization_request()
    await repository.HandOffs(services.require_redis()).put(
        "oauth", request.state, encode_state(request), OAUTH_STATE_SECONDS
    )
    return request.url


async def do_finish_oauth(
    *, code: str | None, state: str | None, error: str | None, ip: str | None
) -> TokenPair:
    """The provider's redirect: check state (single use), trade the code with the PKCE
    verifier, verify the ID token (nonce included), then log in the linked account — or
    link the verified account with that e-mail, or create one.

    A PENDING account with the address is taken over: its unproven password is dropped
    (pre-account-hijacking defence). Raises ``OAuthStateMismatch``, ``OAuthFailed``,
    ``OAuthEmailUnverified``, ``AccountSuspended``, ``MfaRequired``, ``ProviderUnavailable``.
    """
    settings = get_settings()
    provider = OidcProvider(settings)
    await rate_limiter().hit("login", settings.rate_limit_login, ip or "-")
    stored = (
        await repository.HandOffs(services.require_redis()).take("oauth", state) if state else None
    )
    if stored is None:
        raise errors.OAuthStateMismatch("unknown or expired state: start the login again")
    if error:
        raise errors.OAuthFailed("the provider did not authorise", details={"reason": error})
    if not code:
        raise errors.OAuthFailed("no authorization code", details={"reason": "no_code"})
    verifier, nonce = decode_state(stored)
    identity = await provider.verify_id_token(await provider.exchange_code(code, verifier), nonce)
    if not identity.email_verified:
        raise errors.OAuthEmailUnverified("the provider does not vouch for this e-mail")
    link = OAuthLink(provider=provider.name, subject=identity.subject, linked_at=utcnow())
    user = await repository.user_by_oauth(provider.name, identity.subject)
    if user is None:
        user = await link_or_create(identity.email, identity.name, link, ip)
    require_usable(user)
    if user.mfa_enabled:
        raise await mfa_handoff(user)
    return await open_session(user, ["oauth"])


async def link_or_create(email: str, name: str | None, link: OAuthLink, ip: str | None) -> User:
    """Link the provider's account to ours with ``email`` (activating a PENDING one, its
    password dropped), or create an ACTIVE account for it; recorded. A SUSPENDED account is
    returned unlinked (the caller refuses it)."""
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
        user = await activate(user, code=None, extra={"password_hash": None, "oauth": [link_doc]})
    elif user.status is UserStatus.ACTIVE:
        user = await repository.add_oauth_link(user_id, link_doc) or user
    await security.record(SecurityEventKind.OAUTH_LINKED, user=user, ip=ip, provider=link.provider)
    return user
