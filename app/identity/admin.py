"""The platform admin's actions on accounts: search, suspend, reactivate, roles; and what the
admin console reads (security events, the platform audit chain).

Every change is appended to the platform audit chain in the same transaction; an admin never
changes their own account.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.documents import AuditRecord
from app.audit.service import PLATFORM_CHAIN, ChainReport, audit_service
from app.db import run_in_transaction
from app.identity import errors, repository, security, sessions
from app.identity.documents import (
    PlatformRole,
    SecurityEvent,
    SecurityEventKind,
    User,
    UserStatus,
    utcnow,
)
from app.identity.sessions import Principal


async def search_users(
    *,
    query: str | None,
    status: UserStatus | None,
    role: PlatformRole | None,
    page: int,
    page_size: int,
) -> repository.UserPage:
    """Search users (e-mail, name, member id), newest first; ``page`` from 1."""
    return await repository.search_users(
        query=query,
        status=status,
        role=role.value if role else None,
        page=page,
        page_size=page_size,
    )


async def _target(actor: Principal, user_id: str) -> User:
    user = await repository.user_by_id(user_id)
    if user is None:
        raise errors.UserNotFound("no such user", details={"user_id": user_id})
    if str(user.id) == actor.user_id:
        raise errors.CannotChangeSelf("another admin must do this to your own account")
    return user


async def _audited_update(
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


async def do_suspend(actor: Principal, user_id: str, reason: str, ip: str | None) -> User:
    """Suspend: status SUSPENDED, every session revoked, open sockets disconnected on every
    web process, audited. Idempotent. Raises ``UserNotFound``, ``CannotChangeSelf``."""
    target = await _target(actor, user_id)
    updated = await _audited_update(
        actor, target, "user.suspend",
        {"status": UserStatus.SUSPENDED.value, "suspended_at": utcnow()},
        # An erased account stays erased: suspending (then reactivating) it would revive it.
        {"status": {"$nin": [UserStatus.SUSPENDED.value, UserStatus.ERASED.value]}},
        {"reason": reason, "previous_status": target.status.value, "ip": ip},
    )  # fmt: skip
    revoked = await sessions.store().revoke_all(user_id)
    await sessions.disconnect(user_id, "account_suspended")
    if updated is not None:
        await security.record(
            SecurityEventKind.SESSIONS_REVOKED, user=target, ip=ip, count=revoked,
            reason="suspended",
        )  # fmt: skip
    return updated or target


async def do_reactivate(actor: Principal, user_id: str, reason: str, ip: str | None) -> User:
    """Lift a suspension (back to ACTIVE, or PENDING if the e-mail was never verified);
    audited; idempotent. Raises ``UserNotFound``, ``CannotChangeSelf``."""
    target = await _target(actor, user_id)
    status = UserStatus.ACTIVE if target.email_verified_at else UserStatus.PENDING
    updated = await _audited_update(
        actor, target, "user.reactivate",
        {"status": status.value, "suspended_at": None},
        {"status": UserStatus.SUSPENDED.value},
        {"reason": reason, "new_status": status.value, "ip": ip},
    )  # fmt: skip
    return updated or target


async def do_set_roles(
    actor: Principal,
    user_id: str,
    roles: list[PlatformRole],
    reason: str,
    ip: str | None,
) -> User:
    """Replace the user's platform roles (``user`` always kept); audited with before and
    after. Callers put it behind the step-up check. Raises ``UserNotFound``,
    ``CannotChangeSelf``."""
    target = await _target(actor, user_id)
    before = [role.value for role in target.roles]
    after = [role.value for role in roles]
    if before == after:
        return target
    updated = await _audited_update(
        actor, target, "user.roles.change",
        {"roles": after},
        {"roles": before},
        {"before": before, "after": after, "reason": reason, "ip": ip},
    )  # fmt: skip
    if updated is None:
        raise errors.UserNotFound("the user changed meanwhile; reload and retry")
    return updated


async def security_events(
    *, user_id: str | None, kind: str | None, limit: int
) -> list[SecurityEvent]:
    """Newest security events (of one user / kind). Raises ``UserNotFound`` for a malformed
    user id."""
    oid = None
    if user_id:
        try:
            oid = PydanticObjectId(user_id)
        except Exception as exc:
            raise errors.UserNotFound("no such user") from exc
    return await repository.security_events(user_id=oid, kind=kind, limit=limit)


async def platform_audit(
    target_id: str | None, limit: int
) -> tuple[list[AuditRecord], ChainReport]:
    """The newest platform audit records (of one target) and a verification of the chain."""
    records = await audit_service.latest(PLATFORM_CHAIN, target_id, limit)
    return records, await audit_service.verify(PLATFORM_CHAIN)
