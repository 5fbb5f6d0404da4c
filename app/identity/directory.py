"""Who is who, for the other domains: people by id, the few facts of an account other domains
keep up to date (the KYC status), and erasing an account on its holder's request. They ask
here, never the identity repository."""

from __future__ import annotations

import re

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import object_id
from app.extensions import services
from app.identity import repository, security, sessions
from app.identity.documents import SecurityEventKind, TotpState, User, UserStatus
from app.identity.schemas import normalise_email

ERASED_EMAIL_DOMAIN = "erased.invalid"  # RFC 2606: ``.invalid`` never delivers
ERASED_NAME = "(erased)"


async def user(user_id: str) -> User | None:
    """The account, or None (also for an id that is not one)."""
    return await repository.user_by_id(user_id)


async def users_by_id(ids: list[str]) -> dict[str, User]:
    """The accounts of ``ids`` that exist, by id."""
    return await repository.users_by_id(ids)


async def user_by_email(email: str) -> User | None:
    """The account holding ``email`` (normalised here), or None."""
    return await repository.user_by_email(normalise_email(email))


MEMBER_ID = re.compile(r"^UCFSIN-\d{4}-\d{6}$")


async def person_by_contact(who: str) -> User | None:
    """The active account a person named by their e-mail address or Samooh member ID
    (``UCFSIN-2026-000123``, any case) — what someone outside the platform's lists can tell
    a foreman or an owner — or None. Never a partial match: no directory browsing."""
    text = who.strip()
    if MEMBER_ID.match(text.upper()):
        found = await repository.user_by_member_id(text.upper())
    elif "@" in text:
        found = await repository.user_by_email(normalise_email(text))
    else:
        return None
    return found if found is not None and found.status is UserStatus.ACTIVE else None


async def do_set_kyc_status(
    user_id: str, status: str, session: AsyncClientSession | None = None
) -> None:
    """Record the person's KYC status (derived by app/kyc from their documents)."""
    oid = object_id(user_id)
    if oid is not None:
        await repository.update_user(oid, {"kyc_status": status}, session=session)


async def do_touch(user_id: str, session: AsyncClientSession) -> None:
    """Write the account inside the caller's transaction without changing it, so concurrent
    changes about the same person conflict and are retried one after the other."""
    oid = object_id(user_id)
    if oid is not None:
        await repository.update_user(oid, {}, session=session)


def erased_email(user_id: str) -> str:
    """The address an erased account keeps, unique per account (the unique index holds)."""
    return f"erased-{user_id}@{ERASED_EMAIL_DOMAIN}"


async def do_erase_account(user_id: str, reason: str) -> User | None:
    """Anonymise an account on its holder's erasure request (the right to be forgotten)
    without deleting it, so every record that names its id — audit chains, ledgers, old
    memberships — still resolves. The e-mail becomes ``erased-<id>@erased.invalid`` (the real
    address is free for a new signup), the name ``(erased)``; phone, password, TOTP and OAuth
    links are removed; the status becomes ERASED (no sign-in, token, reset or reactivation);
    its security events name the erased address instead of the real one and its sign-in
    failure count and lock (Redis, keyed by the address) go; every session is
    revoked and open sockets are disconnected; a ``sessions_revoked``
    security event says why (``reason``). The caller decides whether erasing is allowed
    (legal retention). Idempotent: an erased account is returned as it is. Returns None for
    an unknown id."""
    oid = object_id(user_id)
    if oid is None:
        return None
    found = await repository.user_by_id(oid)
    if found is None or found.status is UserStatus.ERASED:
        return found
    erased = await repository.update_user(
        oid,
        {
            "email": erased_email(user_id), "full_name": ERASED_NAME, "phone": None,
            "password_hash": None, "status": UserStatus.ERASED.value,
            "mfa": TotpState().model_dump(), "oauth": [], "suspended_at": None,
        },
        guard={"status": {"$ne": UserStatus.ERASED.value}},
    )  # fmt: skip
    # Its security events keep what happened, when and from where, but no longer the address
    # (login failures typed with it before the account existed included).
    await repository.anonymise_security_events(oid, found.email, erased_email(user_id))
    await repository.LoginThrottle(services.require_redis()).clear(found.email)
    revoked = await sessions.store().revoke_all(user_id)
    await sessions.disconnect(user_id, "account_erased")
    if erased is not None:
        await security.record(SecurityEventKind.SESSIONS_REVOKED, user=erased, count=revoked,
                              reason=reason)  # fmt: skip
    return erased or await repository.user_by_id(oid)


async def do_forget_address(email: str) -> int:
    """Erase an address that no account holds (a person the CRM erases who never had an
    account, or whose account went): the security events that name it without an account —
    sign-in attempts typed with it — keep what happened but name ``erased@erased.invalid``,
    and its sign-in failure count and lock (Redis) go.
    Nothing happens while an account holds the address (the events are that account's).
    Returns how many events changed."""
    address = normalise_email(email)
    if await repository.user_by_email(address) is not None:
        return 0
    await repository.LoginThrottle(services.require_redis()).clear(address)  # failure counts
    return await repository.anonymise_security_events(
        None, address, f"erased@{ERASED_EMAIL_DOMAIN}"
    )
