"""Payments rules: checkouts for contributions, and the webhook path
verify → store the provider event id → publish one ``PaymentEventV1`` per payment outcome.

The crash window between storing and publishing is closed with an outbox: each payment outcome
is stored ``pending`` (unique per provider, payment and kind) before it is sent, and marked
``published`` after Kafka acknowledged it. Every delivery of an event re-runs the whole path, so
a delivery that died after storing (no 2xx went back, so the provider delivers again) publishes
on the next one; a sweeper re-publishes outcomes still pending after ``SWEEP_AFTER`` in case the
provider gave up. A publisher holds a short claim while sending, so concurrent duplicate
deliveries never publish twice; only a publisher that dies after Kafka acknowledged and before
marking can cause a second send of the same ``PaymentEventV1.id``, which the payments agent
absorbs (it is idempotent on that id, docs/architecture.md, idempotency).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from collections.abc import Mapping

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession

from app.config import Settings, get_settings
from app.errors import ServiceUnavailable
from app.logging import get_logger
from app.metrics import OUTBOX_OLDEST_PENDING_SECONDS, OUTBOX_PENDING, PAYMENT_OUTCOMES
from app.payments import repository
from app.payments.documents import PaymentOrder, PaymentOutcome, ProviderEvent
from app.payments.errors import (
    CheckoutConflict,
    InvalidCheckout,
    PaymentProviderRejected,
    WebhookInProgress,
    WebhookSignatureInvalid,
    WebhookTooLarge,
)
from app.payments.providers import (
    VerifiedProviderEvent,
    build_provider,
    checkout_provider,
    webhook_provider,
)
from app.payments.providers.base import body_digest, header
from app.payments.schemas import CheckoutSession, WebhookAck
from app.telemetry import continued_span, trace_carrier
from streams.producer import EventProducer
from streams.records import PaymentEventV1
from streams.topics import PAYMENT_EVENTS

log = get_logger(__name__)

# How long a publisher may hold an outcome before another delivery may take it over.
CLAIM_LEASE = dt.timedelta(seconds=30)
# Kafka must acknowledge within this, well inside the lease.
SEND_TIMEOUT_SECONDS = 10.0
# Outcomes still pending this long after they were stored are re-published by the sweeper
# (the default of ``payment_outbox_republish_after_seconds``; the sweep runs every
# ``payment_outbox_sweep_seconds``).
SWEEP_AFTER = dt.timedelta(seconds=60)

POOL_TYPES = ("club", "chit", "campaign")
NOTE_KEYS = ("pool_type", "pool_id", "contribution_id")
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")  # a Razorpay receipt is at most 40 characters
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
MAX_CHECKOUT_PAISE = 10**12  # ₹1,000 crore: far above any contribution, far below int64

WEBHOOKS = Counter(
    "samooh_payment_webhooks_total", "Payment webhook deliveries", ["provider", "result"]
)
PUBLISHED = Counter(
    "samooh_payment_events_published_total", "PaymentEventV1 records published", ["provider"]
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    """``2026-01-31T09:15:00Z``: ISO-8601 UTC to the second, as events carry times."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PaymentService:
    """Checkouts and webhooks. Stateless; reads settings per call and takes the producer."""

    def check_checkout(
        self, contribution_id: str, pool_id: str, amount_paise: int, currency: str, pool_type: str
    ) -> None:
        """Validate ``create_checkout`` arguments. Raises ``InvalidCheckout`` naming the field.

        Rules: amount a positive ``int`` of paise (never a float or bool) up to
        ``MAX_CHECKOUT_PAISE``; currency ISO 4217 upper case; ids 1–40 of ``[A-Za-z0-9_-]``
        (the contribution id is Razorpay's ``receipt``, at most 40 characters); a known pool type.
        """
        if isinstance(amount_paise, bool) or not isinstance(amount_paise, int):
            raise InvalidCheckout("amount must be integer paise", details={"field": "amount"})
        if not 0 < amount_paise <= MAX_CHECKOUT_PAISE:
            raise InvalidCheckout("amount must be positive", details={"field": "amount"})
        if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
            raise InvalidCheckout(
                "currency must be an ISO 4217 code", details={"field": "currency"}
            )
        for name, value in (("contribution_id", contribution_id), ("pool_id", pool_id)):
            if not isinstance(value, str) or not _ID_RE.match(value):
                raise InvalidCheckout(f"{name} is not a usable id", details={"field": name})
        if pool_type not in POOL_TYPES:
            raise InvalidCheckout("unknown pool type", details={"field": "pool_type"})

    async def create_checkout(
        self,
        contribution_id: str,
        pool_id: str,
        amount_paise: int,
        currency: str,
        *,
        pool_type: str = "club",
        settings: Settings | None = None,
    ) -> CheckoutSession:
        """Create (or return the existing) checkout of one contribution at the configured
        provider (``payment_provider``).

        The provider order's notes / PaymentIntent metadata carry ``pool_type``, ``pool_id``
        and ``contribution_id``; the order is stored so its webhook finds them again. Asking
        twice for the same contribution returns the same checkout (safe to retry).

        Raises:
            InvalidCheckout (422): see ``check_checkout``.
            CheckoutConflict (409): the contribution's checkout has another amount/currency.
            PaymentProviderUnavailable (503) / PaymentProviderRejected (502): from the provider.
        """
        settings = settings or get_settings()
        self.check_checkout(contribution_id, pool_id, amount_paise, currency, pool_type)
        provider = checkout_provider(settings)
        existing = await repository.find_order_for_contribution(provider.name, contribution_id)
        if existing is None:
            notes = {"pool_type": pool_type, "pool_id": pool_id, "contribution_id": contribution_id}
            order = await provider.create_order(amount_paise, currency, contribution_id, notes)
            if (order.amount, order.currency) != (amount_paise, currency):
                raise PaymentProviderRejected(
                    f"{provider.name} created an order for another amount",
                    details={"provider": provider.name, "order_id": order.id},
                )
            existing = await repository.insert_order(
                PaymentOrder(
                    provider=order.provider,
                    order_id=order.id,
                    contribution_id=contribution_id,
                    pool_type=pool_type,
                    pool_id=pool_id,
                    amount=order.amount,
                    currency=order.currency,
                    checkout_url=order.checkout_url,
                    client_secret=order.client_secret,
                    key_id=order.key_id,
                    created_at=_now(),
                    trace_context=trace_carrier() or None,
                )
            )
        if (existing.amount, existing.currency, existing.pool_id) != (
            amount_paise,
            currency,
            pool_id,
        ):
            raise CheckoutConflict(
                "this contribution already has a checkout for another amount",
                details={"contribution_id": contribution_id, "order_id": existing.order_id},
            )
        return CheckoutSession(
            provider=existing.provider,
            order_id=existing.order_id,
            contribution_id=existing.contribution_id,
            pool_type=existing.pool_type,
            pool_id=existing.pool_id,
            amount=existing.amount,
            currency=existing.currency,
            checkout_url=existing.checkout_url,
            key_id=existing.key_id,
            client_secret=existing.client_secret,
        )

    async def do_receive_webhook(
        self,
        provider: str,
        headers: Mapping[str, str],
        raw_body: bytes,
        producer: EventProducer,
        *,
        ip: str | None = None,
        settings: Settings | None = None,
    ) -> WebhookAck:
        """Verify a webhook delivery, store its event id, publish its payment outcome once.

        Steps (docs/architecture.md, idempotency; docs/domain.md, payments): the signature is
        checked before anything is read; the event is stored under a unique
        (provider, event id) index; its payment outcome, if it carries one for a Samooh
        checkout, is stored once per (provider, payment, kind) and published to the payments
        topic keyed by ``pool_id``. A re-delivered event publishes nothing new.

        Raises:
            UnknownProvider (404): no webhook endpoint for ``provider`` here.
            WebhookTooLarge (413): body over ``payment_webhook_max_bytes``.
            WebhookSignatureInvalid (400): forged, tampered, unsigned or stale — recorded as a
                security event, nothing else stored.
            WebhookPayloadInvalid (400): signed but unreadable.
            WebhookInProgress (409): another delivery is publishing the same outcome now.
            ServiceUnavailable (503): Kafka did not acknowledge; the outcome stays pending.
        """
        settings = settings or get_settings()
        adapter = webhook_provider(provider, settings)
        if len(raw_body) > settings.payment_webhook_max_bytes:
            WEBHOOKS.labels(provider, "too_large").inc()
            raise WebhookTooLarge(
                "webhook body is too large",
                details={"max_bytes": settings.payment_webhook_max_bytes},
            )
        try:
            events = adapter.parse_webhook(headers, raw_body)
        except WebhookSignatureInvalid as exc:
            WEBHOOKS.labels(provider, "invalid_signature").inc()
            await repository.record_security_event(
                repository.WEBHOOK_SIGNATURE_INVALID,
                at=_now(),
                ip=ip,
                details={
                    "provider": provider,
                    "reason": exc.details.get("reason"),
                    "body_sha256": body_digest(raw_body),
                    "body_bytes": len(raw_body),
                    "user_agent": (header(headers, "User-Agent") or "")[:200],
                },
            )
            log.warning("payment webhook refused", provider=provider, **exc.details, ip=ip)
            raise
        duplicates = published = 0
        try:
            for event in events:
                is_new, sent = await self._receive_event(event, producer)
                duplicates += 0 if is_new else 1
                published += sent
        except WebhookInProgress:
            WEBHOOKS.labels(provider, "in_progress").inc()
            raise
        WEBHOOKS.labels(provider, "duplicate" if duplicates else "accepted").inc()
        return WebhookAck(received=len(events), duplicates=duplicates, published=published)

    async def _receive_event(
        self, event: VerifiedProviderEvent, producer: EventProducer
    ) -> tuple[bool, int]:
        """Store one verified event and publish its outcome if still pending.

        Returns (first delivery?, records published now)."""
        now = _now()
        is_new = await repository.insert_provider_event(
            ProviderEvent(
                provider=event.provider,
                event_id=event.event_id,
                event_type=event.event_type,
                occurred_at=event.occurred_at,
                received_at=now,
                last_received_at=now,
                payload_sha256=event.payload_sha256,
            )
        )
        if not is_new:
            stored = await repository.find_provider_event(event.provider, event.event_id)
            if stored is not None and stored.payload_sha256 != event.payload_sha256:
                log.warning(
                    "re-delivered event differs", provider=event.provider, id=event.event_id
                )
        outcome, ignored = await self._outcome_of(event, now)
        if outcome is None:
            await repository.set_event_result(event.provider, event.event_id, None, ignored)
            return is_new, 0
        stored_outcome = await repository.insert_outcome_if_absent(outcome)
        await repository.set_event_result(
            event.provider, event.event_id, stored_outcome.record_id, None
        )
        if stored_outcome.status == "published":
            return is_new, 0
        return is_new, int(await self._publish(producer, stored_outcome.record_id))

    async def _outcome_of(
        self, event: VerifiedProviderEvent, now: dt.datetime
    ) -> tuple[PaymentOutcome | None, str | None]:
        """The outcome to publish, or ``None`` and why not. Our stored order is the authority
        on pool and contribution; the notes the provider echoes back are the fallback."""
        payment = event.payment
        if payment is None:
            return None, f"{event.event_type} carries no payment outcome"
        order = (
            await repository.find_order(event.provider, payment.order_id)
            if payment.order_id
            else None
        )
        trace_context = order.trace_context if order is not None else None
        if order is not None:
            ids = {"pool_type": order.pool_type, "pool_id": order.pool_id}
            ids["contribution_id"] = order.contribution_id
            if any(payment.notes.get(k, ids[k]) != ids[k] for k in NOTE_KEYS):
                log.warning("payment notes differ from our order", order_id=order.order_id)
        elif all(payment.notes.get(k) for k in NOTE_KEYS):
            ids = {k: payment.notes[k] for k in NOTE_KEYS}
        else:
            return None, "not a Samooh checkout (unknown order, no pool in notes)"
        return (
            PaymentOutcome(
                record_id=f"{event.provider}:{event.event_id}",
                provider=event.provider,
                provider_event_id=event.event_id,
                kind=payment.kind,
                payment_id=payment.payment_id,
                order_id=payment.order_id,
                pool_type=ids["pool_type"],
                pool_id=ids["pool_id"],
                contribution_id=ids["contribution_id"],
                amount=payment.amount,
                currency=payment.currency,
                occurred_at=event.occurred_at,
                created_at=now,
                trace_context=trace_context,
            ),
            None,
        )

    async def _publish(self, producer: EventProducer, record_id: str) -> bool:
        """Claim a pending outcome, send it, mark it published. ``False`` when it turns out
        to be published already. Raises ``WebhookInProgress`` when another publisher holds it,
        ``ServiceUnavailable`` when Kafka does not acknowledge (the claim is released)."""
        token = secrets.token_hex(12)
        outcome = await repository.claim_outcome(record_id, token, _now(), CLAIM_LEASE)
        if outcome is None:
            current = await repository.get_outcome(record_id)
            if current is None or current.status == "published":
                return False
            raise WebhookInProgress(
                "this payment outcome is being published by another delivery",
                details={"id": record_id},
            )
        record = PaymentEventV1(
            id=outcome.record_id,
            provider=outcome.provider,
            provider_event_id=outcome.provider_event_id,
            kind=outcome.kind,
            pool_type=outcome.pool_type,
            pool_id=outcome.pool_id,
            contribution_id=outcome.contribution_id,
            payment_id=outcome.payment_id,
            amount=outcome.amount,
            currency=outcome.currency,
            occurred_at=iso_utc(outcome.occurred_at),
        )
        try:
            # The checkout's trace goes on (linked to this delivery's request): the record
            # carries it to the agent in its headers.
            with continued_span("publish payment outcome", outcome.trace_context,
                                attributes={"payment.kind": outcome.kind}):  # fmt: skip
                await asyncio.wait_for(
                    producer.send(PAYMENT_EVENTS, outcome.pool_id, record), SEND_TIMEOUT_SECONDS
                )
        except Exception as exc:
            await repository.release_claim(record_id, token)
            log.error("payment event not published", id=record_id, error=str(exc)[:200])
            raise ServiceUnavailable(
                "the payments topic did not acknowledge", details={"service": "kafka"}
            ) from exc
        if not await repository.mark_published(record_id, token, _now()):
            log.warning("publish claim was lost; the record may have gone out twice", id=record_id)
        PUBLISHED.labels(outcome.provider).inc()
        PAYMENT_OUTCOMES.labels(outcome.provider, outcome.kind).inc()
        log.info("payment event published", id=record_id, kind=outcome.kind, pool=outcome.pool_id)
        return True

    async def do_publish_pending(
        self, producer: EventProducer, *, older_than: dt.timedelta = SWEEP_AFTER, limit: int = 100
    ) -> int:
        """Publish outcomes stored more than ``older_than`` ago and still pending (their
        publisher died and the provider stopped delivering). Returns how many went out; an
        outcome another publisher holds right now is skipped."""
        count = 0
        for record_id in await repository.pending_outcome_ids(_now() - older_than, limit):
            try:
                count += int(await self._publish(producer, record_id))
            except WebhookInProgress:
                continue
        return count

    async def observe_outbox(self) -> tuple[int, float]:
        """Set the outbox gauges (``samooh_payment_outbox_pending`` and
        ``…_oldest_pending_seconds``) from the stored outcomes; returns (pending, age of the
        oldest in seconds, 0 when none is pending)."""
        count, oldest = await repository.pending_outcome_backlog()
        if oldest is not None and oldest.tzinfo is None:  # MongoDB hands back naive UTC
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, (_now() - oldest).total_seconds()) if oldest is not None else 0.0
        OUTBOX_PENDING.set(count)
        OUTBOX_OLDEST_PENDING_SECONDS.set(age)
        return count, age

    async def checkout_paid(self, provider: str, order_id: str) -> bool:
        """Whether ``provider`` has taken the money of its order ``order_id`` (a checkout's),
        asked of the provider itself — its webhook may still be on its way.

        Raises: UnknownProvider (404), PaymentProviderUnavailable (503) /
        PaymentProviderRejected (502)."""
        return await build_provider(provider, get_settings()).order_paid(order_id)

    async def do_store_manual(
        self,
        session: AsyncClientSession,
        *,
        approval_id: str,
        approved_by: str,
        pool_type: str,
        pool_id: str,
        contribution_id: str,
        amount: int,
        currency: str,
        paid_at: dt.datetime,
    ) -> str:
        """A payment made outside the providers and approved by a treasurer, put in the same
        outbox as a provider's webhook: stored pending as ``manual:<approval_id>`` inside the
        approval's own transaction (``session``), so the approval and the outcome to publish
        commit together or not at all (issue #20). ``amount`` in minor units. Returns the
        record id, for ``publish_outcome`` after the commit (or the outbox sweep).

        Raises: DuplicateKeyError when this approval already stored one (the caller's guarded
        status change makes that impossible)."""
        outcome = PaymentOutcome(
            record_id=f"manual:{approval_id}", provider="manual", provider_event_id=approval_id,
            kind="payment.captured", payment_id=f"manual:{approval_id}:{approved_by}",
            order_id=None,
            pool_type=pool_type, pool_id=pool_id, contribution_id=contribution_id,
            amount=amount, currency=currency, occurred_at=paid_at, created_at=_now(),
        )  # fmt: skip
        await repository.insert_outcome(outcome, session)
        return outcome.record_id

    async def publish_outcome(self, producer: EventProducer, record_id: str) -> bool:
        """Publish a stored pending outcome now (``do_store_manual``'s, once committed) to the
        payments topic keyed by its pool. ``False``: it was published before.

        Raises:
            WebhookInProgress (409): it is being published right now (the sweep, a retry).
            ServiceUnavailable (503): Kafka did not acknowledge; it stays pending and the
                sweep publishes it later.
        """
        return await self._publish(producer, record_id)


payment_service = PaymentService()


async def create_checkout(
    contribution_id: str, pool_id: str, amount_paise: int, currency: str, *, pool_type: str = "club"
) -> CheckoutSession:
    """The contributions endpoint's entry point: ``payment_service.create_checkout`` with the
    process settings. See there for the shape and the errors raised."""
    return await payment_service.create_checkout(
        contribution_id, pool_id, amount_paise, currency, pool_type=pool_type
    )
