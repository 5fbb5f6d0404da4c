"""The account holder's own profile: name, phone, notification preferences."""

from __future__ import annotations

from typing import Any

from app.identity import errors, repository
from app.identity.documents import User
from app.identity.schemas import MePatch


async def do_update_profile(user: User, patch: MePatch) -> User:
    """Apply the fields present in ``patch``; return the user after. Raises ``UserNotFound``."""
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
