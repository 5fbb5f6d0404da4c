"""Payout destinations: where a campaign's release (to its owner) and profit shares (to its
investors) are paid. A person registers a UPI id or a bank account (IFSC checked by format
here, the account by the provider); it is verified through the payout provider's fund account
validation before it is stored, and only a verified destination is ever paid. Registering one
wakes the payouts that were parked waiting for it.
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import audit_service
from app.campaigns import repository
from app.campaigns.documents import DestinationKind, PayoutDestination, utcnow
from app.campaigns.errors import PayoutDestinationInvalid
from app.campaigns.payouts import destination_payouts
from app.campaigns.schemas import DestinationCreate
from app.db import run_in_transaction
from app.identity.directory import users_by_id
from app.payments.errors import PaymentProviderRejected

USER_CHAIN_PREFIX = "campaign-payee:"


class DestinationService:
    """Registering and reading payout destinations. One instance: ``destination_service``."""

    async def get(self, user_id: str) -> PayoutDestination | None:
        """The person's active (verified) destination, or None."""
        return await repository.active_destination(user_id)

    async def waiting(self, user_id: str) -> int:
        """How many of the person's payouts wait for a destination."""
        return await repository.count_waiting(user_id)

    async def do_register(self, user_id: str, data: DestinationCreate) -> PayoutDestination:
        """Verify ``data`` with the payout provider (contact → fund account → validation) and
        make it the person's active destination; payouts parked for want of one become due
        at once. Audited (never the full account number).

        Raises ``PayoutDestinationInvalid`` (the provider refused the details, or the
        validation found the account invalid or failed; nothing stored) and
        ``PaymentProviderUnavailable`` (503: try again)."""
        adapter = destination_payouts()
        users = await users_by_id([user_id])
        name = users[user_id].full_name if user_id in users else "Samooh user"
        try:
            contact = await adapter.contact(user_id, name)
            if data.kind == DestinationKind.VPA.value:
                assert data.vpa is not None
                account = await adapter.vpa_account(contact, data.vpa)
            else:
                assert data.account_holder and data.ifsc and data.account_number
                account = await adapter.bank_account(
                    contact, data.account_holder, data.ifsc, data.account_number
                )
            validation = await adapter.validate(account)
        except PaymentProviderRejected as exc:
            said = exc.details.get("provider_error")
            reason = exc.message
            if isinstance(said, dict) and isinstance(said.get("error"), dict):
                reason = str(said["error"].get("description") or reason)
            raise PayoutDestinationInvalid(
                f"the payout provider refused these details: {reason}",
                details={"reason": "refused"},
            ) from exc
        if validation.status != "completed" or validation.account_status != "active":
            reason = "pending" if validation.status == "created" else "invalid"
            raise PayoutDestinationInvalid(
                "the account could not be verified; check the details"
                if reason == "invalid"
                else "the bank has not confirmed the account yet; try again in a minute",
                details={"reason": reason, "validation_id": validation.id},
            )
        destination = PayoutDestination(
            user_id=user_id, kind=DestinationKind(data.kind), vpa=data.vpa, ifsc=data.ifsc,
            account_last4=data.account_number[-4:] if data.account_number else None,
            account_holder=data.account_holder, provider=adapter.name, contact_id=contact,
            fund_account_id=account, validation_id=validation.id,
            registered_name=validation.registered_name,
        )  # fmt: skip
        now = utcnow()

        async def body(session: AsyncClientSession) -> int:
            await repository.replace_destination(destination, session)
            woken = await repository.requeue_waiting(user_id, now, session)
            await audit_service.do_append(
                chain=f"{USER_CHAIN_PREFIX}{user_id}", actor_id=user_id,
                action="payout_destination.registered", target_type="payout_destination",
                target_id=str(destination.id),
                details={"kind": destination.kind.value, "vpa": destination.vpa,
                         "ifsc": destination.ifsc, "account_last4": destination.account_last4,
                         "fund_account_id": account, "validation_id": validation.id,
                         "payouts_woken": woken},
                session=session,
            )  # fmt: skip
            return woken

        await run_in_transaction(body)
        return destination


destination_service = DestinationService()
