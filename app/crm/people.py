"""What the CRM needs from identity: staff and clients' accounts by id, and an account for a
client invited to the platform. One module, so the identity split touches one place."""

from __future__ import annotations

from app.identity import directory
from app.identity.documents import PlatformRole, User, UserStatus
from app.identity.signup import do_provision_user
from app.notifications.service import notification_service
from app.sms.service import sms_service

STAFF_ROLES = (PlatformRole.CRM_AGENT, PlatformRole.CRM_MANAGER, PlatformRole.ADMIN)


async def users(ids: list[str]) -> dict[str, User]:
    """The accounts among ``ids`` by id (unknown ids are left out)."""
    return await directory.users_by_id([i for i in ids if i])


async def names(ids: list[str]) -> dict[str, str]:
    """Full names by id."""
    return {uid: u.full_name for uid, u in (await users(ids)).items()}


async def account_by_email(email: str) -> User | None:
    """The platform account already holding ``email``, or None."""
    return await directory.user_by_email(email)


async def provision_client(email: str, full_name: str) -> tuple[User, bool]:
    """An ACTIVE account without a password for an invited client (they set one through
    "forgot password") and True; an account that already holds the e-mail is returned as it
    is with False — the CRM must not link it without its holder's consent."""
    existing = await directory.user_by_email(email)
    if existing is not None:
        return existing, False
    return await do_provision_user(email=email, password=None, full_name=full_name), True


async def erase_account(user_id: str) -> None:
    """Anonymise the account the CRM made for a person it erases (identity's
    ``do_erase_account``: cannot sign in, sessions revoked, security events without the
    address, references kept), and what other domains keep for that account: its mobile
    number and text messages (app/sms), the titles and bodies of its notifications."""
    await directory.do_erase_account(user_id, "crm_erasure")
    await sms_service.do_forget(user_id)
    await notification_service.do_forget_recipient(user_id)


async def forget_addresses(emails: list[str]) -> None:
    """Erase addresses of a person that no account holds (now): the sign-in attempts typed
    with them are kept without the address (identity's ``do_forget_address``)."""
    for address in sorted({e for e in emails if e}):
        await directory.do_forget_address(address)


async def account_erased(user_id: str) -> bool:
    """Whether the account was erased (anonymised) on its holder's request."""
    found = await directory.user(user_id)
    return found is not None and found.status is UserStatus.ERASED
