"""Chit funds: schemes and their approval, subscriptions (tickets), dues and instalments through
the payments provider, the monthly live auction, prizes, defaults with substitution, the final
settlement, passbooks and the chit score (DOMAIN.md, "Chit funds"; issue #15).

Every money change runs in one transaction that first bumps the scheme's ``money_seq``, posts
balanced journal entries to the scheme's books (pool id = scheme id) under keys unique per
scheme, and audits on the scheme's chain. The books of a scheme:

    assets:cash                         collected money not yet paid out
    assets:subscribers:<sub>            what a subscription owes (negative: a credit it holds)
    liabilities:chit_pot                the month's called instalments, until the auction
    liabilities:prize_payable:<sub>     a prize not yet paid
    liabilities:defaulter_refunds:<sub> what a removed defaulter gets back at the end
    liabilities:unmatched_payments      money captured that matches no open instalment
    income:foreman_commission           the foreman's commission
    income:late_penalties               penalties for late instalments

A month: its dues are called (Dr each subscription the instalment, Cr the pot); subscribers pay
(Dr cash, Cr subscription); the auction closes (Dr pot the chit amount, Cr prize payable,
commission and every subscription's share of discount — which is how next month's instalment
becomes the net instalment); the prize is paid (Dr prize payable, Cr cash, and Cr the winner's
subscription for the instalments withheld when no security was given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import PLATFORM_CHAIN, audit_service
from app.chits import repository
from app.chits.documents import (
    Auction,
    AuctionStatus,
    Bid,
    ChitPayment,
    ChitScoreSnapshot,
    DrawRecord,
    Due,
    PaymentKind,
    PaymentStatus,
    Scheme,
    SchemeStatus,
    Subscription,
    SubscriptionStatus,
    Surety,
)
from app.chits.errors import (
    AlreadySubscribed,
    AuctionClosed,
    AuctionNotOpen,
    BidRefused,
    ChitForbidden,
    InsufficientCollections,
    KycRequiredForChit,
    NotEligible,
    NothingDue,
    NothingOverdue,
    PaymentNotFound,
    PrizeAlreadyPaid,
    PrizePayoutInProgress,
    SchemeFull,
    SchemeNotFound,
    SchemeStateError,
    SubscriptionNotFound,
    SubscriptionStateError,
)
from app.chits.rules import (
    DRAW_METHOD,
    InvalidScheme,
    MonthResult,
    SchemeTerms,
    auction_date,
    bid_refusal_message,
    check_bid_amount,
    check_terms,
    draw,
    draw_seed,
    month_result,
    next_bid,
    round_half_even,
)
from app.chits.schemas import (
    AuctionOut,
    BidOut,
    ChitAuctionClosedEvent,
    ChitAuctionOpenedEvent,
    ChitBidEvent,
    ChitPaymentEvent,
    ChitSchemeEvent,
    DrawOut,
    SchemeFields,
)
from app.db import run_in_transaction
from app.identity.documents import KycStatus, PlatformRole
from app.identity.errors import UserNotFound
from app.kyc.service import kyc_service
from app.ledger.service import ledger_service
from app.logging import get_logger
from app.money import format_minor, parse_minor
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.payments.service import create_checkout
from app.realtime import eventlog, events
from app.realtime.eventlog import iso, utcnow
from app.sms.service import SmsDraft, sms_service
from app.sms.templates import AUCTION_REMINDER, AUCTION_RESULT, PAYMENT_DUE
from streams.records import PaymentEventV1

log = get_logger(__name__)

CASH = "assets:cash"
POT = "liabilities:chit_pot"
COMMISSION = "income:foreman_commission"
PENALTIES = "income:late_penalties"
UNMATCHED = "liabilities:unmatched_payments"

BID = "chit:bid"
AUCTION_OPENED = "chit:auction_opened"
AUCTION_CLOSED = "chit:auction_closed"
PAYMENT = "chit:payment"
SCHEME = "chit:scheme"

CATCH_UP_LIMIT = 500
REMIND_DAYS = 3
MONEY_FIELDS = ("chit_amount", "instalment", "min_bid", "bid_step", "max_discount", "late_penalty")


def receivable(sub_id: str) -> str:
    """The account of what subscription ``sub_id`` owes (debit) or is owed (credit)."""
    return f"assets:subscribers:{sub_id}"


def prize_payable(sub_id: str) -> str:
    """The account of a prize owed to subscription ``sub_id``."""
    return f"liabilities:prize_payable:{sub_id}"


def defaulter_refund(sub_id: str) -> str:
    """The account of what a removed defaulter gets back at the end."""
    return f"liabilities:defaulter_refunds:{sub_id}"


def scheme_room(scheme_id: str) -> str:
    """The live room of a scheme: ``scheme:<id>``."""
    return f"scheme:{scheme_id}"


def scheme_chain(scheme_id: str) -> str:
    """The audit chain of a scheme."""
    return f"scheme:{scheme_id}"


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _ms(moment: dt.datetime) -> dt.datetime:
    moment = _aware(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: their user id and platform roles."""

    user_id: str
    roles: tuple[PlatformRole, ...] = (PlatformRole.USER,)

    @property
    def is_admin(self) -> bool:
        """Holds the platform ADMIN role."""
        return PlatformRole.ADMIN in self.roles


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What applying a payment event did: whether anything changed, and the payment."""

    applied: bool
    payment: ChitPayment | None


def shown_status(auction: Auction, now: dt.datetime | None = None) -> str:
    """The status a person sees: ``SCHEDULED`` before ``opens_at``, ``OPEN`` from then until
    it closes (bids are taken until ``ends_at``; the close follows at once), ``CLOSED``. Only
    SCHEDULED and CLOSED are stored: OPEN is the stored SCHEDULED seen after its opening."""
    if auction.status == AuctionStatus.CLOSED:
        return AuctionStatus.CLOSED.value
    if _aware(now or utcnow()) >= _aware(auction.opens_at):
        return "OPEN"
    return AuctionStatus.SCHEDULED.value


def auction_out(
    auction: Auction, bids: list[Bid] | None = None, now: dt.datetime | None = None
) -> AuctionOut:
    """The API/socket shape of an auction (money as decimal strings; ``status`` as
    ``shown_status`` at ``now``)."""
    closed = auction.status == AuctionStatus.CLOSED
    return AuctionOut(
        id=str(auction.id),
        scheme_id=auction.scheme_id,
        month=auction.month,
        status=shown_status(auction, now),
        opens_at=_aware(auction.opens_at),
        ends_at=_aware(auction.ends_at),
        foreman_month=auction.foreman_month,
        best_discount=format_minor(auction.best_discount) if auction.bid_count else None,
        bid_count=auction.bid_count,
        method=auction.method,
        winner_ticket=auction.winner_ticket,
        discount=format_minor(auction.discount)
        if closed and auction.discount is not None
        else None,
        prize=format_minor(auction.prize) if auction.prize is not None else None,
        commission=format_minor(auction.commission) if auction.commission is not None else None,
        shares=[format_minor(s) for s in auction.shares],
        net_instalments=[format_minor(n) for n in auction.net_instalments],
        draw=DrawOut(**auction.draw.model_dump()) if auction.draw else None,
        prize_paid_at=auction.prize_paid_at,
        prize_withheld=format_minor(auction.prize_withheld),
        prize_payment_id=auction.prize_payment_id,
        bids=[
            BidOut(
                id=str(b.id), seq=b.seq, ticket=b.ticket, discount=format_minor(b.discount), at=b.at
            )
            for b in bids or []
        ],
    )


def split_owed(
    owed: int, dues: list[Due], today: dt.date, grace_days: int = 0
) -> tuple[int, int, str | None]:
    """(past, upcoming, deadline) of a balance ``owed`` (paise) over the subscription's
    ``dues`` (by month): ``past`` has fallen due by ``today`` — with ``grace_days`` 0 the
    months due on or before ``today``, otherwise the months whose due date plus the grace days
    is before ``today`` (overdue) — and ``upcoming`` is the rest (months called but not due
    yet; payments settle the oldest month first, so the newest months are the unpaid ones).
    ``deadline`` is the due date (+ grace) of the oldest month still unpaid (ISO; ``None``
    when nothing is owed). A credit owes nothing: (0, 0, None)."""
    if owed <= 0:
        return 0, 0, None
    grace = dt.timedelta(days=grace_days)

    def fallen(due: Due) -> bool:
        end = dt.date.fromisoformat(due.due_date) + grace
        return today > end if grace_days else today >= end

    upcoming = min(owed, sum(d.amount for d in dues if not fallen(d)))
    deadline: str | None = None
    left = owed
    for due in reversed(dues):
        if left <= 0:
            break
        deadline = (dt.date.fromisoformat(due.due_date) + grace).isoformat()
        left -= due.amount
    return owed - upcoming, upcoming, deadline


def _four_places(value: Fraction) -> str:
    """A fraction in [0, 1] as a decimal string with 4 places, rounded half-even."""
    scaled = round_half_even(value.numerator * 10_000, value.denominator)
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"


async def _audited(session: AsyncClientSession, sub: Subscription, actor: Actor, action: str,
                   details: dict[str, Any]) -> Subscription:  # fmt: skip
    """Audit ``action`` on subscription ``sub`` (on its scheme's chain) inside the caller's
    transaction, and return the subscription as it now is there."""
    await audit_service.do_append(
        chain=scheme_chain(sub.scheme_id), actor_id=actor.user_id, action=action,
        target_type="subscription", target_id=str(sub.id), details=details, session=session,
    )  # fmt: skip
    fresh = await repository.get_subscription(str(sub.id), session)
    assert fresh is not None
    return fresh


class ChitService:
    """The rules of chit funds. Stateless; every function takes the acting person and, where
    time matters, ``now`` (a controlled clock in tests; the wall clock by default)."""

    # ---- schemes -------------------------------------------------------------------------

    async def get_scheme(self, scheme_id: str, session: AsyncClientSession | None = None) -> Scheme:
        """The scheme. Raises ``SchemeNotFound``."""
        scheme = await repository.get_scheme(scheme_id, session)
        if scheme is None:
            raise SchemeNotFound("no such scheme", details={"scheme_id": scheme_id})
        return scheme

    async def check_viewer(
        self, scheme_id: str, actor: Actor
    ) -> tuple[Scheme, Subscription | None]:
        """The scheme and the actor's ticket in it. Anyone signed in may see an APPROVED,
        ACTIVE or COMPLETED scheme; a DRAFT or pending one only its foreman and admins.
        Raises ``SchemeNotFound``."""
        scheme = await self.get_scheme(scheme_id)
        mine = await repository.holding_of(scheme_id, actor.user_id)
        hidden = scheme.status in (SchemeStatus.DRAFT, SchemeStatus.PENDING_APPROVAL)
        if hidden and scheme.foreman_id != actor.user_id and not actor.is_admin:
            raise SchemeNotFound("no such scheme", details={"scheme_id": scheme_id})
        return scheme, mine

    async def check_foreman(
        self, scheme_id: str, actor: Actor, session: AsyncClientSession | None = None
    ) -> Scheme:
        """The scheme, when ``actor`` is its foreman. Raises ``SchemeNotFound``,
        ``ChitForbidden``."""
        scheme = await self.get_scheme(scheme_id, session)
        if scheme.foreman_id != actor.user_id:
            raise ChitForbidden("only the scheme's foreman may do this")
        return scheme

    async def check_foreman_or_admin(self, scheme_id: str, actor: Actor) -> Scheme:
        """The scheme, when ``actor`` is its foreman or a platform admin (reports for the
        registrar). Raises ``SchemeNotFound``, ``ChitForbidden``."""
        scheme = await self.get_scheme(scheme_id)
        if scheme.foreman_id != actor.user_id and not actor.is_admin:
            raise ChitForbidden("only the scheme's foreman or an admin may do this")
        return scheme

    @staticmethod
    def _terms_of(values: dict[str, Any]) -> SchemeTerms:
        return check_terms(
            SchemeTerms(
                chit_amount=values["chit_amount"],
                subscribers=values["subscribers"],
                instalment=values["instalment"],
                commission_bps=values["commission_bps"],
                min_bid=values["min_bid"],
                bid_step=values["bid_step"],
                max_discount=values["max_discount"],
                commission_source=values["commission_source"],
            )
        )

    @staticmethod
    def _values(fields: SchemeFields) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.model_dump(exclude_none=True).items():
            if name in MONEY_FIELDS:
                values[name] = parse_minor(value)
            elif name == "start_date":
                values[name] = value.isoformat()
            else:
                values[name] = value
        return values

    async def _check_kyc(self, user_id: str, who: str) -> None:
        summary = await kyc_service.summary(user_id)
        if summary.status != KycStatus.VERIFIED:
            raise KycRequiredForChit(
                f"the {who} must complete KYC first",
                details={"kyc_status": summary.status.value, "missing": summary.missing},
            )

    @staticmethod
    def check_start(start_date: str, today: dt.date) -> None:
        """A scheme's start date is today or later (checked at create, patch and approval).
        Raises InvalidScheme (422, ``field`` ``start_date``, ``rule`` ``not_in_past``)."""
        if dt.date.fromisoformat(start_date) < today:
            raise InvalidScheme(
                f"the start date {start_date} is in the past: choose today or a later day",
                details={"field": "start_date", "rule": "not_in_past",
                         "today": today.isoformat()},
            )  # fmt: skip

    async def do_create_scheme(
        self, actor: Actor, fields: SchemeFields, today: dt.date | None = None
    ) -> Scheme:
        """A KYC-verified foreman creates a DRAFT scheme; the foreman holds ticket 1 (they take
        the first month's chit without discount, s.21(1)(a)) with the foreman's security.

        Raises:
            ChitForbidden (403): the actor is not a FOREMAN.
            KycRequiredForChit (403 ``kyc_required``): the foreman is not KYC-verified.
            InvalidScheme (422 ``invalid_scheme``): a setting breaks a rule (``rules.check_terms``)
                or the start date is in the past (``check_start``).
        """
        if PlatformRole.FOREMAN not in actor.roles:
            raise ChitForbidden("only a foreman may create a chit scheme")
        values = self._values(fields)
        values.setdefault("late_penalty", 0)
        self._terms_of(values)
        self.check_start(values["start_date"], today or utcnow().date())
        await self._check_kyc(actor.user_id, "foreman")
        scheme = Scheme(foreman_id=actor.user_id, filled=1, **values)
        now = utcnow()

        async def body(session: AsyncClientSession) -> Scheme:
            await repository.insert(scheme, session)
            await repository.insert(
                Subscription(
                    scheme_id=str(scheme.id),
                    user_id=actor.user_id,
                    ticket=1,
                    member_id=await self._member_id(actor.user_id),
                    surety=Surety(
                        kind="foreman_security",
                        recorded_by=actor.user_id,
                        recorded_at=now,
                        details="security furnished by the foreman (Chit Funds Act s.20)",
                    ),
                ),
                session,
            )
            await audit_service.do_append(
                chain=scheme_chain(str(scheme.id)),
                actor_id=actor.user_id,
                action="scheme.created",
                target_type="scheme",
                target_id=str(scheme.id),
                details=dict(values),
                session=session,
            )
            return scheme

        return await run_in_transaction(body)

    async def do_update_scheme(
        self, scheme_id: str, actor: Actor, patch: SchemeFields, today: dt.date | None = None
    ) -> Scheme:
        """Change a DRAFT scheme's settings (foreman). The state is checked before the fields:
        a scheme that is no longer a draft answers 409 whatever the patch holds. Raises
        ``SchemeStateError`` (409) when not a draft, ``InvalidScheme`` (422, a start date in
        the past too), ``ChitForbidden``, ``SchemeNotFound``."""
        scheme = await self.check_foreman(scheme_id, actor)
        if scheme.status != SchemeStatus.DRAFT:
            raise SchemeStateError(
                "only a draft can be changed", details={"status": scheme.status.value}
            )
        changes = self._values(patch)
        merged = {**scheme.model_dump(), **changes}
        self._terms_of(merged)
        if "start_date" in changes:
            self.check_start(changes["start_date"], today or utcnow().date())
        updated = await repository.update_scheme(
            scheme_id, {"status": SchemeStatus.DRAFT.value}, changes or {"name": scheme.name}
        )
        if updated is None:
            raise SchemeStateError(
                "only a draft can be changed", details={"status": scheme.status.value}
            )
        return updated

    async def do_delete_scheme(self, scheme_id: str, actor: Actor) -> None:
        """Delete a DRAFT scheme (foreman). Raises ``SchemeStateError``, ``ChitForbidden``,
        ``SchemeNotFound``."""
        scheme = await self.check_foreman(scheme_id, actor)

        async def body(session: AsyncClientSession) -> None:
            gone = await Scheme.get_pymongo_collection().delete_one(
                {"_id": scheme.id, "status": SchemeStatus.DRAFT.value}, session=session
            )
            if gone.deleted_count != 1:
                raise SchemeStateError(
                    "only a draft can be deleted", details={"status": scheme.status.value}
                )
            await Subscription.get_pymongo_collection().delete_many(
                {"scheme_id": scheme_id}, session=session
            )

        await run_in_transaction(body)

    async def do_submit(self, scheme_id: str, actor: Actor) -> Scheme:
        """DRAFT → PENDING_APPROVAL (foreman). Raises ``SchemeStateError`` otherwise."""
        scheme = await self.check_foreman(scheme_id, actor)
        return await self._move(
            scheme, SchemeStatus.DRAFT, SchemeStatus.PENDING_APPROVAL, actor, "scheme.submitted", {}
        )

    async def do_decide(
        self,
        scheme_id: str,
        actor: Actor,
        approve: bool,
        reason: str,
        today: dt.date | None = None,
    ) -> Scheme:
        """An admin approves (PENDING_APPROVAL → APPROVED, open for subscribers) or rejects
        (→ DRAFT, with ``reason``) a scheme; audited on the platform chain and the scheme's.
        A scheme whose start date has passed meanwhile is not approved (send it back).

        Raises:
            ChitForbidden (403): not an admin, or the admin is the scheme's foreman.
            SchemeStateError (409): not pending approval.
            InvalidScheme (422, ``start_date`` ``not_in_past``): approving a past start date.
        """
        if not actor.is_admin:
            raise ChitForbidden("only an admin may approve schemes")
        scheme = await self.get_scheme(scheme_id)
        if scheme.foreman_id == actor.user_id:
            raise ChitForbidden("a foreman may not approve their own scheme")
        if approve and scheme.status == SchemeStatus.PENDING_APPROVAL:
            self.check_start(scheme.start_date, today or utcnow().date())
        target = SchemeStatus.APPROVED if approve else SchemeStatus.DRAFT
        action = "scheme.approved" if approve else "scheme.rejected"
        return await self._move(
            scheme,
            SchemeStatus.PENDING_APPROVAL,
            target,
            actor,
            action,
            {"reason": reason},
            platform=True,
        )

    async def _move(
        self,
        scheme: Scheme,
        before: SchemeStatus,
        after: SchemeStatus,
        actor: Actor,
        action: str,
        details: dict[str, Any],
        *,
        platform: bool = False,
    ) -> Scheme:
        scheme_id = str(scheme.id)
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> Scheme:
            changes: dict[str, Any] = {"status": after.value}
            if after == SchemeStatus.APPROVED:
                changes.update(approved_by=actor.user_id, approved_at=utcnow())
            updated = await repository.update_scheme(
                scheme_id, {"status": before.value}, changes, session
            )
            if updated is None:
                raise SchemeStateError(
                    f"the scheme is not {before.value}", details={"status": scheme.status.value}
                )
            for chain in (
                (scheme_chain(scheme_id), PLATFORM_CHAIN)
                if platform
                else (scheme_chain(scheme_id),)
            ):
                await audit_service.do_append(
                    chain=chain,
                    actor_id=actor.user_id,
                    action=action,
                    target_type="scheme",
                    target_id=scheme_id,
                    details=details,
                    session=session,
                )
            await self._scheme_event(session, updated)
            if after == SchemeStatus.APPROVED:
                await notification_service.do_store(session, [Draft(
                    user_id=scheme.foreman_id, kind=NotificationKind.SCHEME_APPROVED,
                    title=f"{scheme.name} is approved",
                    body="Your chit scheme is open for subscribers; it starts when full.",
                    ref_type="scheme", ref_id=scheme_id, dedupe_key=f"scheme-approved:{scheme_id}",
                )])  # fmt: skip
            return updated

        await notification_service.prepare([scheme.foreman_id])
        return await run_in_transaction(body)

    async def _scheme_event(self, session: AsyncClientSession, scheme: Scheme) -> None:
        await events.room_event(
            session,
            scheme_room(str(scheme.id)),
            SCHEME,
            ChitSchemeEvent,
            scheme_id=str(scheme.id),
            status=scheme.status.value,
            current_month=scheme.current_month,
            filled=scheme.filled,
        )

    async def list_schemes(
        self, actor: Actor, *, status: str | None = None, mine: bool = False
    ) -> list[Scheme]:
        """Schemes the actor may see: ``mine`` — the ones they run or hold a ticket of;
        otherwise every open/active/completed scheme, plus their own drafts (admins: all)."""
        if mine:
            subs = await repository.subscriptions_of_user(actor.user_id)
            return await repository.schemes_by_ids(sorted({s.scheme_id for s in subs}))
        query: dict[str, Any] = {}
        if not actor.is_admin:
            query["$or"] = [
                {
                    "status": {
                        "$in": [
                            SchemeStatus.APPROVED.value,
                            SchemeStatus.ACTIVE.value,
                            SchemeStatus.COMPLETED.value,
                        ]
                    }
                },
                {"foreman_id": actor.user_id},
            ]
        if status:
            query["status"] = status
        return await repository.schemes(query)

    # ---- subscriptions -------------------------------------------------------------------

    async def _member_id(self, user_id: str) -> str | None:
        users = await repository.users_by_id([user_id])
        user = users.get(user_id)
        return None if user is None else user.member_id

    async def do_subscribe(
        self, scheme_id: str, actor: Actor, now: dt.datetime | None = None
    ) -> Subscription:
        """A KYC-verified person takes the next ticket of an APPROVED scheme. The ticket that
        fills the scheme activates it: month 1's dues are called and its auction (the
        foreman's month) scheduled.

        Raises:
            SchemeNotFound, KycRequiredForChit (403), AlreadySubscribed (409), SchemeFull (409),
            SchemeStateError (409: not open for subscribers).
        """
        scheme = await self.get_scheme(scheme_id)
        if scheme.status != SchemeStatus.APPROVED:
            raise SchemeStateError(
                "the scheme is not open for subscribers", details={"status": scheme.status.value}
            )
        await self._check_kyc(actor.user_id, "subscriber")
        member_id = await self._member_id(actor.user_id)
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> Subscription:
            await repository.bump_money_seq(scheme_id, session)
            if await repository.holding_of(scheme_id, actor.user_id, session) is not None:
                raise AlreadySubscribed("you already hold a ticket of this scheme")
            taken = await repository.take_ticket(scheme_id, session)
            if taken is None:
                raise SchemeFull("every ticket of this scheme is taken")
            sub = Subscription(
                scheme_id=scheme_id, user_id=actor.user_id, ticket=taken.filled, member_id=member_id
            )
            await repository.insert(sub, session)
            await audit_service.do_append(
                chain=scheme_chain(scheme_id),
                actor_id=actor.user_id,
                action="subscription.joined",
                target_type="subscription",
                target_id=str(sub.id),
                details={"ticket": sub.ticket},
                session=session,
            )
            if taken.filled == taken.subscribers:
                taken = await self._activate(session, taken)
            await self._scheme_event(session, taken)
            return sub

        return await run_in_transaction(body)

    async def _activate(self, session: AsyncClientSession, scheme: Scheme) -> Scheme:
        scheme_id = str(scheme.id)
        updated = await repository.update_scheme(
            scheme_id,
            {"status": SchemeStatus.APPROVED.value},
            {"status": SchemeStatus.ACTIVE.value, "current_month": 1},
            session,
        )
        if updated is None:
            raise SchemeStateError("the scheme changed meanwhile")
        await self._open_month(session, updated, 1, None)
        await audit_service.do_append(
            chain=scheme_chain(scheme_id),
            actor_id=None,
            action="scheme.activated",
            target_type="scheme",
            target_id=scheme_id,
            details={},
            session=session,
        )
        return updated

    def auction_window(self, scheme: Scheme, month: int) -> tuple[dt.datetime, dt.datetime]:
        """When month ``month``'s auction opens and (before any extension) closes."""
        day = auction_date(dt.date.fromisoformat(scheme.start_date), scheme.auction_day, month)
        hour, minute = (int(p) for p in scheme.auction_time.split(":"))
        opens = dt.datetime.combine(day, dt.time(hour, minute), dt.UTC)
        if month == 1:  # the foreman's month: no bidding
            return opens, opens
        return opens, opens + dt.timedelta(minutes=scheme.auction_minutes)

    async def _open_month(
        self, session: AsyncClientSession, scheme: Scheme, month: int, last: MonthResult | None
    ) -> None:
        """Call month ``month``'s dues (net of last month's shares) and schedule its auction."""
        scheme_id = str(scheme.id)
        opens, ends = self.auction_window(scheme, month)
        holders = await repository.holders(scheme_id, session)
        lines: list[tuple[str, int]] = []
        for sub in holders:
            share = last.shares[sub.ticket - 1] if last else 0
            await repository.insert(
                Due(
                    scheme_id=scheme_id,
                    subscription_id=str(sub.id),
                    ticket=sub.ticket,
                    month=month,
                    amount=scheme.instalment - share,
                    due_date=opens.date().isoformat(),
                ),
                session,
            )
            lines.append((receivable(str(sub.id)), scheme.instalment))
        lines.append((POT, -scheme.instalment * len(holders)))
        await ledger_service.do_post(
            pool_id=scheme_id,
            key=f"chit-call:{scheme_id}:{month}",
            kind="chit_dues_called",
            lines=lines,
            effective_date=opens.date(),
            memo=f"month {month} instalments called",
            session=session,
        )
        await repository.insert(
            Auction(
                scheme_id=scheme_id,
                month=month,
                opens_at=opens,
                ends_at=ends,
                foreman_month=month == 1,
            ),
            session,
        )

    async def get_subscription(self, sub_id: str, actor: Actor) -> tuple[Subscription, Scheme]:
        """A subscription its holder, the scheme's foreman or an admin may see.
        Raises ``SubscriptionNotFound``."""
        sub = await repository.get_subscription(sub_id)
        if sub is None:
            raise SubscriptionNotFound("no such subscription")
        scheme = await self.get_scheme(sub.scheme_id)
        if actor.user_id not in (sub.user_id, scheme.foreman_id) and not actor.is_admin:
            raise SubscriptionNotFound("no such subscription")
        return sub, scheme

    async def subscribers(self, scheme_id: str, actor: Actor) -> list[Subscription]:
        """Every subscription of a scheme (substituted ones too) for its foreman, an admin or a
        ticket holder. Raises ``SchemeNotFound``."""
        scheme, mine = await self.check_viewer(scheme_id, actor)
        if mine is None and scheme.foreman_id != actor.user_id and not actor.is_admin:
            raise SchemeNotFound("no such scheme", details={"scheme_id": scheme_id})
        return await repository.subscriptions_of_scheme(scheme_id)

    async def subscriptions_of(self, actor: Actor) -> list[Subscription]:
        """The actor's own subscriptions, newest first."""
        return await repository.subscriptions_of_user(actor.user_id)

    async def balances(
        self, scheme_id: str, session: AsyncClientSession | None = None
    ) -> dict[str, int]:
        """Every account balance of the scheme's books (paise, debit positive)."""
        return await ledger_service.balances(scheme_id, session)

    async def owed(
        self, sub_id: str, scheme_id: str, session: AsyncClientSession | None = None
    ) -> int:
        """What the subscription owes now (paise; negative: a credit)."""
        return (await self.balances(scheme_id, session)).get(receivable(sub_id), 0)

    async def do_record_surety(
        self, sub_id: str, actor: Actor, kind: str, details: str
    ) -> Subscription:
        """The foreman records the security a prized subscriber gave (before the prize is paid
        in full). Raises ``SubscriptionStateError`` (409, ``not_prized`` / ``prize_paid``)."""
        sub, scheme = await self.get_subscription(sub_id, actor)
        if scheme.foreman_id != actor.user_id:
            raise ChitForbidden("only the scheme's foreman records security")
        if sub.prized_month is None:
            raise SubscriptionStateError(
                "only a prized subscriber gives security", details={"reason": "not_prized"}
            )
        auction = await repository.auction_of_month(sub.scheme_id, sub.prized_month)
        if auction is not None and auction.prize_paid_at is not None:
            raise SubscriptionStateError(
                "the prize was paid already", details={"reason": "prize_paid"}
            )
        surety = Surety(kind=kind, details=details, recorded_by=actor.user_id, recorded_at=utcnow())

        async def body(session: AsyncClientSession) -> Subscription:
            await repository.update_subscription(
                sub_id, {}, {"surety": surety.model_dump()}, session
            )
            return await _audited(session, sub, actor, "subscription.surety", {"kind": kind})

        return await run_in_transaction(body)

    async def owed_by(
        self,
        sub_id: str,
        scheme: Scheme,
        today: dt.date,
        grace_days: int = 0,
        session: AsyncClientSession | None = None,
    ) -> tuple[int, int, str | None]:
        """(past, upcoming, deadline) of what the subscription owes (``split_owed``)."""
        owed = await self.owed(sub_id, str(scheme.id), session)
        dues = await repository.dues_of(sub_id, session) if owed > 0 else []
        return split_owed(owed, dues, today, grace_days)

    async def owed_now_of(
        self, subs: list[Subscription], today: dt.date | None = None
    ) -> dict[str, tuple[int, int, str | None]]:
        """By subscription id: (due now, upcoming, next due date) — what has fallen due by
        ``today`` (due date on or before it), what is called but falls due later and the
        earliest of those later due dates (``split_owed`` without grace)."""
        today = today or utcnow().date()
        books: dict[str, dict[str, int]] = {}
        out: dict[str, tuple[int, int, str | None]] = {}
        for sub in subs:
            if sub.scheme_id not in books:
                books[sub.scheme_id] = await self.balances(sub.scheme_id)
            owed = books[sub.scheme_id].get(receivable(str(sub.id)), 0)
            dues = await repository.dues_of(str(sub.id)) if owed > 0 else []
            past, upcoming, _ = split_owed(owed, dues, today, 0)
            # the unpaid months are the newest: the earliest of those not due yet comes next
            next_due, left = None, upcoming
            for due in reversed(dues):
                if left <= 0:
                    break
                if dt.date.fromisoformat(due.due_date) > today:
                    next_due, left = due.due_date, left - due.amount
            out[str(sub.id)] = (past, upcoming, next_due)
        return out

    async def do_mark_default(
        self, sub_id: str, actor: Actor, reason: str, now: dt.datetime | None = None
    ) -> Subscription:
        """The foreman removes a defaulter: an ACTIVE, unprized subscription with an instalment
        unpaid past its due date and the scheme's grace days (``overdue``) becomes DEFAULTED
        (it keeps the ticket until a substitute takes it). Owing this month's instalment before
        its grace days end is not a default.

        Raises:
            ChitForbidden; SubscriptionStateError (409: ``not_active``, ``prized``);
            NothingOverdue (409 ``nothing_overdue``: nothing unpaid past the grace days).
        """
        sub, scheme = await self.get_subscription(sub_id, actor)
        if scheme.foreman_id != actor.user_id:
            raise ChitForbidden("only the scheme's foreman removes a defaulter")
        today = _aware(now or utcnow()).date()

        async def body(session: AsyncClientSession) -> Subscription:
            await repository.bump_money_seq(sub.scheme_id, session)
            if sub.prized_month is not None:
                raise SubscriptionStateError(
                    "a prized subscriber's dues are recovered from the security",
                    details={"reason": "prized"},
                )
            if sub.status != SubscriptionStatus.ACTIVE or not sub.holds_ticket:
                raise SubscriptionStateError(
                    "the subscription is not active", details={"reason": "not_active"}
                )
            overdue, _, deadline = await self.owed_by(
                sub_id, scheme, today, scheme.grace_days, session
            )
            if overdue <= 0:
                raise NothingOverdue(
                    "nothing is overdue: a subscriber defaults only with an instalment unpaid "
                    f"past its due date and {scheme.grace_days} days' grace",
                    details={"overdue": format_minor(0), "grace_days": scheme.grace_days,
                             "next_deadline": deadline},
                )  # fmt: skip
            if not await repository.update_subscription(
                sub_id,
                {"status": SubscriptionStatus.ACTIVE.value, "holds_ticket": True},
                {"status": SubscriptionStatus.DEFAULTED.value, "defaulted_at": utcnow()},
                session,
            ):
                raise SubscriptionStateError(
                    "the subscription is not active", details={"reason": "not_active"}
                )
            return await _audited(session, sub, actor, "subscription.defaulted",
                                  {"reason": reason})  # fmt: skip

        return await run_in_transaction(body)

    async def leave_quote(
        self, sub_id: str, actor: Actor, session: AsyncClientSession | None = None
    ) -> dict[str, Any]:
        """What a subscriber leaving early gets, shown before they confirm (paise): the net
        instalments paid in, less the penalties charged and anything still owed — the same
        figure the books owe a removed subscriber when a substitute takes the ticket (the
        substitute's catch-up clears the arrears; the rest is owed back, paid at the latest at
        the final settlement). ``may_leave`` is false for a prized subscriber (the prize was
        taken against the instalments to come: only a substitute may take over the ticket) or
        a ticket not ACTIVE, nor for the foreman's own ticket; ``reason`` says why.

        Raises SubscriptionNotFound (404: not the holder, foreman or an admin)."""
        sub, scheme = await self.get_subscription(sub_id, actor)
        dues = await repository.dues_of(sub_id, session)
        called = sum(d.amount for d in dues)
        penalties = sum(d.penalty for d in dues)
        owed = await self.owed(sub_id, sub.scheme_id, session)
        paid = called + penalties - owed
        settlement = max(0, called - owed)
        reason = "ok"
        if sub.status != SubscriptionStatus.ACTIVE or not sub.holds_ticket:
            reason = "not_active"
        elif sub.prized_month is not None:
            reason = "prized"
        elif sub.user_id == scheme.foreman_id:
            reason = "foreman"  # the foreman runs the scheme to its end
        elif scheme.status != SchemeStatus.ACTIVE:
            reason = "scheme_not_active"
        return {
            "subscription_id": sub_id, "ticket": sub.ticket, "may_leave": reason == "ok",
            "reason": reason, "paid_in": paid, "penalties": penalties, "owed": max(0, owed),
            "settlement": settlement, "months_called": len(dues),
        }  # fmt: skip

    async def do_leave(self, sub_id: str, actor: Actor, settlement: int) -> Subscription:
        """The holder leaves a scheme early, confirming the ``settlement`` they were shown
        (``leave_quote``): the ticket is removed like a defaulter's (DEFAULTED, ``left_at``),
        so the foreman admits a substitute; the settlement is owed back from then on.

        Raises:
            SubscriptionNotFound (404), ChitForbidden (403: only the holder leaves),
            SubscriptionStateError (409: ``prized`` — a prized subscriber leaves only through
            a substitute; ``not_active``; ``scheme_not_active``; ``settlement_changed`` — the
            figure moved since it was shown, ``details.settlement`` is the new one).
        """
        sub, _ = await self.get_subscription(sub_id, actor)
        if sub.user_id != actor.user_id:
            raise ChitForbidden("only the subscriber may leave the scheme")

        async def body(session: AsyncClientSession) -> Subscription:
            await repository.bump_money_seq(sub.scheme_id, session)
            quote = await self.leave_quote(sub_id, actor, session)
            if not quote["may_leave"]:
                raise SubscriptionStateError(
                    "a prized subscriber cannot leave without a substitute"
                    if quote["reason"] == "prized" else "this ticket cannot leave now",
                    details={"reason": quote["reason"]},
                )  # fmt: skip
            if quote["settlement"] != settlement:
                raise SubscriptionStateError(
                    "the settlement changed since it was shown",
                    details={"reason": "settlement_changed",
                             "settlement": format_minor(quote["settlement"])},
                )  # fmt: skip
            now = utcnow()
            if not await repository.update_subscription(
                sub_id,
                {"status": SubscriptionStatus.ACTIVE.value, "holds_ticket": True,
                 "prized_month": None},
                {"status": SubscriptionStatus.DEFAULTED.value, "defaulted_at": now,
                 "left_at": now, "leave_settlement": settlement},
                session,
            ):  # fmt: skip
                raise SubscriptionStateError(
                    "the subscription is not active", details={"reason": "not_active"}
                )
            paid = {"settlement": settlement, "paid_in": quote["paid_in"], "owed": quote["owed"]}
            return await _audited(session, sub, actor, "subscription.left", paid)

        return await run_in_transaction(body)

    async def substitute_quote(self, sub_id: str, actor: Actor) -> dict[str, int]:
        """What admitting a substitute on DEFAULTED ``sub_id`` settles (paise), for its
        foreman: ``catch_up``, ``arrears`` (cleared from it), ``defaulter_refund`` and
        ``months_called`` — the figures ``do_substitute`` posts. Raises ChitForbidden,
        SubscriptionNotFound, SubscriptionStateError (409 ``not_defaulted``)."""
        sub, scheme = await self.get_subscription(sub_id, actor)
        if scheme.foreman_id != actor.user_id:
            raise ChitForbidden("only the scheme's foreman admits a substitute")
        if sub.status != SubscriptionStatus.DEFAULTED or not sub.holds_ticket:
            raise SubscriptionStateError(
                "only a defaulted ticket can be substituted", details={"reason": "not_defaulted"}
            )
        dues = await repository.dues_of(sub_id)
        catch_up = sum(d.amount for d in dues)
        arrears = await self.owed(sub_id, sub.scheme_id)
        return {"ticket": sub.ticket, "months_called": len(dues), "catch_up": catch_up,
                "arrears": arrears, "defaulter_refund": catch_up - arrears}  # fmt: skip

    async def substitute_candidate(self, sub_id: str, actor: Actor, who: str) -> dict[str, Any]:
        """The person the foreman of DEFAULTED ``sub_id`` names as its substitute by e-mail
        or Samooh member ID, to confirm before admitting: ``user_id``, ``full_name``,
        ``member_id``, ``kyc_verified`` and ``holds_ticket`` (already in this scheme). An
        exact match only, and only for that foreman (no browsing of the platform's people).

        Raises: ChitForbidden, SubscriptionNotFound, SubscriptionStateError (``not_defaulted``),
        UserNotFound (404 ``user_not_found``: nobody active with that e-mail or member ID)."""
        await self.substitute_quote(sub_id, actor)  # the same checks: foreman, defaulted
        sub, _ = await self.get_subscription(sub_id, actor)
        person = await repository.person_by_contact(who)
        if person is None:
            raise UserNotFound("nobody with that e-mail address or member ID has an account",
                               details={"who": who.strip()[:80]})  # fmt: skip
        user_id = str(person.id)
        summary = await kyc_service.summary(user_id)
        return {
            "user_id": user_id, "full_name": person.full_name, "member_id": person.member_id,
            "kyc_verified": summary.status == KycStatus.VERIFIED,
            "holds_ticket": await repository.holding_of(sub.scheme_id, user_id) is not None,
        }  # fmt: skip

    async def catch_up_amount(self, sub_id: str) -> int:
        """What a substitute pays to take over ticket of ``sub_id``: the net instalments of
        the months already called (paise)."""
        return sum(due.amount for due in await repository.dues_of(sub_id))

    async def do_substitute(self, sub_id: str, actor: Actor, user_id: str) -> Subscription:
        """Admit ``user_id`` (KYC-verified) in place of DEFAULTED subscription ``sub_id``. The
        substitute owes the catch-up amount (net instalments of the months run so far) and
        takes over the ticket; the defaulter's arrears are cleared against it and the rest —
        what the defaulter paid, less penalties — is owed back to them at the end.

        Raises:
            ChitForbidden, UserNotFound (404 ``user_not_found``: no such person),
            KycRequiredForChit (403: their KYC, derived by the KYC service, is not verified),
            SubscriptionStateError (409 ``not_defaulted``), AlreadySubscribed.
        """
        old, scheme = await self.get_subscription(sub_id, actor)
        if scheme.foreman_id != actor.user_id:
            raise ChitForbidden("only the scheme's foreman admits a substitute")
        if not (await repository.users_by_id([user_id])).get(user_id):
            raise UserNotFound("no such person", details={"user_id": user_id})
        await self._check_kyc(user_id, "substitute")
        member_id = await self._member_id(user_id)
        scheme_id = old.scheme_id
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> Subscription:
            await repository.bump_money_seq(scheme_id, session)
            if await repository.holding_of(scheme_id, user_id, session) is not None:
                raise AlreadySubscribed("the substitute already holds a ticket of this scheme")
            dues = await repository.dues_of(sub_id, session)
            catch_up = sum(d.amount for d in dues)
            arrears = await self.owed(sub_id, scheme_id, session)
            new = Subscription(
                scheme_id=scheme_id,
                user_id=user_id,
                ticket=old.ticket,
                member_id=member_id,
                replaces=sub_id,
                catch_up=catch_up,
            )
            await repository.insert(new, session)
            if not await repository.update_subscription(
                sub_id,
                {"status": SubscriptionStatus.DEFAULTED.value, "holds_ticket": True},
                {"holds_ticket": False, "replaced_by": str(new.id)},
                session,
            ):
                raise SubscriptionStateError(
                    "only a defaulted ticket can be substituted",
                    details={"reason": "not_defaulted"},
                )
            for due in dues:
                await repository.insert(
                    Due(
                        scheme_id=scheme_id,
                        subscription_id=str(new.id),
                        ticket=new.ticket,
                        month=due.month,
                        amount=due.amount,
                        due_date=due.due_date,
                        penalty_checked=True,
                    ),
                    session,
                )
            lines = [(receivable(str(new.id)), catch_up)]
            if arrears:
                lines.append((receivable(sub_id), -arrears))
            if catch_up - arrears:
                lines.append((defaulter_refund(sub_id), -(catch_up - arrears)))
            if catch_up:
                await ledger_service.do_post(
                    pool_id=scheme_id,
                    key=f"chit-substitute:{sub_id}",
                    kind="chit_substitution",
                    lines=lines,
                    effective_date=utcnow().date(),
                    memo=f"ticket {old.ticket}: {user_id} replaces {old.user_id}",
                    session=session,
                )
            await audit_service.do_append(
                chain=scheme_chain(scheme_id),
                actor_id=actor.user_id,
                action="subscription.substituted",
                target_type="subscription",
                target_id=str(new.id),
                details={
                    "replaces": sub_id,
                    "ticket": old.ticket,
                    "catch_up": catch_up,
                    "defaulter_arrears": arrears,
                },
                session=session,
            )
            return new

        return await run_in_transaction(body)

    # ---- instalments ---------------------------------------------------------------------

    async def do_open_instalment(self, sub_id: str, actor: Actor) -> ChitPayment:
        """Open (or return the open) INSTALLMENT payment of what the subscription owes now and
        its checkout at the payments provider (``pool_type="chit"``). The holder pays.

        Raises:
            SubscriptionNotFound, SubscriptionStateError (409 ``not_holder``), NothingDue (409),
            and the payments domain's checkout errors.
        """
        sub, scheme = await self.get_subscription(sub_id, actor)
        if sub.user_id != actor.user_id:
            raise SubscriptionNotFound("no such subscription")
        if not sub.holds_ticket:
            raise SubscriptionStateError(
                "this subscription no longer holds its ticket", details={"reason": "not_holder"}
            )
        owed = await self.owed(sub_id, sub.scheme_id)
        pending = await repository.pending_instalment(sub_id)
        if pending is not None and pending.amount == owed:
            return pending
        if owed <= 0:
            raise NothingDue(
                "nothing is due on this subscription", details={"balance": format_minor(owed)}
            )
        if pending is not None:  # the amount owed changed: that checkout is stale
            await repository.update_payment(
                str(pending.id),
                {"status": PaymentStatus.PENDING.value},
                {"status": PaymentStatus.FAILED.value, "details.reason": "superseded"},
            )
        payment = ChitPayment(
            scheme_id=sub.scheme_id,
            subscription_id=sub_id,
            user_id=sub.user_id,
            kind=PaymentKind.INSTALLMENT,
            amount=owed,
            month=scheme.current_month,
            currency=scheme.currency,
        )
        await repository.insert(payment)
        checkout = await create_checkout(
            str(payment.id), sub.scheme_id, owed, scheme.currency, pool_type="chit"
        )
        await repository.update_payment(
            str(payment.id),
            {},
            {
                "provider": checkout.provider,
                "order_id": checkout.order_id,
                "checkout_url": checkout.checkout_url,
            },
        )
        payment.provider, payment.order_id = checkout.provider, checkout.order_id
        payment.checkout_url = checkout.checkout_url
        return payment

    async def do_apply_payment_event(self, event: PaymentEventV1) -> PaymentOutcome:
        """Apply one verified payment event of ``pool_type="chit"`` idempotently (the chits
        agent calls this). Captured: Dr cash / Cr the subscription, the payment COMPLETED and
        flagged late when after its month's due date and grace days. Failed: PENDING → FAILED.
        A re-delivered event changes nothing (journal key ``chit-payment:<event id>`` and the
        status guard); money that matches no open instalment (unknown payment, other amount,
        second payment) is booked to ``liabilities:unmatched_payments`` and audited."""
        payment = await repository.get_payment(event.contribution_id)
        scheme = await repository.get_scheme(event.pool_id)
        if scheme is None:
            log.warning("chit payment for an unknown scheme", pool_id=event.pool_id)
            return PaymentOutcome(False, None)
        scheme_id = str(scheme.id)
        if payment is None or payment.scheme_id != scheme_id:
            if event.kind == "payment.captured":
                await self._book_unmatched(event, "no such instalment in this scheme")
            return PaymentOutcome(False, None)
        payment_id = str(payment.id)
        if event.kind == "payment.failed":
            return await self._instalment_failed(payment, event)
        if event.kind != "payment.captured":
            return PaymentOutcome(False, payment)
        paid_at = dt.datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> PaymentOutcome:
            await repository.bump_money_seq(scheme_id, session)
            current = await repository.get_payment(payment_id, session)
            assert current is not None
            if current.status == PaymentStatus.COMPLETED or event.amount != current.amount:
                if current.payment_id != event.payment_id:
                    await self._book_unmatched(
                        event, "instalment already paid or another amount", session
                    )
                return PaymentOutcome(False, current)
            _, new = await ledger_service.do_post(
                pool_id=scheme_id,
                key=f"chit-payment:{event.id}",
                kind="chit_instalment",
                lines=[(CASH, event.amount), (receivable(current.subscription_id), -event.amount)],
                effective_date=paid_at.date(),
                memo=f"instalment {payment_id} via {event.provider} {event.payment_id}",
                session=session,
            )
            if not new:
                return PaymentOutcome(False, current)
            due = await repository.due_of(current.subscription_id, current.month, session)
            late = due is not None and paid_at.date() > (
                dt.date.fromisoformat(due.due_date) + dt.timedelta(days=scheme.grace_days)
            )
            changes = {
                "status": PaymentStatus.COMPLETED.value,
                "payment_id": event.payment_id,
                "provider": event.provider,
                "completed_at": _ms(paid_at),
                "late": late,
                "penalty": due.penalty if due is not None else 0,
            }
            await repository.update_payment(payment_id, {}, changes, session)
            sub = await repository.get_subscription(current.subscription_id, session)
            await events.room_event(
                session,
                scheme_room(scheme_id),
                PAYMENT,
                ChitPaymentEvent,
                scheme_id=scheme_id,
                payment_id=payment_id,
                ticket=sub.ticket if sub else 0,
                month=current.month,
                kind=current.kind.value,
                status=PaymentStatus.COMPLETED.value,
                amount=format_minor(event.amount),
            )
            await notification_service.do_store(session, [Draft(
                user_id=current.user_id, kind=NotificationKind.PAYMENT_RECEIVED,
                title=f"Instalment received: {format_minor(event.amount)}",
                body=f"Your month {current.month} instalment to {scheme.name} is paid.",
                ref_type="chit_payment", ref_id=payment_id,
                dedupe_key=f"chit-payment-received:{payment_id}",
            )])  # fmt: skip
            fresh = await repository.get_payment(payment_id, session)
            return PaymentOutcome(True, fresh)

        await notification_service.prepare([payment.user_id])
        return await run_in_transaction(body)

    async def _instalment_failed(
        self, payment: ChitPayment, event: PaymentEventV1
    ) -> PaymentOutcome:
        """PENDING → FAILED with the reason recorded (``last_error``) and sent to the scheme's
        room (``chit:payment`` FAILED), so the payer's open screens say what happened."""
        payment_id, scheme_id = str(payment.id), payment.scheme_id
        why = (
            f"the payment of {format_minor(event.amount)} was declined by {event.provider} "
            f"(payment {event.payment_id}); nothing was taken — pay again"
        )
        await events.ensure_room(scheme_room(scheme_id))

        async def body(session: AsyncClientSession) -> PaymentOutcome:
            if not await repository.update_payment(
                payment_id, {"status": PaymentStatus.PENDING.value},
                {"status": PaymentStatus.FAILED.value, "last_error": why[:300],
                 "payment_id": event.payment_id, "provider": event.provider},
                session,
            ):  # fmt: skip
                return PaymentOutcome(False, payment)
            sub = await repository.get_subscription(payment.subscription_id, session)
            await events.room_event(
                session, scheme_room(scheme_id), PAYMENT, ChitPaymentEvent,
                scheme_id=scheme_id, payment_id=payment_id, ticket=sub.ticket if sub else 0,
                month=payment.month, kind=payment.kind.value, status=PaymentStatus.FAILED.value,
                amount=format_minor(payment.amount), reason=why[:300],
            )  # fmt: skip
            return PaymentOutcome(True, await repository.get_payment(payment_id, session))

        return await run_in_transaction(body)

    async def _book_unmatched(
        self, event: PaymentEventV1, why: str, session: AsyncClientSession | None = None
    ) -> None:
        async def body(tx: AsyncClientSession) -> None:
            _, new = await ledger_service.do_post(
                pool_id=event.pool_id,
                key=f"chit-payment:{event.id}",
                kind="chit_unmatched",
                lines=[(CASH, event.amount), (UNMATCHED, -event.amount)],
                effective_date=utcnow().date(),
                memo=f"unmatched {event.payment_id}: {why}",
                session=tx,
            )
            if new:
                await audit_service.do_append(
                    chain=scheme_chain(event.pool_id),
                    actor_id=None,
                    action="payment.unmatched",
                    target_type="payment",
                    target_id=event.payment_id,
                    details={"amount": event.amount, "reason": why, "event": event.id},
                    session=tx,
                )

        if session is not None:
            await body(session)
        else:
            await run_in_transaction(body)

    async def do_charge_penalties(self, today: dt.date) -> int:
        """Charge the scheme's late penalty once on every due still unpaid after its due date
        and grace days (unpaid: the subscription owes more than the months called after it and
        the penalties charged before): Dr the subscription, Cr ``income:late_penalties``.
        Returns how many were charged. Safe on every worker: each due is claimed once."""
        charged = 0
        after = None
        # Page through every candidate: dues still inside their grace stay unclaimed and come
        # back on every sweep, so one page of them must not hide the dues past grace behind it.
        while page := await repository.overdue(today.isoformat(), after):
            after = page[-1].id
            for due in page:
                scheme = await repository.get_scheme(due.scheme_id)
                if scheme is None:
                    continue
                grace = dt.timedelta(days=scheme.grace_days)
                if today <= dt.date.fromisoformat(due.due_date) + grace:
                    continue
                charged += await self._charge_penalty(scheme, due, today)
        return charged

    async def _charge_penalty(self, scheme: Scheme, due: Due, today: dt.date) -> int:
        scheme_id = str(scheme.id)

        async def body(session: AsyncClientSession) -> int:
            await repository.bump_money_seq(scheme_id, session)
            # this month is unpaid when what is owed exceeds the months called after it and the
            # penalties already charged
            later = sum(d.amount + d.penalty
                        for d in await repository.dues_of(due.subscription_id, session)
                        if d.month > due.month or (d.month < due.month and d.penalty))  # fmt: skip
            owes = await self.owed(due.subscription_id, scheme_id, session) > later
            penalty = scheme.late_penalty if owes else 0
            if not await repository.mark_penalty(due.id, penalty, session):
                return 0
            if penalty:
                await ledger_service.do_post(
                    pool_id=scheme_id,
                    key=f"chit-penalty:{due.subscription_id}:{due.month}",
                    kind="chit_penalty",
                    lines=[(receivable(due.subscription_id), penalty), (PENALTIES, -penalty)],
                    effective_date=today,
                    memo=f"late penalty, month {due.month}",
                    session=session,
                )
            return 1 if penalty else 0

        return await run_in_transaction(body)

    async def do_send_reminders(self, now: dt.datetime | None = None) -> int:
        """Daily reminders through notifications (in-app live and e-mailed) and by SMS to
        verified mobile numbers (app/sms, DLT templates): PAYMENT_DUE to
        every ticket holder who owes money within ``REMIND_DAYS`` of the month's due date (once
        a day), AUCTION_REMINDER to the holders of a scheme whose auction opens within a day
        (once per auction). Returns how many were stored. Safe on every worker (dedupe keys)."""
        now = _ms(now or utcnow())
        drafts: list[Draft] = []
        texts: list[SmsDraft] = []
        for auction in await repository.auctions_to_remind(now + dt.timedelta(days=1)):
            if not await repository.mark_reminded(str(auction.id)):
                continue
            scheme = await repository.get_scheme(auction.scheme_id)
            if scheme is None:
                continue
            for sub in await repository.holders(auction.scheme_id):
                drafts.append(Draft(
                    user_id=sub.user_id, kind=NotificationKind.AUCTION_REMINDER,
                    title=f"{scheme.name}: month {auction.month}'s auction",
                    body=f"Bidding opens {iso(auction.opens_at)}. Pay up to be eligible.",
                    ref_type="scheme", ref_id=auction.scheme_id,
                    dedupe_key=f"auction-reminder:{auction.id}:{sub.user_id}",
                ))  # fmt: skip
                texts.append(SmsDraft(
                    user_id=sub.user_id, template=AUCTION_REMINDER.key,
                    variables={"VAR1": str(auction.month), "VAR2": scheme.name,
                               "VAR3": _aware(auction.opens_at).strftime("%d %b %H:%M")},
                    dedupe_key=f"auction-reminder:{auction.id}:{sub.user_id}",
                ))  # fmt: skip
        today = now.date()
        for scheme in await repository.schemes({"status": SchemeStatus.ACTIVE.value}):
            scheme_id = str(scheme.id)
            month_auction = await repository.auction_of_month(scheme_id, scheme.current_month)
            if month_auction is None or _aware(
                month_auction.opens_at
            ).date() - today > dt.timedelta(days=REMIND_DAYS):
                continue
            books = await self.balances(scheme_id)
            for sub in await repository.holders(scheme_id):
                owed = books.get(receivable(str(sub.id)), 0)
                if owed > 0:
                    drafts.append(Draft(
                        user_id=sub.user_id, kind=NotificationKind.PAYMENT_DUE,
                        title=f"{scheme.name}: {format_minor(owed)} due",
                        body=f"Month {scheme.current_month}'s instalment is due by "
                             f"{_aware(month_auction.opens_at).date().isoformat()}.",
                        ref_type="subscription", ref_id=str(sub.id),
                        dedupe_key=f"payment-due:{sub.id}:{today.isoformat()}",
                    ))  # fmt: skip
                    texts.append(SmsDraft(
                        user_id=sub.user_id, template=PAYMENT_DUE.key,
                        variables={"VAR1": format_minor(owed), "VAR2": scheme.name,
                                   "VAR3": str(scheme.current_month),
                                   "VAR4": _aware(month_auction.opens_at).date().isoformat()},
                        dedupe_key=f"payment-due:{sub.id}:{today.isoformat()}",
                    ))  # fmt: skip
        if not drafts:
            return 0
        stored = len(await notification_service.do_notify(drafts))
        await sms_service.do_queue(texts, now)
        return stored

    # ---- the auction ---------------------------------------------------------------------

    async def current_auction(self, scheme: Scheme) -> Auction | None:
        """The auction of the scheme's current month, if any."""
        return await repository.auction_of_month(str(scheme.id), scheme.current_month)

    async def eligibility(
        self, scheme: Scheme, sub: Subscription | None, session: AsyncClientSession | None = None
    ) -> str:
        """``eligible`` or why not: ``not_subscriber``, ``defaulted``, ``already_prized``,
        ``not_paid_up`` (the bidder owes money now)."""
        if sub is None or not sub.holds_ticket:
            return "not_subscriber"
        if sub.status != SubscriptionStatus.ACTIVE:
            return "defaulted"
        if sub.prized_month is not None:
            return "already_prized"
        if await self.owed(str(sub.id), str(scheme.id), session) > 0:
            return "not_paid_up"
        return "eligible"

    async def do_bid(
        self, scheme_id: str, user_id: str, discount: int, now: dt.datetime | None = None
    ) -> tuple[Bid, dt.datetime]:
        """Place a bid of ``discount`` paise in the scheme's open auction. Valid bids are stored
        in order and sent to the room (``chit:bid``); a bid in the last ``extension_seconds``
        moves the end to that long after it. The best discount moves only through a guarded
        update inside the bid's transaction, so two concurrent bids can never both be best.

        Raises:
            SchemeNotFound; AuctionNotOpen / AuctionClosed (409); NotEligible (403,
            ``details.reason``); BidRefused (422 ``bid_below_minimum`` / ``bid_above_maximum``
            / ``bid_off_step``, 409 ``bid_not_above_best``).
        """
        now = _ms(now or utcnow())
        scheme = await self.get_scheme(scheme_id)
        if scheme.status != SchemeStatus.ACTIVE:
            raise AuctionNotOpen("the scheme has no auction running")
        auction = await self.current_auction(scheme)
        if auction is None or auction.foreman_month:
            raise AuctionNotOpen("no auction takes bids this month")
        if auction.status == AuctionStatus.CLOSED or now >= _aware(auction.ends_at):
            raise AuctionClosed("the auction has closed")
        if now < _aware(auction.opens_at):
            raise AuctionNotOpen(
                "the auction has not opened yet", details={"opens_at": iso(auction.opens_at)}
            )
        terms = scheme.terms
        auction_id = str(auction.id)
        room = scheme_room(scheme_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> tuple[Bid, dt.datetime]:
            sub = await repository.holding_of(scheme_id, user_id, session)
            why = await self.eligibility(scheme, sub, session)
            if why != "eligible" or sub is None:
                raise NotEligible("you may not bid in this auction", details={"reason": why})
            live = await repository.get_auction(auction_id, session)
            assert live is not None
            if live.status == AuctionStatus.CLOSED or now >= _aware(live.ends_at):
                raise AuctionClosed("the auction has closed")
            best = live.best_discount if live.bid_count else None
            refusal = check_bid_amount(terms, discount, best)
            nxt = next_bid(terms, best)
            if refusal is not None:
                raise BidRefused(
                    refusal.value,
                    bid_refusal_message(terms, refusal, discount, best),
                    {
                        "discount": format_minor(discount),
                        "min_bid": format_minor(terms.min_bid),
                        "max_discount": format_minor(terms.max_discount),
                        "bid_step": format_minor(terms.bid_step),
                        "best": None if best is None else format_minor(best),
                        "next_bid": None if nxt is None else format_minor(nxt),
                    },
                )
            extend = now + dt.timedelta(seconds=scheme.extension_seconds)
            guard: dict[str, Any] = {
                "status": AuctionStatus.SCHEDULED.value,
                "ends_at": {"$gt": now},
                "bid_count": live.bid_count,
            }
            update: dict[str, Any] = {"$inc": {"bid_count": 1}}
            if best is not None and discount == best:  # a tie at the maximum discount
                if sub.ticket in live.top_tickets:
                    raise BidRefused("bid_not_above_best", "you already hold the best bid",
                                     {"discount": format_minor(discount),
                                      "best": format_minor(best),
                                      "bid_step": format_minor(terms.bid_step),
                                      "next_bid": None})  # fmt: skip
                update["$addToSet"] = {"top_tickets": sub.ticket}
            else:
                update["$set"] = {"best_discount": discount, "top_tickets": [sub.ticket]}
            if _aware(live.ends_at) - now < dt.timedelta(seconds=scheme.extension_seconds):
                update["$max"] = {"ends_at": extend}
            moved = await repository.place_on_auction(auction_id, guard, update, session)
            if moved is None:  # another bid got in first: decide again on the next attempt
                raise BidRefused(
                    "bid_not_above_best",
                    "another bid came first: look at the best bid and bid again",
                    {"discount": format_minor(discount), "best": None,
                     "bid_step": format_minor(terms.bid_step), "next_bid": None},
                )  # fmt: skip
            bid = Bid(
                auction_id=auction_id,
                scheme_id=scheme_id,
                month=live.month,
                seq=moved.bid_count,
                subscription_id=str(sub.id),
                user_id=user_id,
                ticket=sub.ticket,
                discount=discount,
                at=now,
            )
            sent = await events.room_event(
                session,
                room,
                BID,
                ChitBidEvent,
                scheme_id=scheme_id,
                auction_id=auction_id,
                month=live.month,
                bid_seq=bid.seq,
                ticket=sub.ticket,
                discount=format_minor(discount),
                ends_at=iso(moved.ends_at),
            )
            bid.room_seq = int(sent.data["seq"])
            await repository.insert(bid, session)
            return bid, _aware(moved.ends_at)

        return await run_in_transaction(body)

    async def room_state(
        self, scheme_id: str, actor: Actor, after_seq: int | None
    ) -> dict[str, Any]:
        """What a socket joining ``scheme:<id>`` gets: the room's ``seq``, the events after
        ``after_seq`` (none when it is None; at most ``CATCH_UP_LIMIT``), the current auction
        with its bids, the latest closed month's ``result`` (prize, discount, commission, every
        ticket's share and next net instalment), the actor's ticket and eligibility. The
        foreman, ticket holders and admins may join; anyone may follow an APPROVED scheme (it
        fills, then starts: ``chit:scheme``) and gets only its status. Raises
        ``SchemeNotFound``."""
        scheme, mine = await self.check_viewer(scheme_id, actor)
        member = mine is not None or scheme.foreman_id == actor.user_id or actor.is_admin
        if not member and scheme.status != SchemeStatus.APPROVED:
            raise SchemeNotFound("no such scheme", details={"scheme_id": scheme_id})
        room = scheme_room(scheme_id)
        await events.ensure_room(room)
        if not member:  # following an open scheme fill up: its status, nothing else
            return {"scheme_id": scheme_id, "seq": await eventlog.head(room), "missed": [],
                    "auction": None, "result": None, "my_ticket": None, "eligible": False,
                    "eligibility": "not_subscriber", "status": scheme.status.value}  # fmt: skip
        head = await eventlog.head(room)
        missed = []
        if after_seq is not None and after_seq < head:
            missed = [{"event": e.event, "data": e.data}
                      for e in await eventlog.since(room, after_seq, CATCH_UP_LIMIT)]  # fmt: skip
        auction = await self.current_auction(scheme) if scheme.current_month else None
        if auction is not None and auction.status == AuctionStatus.CLOSED:
            auction = None
        last = None
        if auction is None and scheme.current_month:
            for month in (scheme.current_month, scheme.current_month - 1):
                found = await repository.auction_of_month(scheme_id, month)
                if found is not None and found.status == AuctionStatus.CLOSED:
                    last = found
                    break
        shown = auction or last
        bids = await repository.bids_of(str(shown.id)) if shown else []
        result = last
        if result is None and scheme.current_month > 1:
            result = await repository.auction_of_month(scheme_id, scheme.current_month - 1)
        result_bids = (
            bids if result is shown else await repository.bids_of(str(result.id)) if result else []
        )
        why = await self.eligibility(scheme, mine)
        return {"scheme_id": scheme_id, "seq": head, "missed": missed,
                "auction": auction_out(shown, bids) if shown else None,
                "result": auction_out(result, result_bids)
                if result is not None and result.status == AuctionStatus.CLOSED else None,
                "my_ticket": mine.ticket if mine else None,
                "eligible": why == "eligible", "eligibility": why,
                "status": scheme.status.value}  # fmt: skip

    async def do_start_auction(
        self,
        scheme_id: str,
        actor: Actor,
        now: dt.datetime | None = None,
        duration: dt.timedelta | None = None,
    ) -> Auction:
        """Auction control: the foreman opens the current month's auction now (it runs the
        scheme's ``auction_minutes``, or ``duration``) instead of at its scheduled time. Raises
        ``AuctionNotOpen`` when the month's auction is the foreman's, closed, or has bids."""
        now = _ms(now or utcnow())
        scheme = await self.check_foreman(scheme_id, actor)
        auction = await self.current_auction(scheme)
        if auction is None or auction.foreman_month or auction.status == AuctionStatus.CLOSED:
            raise AuctionNotOpen("there is no auction to start this month")
        ends = now + (duration or dt.timedelta(minutes=scheme.auction_minutes))
        room = scheme_room(scheme_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Auction:
            if not await repository.update_auction(
                str(auction.id),
                {"status": AuctionStatus.SCHEDULED.value, "bid_count": 0},
                {"opens_at": now, "ends_at": ends, "opened_announced": True},
                session,
            ):
                raise AuctionNotOpen("the auction has bids or closed already")
            await events.room_event(
                session,
                room,
                AUCTION_OPENED,
                ChitAuctionOpenedEvent,
                scheme_id=scheme_id,
                auction_id=str(auction.id),
                month=auction.month,
                opens_at=iso(now),
                ends_at=iso(ends),
            )
            fresh = await repository.get_auction(str(auction.id), session)
            assert fresh is not None
            return fresh

        return await run_in_transaction(body)

    async def do_close_auction(
        self, auction_id: str, now: dt.datetime | None = None
    ) -> Auction | None:
        """Close an auction whose end time has passed — exactly once (the SCHEDULED → CLOSED
        guard in the same transaction as the books). The highest discount wins; a tie at the
        top is drawn by lot and an auction without bids is drawn by lot among the eligible at
        the minimum bid (``rules.draw``, seed and method recorded); the foreman's month goes to
        ticket 1 without discount. Posts the month's distribution (prize payable, commission,
        shares), marks the winner prized, sends ``chit:auction_closed`` and opens the next
        month. Returns the closed auction, or ``None`` when it is not due or closed already."""
        now = _ms(now or utcnow())
        auction = await repository.get_auction(auction_id)
        if auction is None or auction.status == AuctionStatus.CLOSED:
            return None
        if now < _aware(auction.ends_at):
            return None
        scheme_id = auction.scheme_id
        room = scheme_room(scheme_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> Auction | None:
            await repository.bump_money_seq(scheme_id, session)
            live = await repository.get_auction(auction_id, session)
            scheme = await repository.get_scheme(scheme_id, session)
            if live is None or scheme is None or live.status == AuctionStatus.CLOSED:
                return None
            if now < _aware(live.ends_at):
                return None
            holders = await repository.holders(scheme_id, session)
            by_ticket = {s.ticket: s for s in holders}
            bids = await repository.bids_of(auction_id, session)
            draw_record: DrawRecord | None = None
            eligible = [
                s.ticket
                for s in holders
                if await self.eligibility(scheme, s, session) == "eligible"
            ]
            if live.foreman_month:
                method, winner, result = (
                    "foreman",
                    1,
                    month_result(scheme.terms, 0, foreman_month=True),
                )
            elif live.bid_count:
                seed = draw_seed(auction_id, [(str(b.id), b.ticket, b.discount) for b in bids])
                if len(live.top_tickets) == 1:
                    method, winner = "highest_bid", live.top_tickets[0]
                else:
                    method, winner = "tie_lot", draw(seed, live.top_tickets)
                    draw_record = DrawRecord(
                        reason="tie",
                        seed=seed,
                        method=DRAW_METHOD,
                        candidates=sorted(live.top_tickets),
                        chosen=winner,
                    )
                result = month_result(scheme.terms, live.best_discount)
            else:
                pool = eligible or [s.ticket for s in holders if s.prized_month is None]
                seed = draw_seed(auction_id, [])
                method, winner = "no_bid_lot", draw(seed, pool)
                draw_record = DrawRecord(
                    reason="no_bid",
                    seed=seed,
                    method=DRAW_METHOD,
                    candidates=sorted(pool),
                    chosen=winner,
                )
                result = month_result(scheme.terms, scheme.min_bid)
            won = by_ticket[winner]
            changes = {
                "status": AuctionStatus.CLOSED.value,
                "closed_at": now,
                "method": method,
                "winner_ticket": winner,
                "winner_subscription_id": str(won.id),
                "discount": result.discount,
                "prize": result.prize,
                "commission": result.commission,
                "shares": result.shares,
                "net_instalments": result.net_instalments,
                "eligible_tickets": eligible,
                "draw": draw_record.model_dump() if draw_record else None,
            }
            if not await repository.update_auction(
                auction_id, {"status": AuctionStatus.SCHEDULED.value}, changes, session
            ):
                return None
            await repository.update_subscription(
                str(won.id), {"prized_month": None}, {"prized_month": live.month}, session
            )
            lines: list[tuple[str, int]] = [
                (POT, scheme.chit_amount),
                (prize_payable(str(won.id)), -result.prize),
            ]
            if result.commission:
                lines.append((COMMISSION, -result.commission))
            for ticket, share in enumerate(result.shares, start=1):
                if share:
                    lines.append((receivable(str(by_ticket[ticket].id)), -share))
            await ledger_service.do_post(
                pool_id=scheme_id,
                key=f"chit-auction:{auction_id}",
                kind="chit_auction",
                lines=lines,
                effective_date=now.date(),
                memo=f"month {live.month}: ticket {winner} ({method})",
                session=session,
            )
            await audit_service.do_append(
                chain=scheme_chain(scheme_id),
                actor_id=None,
                action="auction.closed",
                target_type="auction",
                target_id=auction_id,
                details={
                    "month": live.month,
                    "method": method,
                    "winner_ticket": winner,
                    "discount": result.discount,
                    "prize": result.prize,
                    "commission": result.commission,
                    "draw": draw_record.model_dump() if draw_record else None,
                },
                session=session,
            )
            closed = await repository.get_auction(auction_id, session)
            assert closed is not None
            await events.room_event(
                session,
                room,
                AUCTION_CLOSED,
                ChitAuctionClosedEvent,
                scheme_id=scheme_id,
                auction=auction_out(closed, bids),
            )
            await events.after_commit(self._result_sms(scheme, closed, holders))
            if live.month < scheme.subscribers:
                moved = await repository.update_scheme(
                    scheme_id,
                    {"current_month": live.month},
                    {"current_month": live.month + 1},
                    session,
                )
                assert moved is not None
                await self._open_month(session, moved, live.month + 1, result)
                await self._scheme_event(session, moved)
            return closed

        return await run_in_transaction(body)

    def _result_sms(
        self, scheme: Scheme, closed: Auction, holders: list[Subscription]
    ) -> Callable[[], Awaitable[None]]:
        """After the close commits: the result by SMS to every holder with a verified phone
        (the winner, their share of discount and next month's net instalment)."""
        drafts = [
            SmsDraft(
                user_id=s.user_id, template=AUCTION_RESULT.key,
                variables={
                    "VAR1": str(closed.winner_ticket), "VAR2": str(closed.month),
                    "VAR3": scheme.name,
                    "VAR4": format_minor(closed.shares[s.ticket - 1]) if closed.shares else "0.00",
                    "VAR5": format_minor(closed.net_instalments[s.ticket - 1])
                    if closed.net_instalments else format_minor(scheme.instalment),
                },
                dedupe_key=f"chit-result:{closed.id}:{s.user_id}",
            )
            for s in holders
        ]  # fmt: skip

        async def queue() -> None:
            await sms_service.do_queue(drafts)

        return queue

    async def do_close_due(self, now: dt.datetime | None = None) -> int:
        """Close every auction whose end passed (the timer calls this on every worker; each
        closes once). Returns how many this call closed."""
        now = now or utcnow()
        closed = 0
        for auction in await repository.due_auctions(now):
            try:
                closed += int(await self.do_close_auction(str(auction.id), now) is not None)
            except Exception as exc:  # one scheme's trouble does not stop the others
                log.warning("closing an auction failed", auction=str(auction.id), error=str(exc))
        return closed

    async def auction(self, auction_id: str, actor: Actor) -> tuple[Auction, list[Bid]]:
        """An auction and its bids, for whoever may see the scheme."""
        auction = await repository.get_auction(auction_id)
        if auction is None:
            raise SchemeNotFound("no such auction")
        await self.check_viewer(auction.scheme_id, actor)
        return auction, await repository.bids_of(auction_id)

    async def auctions(self, scheme_id: str, actor: Actor) -> list[Auction]:
        """The scheme's auctions by month."""
        await self.check_viewer(scheme_id, actor)
        return await repository.auctions_of(scheme_id)

    # ---- prizes and the end --------------------------------------------------------------

    async def prize_split(
        self,
        scheme: Scheme,
        auction: Auction,
        sub: Subscription,
        session: AsyncClientSession,
        today: dt.date | None = None,
    ) -> tuple[int, int]:
        """(withheld, payout) of a closed month's prize, paise. What the winner owes now
        (arrears: instalments fallen due by ``today`` and unpaid, penalties) is always
        withheld — from every prize, the foreman's own month included — so a prize never pays
        out money the winner still owes the pot (which would leave a later winner's prize
        uncovered). Without security every instalment to come is withheld too: the months
        called but not due yet and the months not yet called (the Act allows this). At most
        the prize is withheld. Raises InsufficientCollections (409) when the
        scheme's cash, less the prize payouts already in flight, does not cover the payout."""
        assert auction.prize is not None
        sub_id = str(sub.id)
        books = await self.balances(str(scheme.id), session)
        arrears, upcoming, _ = await self.owed_by(
            sub_id, scheme, today or utcnow().date(), 0, session
        )
        withheld = arrears
        if sub.surety is None:
            withheld += upcoming + scheme.instalment * (scheme.subscribers - scheme.current_month)
        withheld = min(auction.prize, withheld)
        payout = auction.prize - withheld
        in_flight = sum(p.amount for p in await repository.prize_payouts_in_flight(
            str(scheme.id), session))  # fmt: skip
        cash = books.get(CASH, 0) - in_flight
        if cash < payout:
            raise InsufficientCollections(
                "the collections do not cover the prize yet",
                details={"cash": format_minor(cash), "payout": format_minor(payout)},
            )
        return withheld, payout

    async def do_book_prize(
        self, session: AsyncClientSession, scheme: Scheme, auction: Auction,
        sub: Subscription, withheld: int, now: dt.datetime,
    ) -> bool:  # fmt: skip
        """Inside the caller's transaction: mark the month's prize paid (once: guarded on
        ``prize_paid_at``) and post it — Dr prize payable (the prize), Cr cash (the payout),
        Cr the winner's subscription (what was withheld) under ``chit-prize:<auction id>``; an
        open instalment checkout of the winner is then stale (FAILED, ``superseded``).
        Returns False (nothing done) when it was paid before."""
        auction_id, sub_id = str(auction.id), str(sub.id)
        assert auction.prize is not None
        if not await repository.update_auction(
            auction_id,
            {"prize_paid_at": None},
            {"prize_paid_at": now, "prize_withheld": withheld},
            session,
        ):
            return False
        payout = auction.prize - withheld
        lines = [(prize_payable(sub_id), auction.prize)]
        if payout:
            lines.append((CASH, -payout))
        if withheld:
            lines.append((receivable(sub_id), -withheld))
            # the arrears are settled from the prize: an open checkout for them is stale
            stale = await repository.pending_instalment(sub_id, session)
            if stale is not None:
                await repository.update_payment(
                    str(stale.id),
                    {"status": PaymentStatus.PENDING.value},
                    {"status": PaymentStatus.FAILED.value, "details.reason": "superseded",
                     "last_error": "settled from the prize"},
                    session,
                )  # fmt: skip
        await ledger_service.do_post(
            pool_id=str(scheme.id),
            key=f"chit-prize:{auction_id}",
            kind="chit_prize_paid",
            lines=lines,
            effective_date=now.date(),
            memo=f"month {auction.month} prize to ticket {sub.ticket}",
            session=session,
        )
        return True

    async def do_pay_prize(
        self, auction_id: str, actor: Actor, reference: str, now: dt.datetime | None = None
    ) -> ChitPayment:
        """The foreman pays a closed month's prize — exactly once. What the winner owes now is
        withheld from every prize (``prize_split``); without security the instalments of the
        months not yet called are withheld too and held as the winner's credit (the Act allows
        this), and the rest is paid.

        Raises:
            ChitForbidden; AuctionNotOpen (409: not closed); PrizeAlreadyPaid (409);
            PrizePayoutInProgress (409: sent through the payout provider instead);
            InsufficientCollections (409): the scheme's cash does not cover the payout.
        """
        now = _ms(now or utcnow())
        auction = await repository.get_auction(auction_id)
        if auction is None:
            raise SchemeNotFound("no such auction")
        scheme = await self.check_foreman(auction.scheme_id, actor)
        scheme_id = str(scheme.id)

        async def body(session: AsyncClientSession) -> ChitPayment:
            await repository.bump_money_seq(scheme_id, session)
            live = await repository.get_auction(auction_id, session)
            fresh_scheme = await repository.get_scheme(scheme_id, session)
            assert live is not None and fresh_scheme is not None
            if live.status != AuctionStatus.CLOSED or live.winner_subscription_id is None:
                raise AuctionNotOpen("the auction has not closed yet")
            if live.prize_paid_at is not None:
                raise PrizeAlreadyPaid("this month's prize was paid already")
            if live.prize_payment_id is not None:
                raise PrizePayoutInProgress(
                    "this month's prize is being paid through the payout provider",
                    details={"payment_id": live.prize_payment_id},
                )
            sub_id = live.winner_subscription_id
            sub = await repository.get_subscription(sub_id, session)
            assert sub is not None and live.prize is not None
            withheld, payout = await self.prize_split(fresh_scheme, live, sub, session, now.date())
            if not await self.do_book_prize(session, fresh_scheme, live, sub, withheld, now):
                raise PrizeAlreadyPaid("this month's prize was paid already")
            payment = ChitPayment(
                scheme_id=scheme_id,
                subscription_id=sub_id,
                user_id=sub.user_id,
                kind=PaymentKind.PRIZE,
                status=PaymentStatus.COMPLETED,
                amount=payout,
                month=live.month,
                reference=reference,
                completed_at=now,
                details={"prize": live.prize, "withheld": withheld},
            )
            await repository.insert(payment, session)
            await audit_service.do_append(
                chain=scheme_chain(scheme_id),
                actor_id=actor.user_id,
                action="prize.paid",
                target_type="auction",
                target_id=auction_id,
                details={"payout": payout, "withheld": withheld, "reference": reference},
                session=session,
            )
            return payment

        return await run_in_transaction(body)

    async def do_settle(
        self, scheme_id: str, actor: Actor, now: dt.datetime | None = None
    ) -> Scheme:
        """Close a scheme after its last month (foreman): every prize paid and nothing owed;
        the credits subscriptions hold (the last month's shares, withheld instalments not
        needed) are paid out as DIVIDEND payments and removed defaulters' refunds as REFUND
        payments; subscriptions and the scheme become COMPLETED.

        Raises:
            ChitForbidden; SchemeStateError (409 ``details.reason``: ``months_remaining``,
            ``prize_unpaid``, ``dues_outstanding``); InsufficientCollections.
        """
        now = _ms(now or utcnow())
        await self.check_foreman(scheme_id, actor)

        async def body(session: AsyncClientSession) -> Scheme:
            await repository.bump_money_seq(scheme_id, session)
            scheme = await self.get_scheme(scheme_id, session)
            last = await repository.auction_of_month(scheme_id, scheme.subscribers, session)
            if (
                scheme.status != SchemeStatus.ACTIVE
                or last is None
                or (last.status != AuctionStatus.CLOSED)
            ):
                raise SchemeStateError(
                    "the last month has not been auctioned", details={"reason": "months_remaining"}
                )
            books = await self.balances(scheme_id, session)
            if any(k.startswith("liabilities:prize_payable:") and v for k, v in books.items()):
                raise SchemeStateError(
                    "a prize is still unpaid", details={"reason": "prize_unpaid"}
                )
            holders = await repository.holders(scheme_id, session)
            owing = [s.ticket for s in holders if books.get(receivable(str(s.id)), 0) > 0]
            if owing:
                raise SchemeStateError(
                    "subscribers still owe instalments",
                    details={"reason": "dues_outstanding", "tickets": owing},
                )
            payouts: list[tuple[Subscription, PaymentKind, str, int]] = []
            for sub in await repository.subscriptions_of_scheme(scheme_id):
                credit = -books.get(receivable(str(sub.id)), 0)
                if credit > 0:
                    payouts.append((sub, PaymentKind.DIVIDEND, receivable(str(sub.id)), credit))
                refund = -books.get(defaulter_refund(str(sub.id)), 0)
                if refund > 0:
                    payouts.append((sub, PaymentKind.REFUND, defaulter_refund(str(sub.id)), refund))
            total = sum(p[3] for p in payouts)
            if books.get(CASH, 0) < total:
                raise InsufficientCollections(
                    "the scheme's cash does not cover the settlement",
                    details={
                        "cash": format_minor(books.get(CASH, 0)),
                        "payout": format_minor(total),
                    },
                )
            for sub, kind, account, amount in payouts:
                await ledger_service.do_post(
                    pool_id=scheme_id,
                    key=f"chit-settle:{kind.value}:{sub.id}",
                    kind=f"chit_{kind.value.lower()}",
                    lines=[(account, amount), (CASH, -amount)],
                    effective_date=now.date(),
                    memo=f"settlement of ticket {sub.ticket}",
                    session=session,
                )
                await repository.insert(
                    ChitPayment(
                        scheme_id=scheme_id,
                        subscription_id=str(sub.id),
                        user_id=sub.user_id,
                        kind=kind,
                        status=PaymentStatus.COMPLETED,
                        amount=amount,
                        month=scheme.subscribers,
                        completed_at=now,
                        reference="settlement",
                    ),
                    session,
                )
            await Subscription.get_pymongo_collection().update_many(
                {"scheme_id": scheme_id, "status": SubscriptionStatus.ACTIVE.value},
                {"$set": {"status": SubscriptionStatus.COMPLETED.value}},
                session=session,
            )
            done = await repository.update_scheme(
                scheme_id,
                {"status": SchemeStatus.ACTIVE.value},
                {"status": SchemeStatus.COMPLETED.value, "completed_at": now},
                session,
            )
            assert done is not None
            await audit_service.do_append(
                chain=scheme_chain(scheme_id),
                actor_id=actor.user_id,
                action="scheme.completed",
                target_type="scheme",
                target_id=scheme_id,
                details={"paid_out": total},
                session=session,
            )
            return done

        await events.ensure_room(scheme_room(scheme_id))
        return await run_in_transaction(body)

    # ---- reading -------------------------------------------------------------------------

    async def payments_of(
        self,
        actor: Actor,
        *,
        user_id: str | None = None,
        subscription_id: str | None = None,
        scheme_id: str | None = None,
    ) -> list[ChitPayment]:
        """Payments of a person (themselves or admins), a subscription (its holder, foreman,
        admins) or a scheme (its foreman, admins); the caller's own by default."""
        if subscription_id is not None:
            await self.get_subscription(subscription_id, actor)
            return await repository.payments({"subscription_id": subscription_id})
        if scheme_id is not None:
            scheme = await self.get_scheme(scheme_id)
            if scheme.foreman_id != actor.user_id and not actor.is_admin:
                raise SchemeNotFound("no such scheme")
            return await repository.payments({"scheme_id": scheme_id})
        who = user_id or actor.user_id
        if who != actor.user_id and not actor.is_admin:
            raise ChitForbidden("you may see only your own payments")
        return await repository.payments({"user_id": who})

    async def payment(self, payment_id: str, actor: Actor) -> ChitPayment:
        """One payment for its payer, the scheme's foreman or an admin. Raises
        ``PaymentNotFound``."""
        payment = await repository.get_payment(payment_id)
        if payment is None:
            raise PaymentNotFound("no such payment")
        scheme = await repository.get_scheme(payment.scheme_id)
        allowed = {payment.user_id, scheme.foreman_id if scheme else ""}
        if actor.user_id not in allowed and not actor.is_admin:
            raise PaymentNotFound("no such payment")
        return payment

    async def passbook(self, sub_id: str, actor: Actor) -> dict[str, Any]:
        """Month by month: net instalment due, paid, share of discount earned, penalty, prize,
        and what is outstanding after the month (paise); plus the ledger balance now."""
        sub, scheme = await self.get_subscription(sub_id, actor)
        dues = {d.month: d for d in await repository.dues_of(sub_id)}
        paid: dict[int, int] = {}
        for p in await repository.payments({"subscription_id": sub_id}):
            if p.kind == PaymentKind.INSTALLMENT and p.status == PaymentStatus.COMPLETED:
                paid[p.month] = paid.get(p.month, 0) + p.amount
        auctions = {a.month: a for a in await repository.auctions_of(sub.scheme_id)}
        rows = []
        outstanding = 0
        for month in sorted(set(dues) | set(paid)):
            due = dues.get(month)
            auction = auctions.get(month)
            closed = auction is not None and auction.status == AuctionStatus.CLOSED
            dividend = (
                auction.shares[sub.ticket - 1] if closed and auction and auction.shares else 0
            )
            prize = auction.prize or 0 if closed and auction and sub.prized_month == month else 0
            outstanding += (due.amount if due else 0) + (due.penalty if due else 0)
            outstanding -= paid.get(month, 0)
            rows.append(
                {
                    "month": month,
                    "due_date": due.due_date if due else None,
                    "due": due.amount if due else 0,
                    "paid": paid.get(month, 0),
                    "dividend": dividend,
                    "penalty": due.penalty if due else 0,
                    "prize": prize,
                    "balance": outstanding,
                }
            )
        return {
            "subscription": sub,
            "scheme": scheme,
            "rows": rows,
            "balance": await self.owed(sub_id, sub.scheme_id),
            "total_paid": sum(paid.values()),
            "total_dividend": sum(r["dividend"] for r in rows),
        }

    async def chit_score(self, user_id: str, actor: Actor) -> dict[str, Any]:
        """Chit score 0–900 = 900 × (0.4·payment history + 0.3·participation + 0.2·KYC +
        0.1·profile), each factor in [0, 1] (DOMAIN.md), rounded half-even. Payment history:
        completed instalments paid on time ÷ completed instalments (1 with none yet);
        participation: tickets never defaulted ÷ tickets held (0 with none); KYC: verified 1,
        pending 0.5, else 0; profile: name, phone, verified e-mail, two-factor — each a quarter.
        Raises ``ChitForbidden`` for someone else's score (admins may)."""
        if user_id != actor.user_id and not actor.is_admin:
            raise ChitForbidden("you may see only your own chit score")
        return await self._score(user_id)

    async def do_nightly_scores(self, day: dt.date, limit: int = 10_000) -> int:
        """Recompute the chit score of every subscriber for ``day`` and store it (the nightly
        agent). Idempotent per day: a person already scored that day is skipped (and the
        snapshot is unique per person and day), so a re-run or a second worker changes
        nothing. Returns how many were stored."""
        people = (await repository.subscriber_ids())[:limit]
        done = await repository.scored_on(day.isoformat(), people)
        stored = 0
        for user_id in people:
            if user_id in done:
                continue
            figures = await self._score(user_id)
            snapshot = ChitScoreSnapshot(
                user_id=user_id, day=day.isoformat(), score=figures["score"],
                factors=figures["factors"],
            )  # fmt: skip
            stored += int(await repository.insert_snapshot(snapshot))
        return stored

    async def nightly_score(self, user_id: str, actor: Actor) -> ChitScoreSnapshot | None:
        """The person's latest nightly snapshot (themselves or admins), or ``None``."""
        if user_id != actor.user_id and not actor.is_admin:
            raise ChitForbidden("you may see only your own chit score")
        return await repository.latest_snapshot(user_id)

    async def _score(self, user_id: str) -> dict[str, Any]:
        instalments = list(
            await repository.payments(
                {"user_id": user_id, "kind": "INSTALLMENT", "status": "COMPLETED"}
            )
        )
        on_time = sum(1 for p in instalments if not p.late)
        history = Fraction(on_time, len(instalments)) if instalments else Fraction(1)
        subs = await repository.subscriptions_of_user(user_id)
        good = sum(1 for s in subs if s.status != SubscriptionStatus.DEFAULTED)
        participation = Fraction(good, len(subs)) if subs else Fraction(0)
        kyc = (await kyc_service.summary(user_id)).status
        kyc_value = {KycStatus.VERIFIED: Fraction(1), KycStatus.PENDING: Fraction(1, 2)}.get(
            kyc, Fraction(0)
        )
        user = (await repository.users_by_id([user_id])).get(user_id)
        checks = [
            bool(user and user.full_name),
            bool(user and user.phone),
            bool(user and user.email_verified_at),
            bool(user and user.mfa_enabled),
        ]
        profile = Fraction(sum(checks), 4)
        factors = [
            (
                "payment_history",
                40,
                history,
                f"{on_time} of {len(instalments)} instalments on time",
            ),
            (
                "scheme_participation",
                30,
                participation,
                f"{good} of {len(subs)} tickets in good standing",
            ),
            ("kyc_completion", 20, kyc_value, f"KYC {kyc.value}"),
            ("profile_completeness", 10, profile, f"{sum(checks)} of 4 profile items"),
        ]
        total = sum((Fraction(w, 100) * v for _, w, v, _ in factors), Fraction(0)) * 900
        score = round_half_even(total.numerator, total.denominator)
        return {
            "user_id": user_id,
            "score": score,
            "has_history": bool(instalments or subs),
            "factors": [
                {
                    "name": n,
                    "weight_percent": w,
                    "value": _four_places(v),
                    "points": round_half_even((v * 9 * w).numerator, (v * 9 * w).denominator),
                    "explanation": e,
                }
                for n, w, v, e in factors
            ],
        }


chit_service = ChitService()
