"""Multi-step money flows of a campaign, each step idempotent (ARCHITECTURE.md rules 2–3):

* a payment event completes an investment (escrow ← investor), or books a late/unmatched
  payment and queues its refund;
* the deadline decides funded | failed: an all-or-nothing campaign below its goal refunds every
  investor, a funded one releases the escrow to its owner;
* profit sharing: an approved report's pool, once the owner paid it in, is split pro-rata to
  investment (largest remainder, ``sharing.split_pro_rata``) into one payout task per investor;
* payout tasks (``Transfer``) are sent by a timer with a lease, retried with backoff, and
  marked failed for admins after ``campaign_payout_attempts``. The task's ``key`` is the
  provider's idempotency key, so a worker killed between paying and recording pays once.

Ledger of a campaign (pool id = campaign id), in paise: a payment Dr ``assets:escrow`` / Cr
``liabilities:investor_funds:<user>``; a refund and the release reverse those into money out;
a profit pool Dr escrow / Cr ``liabilities:profit_payable:<user>``, each share paid Dr payable /
Cr escrow. The trial balance is zero after every entry; escrow is zero once all is paid out.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.campaigns import events as campaign_events
from app.campaigns import repository
from app.campaigns.documents import (
    TRANSFER_RANK,
    Campaign,
    CampaignStatus,
    DestinationKind,
    Dispute,
    FundingModel,
    Hold,
    Investment,
    InvestmentStatus,
    ProfitReport,
    ProfitReportStatus,
    ProfitShare,
    Transfer,
    TransferEvent,
    TransferKind,
    TransferStatus,
    utcnow,
)
from app.campaigns.errors import (
    DisputeNotFound,
    DisputeState,
    InvalidProfitReport,
    NoPayoutDestination,
    NotAnInvestor,
    ProfitReportNotFound,
    ProfitReportState,
    TransferNotFound,
    TransferNotRecorded,
)
from app.campaigns.payouts import (
    NOTES_TAG,
    TransferWebhook,
    destination_payouts,
    fetch_refund,
    polled_payout,
    polled_refund,
    refund_payment,
)
from app.campaigns.schedule import ReportDue
from app.campaigns.schemas import AdminChange, ProfitReportCreate
from app.campaigns.service import (
    ESCROW,
    campaign_chain,
    campaign_service,
    investor_funds,
    profit_payable,
    rupees,
)
from app.campaigns.sharing import profit_pool, split_pro_rata
from app.config import get_settings
from app.db import run_in_transaction
from app.errors import AppError
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.identity.admin import search_users
from app.identity.documents import PlatformRole, UserStatus
from app.ledger.service import ledger_service
from app.logging import get_logger
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.payments.service import create_checkout
from app.realtime import events
from streams.records import PaymentEventV1

log = get_logger(__name__)

PROFIT_PREFIX = "pr-"
LEASE = dt.timedelta(seconds=60)
BACKOFF_SECONDS = (2, 10, 60, 300, 1800)
DONE_STATES = ("processed",)  # a payout or refund that reached the payee
FAILED_STATES = ("failed", "reversed", "rejected", "cancelled")
PARKED = dt.timedelta(days=1)  # a parked payout is looked at again daily (or when woken)
STALE_SENT = dt.timedelta(minutes=10)  # a payout sent this long without its webhook is asked


def _day(event: PaymentEventV1) -> dt.date:
    return dt.datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")).date()


class CampaignFlows:
    """Payments in, deadlines, payouts out, profit sharing, disputes."""

    # ---- payments in ---------------------------------------------------------------------

    async def do_apply_payment_event(self, event: PaymentEventV1) -> bool:
        """Apply one payment event of a campaign, idempotently (the campaigns agent calls it
        for ``pool_type == "campaign"``). True when it changed something.

        ``payment.captured`` for a pending (or expired/failed) investment takes its hold —
        or, for a hold already released, fits the payment in if the live campaign still has
        room — and completes it (Dr escrow / Cr investor funds, journal key
        ``payment:<event id>``); reaching the goal funds the campaign at once. A payment that
        cannot count (no room, campaign closed, wrong amount, second payment) is booked all
        the same and refunded. ``payment.failed`` releases the hold. Re-deliveries change
        nothing (the journal key and the status guards)."""
        if event.contribution_id.startswith(PROFIT_PREFIX):
            return await self.do_apply_profit_pool(event)
        investment = await repository.get_investment(event.contribution_id)
        if investment is None or investment.campaign_id != event.pool_id:
            log.warning("campaign payment for no investment", event_id=event.id,
                        pool=event.pool_id, contribution=event.contribution_id)  # fmt: skip
            return False
        if event.kind == "payment.failed":
            if investment.status != InvestmentStatus.PENDING:
                return False
            return await campaign_service.do_release(investment, InvestmentStatus.FAILED)
        if event.kind != "payment.captured":
            return False
        campaign_id = investment.campaign_id
        await campaign_events.ensure_room(campaign_id)
        now = utcnow()

        async def body(session: AsyncClientSession) -> bool:
            await repository.bump_money_seq(campaign_id, session)
            current = await repository.get_investment(event.contribution_id, session)
            assert current is not None
            open_states = (InvestmentStatus.PENDING, InvestmentStatus.EXPIRED,
                           InvestmentStatus.FAILED)  # fmt: skip
            if current.status not in open_states and current.payment_id == event.payment_id:
                return False  # a re-delivery of the payment that completed it
            _, new = await ledger_service.do_post(
                pool_id=campaign_id, key=f"payment:{event.id}", kind="investment_received",
                lines=[(ESCROW, event.amount), (investor_funds(current.user_id), -event.amount)],
                effective_date=_day(event),
                memo=f"investment {current.id} via {event.provider} {event.payment_id}",
                session=session,
            )  # fmt: skip
            if not new:
                return False
            counted = False
            if current.status in open_states and event.amount == current.amount:
                counted = await repository.take_hold(
                    campaign_id, str(current.id), current.amount, session
                ) or await repository.raise_without_hold(
                    campaign_id, current.user_id, current.amount, now, session
                )
            if not counted:
                await self._refund_later(current, event, session)
                return True
            first = not await repository.has_completed(
                campaign_id, current.user_id, str(current.id), session
            )
            await repository.set_investment(
                str(current.id), {"status": InvestmentStatus.COMPLETED.value,
                                  "payment_id": event.payment_id, "provider": event.provider,
                                  "completed_at": now}, session=session,
            )  # fmt: skip
            campaign = await campaign_service.get(campaign_id, session)
            changes: dict[str, object] = {
                "investor_count": campaign.investor_count + int(first),
                "funded_bps": campaign.raised * 10_000 // campaign.goal,
                "updated_at": now,
            }
            funded = campaign.raised >= campaign.goal
            if funded:
                changes.update(status=CampaignStatus.FUNDED.value, closed_at=now)
            await repository.set_progress(campaign_id, changes, session)
            campaign = await campaign_service.get(campaign_id, session)
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=current.user_id,
                action="investment.completed", target_type="investment",
                target_id=str(current.id),
                details={"amount": current.amount, "payment_id": event.payment_id,
                         "event_id": event.id},
                session=session,
            )  # fmt: skip
            await campaign_events.record_progress(session, campaign)
            await campaign_service.after_commit_notify(
                [current.user_id], campaign, f"{campaign.title}: your payment is in",
                f"We received {rupees(current.amount)}: your investment counts now.",
                f"paid:{current.id}",
            )  # fmt: skip
            if funded:
                await self._close_funded(campaign, session)
                investors = await repository.investments_of_campaign(
                    campaign_id, (InvestmentStatus.COMPLETED,), session
                )
                await campaign_service.after_commit_notify(
                    [i.user_id for i in investors] + [campaign.owner_id], campaign,
                    f"{campaign.title}: funded",
                    f"{rupees(campaign.raised)} raised of {rupees(campaign.goal)}: the goal is "
                    "met and the money goes to the owner.",
                    f"closed:{campaign_id}",
                )  # fmt: skip
            return True

        return await run_in_transaction(body)

    async def _refund_later(
        self, investment: Investment, event: PaymentEventV1, session: AsyncClientSession
    ) -> None:
        """Money that cannot count: keep it booked for the investor and queue its refund."""
        if investment.status in (InvestmentStatus.PENDING, InvestmentStatus.EXPIRED,
                                 InvestmentStatus.FAILED):  # fmt: skip
            await repository.set_investment(
                str(investment.id), {"status": InvestmentStatus.REFUND_PENDING.value,
                                     "payment_id": event.payment_id,
                                     "provider": event.provider}, session=session,
            )  # fmt: skip
        await repository.insert_transfer(
            Transfer(key=f"refund:{event.provider}:{event.payment_id}", kind=TransferKind.REFUND,
                     campaign_id=investment.campaign_id, user_id=investment.user_id,
                     amount=event.amount, investment_id=str(investment.id),
                     payment_id=event.payment_id, provider=event.provider),
            session,
        )  # fmt: skip
        await audit_service.do_append(
            chain=campaign_chain(investment.campaign_id), actor_id=None,
            action="payment.refund_queued", target_type="investment",
            target_id=str(investment.id),
            details={"amount": event.amount, "payment_id": event.payment_id,
                     "event_id": event.id, "status": investment.status.value},
            session=session,
        )  # fmt: skip

    # ---- the deadline --------------------------------------------------------------------

    async def do_close_due(self, now: dt.datetime | None = None, limit: int = 20) -> int:
        """Close live campaigns whose deadline passed (the deadline timer): unpaid holds are
        released first (a payment arriving later is refunded); then funded when the goal is
        met, or a keep-what-you-raise campaign raised something — the escrow is released to
        the owner — else failed, every completed investment refunded. Each step is guarded,
        so running it twice or on two workers closes a campaign once. Returns how many."""
        now = now or utcnow()
        closed = 0
        for campaign in await repository.due_campaigns(now, limit):
            campaign_id = str(campaign.id)
            for raw in await repository.holds_of(campaign_id):
                hold = Hold.model_validate(raw)
                investment = await repository.get_investment(hold.id) or Investment(
                    id=PydanticObjectId(hold.id), campaign_id=campaign_id, user_id=hold.user_id,
                    requested=hold.amount, amount=hold.amount, expires_at=hold.expires_at,
                )  # fmt: skip
                await campaign_service.do_release(investment, InvestmentStatus.EXPIRED)
            closed += await self._close(campaign_id, now)
        return closed

    async def _close(self, campaign_id: str, now: dt.datetime) -> int:
        await campaign_events.ensure_room(campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> Campaign | None:
            await repository.bump_money_seq(campaign_id, session)
            campaign = await campaign_service.get(campaign_id, session)
            if campaign.status != CampaignStatus.LIVE or campaign.ends_at > now:
                return None
            keep = campaign.funding_model == FundingModel.KEEP_WHAT_YOU_RAISE
            funded = campaign.raised >= campaign.goal or (keep and campaign.raised > 0)
            status = CampaignStatus.FUNDED if funded else CampaignStatus.FAILED
            updated = await repository.update_campaign(
                campaign_id, {"status": status.value, "closed_at": now, "updated_at": now},
                statuses=(CampaignStatus.LIVE,), session=session,
            )  # fmt: skip
            assert updated is not None
            if funded:
                await self._close_funded(updated, session)
            else:
                completed = await repository.investments_of_campaign(
                    campaign_id, (InvestmentStatus.COMPLETED,), session
                )
                for investment in completed:
                    await repository.set_investment(
                        str(investment.id), {"status": InvestmentStatus.REFUND_PENDING.value},
                        statuses=(InvestmentStatus.COMPLETED,), session=session,
                    )  # fmt: skip
                    await repository.insert_transfer(
                        Transfer(key=f"refund:{investment.id}", kind=TransferKind.REFUND,
                                 campaign_id=campaign_id, user_id=investment.user_id,
                                 amount=investment.amount, investment_id=str(investment.id),
                                 payment_id=investment.payment_id,
                                 provider=investment.provider),
                        session,
                    )  # fmt: skip
                await audit_service.do_append(
                    chain=campaign_chain(campaign_id), actor_id=None, action="campaign.failed",
                    target_type="campaign", target_id=campaign_id,
                    details={"raised": updated.raised, "goal": updated.goal,
                             "refunds": len(completed)},
                    session=session,
                )  # fmt: skip
            await campaign_events.record_progress(session, updated)
            await campaign_events.record_admin(session, campaign_id, "closed")
            investors = await repository.investments_of_campaign(campaign_id, None, session)
            people = [i.user_id for i in investors if i.payment_id] + [updated.owner_id]
            title = f"{updated.title}: {'funded' if funded else 'did not reach its goal'}"
            text = (f"{rupees(updated.raised)} raised of {rupees(updated.goal)}."
                    + ("" if funded else " Every investment is being refunded."))  # fmt: skip
            await campaign_service.after_commit_notify(people, updated, title, text,
                                                       f"closed:{campaign_id}")  # fmt: skip
            return updated

        return int(await run_in_transaction(body) is not None)

    async def _close_funded(self, campaign: Campaign, session: AsyncClientSession) -> None:
        """Queue the release of the escrow to the owner (once: its key) and audit it."""
        campaign_id = str(campaign.id)
        await repository.insert_transfer(
            Transfer(key=f"release:{campaign_id}", kind=TransferKind.RELEASE,
                     campaign_id=campaign_id, user_id=campaign.owner_id, amount=campaign.raised),
            session,
        )  # fmt: skip
        await audit_service.do_append(
            chain=campaign_chain(campaign_id), actor_id=None, action="campaign.funded",
            target_type="campaign", target_id=campaign_id,
            details={"raised": campaign.raised, "goal": campaign.goal}, session=session,
        )  # fmt: skip

    # ---- payouts out ---------------------------------------------------------------------

    async def do_process_transfers(self, now: dt.datetime | None = None, limit: int = 20) -> int:
        """Send due payout tasks (the payout timer); returns how many were paid. A task is
        claimed with a lease, sent with its key as the provider's idempotency key, then
        recorded with its journal entry in one transaction. A provider error schedules a
        retry (backoff 2 s, 10 s, 1 min, 5 min, 30 min); after ``campaign_payout_attempts``
        the task is failed, audited on the platform chain and admins are notified."""
        paid = 0
        now = now or utcnow()
        for _ in range(limit):
            token = secrets.token_hex(12)
            transfer = await repository.claim_due_transfer(now, LEASE, token)
            if transfer is None:
                break
            paid += await self._send(transfer, token, now)
        return paid

    async def _send(self, transfer: Transfer, token: str, now: dt.datetime) -> int:
        try:
            reference, done = await self._call_provider(transfer)
        except NoPayoutDestination:
            await self._park(transfer, token, now)
            return 0
        except (AppError, OSError, TimeoutError) as exc:
            await self._attempt_failed(transfer, token, exc, now)
            return 0
        await campaign_events.ensure_room(transfer.campaign_id)
        if not done:  # the provider took it; its webhook says how it ends
            await repository.finish_transfer(
                transfer.id, token, {"status": TransferStatus.SENT.value, "sent_at": utcnow(),
                                     "provider_ref": reference, "last_error": None},
            )  # fmt: skip
            return 0

        async def body(session: AsyncClientSession) -> bool:
            now = utcnow()
            done = await repository.finish_transfer(
                transfer.id, token, {"status": TransferStatus.PAID.value, "paid_at": now,
                                     "sent_at": now, "provider_ref": reference,
                                     "last_error": None},
                session,
            )  # fmt: skip
            if not done:
                return False
            await self._record_paid(transfer, reference, now, session)
            return True

        return int(await run_in_transaction(body))

    async def _record_paid(
        self, transfer: Transfer, reference: str, now: dt.datetime, session: AsyncClientSession
    ) -> None:
        """The money left: the journal entry, the refunded investment, audit, the payee told."""
        await repository.bump_money_seq(transfer.campaign_id, session)
        await ledger_service.do_post(
            pool_id=transfer.campaign_id, key=f"transfer:{transfer.provider_key()}",
            kind=f"campaign_{transfer.kind.value}",
            lines=await self._transfer_lines(transfer, session), effective_date=now.date(),
            memo=f"{transfer.kind.value} {reference}", session=session,
        )  # fmt: skip
        if transfer.kind == TransferKind.REFUND and transfer.investment_id:
            await repository.set_investment(
                transfer.investment_id, {"status": InvestmentStatus.REFUNDED.value,
                                         "refunded_at": now},
                statuses=(InvestmentStatus.REFUND_PENDING,), session=session,
            )  # fmt: skip
        await audit_service.do_append(
            chain=campaign_chain(transfer.campaign_id), actor_id=None,
            action=f"transfer.{transfer.kind.value}.paid", target_type="transfer",
            target_id=str(transfer.id),
            details={"amount": transfer.amount, "user_id": transfer.user_id,
                     "provider_ref": reference, "key": transfer.provider_key()},
            session=session,
        )  # fmt: skip
        campaign = await campaign_service.get(transfer.campaign_id, session)
        words = {TransferKind.REFUND: "Your investment was refunded",
                 TransferKind.RELEASE: "The money raised was paid out to you",
                 TransferKind.PROFIT_SHARE: "Your profit share was paid"}  # fmt: skip
        await campaign_service.after_commit_notify(
            [transfer.user_id], campaign, f"{campaign.title}: {words[transfer.kind]}",
            f"{rupees(transfer.amount)} sent (reference {reference}).",
            f"transfer:{transfer.provider_key()}",
        )  # fmt: skip

    async def _call_provider(self, transfer: Transfer) -> tuple[str, bool]:
        """Send the transfer in its current round; (the provider's id, whether it is final
        already). Raises ``NoPayoutDestination`` and the providers' errors."""
        notes = {NOTES_TAG: transfer.provider_key(), "campaign_id": transfer.campaign_id}
        if transfer.kind == TransferKind.REFUND:
            if not transfer.payment_id or not transfer.provider:
                raise AppError("the investment has no captured payment to refund")
            refund = await refund_payment(
                transfer.provider, transfer.payment_id, transfer.amount,
                transfer.provider_key(), notes,
            )  # fmt: skip
            return refund.id, refund.status in DONE_STATES
        destination = await repository.active_destination(transfer.user_id)
        if destination is None:
            raise NoPayoutDestination("the payee has no verified payout destination")
        payout = await destination_payouts().pay_to(
            key=transfer.provider_key(), fund_account_id=destination.fund_account_id,
            mode="UPI" if destination.kind == DestinationKind.VPA else "IMPS",
            amount_paise=transfer.amount, currency=transfer.currency, purpose="payout",
            narration="Samooh campaign payout", notes=notes,
        )  # fmt: skip
        return payout.id, payout.status in DONE_STATES

    async def _park(self, transfer: Transfer, token: str, now: dt.datetime) -> None:
        """A payee without a destination: the payout waits (the attempt is not counted) until
        they register one, which makes it due again; they are told once."""
        parked = await repository.finish_transfer(
            transfer.id, token,
            {"attempts": max(transfer.attempts - 1, 0), "waiting_for_destination": True,
             "next_attempt_at": now + PARKED, "last_error": "waiting for a payout destination"},
        )  # fmt: skip
        if not parked:
            return
        campaign = await campaign_service.get(transfer.campaign_id)
        await campaign_service.notify(
            [transfer.user_id], campaign,
            f"Add where we should pay you {rupees(transfer.amount)}",
            f"{campaign.title}: register a UPI id or bank account in your crowdfunding "
            "dashboard and the payout is sent at once.",
            f"destination:{transfer.key}",
        )  # fmt: skip

    # ---- the provider's webhooks about money out ---------------------------------------------

    async def do_apply_transfer_webhook(self, hook: TransferWebhook) -> str:
        """Apply a verified payout or refund webhook once: ``applied``, ``duplicate`` (this
        event id was applied already, or the transfer is already at or past that status:
        statuses only move forward, pending < sent < paid < failed) or ``ignored`` (not a
        transfer of ours, an old round's payout, or a status that ends nothing).

        ``processed`` makes a sent transfer paid (the journal entry, the refunded investment,
        the payee told); ``failed``/``reversed``/``rejected``/``cancelled`` make it failed —
        after it was paid (a reversal) the journal entry is reversed and a refund's investment
        is owed again — admins and the payee are told, and an admin may retry it.

        Raises ``TransferNotRecorded`` (409: the provider's answer to our request is not
        stored yet; the provider delivers again later)."""
        if not hook.transfer_key:
            return "ignored"
        base, _, rnd = hook.transfer_key.partition("#r")
        transfer = await repository.transfer_by_key(base)
        if transfer is None:
            return "ignored"
        if (int(rnd) if rnd.isdigit() else 0) != transfer.round:
            return "ignored"  # a webhook of an earlier round (a new payout is under way)
        target = (TransferStatus.PAID if hook.status in DONE_STATES else
                  TransferStatus.FAILED if hook.status in FAILED_STATES else None)  # fmt: skip
        if target is None:
            return "ignored"
        if transfer.status == TransferStatus.PENDING:
            raise TransferNotRecorded("the transfer is still being sent; deliver again later",
                                      details={"transfer_id": str(transfer.id)})  # fmt: skip
        if transfer.provider_ref and transfer.provider_ref != hook.entity_id:
            return "ignored"
        await campaign_events.ensure_room(transfer.campaign_id)
        now = utcnow()

        async def body(session: AsyncClientSession) -> str:
            if not await repository.record_transfer_event(
                TransferEvent(id=f"{hook.provider}:{hook.event_id}", provider=hook.provider,
                              event=hook.event, transfer_id=str(transfer.id),
                              outcome=target.value), session,
            ):  # fmt: skip
                return "duplicate"
            current = await repository.get_transfer(str(transfer.id), session)
            assert current is not None
            if current.round != transfer.round or (
                TRANSFER_RANK[current.status] >= TRANSFER_RANK[target]
            ):
                return "duplicate"
            if target == TransferStatus.PAID:
                if not await repository.move_transfer(
                    str(current.id), current.status,
                    {"status": target.value, "paid_at": now, "provider_ref": hook.entity_id},
                    session,
                ):  # fmt: skip
                    return "duplicate"
                await self._record_paid(current, hook.entity_id, now, session)
                return "applied"
            reason = hook.failure or f"the provider says {hook.event}"
            if not await repository.move_transfer(
                str(current.id), current.status,
                {"status": target.value, "failed_at": now, "last_error": reason[:300]}, session,
            ):  # fmt: skip
                return "duplicate"
            if current.status == TransferStatus.PAID:  # reversed after it was paid
                await self._reverse_paid(current, hook.entity_id, now, session)
            await audit_service.do_append(
                chain=campaign_chain(current.campaign_id), actor_id=None,
                action=f"transfer.{current.kind.value}.failed", target_type="transfer",
                target_id=str(current.id),
                details={"event": hook.event, "provider_ref": hook.entity_id,
                         "reason": reason[:300], "was": current.status.value},
                session=session,
            )  # fmt: skip
            failed = current.model_copy(update={"status": target, "last_error": reason})

            async def tell() -> None:
                await self._tell_admins(failed, reason)
                campaign = await campaign_service.get(failed.campaign_id)
                await campaign_service.notify(
                    [failed.user_id], campaign,
                    f"{campaign.title}: a payment to you did not go through",
                    f"{rupees(failed.amount)}: {reason}. We will send it again.",
                    f"transfer-failed:{failed.provider_key()}",
                )  # fmt: skip

            await events.after_commit(tell)
            return "applied"

        try:
            return await run_in_transaction(body)
        except DuplicateKeyError:  # the same event applied by a concurrent delivery
            return "duplicate"

    async def do_reconcile_sent(self, now: dt.datetime | None = None, limit: int = 20) -> int:
        """Payouts and refunds still ``sent`` ``STALE_SENT`` after they left (their webhook
        lost or late): ask the provider for each — the payout adapter's ``GET
        /v1/payouts/{id}``, or the payment provider's refund API for a refund (``GET
        /v1/payments/{id}/refunds/{refund_id}``) — and apply what it says like its webhook
        (the payout timer). Each is looked at again at most every ``STALE_SENT``. Returns how
        many changed."""
        now = now or utcnow()
        changed = 0
        adapter = destination_payouts()
        for transfer in await repository.claim_stale_sent(now - STALE_SENT, now, limit):
            if not transfer.provider_ref:
                continue
            try:
                if transfer.kind == TransferKind.REFUND:
                    if not transfer.provider or not transfer.payment_id:
                        continue
                    refund = await fetch_refund(
                        transfer.provider, transfer.payment_id, transfer.provider_ref
                    )
                    hook = polled_refund(transfer.provider_key(), refund)
                else:
                    body = await adapter.fetch_payout(transfer.provider_ref)
                    hook = polled_payout(adapter.name, transfer.provider_key(), body)
                changed += await self.do_apply_transfer_webhook(hook) == "applied"
            except (AppError, OSError, TimeoutError) as exc:
                log.warning("payout status check failed", key=transfer.key, error=str(exc)[:200])
        return changed

    async def _reverse_paid(
        self, transfer: Transfer, reference: str, now: dt.datetime, session: AsyncClientSession
    ) -> None:
        """Undo the journal entry of a transfer the provider reversed after paying it: the
        money is back in the escrow (a refund's investment is owed again)."""
        await repository.bump_money_seq(transfer.campaign_id, session)
        lines = await self._transfer_lines(transfer, session)
        await ledger_service.do_post(
            pool_id=transfer.campaign_id, key=f"reversal:{transfer.provider_key()}",
            kind=f"campaign_{transfer.kind.value}_reversed",
            lines=[(account, -amount) for account, amount in lines],
            effective_date=now.date(), memo=f"{transfer.kind.value} {reference} reversed",
            session=session,
        )  # fmt: skip
        if transfer.kind == TransferKind.REFUND and transfer.investment_id:
            await repository.set_investment(
                transfer.investment_id, {"status": InvestmentStatus.REFUND_PENDING.value,
                                         "refunded_at": None},
                statuses=(InvestmentStatus.REFUNDED,), session=session,
            )  # fmt: skip

    async def _transfer_lines(
        self, transfer: Transfer, session: AsyncClientSession
    ) -> list[tuple[str, int]]:
        if transfer.kind == TransferKind.REFUND:
            return [(investor_funds(transfer.user_id), transfer.amount), (ESCROW, -transfer.amount)]
        if transfer.kind == TransferKind.PROFIT_SHARE:
            return [(profit_payable(transfer.user_id), transfer.amount),
                    (ESCROW, -transfer.amount)]  # fmt: skip
        held: dict[str, int] = defaultdict(int)
        for investment in await repository.investments_of_campaign(
            transfer.campaign_id, (InvestmentStatus.COMPLETED,), session
        ):
            held[investment.user_id] += investment.amount
        lines = [(investor_funds(user), amount) for user, amount in sorted(held.items())]
        return [*lines, (ESCROW, -sum(held.values()))]

    async def _attempt_failed(
        self, transfer: Transfer, token: str, exc: Exception, now: dt.datetime
    ) -> None:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        said = getattr(exc, "details", {}).get("provider_error")
        if isinstance(said, dict) and isinstance(said.get("error"), dict):
            message = f"{message}: {said['error'].get('description', '')}"
        message = message[:300]
        attempts = transfer.attempts
        if attempts >= get_settings().campaign_payout_attempts:
            if await repository.finish_transfer(
                transfer.id, token, {"status": TransferStatus.FAILED.value, "last_error": message}
            ):
                await audit_service.do_append(
                    chain=PLATFORM_CHAIN, actor_id=None, action="campaign.transfer_failed",
                    target_type="transfer", target_id=str(transfer.id),
                    details={"key": transfer.key, "amount": transfer.amount, "error": message},
                )  # fmt: skip
                await self._tell_admin_room(transfer.campaign_id, "payout_failed")
                await self._tell_admins(transfer, message)
            return
        delay = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
        await repository.finish_transfer(
            transfer.id, token,
            {"last_error": message, "next_attempt_at": now + dt.timedelta(seconds=delay)},
        )  # fmt: skip
        log.warning("campaign transfer failed; will retry", key=transfer.key, error=message)

    async def _tell_admin_room(self, campaign_id: str, change: AdminChange) -> None:
        """Append ``campaign:admin`` on its own (a change made without a transaction, such as
        a payout's final failure, has committed already). Never raises."""
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> None:
            await campaign_events.record_admin(session, campaign_id, change)

        try:
            await run_in_transaction(body)
        except Exception as exc:  # pragma: no cover - the change itself committed
            log.warning("admin room not told", campaign=campaign_id, error=str(exc)[:200])

    async def _tell_admins(self, transfer: Transfer, message: str) -> None:
        page = await search_users(
            query=None, status=UserStatus.ACTIVE, role=PlatformRole.ADMIN, page=1, page_size=50
        )
        campaign = await campaign_service.get(transfer.campaign_id)
        await campaign_service.notify(
            [str(u.id) for u in page.items], campaign,
            f"Payout failed: {transfer.kind.value} of {rupees(transfer.amount)}",
            f"{campaign.title}: {message}. Retry it from the admin dashboard.",
            f"failed:{transfer.key}:{transfer.created_at.timestamp()}",
        )  # fmt: skip

    async def do_retry_transfer(self, admin_id: str, transfer_id: str) -> Transfer:
        """An admin puts a failed payout back in the queue (audited).

        Raises ``TransferNotFound``."""
        if not await repository.retry_transfer(transfer_id, utcnow()):
            raise TransferNotFound("no failed payout with that id")
        transfer = await repository.get_transfer(transfer_id)
        assert transfer is not None
        await audit_service.do_append(
            chain=campaign_chain(transfer.campaign_id), actor_id=admin_id,
            action="transfer.retried", target_type="transfer", target_id=transfer_id,
            details={"round": transfer.round, "provider_key": transfer.provider_key()},
        )  # fmt: skip
        await self._tell_admin_room(transfer.campaign_id, "payout_retried")
        return transfer

    # ---- profit sharing ------------------------------------------------------------------

    async def do_report_profit(
        self, owner_id: str, campaign_id: str, data: ProfitReportCreate
    ) -> ProfitReport:
        """The owner of a funded campaign reports profit for a period, with a supporting
        document they uploaded. The investors' pool = profit × share, rounded down.

        Periods start on or after the day the campaign opened (live and past its start day),
        end by today, and never share a day with another report that was not rejected.

        Raises ``CampaignNotFound``, ``NotCampaignOwner``, ``InvalidProfitReport``
        (``details.field``), ``ProfitReportState`` (a report for that period exists)."""
        campaign = await campaign_service.check_owner(campaign_id, owner_id)
        if campaign.status != CampaignStatus.FUNDED:
            raise InvalidProfitReport("profit is reported for funded campaigns only",
                                      details={"field": "campaign"})  # fmt: skip
        today = utcnow().date()
        if data.period_end < data.period_start:
            raise InvalidProfitReport("the period must end on or after the day it starts",
                                      details={"field": "period_end"})  # fmt: skip
        if data.period_end > today:
            raise InvalidProfitReport("the period cannot end in the future",
                                      details={"field": "period_end"})  # fmt: skip
        opened = campaign.starts_on
        if campaign.live_at is not None:
            opened = max(opened, campaign.live_at.date().isoformat())
        if data.period_start.isoformat() < opened:
            raise InvalidProfitReport(
                f"the period cannot start before the campaign opened on {opened}",
                details={"field": "period_start", "opened_on": opened},
            )
        if data.profit <= 0:
            raise InvalidProfitReport("report a profit above zero", details={"field": "profit"})
        pool = profit_pool(data.profit, campaign.profit_share_bps)
        if pool < 100:
            raise InvalidProfitReport("the investors' share is below ₹1.00",
                                      details={"field": "profit"})  # fmt: skip
        document = await files_service.get(data.document_file_id)
        if document is None or document.owner_id != owner_id:
            raise InvalidProfitReport("the document is not one of your uploads",
                                      details={"field": "document_file_id"})  # fmt: skip
        if document.purpose != FilePurpose.CAMPAIGN:
            raise InvalidProfitReport("upload the statement as purpose 'campaign'",
                                      details={"field": "document_file_id"})  # fmt: skip
        report = ProfitReport(
            campaign_id=campaign_id, owner_id=owner_id,
            period_start=data.period_start.isoformat(), period_end=data.period_end.isoformat(),
            profit=data.profit, pool=pool, document_file_id=data.document_file_id,
            note=data.note,
        )  # fmt: skip
        await campaign_events.ensure_room(campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> None:
            # One report at a time per campaign (the money sequence), so two overlapping
            # reports sent at once cannot both pass the check.
            await repository.bump_money_seq(campaign_id, session)
            other = await repository.overlapping_report(
                campaign_id, report.period_start, report.period_end, session
            )
            if other is not None:
                raise InvalidProfitReport(
                    f"the period overlaps the report for {other.period_start} to "
                    f"{other.period_end}; periods may not share a day",
                    details={"field": "period_start", "report_id": str(other.id),
                             "period_start": other.period_start,
                             "period_end": other.period_end},
                )  # fmt: skip
            await repository.insert_report(report, session)
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=owner_id, action="profit.reported",
                target_type="profit_report", target_id=str(report.id),
                details={"profit": data.profit, "pool": pool,
                         "period_start": report.period_start, "period_end": report.period_end},
                session=session,
            )  # fmt: skip
            # investors' screens show it at once; the admin's queue gains it
            await campaign_events.record_report(session, report)
            await campaign_events.record_admin(session, campaign_id, "report_submitted")

        try:
            await run_in_transaction(body)
        except DuplicateKeyError as exc:  # a rejected report of the same start day
            raise ProfitReportState("a report for this period exists") from exc
        return report

    async def do_decide_report(
        self, admin_id: str, report_id: str, approve: bool, notes: str
    ) -> ProfitReport:
        """An admin approves (the owner is asked to pay the pool in through a checkout) or
        rejects a submitted profit report, with notes; audited.

        Raises ``ProfitReportNotFound``, ``ProfitReportState``."""
        report = await repository.get_report(report_id)
        if report is None:
            raise ProfitReportNotFound("no such profit report")
        now = utcnow()
        status = ProfitReportStatus.APPROVED if approve else ProfitReportStatus.REJECTED
        changes: dict[str, object] = {"status": status.value, "decided_by": admin_id,
                                      "decision_notes": notes, "decided_at": now}  # fmt: skip
        if approve:
            checkout = await create_checkout(
                f"{PROFIT_PREFIX}{report_id}", report.campaign_id, report.pool, "INR",
                pool_type="campaign",
            )  # fmt: skip
            changes.update(order_id=checkout.order_id, checkout_url=checkout.checkout_url)
        await campaign_events.ensure_room(report.campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> None:
            if not await repository.set_report(
                report_id, changes, status=ProfitReportStatus.SUBMITTED.value, session=session
            ):
                raise ProfitReportState("the report was decided already")
            await campaign_events.record_report(
                session, report.model_copy(update={"status": status})
            )
            await campaign_events.record_admin(session, report.campaign_id, "report_decided")
            await audit_service.do_append(
                chain=campaign_chain(report.campaign_id), actor_id=admin_id,
                action=f"profit.{status.value}", target_type="profit_report",
                target_id=report_id, details={"notes": notes, "pool": report.pool},
                session=session,
            )  # fmt: skip

        await run_in_transaction(body)
        decided = await repository.get_report(report_id)
        assert decided is not None
        campaign = await campaign_service.get(report.campaign_id)
        await campaign_service.notify(
            [report.owner_id], campaign, f"Profit report {status.value}",
            notes if not approve else
            f"Pay {rupees(report.pool)} in for your investors: it is shared at once.",
            f"profit:{report_id}:{status.value}",
        )  # fmt: skip
        return decided

    async def do_apply_profit_pool(self, event: PaymentEventV1) -> bool:
        """The owner paid an approved report's pool in: split it pro-rata to completed
        investments (largest remainder), post Dr escrow / Cr each investor's profit payable,
        and queue one payout task per investor (``share:<report>:<user>``). Once: the
        journal key ``payment:<event id>`` and the report's status guard."""
        report_id = event.contribution_id[len(PROFIT_PREFIX) :]
        report = await repository.get_report(report_id)
        if report is None or report.campaign_id != event.pool_id:
            return False
        if event.kind != "payment.captured":
            return False
        campaign_id = report.campaign_id
        now = utcnow()
        await campaign_events.ensure_room(campaign_id)

        async def body(session: AsyncClientSession) -> list[ProfitShare] | None:
            await repository.bump_money_seq(campaign_id, session)
            current = await repository.get_report(report_id, session)
            assert current is not None
            if current.status != ProfitReportStatus.APPROVED or event.amount != current.pool:
                log.warning("profit pool payment not applicable", report=report_id,
                            status=current.status, amount=event.amount)  # fmt: skip
                return None
            investments = await repository.investments_of_campaign(
                campaign_id, (InvestmentStatus.COMPLETED,), session
            )
            parts = split_pro_rata(current.pool, [(i.user_id, i.amount) for i in investments])
            shares = [ProfitShare(user_id=p.user_id, invested=p.invested, amount=p.amount)
                      for p in parts]  # fmt: skip
            lines = [(ESCROW, current.pool)] + [
                (profit_payable(s.user_id), -s.amount) for s in shares if s.amount
            ]
            _, new = await ledger_service.do_post(
                pool_id=campaign_id, key=f"payment:{event.id}", kind="profit_pool_received",
                lines=lines, effective_date=_day(event),
                memo=f"profit {current.period_start}–{current.period_end}", session=session,
            )  # fmt: skip
            if not new:
                return None
            for share in shares:
                if share.amount == 0:
                    continue
                await repository.insert_transfer(
                    Transfer(key=f"share:{report_id}:{share.user_id}",
                             kind=TransferKind.PROFIT_SHARE, campaign_id=campaign_id,
                             user_id=share.user_id, amount=share.amount, report_id=report_id),
                    session,
                )  # fmt: skip
            await repository.set_report(
                report_id, {"status": ProfitReportStatus.DISTRIBUTED.value,
                            "shares": [s.model_dump() for s in shares], "distributed_at": now},
                status=ProfitReportStatus.APPROVED.value, session=session,
            )  # fmt: skip
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=None, action="profit.distributed",
                target_type="profit_report", target_id=report_id,
                details={"pool": current.pool, "shares": len(shares), "event_id": event.id},
                session=session,
            )  # fmt: skip
            distributed = current.model_copy(update={"status": ProfitReportStatus.DISTRIBUTED})
            await campaign_events.record_report(session, distributed)
            return shares

        shares = await run_in_transaction(body)
        if not shares:
            return False
        campaign = await campaign_service.get(campaign_id)
        for share in shares:
            await campaign_service.notify(
                [share.user_id], campaign, f"{campaign.title}: profit shared",
                f"Your share for {report.period_start} to {report.period_end} is "
                f"{rupees(share.amount)}; it is on its way.",
                f"share:{report_id}",
            )  # fmt: skip
        return True

    # ---- the reporting schedule ----------------------------------------------------------

    async def do_tell_overdue_reports(self, today: dt.date | None = None) -> int:
        """The overdue sweep (a worker timer): for every funded campaign whose next profit
        report due (docs/domain.md, "Reporting schedule") is overdue and was not told yet, tell
        its owner (in-app and e-mail: kind ``campaign_report_overdue``) and its investors
        (in-app), audit it on the campaign's chain, and append ``campaign:report_due`` to its
        room and ``campaign:admin`` to the admins'. Once per overdue report: the claim on the
        campaign's ``overdue_told`` is taken in the same transaction, so two workers (or a
        rerun) never tell twice. Returns how many reports were told now."""
        told = 0
        for campaign in await campaign_service.funded():
            due = campaign_service.report_due(
                campaign, await campaign_service.reports(str(campaign.id)), today
            )
            if due is None or due.state != "overdue":
                continue
            if due.period_start.isoformat() in campaign.overdue_told:
                continue
            try:
                told += await self._tell_overdue(campaign, due)
            except Exception as exc:  # one campaign's trouble never stops the others
                log.warning("overdue report not told", campaign=str(campaign.id),
                            error=str(exc)[:200])  # fmt: skip
        return told

    async def _tell_overdue(self, campaign: Campaign, due: ReportDue) -> int:
        campaign_id = str(campaign.id)
        key = due.period_start.isoformat()
        period = f"{due.period_start:%d %b %Y} to {due.period_end:%d %b %Y}"
        late_since = due.due_on + dt.timedelta(days=1)
        paid = await repository.investments_of_campaign(campaign_id, (InvestmentStatus.COMPLETED,))
        investors = sorted({i.user_id for i in paid} - {campaign.owner_id})
        drafts = [Draft(
            user_id=campaign.owner_id, kind=NotificationKind.CAMPAIGN_REPORT_OVERDUE,
            title=f"{campaign.title}: your profit report is overdue"[:120],
            body=(f"The profit report for {period} was due by {due.due_on:%d %b %Y}. Your "
                  f"investors are waiting: report the period's profit with its statement now."),
            ref_type="campaign", ref_id=campaign_id,
            dedupe_key=f"campaign:overdue:{campaign_id}:{key}:{campaign.owner_id}",
        )] + [Draft(
            user_id=user_id, kind=NotificationKind.CAMPAIGN,
            title=f"{campaign.title}: the profit report is overdue"[:120],
            body=(f"The owner has not reported the profit for {period}, due by "
                  f"{due.due_on:%d %b %Y} (overdue since {late_since:%d %b %Y}). We have "
                  f"reminded them; you can open a dispute from the campaign's page."),
            ref_type="campaign", ref_id=campaign_id,
            dedupe_key=f"campaign:overdue:{campaign_id}:{key}:{user_id}",
        ) for user_id in investors]  # fmt: skip
        await notification_service.prepare([d.user_id for d in drafts])
        await campaign_events.ensure_room(campaign_id)
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> bool:
            if not await repository.claim_overdue_told(campaign_id, key, session):
                return False  # told already (another worker, or an earlier sweep)
            await notification_service.do_store(session, drafts)
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=None,
                action="profit.report_overdue", target_type="campaign", target_id=campaign_id,
                details={"number": due.number, "period_start": key,
                         "period_end": due.period_end.isoformat(),
                         "due_on": due.due_on.isoformat(), "investors_told": len(investors)},
                session=session,
            )  # fmt: skip
            await campaign_events.record_report_due(session, campaign, due)
            await campaign_events.record_admin(session, campaign_id, "report_overdue")
            return True

        return int(await run_in_transaction(body))

    # ---- disputes ------------------------------------------------------------------------

    async def do_open_dispute(self, user_id: str, campaign_id: str, reason: str) -> Dispute:
        """An investor opens a dispute against a campaign they invested in.

        Raises ``CampaignNotFound``, ``NotAnInvestor``."""
        await campaign_service.check_visible(campaign_id, user_id, False)
        mine = [i for i in await repository.investments_of_user(user_id)
                if i.campaign_id == campaign_id and i.payment_id]  # fmt: skip
        if not mine:
            raise NotAnInvestor("only investors of this campaign can open a dispute")
        dispute = Dispute(campaign_id=campaign_id, user_id=user_id, reason=reason.strip())
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> Dispute:
            await repository.insert_dispute(dispute, session)
            await audit_service.do_append(
                chain=campaign_chain(campaign_id), actor_id=user_id, action="dispute.opened",
                target_type="dispute", target_id=str(dispute.id), session=session,
            )  # fmt: skip
            await campaign_events.record_admin(session, campaign_id, "dispute_opened")
            return dispute

        return await run_in_transaction(body)

    async def do_resolve_dispute(self, admin_id: str, dispute_id: str, resolution: str) -> Dispute:
        """An admin resolves an open dispute with notes (audited); the investor is notified.

        Raises ``DisputeNotFound``, ``DisputeState``."""
        dispute = await repository.get_dispute(dispute_id)
        if dispute is None:
            raise DisputeNotFound("no such dispute")
        now = utcnow()
        await campaign_events.ensure_admin_room()

        async def body(session: AsyncClientSession) -> None:
            if not await repository.resolve_dispute(
                dispute_id, {"status": "resolved", "resolution": resolution,
                             "resolved_by": admin_id, "resolved_at": now}, session,
            ):  # fmt: skip
                raise DisputeState("the dispute is resolved already")
            await audit_service.do_append(
                chain=campaign_chain(dispute.campaign_id), actor_id=admin_id,
                action="dispute.resolved", target_type="dispute", target_id=dispute_id,
                details={"resolution": resolution}, session=session,
            )  # fmt: skip
            await campaign_events.record_admin(session, dispute.campaign_id, "dispute_resolved")

        await run_in_transaction(body)
        resolved = await repository.get_dispute(dispute_id)
        assert resolved is not None
        campaign = await campaign_service.get(dispute.campaign_id)
        await campaign_service.notify([dispute.user_id], campaign, "Your dispute was resolved",
                                      resolution, f"dispute:{dispute_id}")  # fmt: skip
        return resolved


campaign_flows = CampaignFlows()
