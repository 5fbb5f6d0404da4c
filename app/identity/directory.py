"""Who is who, for the other domains: people by id, and the few facts of an account other
domains keep up to date (the KYC status). They ask here, never the identity repository."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.db import object_id
from app.identity import repository
from app.identity.documents import User
from app.identity.schemas import normalise_email


async def user(user_id: str) -> User | None:
    """The account, or None (also for an id that is not one)."""
    return await repository.user_by_id(user_id)


async def users_by_id(ids: list[str]) -> dict[str, User]:
    """The accounts of ``ids`` that exist, by id."""
    return await repository.users_by_id(ids)


async def user_by_email(email: str) -> User | None:
    """The account holding ``email`` (normalised here), or None."""
    return await repository.user_by_email(normalise_email(email))


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
