"""Chit flows with side effects outside the database: the month's prize paid through the payout
provider (RazorpayX Payouts, or its local sandbox by default — ``app/payments/transfers.py``).

A prize payout is one PRIZE ``ChitPayment`` per auction (``Auction.prize_payment_id``, set once
under a guard): requested PENDING in one transaction (the payout is spoken for: other payouts
see less cash), then sent with the idempotency key ``chit-prize-<auction id>-<attempt>``, then
recorded COMPLETED with its journal entry (``ChitService.do_book_prize``: Dr prize payable, Cr
cash and Cr the winner's subscription for what was withheld: arrears always, and the months to
come without security) in another.

* The provider did not answer (5xx, timeout): the payment stays PENDING and the sweep of the
  chits agent sends it again with the *same* key after a backoff (the provider answers the
  payout it made the first time, so a lost answer never pays twice).
* The provider refused it (4xx, or a payout that came back failed): FAILED, with the reason;
  the foreman retries, which sends it again as a new attempt (a new key: the refused one is
  final at the provider).
"""

from __future__ import annotations

import datetime as dt

from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import audit_service
from app.chits import repository
from app.chits.documents import AuctionStatus, ChitPayment, PaymentKind, PaymentStatus
from app.chits.errors import (
    AuctionNotOpen,
    PaymentNotFound,
    PrizeAlreadyPaid,
    PrizePayoutState,
    SchemeNotFound,
)
from app.chits.schemas import ChitPaymentEvent
from app.chits.service import PAYMENT, Actor, chit_service, scheme_chain, scheme_room
from app.db import run_in_transaction
from app.errors import AppError
from app.logging import get_logger
from app.money import format_minor
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.payments.errors import PaymentProviderRejected, PaymentProviderUnavailable
from app.payments.transfers import pay_out, payee_vpa
from app.realtime import events
from app.realtime.eventlog import utcnow

log = get_logger(__name__)

LEASE = dt.timedelta(seconds=60)
BACKOFF_SECONDS = (5, 30, 120, 600, 1800)


def _ms(moment: dt.datetime) -> dt.datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _reason(exc: PaymentProviderRejected) -> str:
    """The refusal in words: our message and the provider's own description when it gave one
    (Razorpay's ``{"error": {"description": …}}``)."""
    said = exc.details.get("provider_error")
    if isinstance(said, dict) and isinstance(said.get("error"), dict):
        return f"{exc.message}: {said['error'].get('description', '')}"
    return exc.message


def payout_key(auction_id: str, attempt: int) -> str:
    """The provider's idempotency key of attempt ``attempt`` of a month's prize payout."""
    return f"chit-prize-{auction_id}-{attempt}"


class ChitFlows:
    """Prize payouts through the payout provider: request, send, record, fail, retry."""

    async def prize_payout(self, auction_id: str, actor: Actor) -> ChitPayment | None:
        """The month's prize payout, if one was requested (the foreman's, the winner's or an
        admin's to see). Raises SchemeNotFound / SubscriptionNotFound (404)."""
        auction, _ = await chit_service.auction(auction_id, actor)
        if auction.prize_payment_id is None:
            return None
        return await repository.get_payment(auction.prize_payment_id)

    async def do_request_prize_payout(
        self, auction_id: str, actor: Actor, now: dt.datetime | None = None
    ) -> ChitPayment:
        """The foreman pays a closed month's prize through the payout provider, exactly once:
        the winner's prize less what is withheld (arrears; without security, the months to come:
        ``prize_split``). Creates
        the PENDING PRIZE payment and sends it at once; returns it COMPLETED, PENDING (the
        provider did not answer: the sweep retries) or FAILED (refused: retry by hand).
        Asking again returns the same payment (nothing is sent twice).

        Raises:
            SchemeNotFound (404), ChitForbidden (403), AuctionNotOpen (409: not closed),
            PrizeAlreadyPaid (409: recorded by hand before), InsufficientCollections (409).
        """
        now = _ms(now or utcnow())
        auction = await repository.get_auction(auction_id)
        if auction is None:
            raise SchemeNotFound("no such auction")
        scheme = await chit_service.check_foreman(auction.scheme_id, actor)
        scheme_id = str(scheme.id)
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> tuple[ChitPayment, bool]:
            await repository.bump_money_seq(scheme_id, session)
            live = await repository.get_auction(auction_id, session)
            fresh = await repository.get_scheme(scheme_id, session)
            assert live is not None and fresh is not None
            if live.status != AuctionStatus.CLOSED or live.winner_subscription_id is None:
                raise AuctionNotOpen("the auction has not closed yet")
            if live.prize_payment_id is not None:
                existing = await repository.get_payment(live.prize_payment_id, session)
                assert existing is not None
                return existing, False
            if live.prize_paid_at is not None:
                raise PrizeAlreadyPaid("this month's prize was paid already")
            sub = await repository.get_subscription(live.winner_subscription_id, session)
            assert sub is not None and live.prize is not None
            withheld, payout = await chit_service.prize_split(fresh, live, sub, session, now.date())
            payment = ChitPayment(
                scheme_id=scheme_id, subscription_id=str(sub.id), user_id=sub.user_id,
                kind=PaymentKind.PRIZE, status=PaymentStatus.PENDING, amount=payout,
                month=live.month, currency=fresh.currency,
                details={"prize": live.prize, "withheld": withheld, "attempt": 1,
                         "auction_id": auction_id, "ticket": sub.ticket},
                next_attempt_at=now + LEASE,
            )  # fmt: skip
            await repository.insert(payment, session)
            if not await repository.update_auction(
                auction_id, {"prize_payment_id": None, "prize_paid_at": None},
                {"prize_payment_id": str(payment.id)}, session,
            ):  # fmt: skip
                raise PrizeAlreadyPaid("this month's prize was paid already")
            await audit_service.do_append(
                chain=scheme_chain(scheme_id), actor_id=actor.user_id,
                action="prize.payout_requested", target_type="auction", target_id=auction_id,
                details={"payout": payout, "withheld": withheld, "payment_id": str(payment.id)},
                session=session,
            )  # fmt: skip
            await self._payment_event(session, payment, sub.ticket, PaymentStatus.PENDING)
            return payment, True

        payment, new = await run_in_transaction(body)
        if not new and payment.status != PaymentStatus.PENDING:
            return payment
        return await self.do_send(str(payment.id), now)

    async def do_retry_prize_payout(
        self, payment_id: str, actor: Actor, now: dt.datetime | None = None
    ) -> ChitPayment:
        """The foreman sends a FAILED prize payout again, as a new attempt (a new idempotency
        key). Returns it as ``do_request_prize_payout`` does.

        Raises PaymentNotFound (404), ChitForbidden (403), PrizePayoutState (409: not FAILED).
        """
        now = _ms(now or utcnow())
        payment = await repository.get_payment(payment_id)
        if payment is None or payment.kind != PaymentKind.PRIZE:
            raise PaymentNotFound("no such prize payout")
        await chit_service.check_foreman(payment.scheme_id, actor)
        attempt = int(payment.details.get("attempt", 1)) + 1
        if not await repository.update_payment(
            payment_id, {"status": PaymentStatus.FAILED.value},
            {"status": PaymentStatus.PENDING.value, "details.attempt": attempt,
             "next_attempt_at": now + LEASE},
        ):  # fmt: skip
            raise PrizePayoutState(
                "only a failed payout is retried", details={"status": payment.status.value}
            )
        await audit_service.do_append(
            chain=scheme_chain(payment.scheme_id), actor_id=actor.user_id,
            action="prize.payout_retried", target_type="payment", target_id=payment_id,
            details={"attempt": attempt},
        )  # fmt: skip
        return await self.do_send(payment_id, now)

    async def do_send_due(self, now: dt.datetime | None = None, limit: int = 20) -> int:
        """Send again the PENDING prize payouts whose retry time has come (the chits agent's
        sweep); returns how many completed. Safe on every worker (each is claimed with a
        lease; the provider's idempotency key makes a repeated send harmless)."""
        now = _ms(now or utcnow())
        done = 0
        for _ in range(limit):
            payment = await repository.claim_due_payout(now, LEASE)
            if payment is None:
                break
            sent = await self.do_send(str(payment.id), now)
            done += int(sent.status == PaymentStatus.COMPLETED)
        return done

    async def do_send(self, payment_id: str, now: dt.datetime | None = None) -> ChitPayment:
        """Send a PENDING prize payout to the provider and record what came of it (see the
        module docstring); a payment in any other state is returned unchanged."""
        now = _ms(now or utcnow())
        payment = await repository.get_payment(payment_id)
        if payment is None:
            raise PaymentNotFound("no such prize payout")
        if payment.status != PaymentStatus.PENDING:
            return payment
        attempt = int(payment.details.get("attempt", 1))
        auction_id = str(payment.details.get("auction_id", ""))
        reference: str | None = None
        provider = "none"
        if payment.amount > 0:
            users = await repository.users_by_id([payment.user_id])
            user = users.get(payment.user_id)
            try:
                sent = await pay_out(
                    key=payout_key(auction_id, attempt), payee_ref=payment.user_id,
                    payee_name=user.full_name if user is not None else "Samooh subscriber",
                    vpa=payee_vpa(payment.user_id), amount_paise=payment.amount,
                    currency=payment.currency, purpose="payout",
                    narration=f"Samooh chit prize month {payment.month}",
                )  # fmt: skip
            except PaymentProviderRejected as exc:
                return await self._failed(payment, _reason(exc), now)
            except (PaymentProviderUnavailable, AppError, OSError, TimeoutError) as exc:
                return await self._later(payment, str(getattr(exc, "message", exc)), now)
            reference, provider = sent.id, sent.provider
        return await self._completed(payment, reference, provider, now)

    async def _completed(
        self, payment: ChitPayment, reference: str | None, provider: str, now: dt.datetime
    ) -> ChitPayment:
        payment_id = str(payment.id)
        await notification_service.prepare([payment.user_id])

        async def body(session: AsyncClientSession) -> ChitPayment:
            await repository.bump_money_seq(payment.scheme_id, session)
            if not await repository.update_payment(
                payment_id, {"status": PaymentStatus.PENDING.value},
                {"status": PaymentStatus.COMPLETED.value, "completed_at": now,
                 "reference": reference, "payment_id": reference, "last_error": None,
                 "next_attempt_at": None, "attempts": payment.attempts + 1,
                 "provider": provider},
                session,
            ):  # fmt: skip
                fresh = await repository.get_payment(payment_id, session)
                assert fresh is not None
                return fresh
            auction = await repository.get_auction(str(payment.details["auction_id"]), session)
            scheme = await repository.get_scheme(payment.scheme_id, session)
            sub = await repository.get_subscription(payment.subscription_id, session)
            assert auction is not None and scheme is not None and sub is not None
            withheld = int(payment.details.get("withheld", 0))
            booked = await chit_service.do_book_prize(session, scheme, auction, sub, withheld, now)
            if not booked:  # recorded by hand meanwhile: that must not happen (guards)
                raise PrizeAlreadyPaid("this month's prize was paid already")
            await audit_service.do_append(
                chain=scheme_chain(payment.scheme_id), actor_id=None, action="prize.paid",
                target_type="auction", target_id=str(auction.id),
                details={"payout": payment.amount, "withheld": withheld,
                         "reference": reference, "payment_id": payment_id},
                session=session,
            )  # fmt: skip
            await self._payment_event(session, payment, sub.ticket, PaymentStatus.COMPLETED)
            await notification_service.do_store(session, [Draft(
                user_id=payment.user_id, kind=NotificationKind.PAYMENT_RECEIVED,
                title=f"{scheme.name}: your prize of {format_minor(payment.amount)} was paid",
                body=f"Month {payment.month}'s prize was sent to your UPI id"
                     f"{f' (reference {reference})' if reference else ''}"
                     f"{f'; {format_minor(withheld)} was kept for what you owe and the instalments to come' if withheld else ''}.",  # noqa: E501
                ref_type="chit_payment", ref_id=payment_id,
                dedupe_key=f"chit-prize-paid:{payment_id}",
            )])  # fmt: skip
            fresh = await repository.get_payment(payment_id, session)
            assert fresh is not None
            return fresh

        return await run_in_transaction(body)

    async def _failed(self, payment: ChitPayment, why: str, now: dt.datetime) -> ChitPayment:
        payment_id = str(payment.id)
        await events.ensure_room(scheme_room(payment.scheme_id))

        async def body(session: AsyncClientSession) -> ChitPayment:
            if await repository.update_payment(
                payment_id, {"status": PaymentStatus.PENDING.value},
                {"status": PaymentStatus.FAILED.value, "last_error": why[:300],
                 "next_attempt_at": None, "attempts": payment.attempts + 1},
                session,
            ):  # fmt: skip
                await audit_service.do_append(
                    chain=scheme_chain(payment.scheme_id), actor_id=None,
                    action="prize.payout_failed", target_type="payment", target_id=payment_id,
                    details={"reason": why[:300], "attempt": payment.details.get("attempt")},
                    session=session,
                )  # fmt: skip
                await self._payment_event(
                    session, payment, int(payment.details.get("ticket", 0)), PaymentStatus.FAILED
                )
            fresh = await repository.get_payment(payment_id, session)
            assert fresh is not None
            return fresh

        log.warning("chit prize payout refused", payment_id=payment_id, reason=why)
        return await run_in_transaction(body)

    async def _later(self, payment: ChitPayment, why: str, now: dt.datetime) -> ChitPayment:
        tries = payment.attempts + 1
        wait = BACKOFF_SECONDS[min(tries, len(BACKOFF_SECONDS)) - 1]
        await repository.update_payment(
            str(payment.id), {"status": PaymentStatus.PENDING.value},
            {"attempts": tries, "last_error": why[:300],
             "next_attempt_at": now + dt.timedelta(seconds=wait)},
        )  # fmt: skip
        log.warning("chit prize payout: provider unavailable", payment_id=str(payment.id),
                    retry_in=wait)  # fmt: skip
        fresh = await repository.get_payment(str(payment.id))
        assert fresh is not None
        return fresh

    async def _payment_event(
        self, session: AsyncClientSession, payment: ChitPayment, ticket: int,
        status: PaymentStatus,
    ) -> None:  # fmt: skip
        await events.room_event(
            session, scheme_room(payment.scheme_id), PAYMENT, ChitPaymentEvent,
            scheme_id=payment.scheme_id, payment_id=str(payment.id), ticket=ticket,
            month=payment.month, kind=PaymentKind.PRIZE.value, status=status.value,
            amount=format_minor(payment.amount),
        )  # fmt: skip


chit_flows = ChitFlows()
"""The one instance of ``ChitFlows``."""
