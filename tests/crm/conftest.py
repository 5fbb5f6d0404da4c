"""CRM test helpers: staff of every role (agents in a manager's team, admins) made through the
services, actors for service-level tests, and unique contact details."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from app.crm.service import Actor, crm_service
from app.identity.documents import PlatformRole
from app.identity.signup import do_provision_user

# The session's worker looks for due reminders every second (the default is 5 s).
os.environ.setdefault("SAMOOH_CRM_SWEEP_SECONDS", "1")

ADMIN_ID = "admin"


def email(tag: str = "lead") -> str:
    """A fresh e-mail address."""
    return f"{tag}.{uuid.uuid4().hex[:10]}@example.com"


def phone() -> str:
    """A fresh, valid Indian mobile number as people type it (spaces, leading 0)."""
    digits = f"{uuid.uuid4().int % 10**8:08d}"
    return f"098{digits[:3]} {digits[3:]}"


@dataclass
class Staff:
    """A staff member's account and actor."""

    user_id: str
    email: str
    password: str
    actor: Actor


async def staff(role: PlatformRole, manager: Staff | None = None, *, active: bool = False,
                name: str | None = None) -> Staff:  # fmt: skip
    """An account with ``role`` registered as CRM staff (under ``manager``). ``active``: takes
    part in round-robin assignment (off by default, so tests do not take each other's leads)."""
    address, password = email(role.value), "Crm-staff-2026!"
    user = await do_provision_user(
        email=address, password=password, full_name=name or role.value.replace("_", " ").title(),
        roles=[role],
    )  # fmt: skip
    admin = Actor(ADMIN_ID, "admin", None, True)
    if role in (PlatformRole.CRM_AGENT, PlatformRole.CRM_MANAGER):
        await crm_service.do_put_staff(admin, str(user.id), manager.user_id if manager else None,
                                       active)  # fmt: skip
    actor = await crm_service.actor(str(user.id), [r.value for r in user.roles])
    return Staff(str(user.id), address, password, actor)


async def team(agents: int = 2, *, active: bool = False) -> tuple[Staff, list[Staff]]:
    """A manager and ``agents`` agents in their team."""
    manager = await staff(PlatformRole.CRM_MANAGER)
    members = [await staff(PlatformRole.CRM_AGENT, manager, active=active) for _ in range(agents)]
    # The manager's actor is built after the team exists.
    manager.actor = await crm_service.actor(manager.user_id, ["crm_manager"])
    return manager, members
