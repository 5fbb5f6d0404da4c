"""Builders of chit data for tests: KYC-verified people, schemes in any state, instalments paid
through the sandbox checkout and applied as the payments agent would."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from app.chits.documents import ChitPayment, Scheme, Subscription
from app.chits.schemas import SchemeCreate
from app.chits.service import Actor, PaymentOutcome, chit_service
from app.identity.documents import PlatformRole
from app.kyc.documents import DocumentKind, DocumentStatus, KycDocument
from app.kyc.service import kyc_service
from streams.records import PaymentEventV1
from tests.identity.conftest import provision


async def kyc_verified(user_id: str) -> None:
    """Give ``user_id`` a verified PAN and proof of address (KYC status ``verified``)."""
    for kind in (DocumentKind.PAN, DocumentKind.ADDRESS_PROOF):
        doc = KycDocument(user_id=user_id, kind=kind, status=DocumentStatus.VERIFIED,
                          file_id=f"f-{uuid.uuid4().hex[:8]}", number_last4="1234")  # fmt: skip
        await doc.insert()
    # the account's status (``/me``) is derived by the KYC service, as after an admin's review
    await kyc_service.do_refresh_status(user_id)


async def person(tag: str = "subscriber", *roles: PlatformRole, kyc: bool = True) -> Actor:
    """An ACTIVE account (KYC-verified unless ``kyc`` is false) as an ``Actor``."""
    account = await provision(list(roles) or None, tag=tag)
    if kyc:
        await kyc_verified(account.user_id)
    return Actor(account.user_id, tuple(roles) or (PlatformRole.USER,))


async def foreman() -> Actor:
    return await person("foreman", PlatformRole.USER, PlatformRole.FOREMAN)


async def admin() -> Actor:
    return await person("admin", PlatformRole.USER, PlatformRole.ADMIN)


def settings(**over: Any) -> SchemeCreate:
    """₹50,000 over 5 subscribers × ₹10,000, commission 5 % (₹2,500) out of the discount,
    minimum bid ₹2,500, step ₹500, maximum discount ₹15,000; auctions on the 10th at 10:00."""
    body: dict[str, Any] = {
        "name": f"Test chit {uuid.uuid4().hex[:6]}", "chit_amount": "50000.00",
        "subscribers": 5, "instalment": "10000.00", "commission_bps": 500,
        "min_bid": "2500.00", "bid_step": "500.00", "max_discount": "15000.00",
        "commission_source": "discount", "auction_day": 10, "auction_time": "10:00",
        "start_date": "2031-01-01", "late_penalty": "100.00", "grace_days": 3,
    }  # fmt: skip
    body.update(over)
    return SchemeCreate.model_validate(body)


async def approved_scheme(**over: Any) -> tuple[Scheme, Actor, Actor]:
    """An APPROVED scheme (open for subscribers); (scheme, foreman, admin)."""
    boss, root = await foreman(), await admin()
    scheme = await chit_service.do_create_scheme(boss, settings(**over))
    await chit_service.do_submit(str(scheme.id), boss)
    scheme = await chit_service.do_decide(str(scheme.id), root, True, "")
    return scheme, boss, root


async def active_scheme(**over: Any) -> tuple[Scheme, Actor, list[Actor], list[Subscription]]:
    """A full, ACTIVE scheme: (scheme, foreman, every ticket holder by ticket, subscriptions)."""
    scheme, boss, _ = await approved_scheme(**over)
    people = [boss]
    for _ in range(scheme.subscribers - 1):
        who = await person()
        await chit_service.do_subscribe(str(scheme.id), who)
        people.append(who)
    scheme = await chit_service.get_scheme(str(scheme.id))
    subs = await chit_service.subscribers(str(scheme.id), boss)
    return scheme, boss, people, subs


def captured(
    payment: ChitPayment, paid_at: dt.datetime, *, event_id: str | None = None,
    amount: int | None = None, kind: str = "payment.captured",
) -> PaymentEventV1:  # fmt: skip
    """The payment event the sandbox provider's webhook turns into."""
    event = event_id or f"evt_{uuid.uuid4().hex[:10]}"
    return PaymentEventV1(
        id=f"sandbox:{event}", provider="sandbox", provider_event_id=event, kind=kind,
        pool_type="chit", pool_id=payment.scheme_id, contribution_id=str(payment.id),
        payment_id=f"pay_{uuid.uuid4().hex[:10]}",
        amount=payment.amount if amount is None else amount, currency="INR",
        occurred_at=paid_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )  # fmt: skip


async def pay(sub: Subscription, who: Actor, paid_at: dt.datetime) -> PaymentOutcome:
    """Pay what ``sub`` owes through the sandbox checkout, captured at ``paid_at``."""
    payment = await chit_service.do_open_instalment(str(sub.id), who)
    outcome = await chit_service.do_apply_payment_event(captured(payment, paid_at))
    assert outcome.applied, outcome
    return outcome
