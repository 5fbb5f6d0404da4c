"""Unit-value accounting of a club: contributions, withdrawals, valuations, trades, the cash
held by open orders, and the statements built from them (docs/domain.md, "Unit-value
accounting"; how bivio and myICLUB keep club books).

Money flows through the club's double-entry journal:

* payment received: Dr cash / Cr unallocated contributions (a liability until units are issued);
* contribution settled at a valuation: Dr unallocated / Cr the member's capital account;
* withdrawal settled: Dr member capital (gross) / Cr withdrawals payable (net) / Cr fee income;
* withdrawal paid: Dr withdrawals payable / Cr cash;
* trade (buy): Dr investments + Dr trading costs / Cr cash; (sell) the reverse, with the
  realised gain against average cost;
* valuation: investments marked to market against unrealised gains.

NAV = cash + market value of holdings − liabilities (unallocated contributions, unmatched
payments and payable withdrawals), so money not yet turned into units never moves the unit
value, and only the rest ("free cash") may be invested. Every money
transaction bumps the club's ``money_seq`` so two of them never interleave.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from fractions import Fraction

from beanie import PydanticObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit.service import audit_service, club_chain
from app.books import repository
from app.books.documents import (
    CashHold,
    ChargeStatus,
    Contribution,
    ContributionStatus,
    Holding,
    MemberCharge,
    PricedPosition,
    Settlement,
    Valuation,
    Withdrawal,
    WithdrawalStatus,
)
from app.books.errors import (
    BackdatedEntry,
    ChargeNotFound,
    ChargeNotPending,
    ChargeRefused,
    ContributionNotFound,
    ContributionStateError,
    FutureDate,
    InsufficientCash,
    InsufficientHoldings,
    InvalidValuation,
    NavNotPositive,
    NotTradable,
    PriceMissing,
    WithdrawalRefused,
)
from app.books.events import (
    CONTRIBUTION_CHANGED,
    CONTRIBUTION_RECEIVED,
    DUES_CHANGED,
    VALUATION_RECORDED,
    ContributionChanged,
    ContributionReceived,
    DuesChanged,
    ValuationRecorded,
    received_fields,
)
from app.books.schemas import TrialBalance, TrialBalanceRowOut
from app.books.units import NonPositiveNav, UnitValue, fee_of, format_units, round_half_even
from app.clubs.documents import Club, MembershipStatus
from app.clubs.errors import ClubNotFound, MemberNotFound
from app.clubs.service import TREASURY, club_service
from app.config import get_settings
from app.db import run_in_transaction
from app.errors import AppError
from app.extensions import services
from app.files.documents import FilePurpose
from app.files.service import files_service
from app.fx import FxRate
from app.fx import rate as fx_rate
from app.kyc.errors import KycRequired
from app.kyc.service import kyc_service
from app.ledger import accounts
from app.ledger.documents import JournalFx
from app.ledger.service import ledger_service
from app.market.service import market_service
from app.money import format_minor, money_text
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.payments.errors import WebhookInProgress
from app.payments.service import payment_service
from app.realtime import events
from app.realtime.rooms import club_room
from streams.records import PaymentEventV1

KYC_CURRENCY = "INR"  # the currency of ``kyc_contribution_limit``


# Why a contribution that had been given up was received after all, by why it was given up.
PAID_AFTER = {"checkout_cancelled": "paid_after_cancel", "checkout_expired": "paid_after_expiry"}


def _nav_change(settlement: Settlement) -> int:
    """How a settlement moves NAV: a contribution adds its amount, a withdrawal takes what is
    owed out (gross − fee), a charge nothing (the money stays in the club)."""
    if settlement.kind == "contribution":
        return settlement.amount
    if settlement.kind == "charge":
        return 0
    return -(settlement.amount - settlement.fee)


class _PreviewOnly(Exception):
    """Raised at the end of a previewed valuation to roll its transaction back."""

    def __init__(self, valuation: Valuation) -> None:
        super().__init__("preview")
        self.valuation = valuation


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# Shares of a symbol the club's open sell orders still have to sell: (club id, symbol,
# session) -> shares. The orders domain registers it (app/orders/service.py), so the books
# need no import of orders (which import the books).
SharesForSale = Callable[[str, str, AsyncClientSession | None], Awaitable[int]]


async def _in_inr(amount: int, currency: str, day: dt.date) -> int:
    """``amount`` minor units of ``currency`` as INR paise for the KYC yearly limit (an INR
    limit): the ECB rate of ``day``, converted and rounded half-even once (app/fx.py).

    Raises:
        FxRateUnavailable (422) when the ECB has no rate for the currency.
    """
    if currency == KYC_CURRENCY:
        return amount
    return (await fx_rate(currency, KYC_CURRENCY, day)).convert(amount)


async def _decide(contribution: Contribution, actor_id: str, status: ContributionStatus,
                  fields: dict[str, object], details: dict[str, object],
                  session: AsyncClientSession) -> None:  # fmt: skip
    """Move a manual contribution ``pending_approval`` → ``status`` (approved or rejected) by
    a guarded update, with its audit entry and ``contribution:changed`` in the club's room
    (the caller ensured the room): one decision wins (issue #20). Raises
    ``ContributionStateError`` when another decision got there first."""
    decided = await repository.update_contribution(
        contribution.id,
        {"status": status.value, "decided_by": actor_id, "updated_at": dt.datetime.now(dt.UTC)}
        | fields,
        guard={"status": ContributionStatus.PENDING_APPROVAL.value}, session=session,
    )  # fmt: skip
    if not decided:
        raise ContributionStateError("the contribution was decided meanwhile by another treasurer")
    await audit_service.do_append(
        chain=club_chain(contribution.club_id), actor_id=actor_id,
        action=f"contribution.{status.value}", target_type="contribution",
        target_id=str(contribution.id), details=details, session=session,
    )  # fmt: skip
    await events.room_event(
        session, club_room(contribution.club_id), CONTRIBUTION_CHANGED, ContributionChanged,
        club_id=contribution.club_id, contribution_id=str(contribution.id),
        user_id=contribution.user_id, status=status.value,
        reason=str(fields.get("decision_reason") or "") or None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Books:
    """The club's position now: cash, holdings at book cost, liabilities, units outstanding."""

    cash: int
    investments_book: int
    liabilities: int
    units: int
    holdings: list[Holding] = field(default_factory=list)
    unallocated: int = 0  # received money not yet turned into units (a liability)
    payable: int = 0  # withdrawals settled but not yet paid out (a liability)

    @property
    def free_cash(self) -> int:
        """Cash the members' units own: cash less everything owed (money received but not yet
        turned into units, and withdrawals not yet paid). Only this may be invested — spending
        a newcomer's money before its units are issued would move value between members."""
        return self.cash - self.liabilities


@dataclass(frozen=True, slots=True)
class MemberPosition:
    """A member's capital account at a valuation: micro-units, and paise paid in, withdrawn
    (net of fees: what the member received), charged (member charges the club kept, paid with
    units) and worth (units × unit value, half-even)."""

    user_id: str
    role: str
    active: bool
    units: int
    paid_in: int
    withdrawn: int
    value: int
    charged: int = 0


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """What applying a payment event did: ``applied`` False for a duplicate or stale event."""

    applied: bool
    contribution: Contribution | None


@dataclass(frozen=True, slots=True)
class TradePosting:
    """What booking a trade did: the holding after it, whether it was ``new`` (False: its
    journal key was already posted), the realised gain of a sale, and ``cash`` — what the
    trade took from (a buy, gross + fees) or brought to (a sale, gross − fees) the club's
    cash — all in the club's minor units; ``fx`` the rate a foreign trade was booked at."""

    holding: Holding
    new: bool
    realised_gain: int
    cash: int = 0
    fx: FxRate | None = None


async def rate_for(instrument_currency: str | None, club_currency: str,
                   on: dt.date) -> FxRate | None:  # fmt: skip
    """The ECB rate (club currency per unit of the instrument's, app/fx.py) of the day ``on``
    for an instrument quoted in another currency; None when it is the club's own. Raises
    ``FxRateUnavailable`` (422)."""
    if instrument_currency is None or instrument_currency == club_currency:
        return None
    return await fx_rate(instrument_currency, club_currency, on)


class BooksService:
    """Contributions, withdrawals, valuations, trades, cash holds. Takes the acting user's id
    explicitly."""

    def __init__(self) -> None:
        self._shares_for_sale: SharesForSale | None = None

    def on_shares_for_sale(self, source: SharesForSale) -> None:
        """Let a manual sell see the shares open sell orders already hold (app/orders
        registers ``repository.shares_for_sale`` when it loads)."""
        self._shares_for_sale = source

    async def shares_for_sale(
        self, club_id: str, symbol: str, session: AsyncClientSession | None = None
    ) -> int:
        """Shares of ``symbol`` the club's open sell orders still have to sell (0 when no
        orders domain is loaded)."""
        if self._shares_for_sale is None:
            return 0
        return await self._shares_for_sale(club_id, symbol, session)

    async def pending_money(
        self, club_id: str, user_id: str, session: AsyncClientSession | None = None
    ) -> dict[str, int]:
        """How many of the member's contributions (not yet units), withdrawals and charges
        (not yet settled) the club holds, by kind: ``{"contributions": n, "withdrawals": n,
        "charges": n}``. Registered with the clubs (a member cannot leave with any)."""
        return await repository.pending_money(club_id, user_id, session)

    # ---- reading the books -------------------------------------------------------------

    async def books(self, club_id: str, session: AsyncClientSession | None = None) -> Books:
        """Balances from the journal and units from the memberships, at this moment."""
        balances = await ledger_service.balances(club_id, session)
        members = await club_service.memberships(club_id, session)
        return Books(
            cash=balances.get(accounts.CASH, 0),
            investments_book=balances.get(accounts.INVESTMENTS, 0),
            liabilities=-(
                balances.get(accounts.UNALLOCATED_CONTRIBUTIONS, 0)
                + balances.get(accounts.WITHDRAWALS_PAYABLE, 0)
                + balances.get(accounts.UNMATCHED_PAYMENTS, 0)
            ),
            units=sum(m.units for m in members),
            holdings=await repository.holdings(club_id, session),
            unallocated=-balances.get(accounts.UNALLOCATED_CONTRIBUTIONS, 0),
            payable=-balances.get(accounts.WITHDRAWALS_PAYABLE, 0),
        )

    def unit_value(self, club: Club, nav: int, units: int) -> UnitValue:
        """The club's unit value for ``nav`` paise over ``units`` micro-units.

        Raises:
            NavNotPositive: units are outstanding but ``nav`` is not positive.
        """
        try:
            return UnitValue(nav=nav, units=units, starting_paise=club.starting_unit_value)
        except NonPositiveNav as exc:
            raise NavNotPositive(str(exc)) from exc

    # ---- contributions ------------------------------------------------------------------

    async def do_open_contribution(
        self,
        club_id: str,
        actor_id: str,
        *,
        amount: int,
        method: str,
        valuation_date: dt.date | None = None,
        receipt_file_id: str | None = None,
        note: str = "",
        dues_month: str | None = None,
    ) -> Contribution:
        """Record a contribution the member is about to pay (``online``: awaiting the provider)
        or has paid outside (``manual``: pending a treasurer's approval, with a receipt). No
        KYC check: ``do_contribute`` is the member's way in.

        Raises:
            ClubNotFound, InvalidValuation, and the receipt's FileNotFound / file errors.
        """
        return await self._open_contribution(
            club_id, actor_id, amount=amount, method=method, valuation_date=valuation_date,
            receipt_file_id=receipt_file_id, note=note, kyc_limit=False, dues_month=dues_month,
        )  # fmt: skip

    async def _open_contribution(
        self,
        club_id: str,
        actor_id: str,
        *,
        amount: int,
        method: str,
        valuation_date: dt.date | None,
        receipt_file_id: str | None,
        note: str,
        kyc_limit: bool,
        dues_month: str | None = None,
    ) -> Contribution:
        club, _ = await club_service.check_member(club_id, actor_id)
        last = club.last_valuation_date
        if valuation_date is not None and last is not None and valuation_date.isoformat() <= last:
            raise InvalidValuation(
                "the valuation date must come after the club's last valuation",
                details={"last_valuation_date": club.last_valuation_date},
            )
        if valuation_date is not None and valuation_date < _today():
            raise InvalidValuation(
                "a new contribution cannot be assigned to a valuation date in the past",
                details={"valuation_date": valuation_date.isoformat()},
            )
        contribution = Contribution(
            id=PydanticObjectId(), club_id=club_id, user_id=actor_id, amount=amount,
            currency=club.currency,
            method=method,
            status=(ContributionStatus.AWAITING_PAYMENT if method == "online"
                    else ContributionStatus.PENDING_APPROVAL),
            valuation_date=valuation_date.isoformat() if valuation_date else None,
            receipt_file_id=receipt_file_id, note=note, dues_month=dues_month,
        )  # fmt: skip
        if receipt_file_id is not None:
            await files_service.check_own(receipt_file_id, actor_id, FilePurpose.RECEIPT)
        # Money paid outside waits for the treasury: each of them is told (inbox, live, mail).
        approvers: list[str] = []
        if method == "manual":
            approvers = [m.user_id for m in await club_service.active_members(club_id)
                         if m.role in TREASURY and m.user_id != actor_id]  # fmt: skip
            await notification_service.prepare(approvers)
        drafts = [
            Draft(user_id=user, kind=NotificationKind.CONTRIBUTION_PENDING,
                  title=f"A contribution to approve in {club.name}",
                  body=(f"A member recorded {money_text(amount, club.currency)} paid outside"
                        + (f": “{note}”" if note else "") + ". Check the receipt and approve it."),
                  club_id=club_id, ref_type="contribution", ref_id=str(contribution.id),
                  dedupe_key=f"pending:{contribution.id}:{user}")
            for user in approvers
        ]  # fmt: skip

        contribution.kyc_inr = await _in_inr(amount, club.currency, _today())
        await events.ensure_room(club_room(club_id))
        if kyc_limit:
            await kyc_service.ensure_allowance(actor_id)

        async def body(session: AsyncClientSession) -> None:
            # Serialised with a leave or removal (which bumps the same counter and then looks
            # for money in flight): either the member is still active here and the leave sees
            # this contribution, or the leave committed first and this is refused.
            await club_service.do_bump_money_seq(club_id, session)
            await club_service.check_member(club_id, actor_id, None, session)
            if kyc_limit:  # counted and inserted in one transaction, serialised per person
                await kyc_service.do_reserve_allowance(
                    session, actor_id, contribution.kyc_inr or 0,
                    lambda tx, since: repository.contributed_since(actor_id, since, tx),
                )  # fmt: skip
            await repository.insert_contribution(contribution, session)
            await notification_service.do_store(session, drafts)
            if receipt_file_id is not None:  # the treasury may now see the member's receipt
                await files_service.do_use_as_receipt(
                    receipt_file_id, actor_id, club_id, str(contribution.id), session
                )
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="contribution.opened",
                target_type="contribution", target_id=str(contribution.id),
                details={"amount": amount, "method": method}, session=session,
            )  # fmt: skip
            await events.room_event(
                session, club_room(club_id), CONTRIBUTION_CHANGED, ContributionChanged,
                club_id=club_id, contribution_id=str(contribution.id), user_id=actor_id,
                status=contribution.status.value,
            )  # fmt: skip

        await run_in_transaction(body)
        return contribution

    async def do_contribute(
        self,
        club_id: str,
        actor_id: str,
        *,
        amount: int,
        method: str,
        valuation_date: dt.date | None = None,
        receipt_file_id: str | None = None,
        note: str = "",
        dues_month: str | None = None,
    ) -> Contribution:
        """Pay ``amount`` paise into the club: check the KYC yearly limit, record the
        contribution, and for ``online`` open the provider checkout and attach it.
        ``dues_month`` ("YYYY-MM") marks it as paying that month's dues (app/dues).

        Raises:
            ClubNotFound, KycRequired (403), InvalidValuation, and from the checkout
            InvalidCheckout / CheckoutConflict / PaymentProviderUnavailable /
            PaymentProviderRejected.
        """
        contribution = await self._open_contribution(
            club_id, actor_id, amount=amount, method=method, valuation_date=valuation_date,
            receipt_file_id=receipt_file_id, note=note, kyc_limit=True, dues_month=dues_month,
        )  # fmt: skip
        if method != "online":
            return contribution
        checkout = await payment_service.create_checkout(
            str(contribution.id), club_id, contribution.amount, contribution.currency
        )
        return await self.do_attach_checkout(
            contribution, checkout.provider, checkout.order_id, checkout.checkout_url
        )

    async def dues_paid(self, club_id: str, months: list[str]) -> dict[tuple[str, str], int]:
        """Paise received toward each member's dues of ``months`` ("YYYY-MM"), by (user id,
        month): contributions marked with the month whose money arrived (received or settled;
        a payment still awaited or a manual one not yet approved does not count)."""
        return await repository.dues_paid(club_id, months)

    async def contributed_since(self, user_id: str, since: dt.datetime) -> int:
        """Paise ``user_id`` contributed (or is contributing: awaiting payment, pending
        approval, received, settled) to any club since ``since`` — what counts toward the KYC
        yearly limit."""
        return await repository.contributed_since(user_id, since)

    async def contributions(self, club_id: str, actor_id: str) -> list[Contribution]:
        """Contributions, newest first: every one for owner/admin/treasurer, else the actor's.
        Raises ``ClubNotFound`` for non-members."""
        _, membership = await club_service.check_member(club_id, actor_id)
        mine = None if membership.role in TREASURY else actor_id
        return await repository.contributions_of(club_id, mine)

    async def do_attach_checkout(
        self, contribution: Contribution, provider: str, order_id: str, checkout_url: str | None
    ) -> Contribution:
        """Remember the provider order opened for an online contribution."""
        await repository.update_contribution(
            contribution.id,
            {"provider": provider, "order_id": order_id, "checkout_url": checkout_url},
        )
        contribution.provider, contribution.order_id = provider, order_id
        contribution.checkout_url = checkout_url
        return contribution

    async def do_apply_payment_event(self, event: PaymentEventV1) -> PaymentOutcome:
        """Apply one verified payment event, idempotently (the payments agent calls this).

        ``payment.captured`` on an awaiting (or approved manual) contribution: the money is
        received (Dr cash / Cr unallocated contributions) with its payment date; units are
        issued later, at a valuation. The journal key ``payment:<event.id>`` and the status
        guard make a re-delivered, duplicated or late event change nothing.
        ``payment.failed`` marks an awaiting contribution failed; it never undoes a receipt.

        Money captured that matches no open contribution — a second payment (another payment
        id) for a contribution already received, an amount other than the contribution's, or
        a payment for a given-up checkout of someone no longer a member — is never dropped: it
        is booked to ``liabilities:unmatched_payments`` (Dr cash) under the same journal key
        and audited as ``payment.unmatched`` for the treasurer to refund or assign; the
        contribution is left as it was. So is money captured for a ``failed``
        contribution (its allowance was released) when taking the KYC yearly allowance again
        would break the limit.
        """
        contribution = await repository.get_contribution(event.contribution_id)
        if contribution is None or contribution.club_id != event.pool_id:
            club = await club_service.get(event.pool_id)
            if event.kind == "payment.captured" and club is not None:
                await self._book_unmatched(event, "no such contribution in this club",
                                           club.currency)  # fmt: skip
            return PaymentOutcome(False, None)
        if event.kind == "payment.failed":
            failed = await repository.update_contribution(
                contribution.id,
                {"status": ContributionStatus.FAILED.value, "updated_at": dt.datetime.now(dt.UTC)},
                guard={"status": ContributionStatus.AWAITING_PAYMENT.value},
            )
            return PaymentOutcome(failed, contribution)
        if event.kind != "payment.captured":
            return PaymentOutcome(False, contribution)
        payment_day = dt.datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")).date()
        await events.ensure_room(club_room(contribution.club_id))
        await kyc_service.ensure_allowance(contribution.user_id)

        async def body(session: AsyncClientSession) -> PaymentOutcome:
            await club_service.do_bump_money_seq(contribution.club_id, session)
            current = await repository.get_contribution(event.contribution_id, session)
            assert current is not None
            expected = (ContributionStatus.AWAITING_PAYMENT, ContributionStatus.FAILED)
            manual_ok = event.provider == "manual" and current.status in (
                ContributionStatus.APPROVED,
                ContributionStatus.PENDING_APPROVAL,
            )
            if current.status not in expected and not manual_ok:
                if current.payment_id != event.payment_id:  # another payment: keep the money
                    await self._book_unmatched(
                        event, "contribution already paid", current.currency, session
                    )
                return PaymentOutcome(False, current)
            if (event.amount, event.currency) != (current.amount, current.currency):
                await self._book_unmatched(
                    event, f"paid {event.amount} {event.currency}, contribution is "
                    f"{current.amount} {current.currency}", current.currency, session,
                )  # fmt: skip
                return PaymentOutcome(False, current)
            if current.status == ContributionStatus.FAILED:
                # Given up (cancelled, expired, failed) and the contributor left since: units
                # can go to no one, so the money waits as unmatched for a refund.
                member = await club_service.membership(current.club_id, current.user_id,
                                                       session)  # fmt: skip
                if member is None or member.status is not MembershipStatus.ACTIVE:
                    await self._book_unmatched(
                        event, "the contributor left the club after giving up this checkout: "
                        "refund it", current.currency, session,
                    )  # fmt: skip
                    return PaymentOutcome(False, current)
            if current.status == ContributionStatus.FAILED and current.payment_id is None:
                # The failed checkout released its allowance: money arriving after all takes
                # it again, atomically, or is kept as unmatched for a refund (issue #20).
                try:
                    await kyc_service.do_reserve_allowance(
                        session, current.user_id,
                        current.kyc_inr if current.kyc_inr is not None else current.amount,
                        lambda tx, since: repository.contributed_since(current.user_id, since, tx),
                    )  # fmt: skip
                except KycRequired:
                    await self._book_unmatched(
                        event, "over the KYC yearly limit after a failed checkout: refund it",
                        current.currency, session,
                    )  # fmt: skip
                    return PaymentOutcome(False, current)
            _, new = await ledger_service.do_post(
                pool_id=current.club_id, key=f"payment:{event.id}", kind="contribution_received",
                lines=[(accounts.CASH, event.amount),
                       (accounts.UNALLOCATED_CONTRIBUTIONS, -event.amount)],
                effective_date=payment_day,
                memo=f"contribution {current.id} via {event.provider} {event.payment_id}",
                session=session,
            )  # fmt: skip
            if not new:
                return PaymentOutcome(False, current)
            changes = {
                "status": ContributionStatus.RECEIVED.value,
                "amount": event.amount,
                "payment_id": event.payment_id,
                "provider": event.provider,
                "payment_date": payment_day.isoformat(),
                "updated_at": dt.datetime.now(dt.UTC),
            }
            if current.status == ContributionStatus.FAILED:
                # Paid at the provider after it was given up here (the provider's checkout
                # stays open until it expires there): the money counts, and the record says so.
                changes["decision_reason"] = PAID_AFTER.get(
                    current.decision_reason or "", "paid_after_failure"
                )
            await repository.update_contribution(current.id, changes, session=session)
            await audit_service.do_append(
                chain=club_chain(current.club_id), actor_id=current.user_id,
                action="contribution.received", target_type="contribution",
                target_id=str(current.id),
                details={"amount": event.amount, "provider": event.provider,
                         "payment_id": event.payment_id, "event_id": event.id},
                session=session,
            )  # fmt: skip
            for key, value in changes.items():
                setattr(current, key, value)
            current.status = ContributionStatus.RECEIVED
            await events.room_event(
                session, club_room(current.club_id), CONTRIBUTION_RECEIVED,
                ContributionReceived, **received_fields(current),
            )  # fmt: skip
            if current.dues_month:  # the dues grid of that member and month moved
                await events.room_event(
                    session, club_room(current.club_id), DUES_CHANGED, DuesChanged,
                    club_id=current.club_id, user_id=current.user_id, month=current.dues_month,
                    change="payment",
                )  # fmt: skip
            return PaymentOutcome(True, current)

        return await run_in_transaction(body)

    async def _book_unmatched(
        self,
        event: PaymentEventV1,
        reason: str,
        club_currency: str,
        session: AsyncClientSession | None = None,
    ) -> None:
        """Dr cash / Cr unmatched payments for a captured payment no contribution takes; money
        in another currency than the club's goes to that currency's own pair of accounts
        (foreign cash / foreign unmatched), so it never moves the club's cash or NAV."""

        async def body(tx: AsyncClientSession) -> None:
            day = dt.datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00")).date()
            if event.currency == club_currency:
                lines = [(accounts.CASH, event.amount),
                         (accounts.UNMATCHED_PAYMENTS, -event.amount)]  # fmt: skip
            else:
                lines = [(accounts.foreign_cash(event.currency), event.amount),
                         (accounts.foreign_unmatched(event.currency), -event.amount)]  # fmt: skip
            _, new = await ledger_service.do_post(
                pool_id=event.pool_id, key=f"payment:{event.id}", kind="payment_unmatched",
                lines=lines,
                effective_date=day,
                memo=f"unmatched {event.provider} payment {event.payment_id}: {reason}",
                session=tx,
            )  # fmt: skip
            if new:
                await audit_service.do_append(
                    chain=club_chain(event.pool_id), actor_id=None, action="payment.unmatched",
                    target_type="contribution", target_id=event.contribution_id,
                    details={"amount": event.amount, "currency": event.currency,
                             "payment_id": event.payment_id,
                             "provider": event.provider, "event_id": event.id,
                             "reason": reason},
                    session=tx,
                )  # fmt: skip

        if session is not None:
            await body(session)
        else:
            await run_in_transaction(body)

    async def check_decide_manual(
        self, club_id: str, contribution_id: str, actor_id: str
    ) -> Contribution:
        """A manual contribution pending approval, decided by a treasurer/admin/owner who is
        not the contributor.

        Raises:
            ClubNotFound, RoleRequired, ContributionNotFound, ContributionStateError.
        """
        await club_service.check_member(club_id, actor_id, TREASURY)
        contribution = await repository.get_contribution(contribution_id)
        if contribution is None or contribution.club_id != club_id:
            raise ContributionNotFound("no such contribution")
        if contribution.method != "manual" or (
            contribution.status != ContributionStatus.PENDING_APPROVAL
        ):
            raise ContributionStateError(
                "only a manual contribution pending approval can be decided",
                details={"status": contribution.status.value},
            )
        if contribution.user_id == actor_id:
            raise ContributionStateError(
                "a contribution cannot be approved by its contributor",
                details={"reason": "own_contribution"},
            )
        return contribution

    async def do_reject_manual(
        self, club_id: str, contribution_id: str, actor_id: str, reason: str
    ) -> Contribution:
        """Reject a manual contribution (nothing is posted): ``pending_approval`` →
        ``rejected`` by a guarded update, so an approval racing it either won first (this
        answers 409) or never happens.

        Raises:
            ClubNotFound, RoleRequired, ContributionNotFound, ContributionStateError (409
            ``contribution_state``: not pending, or decided meanwhile).
        """
        contribution = await self.check_decide_manual(club_id, contribution_id, actor_id)
        await events.ensure_room(club_room(club_id))

        async def body(session: AsyncClientSession) -> None:
            await _decide(contribution, actor_id, ContributionStatus.REJECTED,
                          {"decision_reason": reason}, {"reason": reason}, session)  # fmt: skip

        await run_in_transaction(body)
        contribution.status = ContributionStatus.REJECTED
        contribution.decided_by, contribution.decision_reason = actor_id, reason
        return contribution

    async def do_approve_manual(
        self, club_id: str, contribution_id: str, actor_id: str, paid_on: dt.date | None
    ) -> Contribution:
        """Approve a manual contribution: the money arrived on ``paid_on`` (default today,
        never in the future). The approval goes through the payments outbox exactly like a
        provider's webhook and the payments agent applies it (the contribution turns
        ``received`` there).

        One transaction moves the contribution ``pending_approval`` → ``approved`` by a guarded
        update (a second approval or a racing rejection answers 409 ``contribution_state``) and
        stores the outcome to publish in the payments outbox; after the commit it is published
        (a 503, or a crash, leaves it for the outbox sweep).

        Raises:
            ClubNotFound, RoleRequired, ContributionNotFound, ContributionStateError (also
            ``reason: not_a_member`` when the contributor left), InvalidValuation (``paid_on``
            in the future), BackdatedEntry (``paid_on`` before the last valuation),
            ServiceUnavailable (Kafka).
        """
        contribution = await self.check_decide_manual(club_id, contribution_id, actor_id)
        # Units go only to a member (one who left cannot withdraw them); a member cannot
        # leave while this is pending (``club_service.on_pending_money``), so an approval
        # and a leave never both succeed. Rejecting stays possible.
        contributor = await club_service.membership(club_id, contribution.user_id)
        if contributor is None or contributor.status is not MembershipStatus.ACTIVE:
            raise ContributionStateError(
                "the contributor is no longer a member of this club: units cannot be issued",
                details={"reason": "not_a_member"},
            )
        day = paid_on or _today()
        if day > _today():
            raise InvalidValuation(
                "the money cannot have arrived on a date in the future",
                details={"field": "paid_on", "paid_on": day.isoformat()},
            )
        club = await club_service.get(club_id)
        last = club.last_valuation_date if club is not None else None
        if last and day.isoformat() < last:  # that valuation's books are closed
            raise BackdatedEntry(
                f"the club was valued on {last}: money recorded now is dated that day or later",
                details={"field": "paid_on", "last_valuation_date": last},
            )
        now = dt.datetime.now(dt.UTC)
        producer = services.require_producer()
        await events.ensure_room(club_room(club_id))

        async def body(session: AsyncClientSession) -> str:
            # One decision wins: pending_approval → approved only once, and the outcome to
            # publish is stored in the same transaction: an approval never commits without it,
            # so a crash after the commit leaves it for the outbox sweep (issue #20).
            await _decide(contribution, actor_id, ContributionStatus.APPROVED,
                          {"updated_at": now}, {"paid_on": day.isoformat()}, session)  # fmt: skip
            return await payment_service.do_store_manual(
                session, approval_id=str(contribution.id), approved_by=actor_id,
                pool_type="club", pool_id=club_id, contribution_id=str(contribution.id),
                amount=contribution.amount, currency=contribution.currency,
                paid_at=dt.datetime.combine(day, now.timetz()),
            )  # fmt: skip

        record_id = await run_in_transaction(body)
        try:
            await payment_service.publish_outcome(producer, record_id)
        except WebhookInProgress as exc:  # the sweep took it between the commit and here
            raise ContributionStateError(
                "this approval is being recorded right now; the contribution turns received "
                "in a moment",
                details={"status": ContributionStatus.APPROVED.value},
            ) from exc
        contribution.status = ContributionStatus.APPROVED
        contribution.decided_by = actor_id
        return contribution

    async def do_cancel_checkout(
        self, club_id: str, contribution_id: str, actor_id: str
    ) -> Contribution:
        """Give up an online contribution whose checkout was never paid (the contributor, or
        the club's owner/admin/treasurer): ``awaiting_payment`` → ``failed`` with the reason
        ``checkout_cancelled``, by a guarded update. It stops counting toward the KYC
        allowance and keeping the member from leaving. Money the provider captures for it
        afterwards is still booked (``do_apply_payment_event``): as the contribution's while
        the contributor is a member, else as unmatched money to refund.

        The provider is asked first: a checkout it already took the money for is not given up
        (409, ``reason: paid_at_provider``), even while its webhook is still on its way.

        Raises:
            ClubNotFound, ContributionNotFound (also someone else's, for a plain member),
            ContributionStateError (409 ``contribution_state``: not an online contribution
            awaiting payment, paid at the provider, or its money arrived meanwhile),
            PaymentProviderUnavailable (503: the provider did not answer; try again).
        """
        _, membership = await club_service.check_member(club_id, actor_id)
        contribution = await repository.get_contribution(contribution_id)
        if (
            contribution is None
            or contribution.club_id != club_id
            or (contribution.user_id != actor_id and membership.role not in TREASURY)
        ):
            raise ContributionNotFound("no such contribution")
        if contribution.method != "online" or (
            contribution.status is not ContributionStatus.AWAITING_PAYMENT
        ):
            raise ContributionStateError(
                "only an online contribution awaiting payment can be cancelled",
                details={"status": contribution.status.value},
            )
        if await self._paid_at_provider(contribution):
            raise ContributionStateError(
                "the payment for this contribution went through at the provider: it is being "
                "recorded and turns received in a moment",
                details={"reason": "paid_at_provider"},
            )
        await events.ensure_room(club_room(club_id))
        await self._give_up_checkout(contribution, actor_id, "checkout_cancelled")
        return contribution

    async def _paid_at_provider(self, contribution: Contribution) -> bool:
        """Whether the provider of an online contribution's checkout already took the money
        (its webhook may still be on its way). Raises PaymentProviderUnavailable (503)."""
        if contribution.provider is None or contribution.order_id is None:
            return False  # no checkout was opened: nothing can have been paid
        return await payment_service.checkout_paid(contribution.provider, contribution.order_id)

    async def do_expire_checkouts(self, now: dt.datetime | None = None) -> int:
        """Give up every online contribution still unpaid ``checkout_expiry_hours`` after it
        was opened (``failed``, reason ``checkout_expired``), as ``do_cancel_checkout`` does;
        the worker's timer calls this. Each is a guarded update, so workers running it at once
        expire each contribution once. Returns how many expired."""
        cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(
            hours=get_settings().checkout_expiry_hours
        )
        expired = 0
        for contribution in await repository.checkouts_opened_before(cutoff):
            try:
                if await self._paid_at_provider(contribution):
                    continue  # paid: its webhook is on its way
            except AppError:
                continue  # the provider did not answer: the next sweep asks again
            await events.ensure_room(club_room(contribution.club_id))
            try:
                await self._give_up_checkout(contribution, None, "checkout_expired")
            except ContributionStateError:
                continue  # paid (or given up) meanwhile
            expired += 1
        return expired

    async def _give_up_checkout(self, contribution: Contribution, actor_id: str | None,
                                reason: str) -> None:  # fmt: skip
        """``awaiting_payment`` → ``failed`` with ``reason`` (by ``actor_id``; ``None``: the
        platform's expiry), audited and told to the club's
        room, in one transaction serialised with the club's other money writes. Raises
        ``ContributionStateError`` when it is no longer awaiting payment."""
        now = dt.datetime.now(dt.UTC)

        async def body(session: AsyncClientSession) -> None:
            await club_service.do_bump_money_seq(contribution.club_id, session)
            moved = await repository.update_contribution(
                contribution.id,
                {"status": ContributionStatus.FAILED.value, "decision_reason": reason,
                 "decided_by": actor_id, "updated_at": now},
                guard={"status": ContributionStatus.AWAITING_PAYMENT.value}, session=session,
            )  # fmt: skip
            if not moved:
                raise ContributionStateError(
                    "the money for this contribution arrived meanwhile",
                    details={"reason": "no_longer_awaiting_payment"},
                )
            await audit_service.do_append(
                chain=club_chain(contribution.club_id), actor_id=actor_id,
                action=f"contribution.{reason}", target_type="contribution",
                target_id=str(contribution.id), details={"amount": contribution.amount},
                session=session,
            )  # fmt: skip
            await events.room_event(
                session, club_room(contribution.club_id), CONTRIBUTION_CHANGED,
                ContributionChanged, club_id=contribution.club_id,
                contribution_id=str(contribution.id), user_id=contribution.user_id,
                status=ContributionStatus.FAILED.value, reason=reason,
            )  # fmt: skip

        await run_in_transaction(body)
        contribution.status = ContributionStatus.FAILED
        contribution.decision_reason, contribution.decided_by = reason, actor_id

    # ---- withdrawals --------------------------------------------------------------------

    async def do_request_withdrawal(
        self,
        club_id: str,
        actor_id: str,
        *,
        amount: int | None,
        full: bool,
        valuation_date: dt.date | None = None,
    ) -> Withdrawal:
        """Ask to withdraw ``amount`` paise (gross, before the fee) or everything (``full``).

        Settled at the next valuation (or the assigned one) at its unit value.

        Raises:
            WithdrawalRefused: a withdrawal is already pending, no units are held, or the
                amount is more than the member's value at the latest valuation.
        """

        async def body(session: AsyncClientSession) -> Withdrawal:
            club, membership = await club_service.check_member(club_id, actor_id, None, session)
            await club_service.do_bump_money_seq(club_id, session)
            if await repository.pending_withdrawal(club_id, actor_id, session) is not None:
                raise WithdrawalRefused(
                    "a withdrawal is already pending", details={"reason": "already_pending"}
                )
            if membership.units <= 0:
                raise WithdrawalRefused("you hold no units", details={"reason": "no_units"})
            if amount is not None:
                latest = await repository.latest_valuation(club_id)
                if latest is not None:
                    uv = self.unit_value(club, latest.nav_after, latest.units_after)
                    value = uv.value_of(membership.units)
                    if amount > value:
                        raise WithdrawalRefused(
                            "that is more than your capital account is worth",
                            details={"reason": "exceeds_value", "value": value},
                        )
            withdrawal = Withdrawal(
                club_id=club_id, user_id=actor_id, full=full, amount=amount,
                valuation_date=valuation_date.isoformat() if valuation_date else None,
            )  # fmt: skip
            await repository.insert_withdrawal(withdrawal, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="withdrawal.requested",
                target_type="withdrawal", target_id=str(withdrawal.id),
                details={"amount": amount, "full": full}, session=session,
            )  # fmt: skip
            return withdrawal

        return await run_in_transaction(body)

    async def withdrawal_value(
        self, club_id: str, actor_id: str, amount: int | None, full: bool
    ) -> int | None:
        """The gross paise a withdrawal request is about (for the step-up check): ``amount``,
        or for ``full`` the actor's value at the latest valuation (None before any).
        Raises ``ClubNotFound`` for non-members."""
        club, membership = await club_service.check_member(club_id, actor_id)
        if not full:
            return amount
        latest = await repository.latest_valuation(club_id)
        if latest is None:
            return None
        uv = self.unit_value(club, latest.nav_after, latest.units_after)
        return uv.value_of(membership.units)

    async def withdrawals(self, club_id: str, actor_id: str) -> list[Withdrawal]:
        """Withdrawals, newest first: every one for owner/admin/treasurer, else the actor's.
        Raises ``ClubNotFound`` for non-members."""
        _, membership = await club_service.check_member(club_id, actor_id)
        mine = None if membership.role in TREASURY else actor_id
        return await repository.withdrawals_of(club_id, mine)

    async def payout_value(self, club_id: str, actor_id: str, withdrawal_id: str) -> int | None:
        """Net paise a payout would pay (for the step-up check), None when unknown.
        Raises ``ClubNotFound``, ``RoleRequired``."""
        await club_service.check_member(club_id, actor_id, TREASURY)
        withdrawal = await repository.get_withdrawal(withdrawal_id)
        if withdrawal is None or withdrawal.club_id != club_id:
            return None
        return withdrawal.net

    async def do_pay_withdrawal(
        self, club_id: str, withdrawal_id: str, actor_id: str, paid_on: dt.date | None = None
    ) -> Withdrawal:
        """Pay out a settled withdrawal (treasurer/admin/owner): Dr payable / Cr cash, dated
        ``paid_on`` — the day the money left (default today; never in the future, never before
        the valuation that settled it).

        Raises:
            WithdrawalRefused: reason ``not_settled`` or ``already_paid``. InsufficientCash.
            FutureDate: ``paid_on`` after today. BackdatedEntry: before the settlement.
        """
        day = paid_on or _today()
        if day > _today():
            raise FutureDate(
                "the money cannot have left on a date in the future",
                details={"field": "paid_on", "paid_on": day.isoformat()},
            )

        async def body(session: AsyncClientSession) -> Withdrawal:
            await club_service.check_member(club_id, actor_id, TREASURY, session)
            await club_service.do_bump_money_seq(club_id, session)
            withdrawal = await repository.get_withdrawal(withdrawal_id, session)
            if withdrawal is None or withdrawal.club_id != club_id:
                raise WithdrawalRefused("no such withdrawal", details={"reason": "unknown"})
            if withdrawal.status == WithdrawalStatus.PAID:
                raise WithdrawalRefused(
                    "this withdrawal was paid already",
                    details={"reason": "already_paid", "status": withdrawal.status.value},
                )
            if withdrawal.status != WithdrawalStatus.SETTLED or withdrawal.net is None:
                raise WithdrawalRefused(
                    "only a settled, unpaid withdrawal can be paid",
                    details={"reason": "not_settled", "status": withdrawal.status.value},
                )
            if withdrawal.valuation_date and day.isoformat() < withdrawal.valuation_date:
                raise BackdatedEntry(
                    "a payout cannot be dated before the valuation that settled it",
                    details={"field": "paid_on", "valuation_date": withdrawal.valuation_date},
                )
            books = await self.books(club_id, session)
            # Payables are what this pays; other liabilities' cash is not the club's to spend,
            # nor is the cash open buy orders hold.
            owed_elsewhere = books.liabilities - books.payable
            free = books.cash - owed_elsewhere - await repository.held_cash(club_id, session)
            if free < withdrawal.net:
                raise InsufficientCash(
                    "the club's cash (less what open buy orders hold) does not cover this payout",
                    details={
                        "cash": format_minor(books.cash),
                        "free": format_minor(free),
                        "needed": format_minor(withdrawal.net),
                    },
                )
            if withdrawal.net > 0:
                await ledger_service.do_post(
                    pool_id=club_id, key=f"withdrawal-paid:{withdrawal_id}",
                    kind="withdrawal_paid",
                    lines=[(accounts.WITHDRAWALS_PAYABLE, withdrawal.net),
                           (accounts.CASH, -withdrawal.net)],
                    effective_date=day, memo=f"payout of withdrawal {withdrawal_id}",
                    created_by=actor_id, session=session,
                )  # fmt: skip
            clock = dt.datetime.now(dt.UTC)
            now = clock if day == clock.date() else dt.datetime.combine(day, dt.time(12), dt.UTC)
            await repository.update_withdrawal(
                withdrawal.id,
                {"status": WithdrawalStatus.PAID.value, "paid_at": now, "paid_by": actor_id},
                session,
            )
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="withdrawal.paid",
                target_type="withdrawal", target_id=withdrawal_id,
                details={"net": withdrawal.net, "paid_on": day.isoformat()}, session=session,
            )  # fmt: skip
            withdrawal.status, withdrawal.paid_at, withdrawal.paid_by = (
                WithdrawalStatus.PAID, now, actor_id)  # fmt: skip
            return withdrawal

        return await run_in_transaction(body)

    # ---- member charges -----------------------------------------------------------------

    async def do_charge_member(
        self, club_id: str, actor_id: str | None, *, user_id: str, amount: int, reason: str
    ) -> MemberCharge:
        """Charge a member ``amount`` paise that the club keeps (owner/admin/treasurer, or the
        platform when ``actor_id`` is None: a late-dues fee by the club's own rule): paid by
        redeeming the member's units at the unit value of the next valuation (docs/domain.md,
        member charges); the money stays in the club.

        A charge a person makes must be payable: the member holds units, and the charge is
        at most their value at the last valuation less the charges still pending
        (``ChargeRefused``; the platform's own late fees are not checked — a valuation never
        redeems more units than the member holds). The member is told (inbox, e-mail).

        Raises:
            ClubNotFound, RoleRequired, MemberNotFound (not an active member), ChargeRefused.
        """
        club = await club_service.get(club_id)
        if club is None:
            raise ClubNotFound("no such club")
        if actor_id is not None:
            await club_service.check_member(club_id, actor_id, TREASURY)
        charged = await club_service.membership(club_id, user_id)
        if charged is None or charged.status is not MembershipStatus.ACTIVE:
            raise MemberNotFound("that person is not a member of this club")
        charge = MemberCharge(club_id=club_id, user_id=user_id, amount=amount, reason=reason,
                              created_by=actor_id or "platform")  # fmt: skip
        await notification_service.prepare([user_id])
        told = Draft(
            user_id=user_id, kind=NotificationKind.MEMBER_CHARGE,
            title=f"{club.name} charged you {money_text(amount, club.currency)}",
            body=(f"“{reason}”. It is paid from your units at the club's next valuation (the "
                  "money stays in the club)."),
            club_id=club_id, ref_type="member_charge", ref_id=str(charge.id),
            dedupe_key=f"charge:{charge.id}",
        )  # fmt: skip

        async def body(session: AsyncClientSession) -> MemberCharge:
            # Serialised with a leave or removal (which bumps the same counter, then looks for
            # money in flight): the member is still active here, or the charge is refused.
            await club_service.do_bump_money_seq(club_id, session)
            member = await club_service.membership(club_id, user_id, session)
            if member is None or member.status is not MembershipStatus.ACTIVE:
                raise MemberNotFound("that person is not a member of this club")
            if actor_id is not None:
                await self._check_payable(club, member.units, user_id, amount, session)
            await repository.insert_charge(charge, session)
            await notification_service.do_store(session, [told])
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="charge.created",
                target_type="member_charge", target_id=str(charge.id),
                details={"user_id": user_id, "amount": amount, "reason": reason},
                session=session,
            )  # fmt: skip
            return charge

        return await run_in_transaction(body)

    async def _check_payable(self, club: Club, units: int, user_id: str, amount: int,
                             session: AsyncClientSession) -> None:  # fmt: skip
        """Refuse a charge the member's units cannot pay (``ChargeRefused``): no units, or more
        than their value at the last valuation less the charges still pending."""
        club_id = str(club.id)
        if units <= 0:
            raise ChargeRefused("this member holds no units yet to pay a charge with",
                                details={"reason": "no_units"})  # fmt: skip
        latest = await repository.latest_valuation(club_id)
        value = (self.unit_value(club, latest.nav_after, latest.units_after).value_of(units)
                 if latest is not None else 0)  # fmt: skip
        pending = sum(c.amount for c in await repository.charges_of(club_id, user_id, session)
                      if c.status is ChargeStatus.PENDING)  # fmt: skip
        if amount > value - pending:
            raise ChargeRefused(
                f"this member's units were worth {money_text(value, club.currency)} at the "
                "last valuation" + (f", {money_text(pending, club.currency)} of it already "
                                    "charged and not yet settled" if pending else "")
                + ": the charge cannot be more than what is left",
                details={"reason": "exceeds_value", "value": format_minor(value),
                         "pending": format_minor(pending),
                         "available": format_minor(max(value - pending, 0))},
            )  # fmt: skip

    async def do_cancel_charge(self, club_id: str, charge_id: str, actor_id: str) -> MemberCharge:
        """Cancel a pending member charge (owner/admin/treasurer): it is never settled; the
        member is told. Audited.

        Raises:
            ClubNotFound, RoleRequired, ChargeNotFound, ChargeNotPending (409).
        """
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)

        async def body(session: AsyncClientSession) -> MemberCharge:
            await club_service.do_bump_money_seq(club_id, session)
            charge = await repository.get_charge(charge_id, session)
            if charge is None or charge.club_id != club_id:
                raise ChargeNotFound("no such charge in this club")
            if charge.status is not ChargeStatus.PENDING:
                raise ChargeNotPending(f"this charge was {charge.status.value} already",
                                       details={"status": charge.status.value})  # fmt: skip
            await repository.update_charge(
                charge.id, {"status": ChargeStatus.CANCELLED.value}, session
            )
            charge.status = ChargeStatus.CANCELLED
            await notification_service.do_store(session, [Draft(
                user_id=charge.user_id, kind=NotificationKind.MEMBER_CHARGE,
                title=f"{club.name} cancelled a charge of "
                      f"{money_text(charge.amount, club.currency)}",
                body=f"“{charge.reason}” will not be taken from your units.",
                club_id=club_id, ref_type="member_charge", ref_id=str(charge.id),
                dedupe_key=f"charge-cancelled:{charge.id}",
            )])  # fmt: skip
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="charge.cancelled",
                target_type="member_charge", target_id=str(charge.id),
                details={"user_id": charge.user_id, "amount": charge.amount}, session=session,
            )  # fmt: skip
            return charge

        return await run_in_transaction(body)

    async def charges(self, club_id: str, actor_id: str) -> list[MemberCharge]:
        """Charges, newest first: all for owner/admin/treasurer, else the actor's own."""
        _, membership = await club_service.check_member(club_id, actor_id)
        mine = None if membership.role in TREASURY else actor_id
        return await repository.charges_of(club_id, mine)

    # ---- trades (manual entry) ----------------------------------------------------------

    async def do_record_trade(
        self,
        club_id: str,
        actor_id: str,
        *,
        side: str,
        symbol: str,
        quantity: int,
        price: int,
        fees: int,
        trade_date: dt.date,
        key: str,
    ) -> Holding:
        """Enter a trade made outside (treasurer/admin/owner). ``price`` and ``fees`` in paise,
        ``quantity`` whole shares. A buy needs the cash; a sell needs the shares and books the
        realised gain against the average cost. Idempotent on ``key``.

        The symbol must be in the market catalogue and not an index; ``price`` and ``fees``
        are then in minor units of the instrument's currency, and a trade in another currency
        than the club's is booked at the ECB rate of ``trade_date`` (see ``post_trade``).

        Raises:
            InsufficientCash, InsufficientHoldings, RoleRequired, ClubNotFound,
            UnknownSymbols (404 ``unknown_symbol``), NotTradable (422, an index),
            FxRateUnavailable (422), FutureDate, BackdatedEntry.
        """
        symbol = symbol.upper()
        await club_service.check_member(club_id, actor_id, TREASURY)  # before naming symbols
        instrument = await market_service.instrument(symbol)
        if instrument.is_index:
            raise NotTradable(f"{symbol} is an index: it cannot be traded",
                              details={"symbol": symbol})  # fmt: skip

        async def body(session: AsyncClientSession) -> Holding:
            club, _ = await club_service.check_member(club_id, actor_id, TREASURY, session)
            await club_service.do_bump_money_seq(club_id, session)
            if trade_date > _today():
                raise FutureDate(
                    "a trade cannot be dated in the future",
                    details={"field": "trade_date", "trade_date": trade_date.isoformat()},
                )
            if club.last_valuation_date and trade_date.isoformat() < club.last_valuation_date:
                raise BackdatedEntry(
                    "a trade cannot be dated before the club's last valuation",
                    details={"last_valuation_date": club.last_valuation_date},
                )
            entry_key = f"trade:{club_id}:{actor_id}:{key}"  # keys are the caller's, per club
            return (await self.post_trade(
                session, club_id, side=side, symbol=symbol, quantity=quantity, price=price,
                fees=fees, trade_date=trade_date, entry_key=entry_key, actor_id=actor_id,
                currency=instrument.currency, respect_orders=True,
            )).holding  # fmt: skip

        return await run_in_transaction(body)

    async def post_trade(
        self,
        session: AsyncClientSession,
        club_id: str,
        *,
        side: str,
        symbol: str,
        quantity: int,
        price: int,
        fees: int,
        trade_date: dt.date,
        entry_key: str,
        actor_id: str | None,
        audit_action: str = "trade.recorded",
        audit_details: dict[str, object] | None = None,
        currency: str | None = None,
        respect_orders: bool = False,
        priced_on: dt.date | None = None,
    ) -> TradePosting:
        """Book one trade inside the caller's transaction (which must already have bumped the
        club's ``money_seq``): the journal entry, the average-cost holding and the audit record.
        Shared by manual trade entry and broker fills (app/orders), so both keep one ledger.

        ``price`` and ``fees`` in minor units, ``quantity`` whole shares. A buy posts Dr
        investments (gross) + Dr trading costs / Cr cash and needs the cash; a sell posts Dr
        cash (gross − fees) + Dr trading costs / Cr investments (average cost of the shares
        sold, half-even) / Cr realised gains (the difference), and needs the shares.
        Idempotent on ``entry_key``: a key already posted changes nothing (``new`` False).

        ``currency``: the instrument's (None: the club's). In another currency than the
        club's, ``price`` and ``fees`` are that currency's minor units; the gross
        (quantity × price) and the fees are each converted once into the club's currency at
        the ECB rate of ``priced_on`` (the day the price is of; default ``trade_date``),
        half-even (app/fx.py), and the journal entry keeps the foreign amounts and the rate
        (``JournalFx``). Everything booked is then in the club's currency: the trial balance
        stays zero.

        Raises:
            InsufficientCash, InsufficientHoldings, FxRateUnavailable, ClubNotFound.
        """
        symbol = symbol.upper()
        club = await club_service.get(club_id, session)
        if club is None:
            raise ClubNotFound("no such club")
        fx = await rate_for(currency, club.currency, priced_on or trade_date)
        holding = await repository.get_holding(club_id, symbol, session)
        if holding is None:
            holding = await repository.insert_holding(
                Holding(club_id=club_id, symbol=symbol, currency=fx.base if fx else None),
                session)  # fmt: skip
        if await ledger_service.find_entry(entry_key, session) is not None:
            return TradePosting(holding, False, 0)
        if holding.quantity == 0 and holding.cost == 0:
            holding.currency = fx.base if fx else None
        foreign_gross = quantity * price
        gross = fx.convert(foreign_gross) if fx else foreign_gross
        foreign_fees, fees = fees, (fx.convert(fees) if fx else fees)
        gain = 0
        if side == "buy":
            books = await self.books(club_id, session)
            free = books.free_cash
            if respect_orders:
                free -= await repository.held_cash(club_id, session)
            if free < gross + fees:
                raise InsufficientCash(
                    "the club's free cash does not cover this purchase (money received but not "
                    "yet turned into units, or held by open buy orders, cannot be invested)",
                    details={"cash": format_minor(books.cash),
                             "free_cash": format_minor(free),
                             "needed": format_minor(gross + fees)},
                )  # fmt: skip
            lines = [(accounts.INVESTMENTS, gross), (accounts.CASH, -(gross + fees))]
            if fees:
                lines.append((accounts.TRADING_COSTS, fees))
            holding.quantity += quantity
            holding.cost += gross
            holding.cost_foreign += foreign_gross if fx else 0
        else:
            selling = (await self.shares_for_sale(club_id, symbol, session)
                       if respect_orders else 0)  # fmt: skip
            if holding.quantity - selling < quantity:
                raise InsufficientHoldings(
                    f"the club holds {holding.quantity} {symbol}"
                    + (f" ({selling} already for sale)" if selling else ""),
                    details={"held": holding.quantity, "for_sale": selling},
                )
            cost_out = round_half_even(Fraction(holding.cost * quantity, holding.quantity))
            foreign_out = round_half_even(Fraction(holding.cost_foreign * quantity,
                                                   holding.quantity))  # fmt: skip
            gain = gross - cost_out
            lines = [(accounts.CASH, gross - fees), (accounts.INVESTMENTS, -cost_out)]
            if fees:
                lines.append((accounts.TRADING_COSTS, fees))
            if gain:
                lines.append((accounts.REALISED_GAINS, -gain))
            holding.quantity -= quantity
            holding.cost -= cost_out
            holding.cost_foreign -= foreign_out
            holding.realised += gain
        journal_fx = None
        memo = f"{side} {quantity} {symbol} at {format_minor(price)}"
        if fx is not None:
            journal_fx = JournalFx(
                currency=fx.base,
                amount=foreign_gross,
                fees=foreign_fees,
                rate_e8=fx.rate_e8,
                rate_date=fx.rate_date.isoformat(),
            )
            memo += f" {fx.base} at {fx.text()} {club.currency}/{fx.base} ({fx.rate_date})"
        await ledger_service.do_post(
            pool_id=club_id, key=entry_key, kind=f"trade_{side}",
            lines=[line for line in lines if line[1] != 0], effective_date=trade_date,
            memo=memo, created_by=actor_id, session=session, fx=journal_fx,
        )  # fmt: skip
        await repository.save_holding(holding, session)
        await events.after_commit(functools.partial(self.do_sync_room_symbols, club_id))
        await audit_service.do_append(
            chain=club_chain(club_id), actor_id=actor_id, action=audit_action,
            target_type="holding", target_id=symbol,
            details={"side": side, "quantity": quantity, "price": price,
                     "fees": foreign_fees, "trade_date": trade_date.isoformat(),
                     **({"currency": fx.base, "rate": fx.text(), "booked": gross,
                         "booked_fees": fees} if fx else {}),
                     **(audit_details or {})},
            session=session,
        )  # fmt: skip
        cash = gross + fees if side == "buy" else gross - fees
        return TradePosting(holding, True, gain, cash, fx)

    # ---- valuations ---------------------------------------------------------------------

    async def do_record_valuation(
        self,
        club_id: str,
        actor_id: str,
        *,
        valuation_date: dt.date,
        prices: dict[str, int],
        preview: bool = False,
    ) -> Valuation:
        """Value the club at ``valuation_date`` and settle what is pending at that unit value.

        ``preview``: compute exactly the same valuation (NAV, unit value, every settlement, the
        club after) inside the transaction, then roll it back: nothing is stored or sent, and
        the answer is what confirming would record now (the treasurer's desk shows it first).

        Every held symbol needs a price (minor units of its currency per share) in
        ``prices``. A holding quoted in another currency is worth its foreign value
        (quantity × price) converted once, half-even, at the ECB rate of the valuation date
        (app/fx.py; the position records the rate). Investments are marked
        to market (against unrealised gains); NAV and the unit value are computed before any
        settlement; then received contributions (paid on or before the date, assigned to it or
        unassigned) buy units and pending withdrawals redeem units, all at that one unit value.

        Raises:
            InvalidValuation: the date is in the future or not after the last valuation; a
                price is not positive or names a symbol the club does not hold.
            PriceMissing: a held symbol has no price.
            NavNotPositive, RoleRequired, ClubNotFound, FxRateUnavailable.
        """
        if valuation_date > _today():
            raise InvalidValuation("a valuation date cannot be in the future")
        day = valuation_date.isoformat()
        prices = {symbol.upper(): price for symbol, price in prices.items()}
        await events.ensure_room(club_room(club_id))  # the valuation is announced in the room

        async def body(session: AsyncClientSession) -> Valuation:
            club, _ = await club_service.check_member(club_id, actor_id, TREASURY, session)
            await club_service.do_bump_money_seq(club_id, session)
            club = await club_service.get(club_id, session) or club
            if club.last_valuation_date is not None and day <= club.last_valuation_date:
                raise InvalidValuation(
                    "the valuation date must come after the club's last valuation",
                    details={"last_valuation_date": club.last_valuation_date},
                )
            latest = await ledger_service.latest_effective_date(club_id, session)
            if latest is not None and day < latest:
                raise InvalidValuation(
                    "the books hold entries dated after this valuation date: value the club "
                    "on or after the latest of them",
                    details={"latest_entry_date": latest},
                )
            books = await self.books(club_id, session)
            held = {h.symbol: h for h in books.holdings}
            missing = sorted(set(held) - set(prices))
            if missing:
                raise PriceMissing(
                    f"no price for {', '.join(missing)}", details={"symbols": missing}
                )
            extra = sorted(set(prices) - set(held))
            bad = sorted(s for s, p in prices.items() if p <= 0)
            if extra or bad:
                raise InvalidValuation(
                    "prices must be positive and only for symbols the club holds",
                    details={"not_held": extra, "not_positive": bad},
                )
            positions = []
            for s, h in sorted(held.items()):
                foreign_value = h.quantity * prices[s]
                fx = await rate_for(h.currency, club.currency, valuation_date)
                positions.append(PricedPosition(
                    symbol=s, quantity=h.quantity, price=prices[s],
                    market_value=fx.convert(foreign_value) if fx else foreign_value,
                    currency=fx.base if fx else None,
                    foreign_value=foreign_value if fx else None,
                    rate_e8=fx.rate_e8 if fx else None,
                    rate_date=fx.rate_date.isoformat() if fx else None,
                ))  # fmt: skip
            market_value = sum(p.market_value for p in positions)
            adjustment = market_value - books.investments_book
            if adjustment:
                await ledger_service.do_post(
                    pool_id=club_id, key=f"valuation-mtm:{club_id}:{day}",
                    kind="valuation_adjustment",
                    lines=[(accounts.INVESTMENTS, adjustment),
                           (accounts.UNREALISED_GAINS, -adjustment)],
                    effective_date=valuation_date, memo=f"marked to market at {day}",
                    created_by=actor_id, session=session,
                )  # fmt: skip
            nav = books.cash + market_value - books.liabilities
            if books.units == 0 and nav != 0:
                # Cannot happen while only free cash is invested; refuse rather than issue
                # units at the starting value to a club that has gained or lost.
                raise InvalidValuation(
                    "no units are outstanding but the NAV is not zero",
                    details={"nav": format_minor(nav)},
                )
            uv = self.unit_value(club, nav, books.units)
            settlements = await self._settle(club, uv, day, valuation_date, actor_id, session)
            issued = sum(s.units for s in settlements)
            nav_after = nav + sum(_nav_change(s) for s in settlements)
            valuation = Valuation(
                club_id=club_id, valuation_date=day, cash=books.cash, positions=positions,
                market_value=market_value, liabilities=books.liabilities, nav=nav,
                units=books.units, unit_value=uv.display(), settlements=settlements,
                nav_after=nav_after, units_after=books.units + issued, created_by=actor_id,
            )  # fmt: skip
            await repository.insert_valuation(valuation, session)
            await club_service.do_mark_valued(club_id, day, session)
            await self._link_settlements(valuation, session)
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="valuation.recorded",
                target_type="valuation", target_id=str(valuation.id),
                details={"valuation_date": day, "nav": nav, "units": books.units,
                         "unit_value": uv.display(), "settled": len(settlements)},
                session=session,
            )  # fmt: skip
            if preview:
                raise _PreviewOnly(valuation)  # aborts the transaction: nothing stays
            after = self.unit_value(club, valuation.nav_after, valuation.units_after)
            await events.room_event(
                session, club_room(club_id), VALUATION_RECORDED, ValuationRecorded,
                club_id=club_id, valuation_id=str(valuation.id), valuation_date=day,
                nav=format_minor(nav), unit_value=uv.display(),
                nav_after=format_minor(valuation.nav_after),
                units_after=format_units(valuation.units_after), unit_value_after=after.display(),
                settled_user_ids=sorted({s.user_id for s in settlements}),
            )  # fmt: skip
            return valuation

        try:
            return await run_in_transaction(body)
        except _PreviewOnly as only:
            return only.valuation

    async def _settle(
        self,
        club: Club,
        uv: UnitValue,
        day: str,
        valuation_date: dt.date,
        actor_id: str,
        session: AsyncClientSession,
    ) -> list[Settlement]:
        club_id = str(club.id)
        out: list[Settlement] = []
        for contribution in await repository.contributions_to_settle(club_id, day, session):
            units = uv.units_for(contribution.amount)
            await ledger_service.do_post(
                pool_id=club_id, key=f"contribution-settled:{contribution.id}",
                kind="contribution_settled",
                lines=[(accounts.UNALLOCATED_CONTRIBUTIONS, contribution.amount),
                       (accounts.member_capital(contribution.user_id), -contribution.amount)],
                effective_date=valuation_date,
                memo=f"{format_units(units)} units at {uv.display()}", created_by=actor_id,
                session=session,
            )  # fmt: skip
            await club_service.do_move_units(
                club_id, contribution.user_id, session, units=units, paid_in=contribution.amount
            )
            await repository.update_contribution(
                contribution.id,
                {"status": ContributionStatus.SETTLED.value, "units": units,
                 "valuation_date": day, "updated_at": dt.datetime.now(dt.UTC)},
                session=session,
            )  # fmt: skip
            out.append(Settlement(kind="contribution", id=str(contribution.id),
                                  user_id=contribution.user_id, amount=contribution.amount,
                                  units=units))  # fmt: skip
        # Withdrawals and charges redeem units in the order they were asked for, across the two
        # kinds (docs/domain.md, "Redemptions settle in the order they were made"): a charge made
        # before a withdrawal is paid first, and the withdrawal gets what is left.
        redemptions: list[Withdrawal | MemberCharge] = [
            *await repository.withdrawals_to_settle(club_id, day, session),
            *await repository.charges_to_settle(club_id, session),
        ]
        redemptions.sort(key=lambda r: (r.requested_at if isinstance(r, Withdrawal)
                                        else r.created_at, str(r.id)))  # fmt: skip
        for redemption in redemptions:
            if isinstance(redemption, Withdrawal):
                settled = await self._settle_withdrawal(
                    club, uv, redemption, day, valuation_date, actor_id, session
                )
            else:
                settled = await self._settle_charge(
                    club, uv, redemption, day, valuation_date, actor_id, session
                )
            if settled is not None:
                out.append(settled)
        return out

    async def _settle_withdrawal(
        self,
        club: Club,
        uv: UnitValue,
        withdrawal: Withdrawal,
        day: str,
        valuation_date: dt.date,
        actor_id: str,
        session: AsyncClientSession,
    ) -> Settlement | None:
        club_id = str(club.id)
        membership = await club_service.membership(club_id, withdrawal.user_id, session)
        if membership is None or membership.units <= 0:
            await repository.update_withdrawal(
                withdrawal.id, {"status": WithdrawalStatus.CANCELLED.value}, session
            )
            return None
        if withdrawal.full or withdrawal.amount is None:
            units = membership.units
        else:
            units = min(membership.units, uv.units_for(withdrawal.amount))
        gross = uv.value_of(units)
        fee = fee_of(gross, club.withdrawal_fee_bps)
        net = gross - fee
        lines = [(accounts.member_capital(withdrawal.user_id), gross)]
        if net:
            lines.append((accounts.WITHDRAWALS_PAYABLE, -net))
        if fee:
            lines.append((accounts.WITHDRAWAL_FEES, -fee))
        if gross:
            await ledger_service.do_post(
                pool_id=club_id, key=f"withdrawal-settled:{withdrawal.id}",
                kind="withdrawal_settled", lines=lines, effective_date=valuation_date,
                memo=f"{format_units(units)} units redeemed at {uv.display()}",
                created_by=actor_id, session=session,
            )  # fmt: skip
        await club_service.do_move_units(
            club_id, withdrawal.user_id, session, units=-units, withdrawn=net
        )
        await repository.update_withdrawal(
            withdrawal.id,
            {"status": WithdrawalStatus.SETTLED.value, "units": units, "gross": gross,
             "fee": fee, "net": net, "valuation_date": day},
            session,
        )  # fmt: skip
        return Settlement(kind="withdrawal", id=str(withdrawal.id), user_id=withdrawal.user_id,
                          amount=gross, units=-units, fee=fee)  # fmt: skip

    async def _settle_charge(
        self,
        club: Club,
        uv: UnitValue,
        charge: MemberCharge,
        day: str,
        valuation_date: dt.date,
        actor_id: str,
        session: AsyncClientSession,
    ) -> Settlement | None:
        club_id = str(club.id)
        membership = await club_service.membership(club_id, charge.user_id, session)
        units = min(membership.units if membership else 0, uv.units_for(charge.amount))
        if units <= 0:
            await repository.update_charge(
                charge.id, {"status": ChargeStatus.CANCELLED.value}, session
            )
            return None
        charged = uv.value_of(units)
        # The member's capital pays it; the club keeps it (NAV unchanged, fewer units).
        await ledger_service.do_post(
            pool_id=club_id, key=f"charge-settled:{charge.id}", kind="member_charge",
            lines=[(accounts.member_capital(charge.user_id), charged),
                   (accounts.MEMBER_CHARGES, -charged)],
            effective_date=valuation_date,
            memo=f"{format_units(units)} units redeemed at {uv.display()}: {charge.reason}",
            created_by=actor_id, session=session,
        )  # fmt: skip
        await club_service.do_move_units(club_id, charge.user_id, session, units=-units)
        await repository.update_charge(
            charge.id,
            {"status": ChargeStatus.SETTLED.value, "units": units, "charged": charged,
             "valuation_date": day},
            session,
        )  # fmt: skip
        return Settlement(kind="charge", id=str(charge.id), user_id=charge.user_id,
                          amount=charged, units=-units)  # fmt: skip

    async def _link_settlements(self, valuation: Valuation, session: AsyncClientSession) -> None:
        for settlement in valuation.settlements:
            await repository.link_settlement(
                settlement.kind, settlement.id, str(valuation.id), session
            )

    async def do_sync_room_symbols(self, club_id: str) -> None:
        """Let the club's room receive quotes for every symbol it holds (after a trade)."""
        held = {h.symbol for h in await repository.holdings(club_id) if h.quantity > 0}
        await market_service.do_sync_club_symbols(club_id, held, "holdings")

    async def trial_balance(self, club_id: str, actor_id: str) -> TrialBalance:
        """Every account's balance from the club's journal, as debit and credit columns whose
        totals must agree (``balanced``). Raises ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, actor_id)
        rows = await ledger_service.trial_balance(club_id)
        debit = sum(max(r.balance, 0) for r in rows)
        credit = sum(max(-r.balance, 0) for r in rows)
        return TrialBalance(
            rows=[TrialBalanceRowOut(account=r.account, type=r.type,
                                     debit=format_minor(max(r.balance, 0)),
                                     credit=format_minor(max(-r.balance, 0))) for r in rows],
            total_debit=format_minor(debit), total_credit=format_minor(credit),
            balanced=debit == credit,
        )  # fmt: skip

    async def club_valuations(self, club_id: str) -> list[Valuation]:
        """Every valuation of the club, oldest first (no actor check: for reports that checked
        membership already)."""
        return await repository.valuations(club_id)

    async def member_contributions(self, club_id: str, user_id: str) -> list[Contribution]:
        """One member's contributions to the club, newest first (no actor check)."""
        return await repository.contributions_of(club_id, user_id)

    async def receipt_clubs(self, file_id: str, owner_id: str) -> list[str]:
        """Ids of the clubs where ``owner_id`` used the uploaded file ``file_id`` as the
        receipt of a manual contribution (who may see a receipt: app/files/access.py)."""
        return await repository.receipt_clubs(file_id, owner_id)

    # ---- cash held by open orders -------------------------------------------------------

    async def do_hold_cash(
        self, session: AsyncClientSession, club_id: str, key: str, amount: int
    ) -> None:
        """Set ``amount`` minor units of the club's free cash aside under ``key`` (an open buy
        order), inside the caller's money transaction (which bumped ``money_seq``). Holding
        the same key twice changes nothing.

        Raises:
            InsufficientCash (409): free cash less what other holds keep is below ``amount``.
        """
        if await repository.get_hold(key, session) is not None:
            return
        books = await self.books(club_id, session)
        available = books.free_cash - await repository.held_cash(club_id, session)
        if available < amount:
            raise InsufficientCash(
                "the club's cash does not cover this order",
                details={"cash": format_minor(books.cash), "available": format_minor(available),
                         "needed": format_minor(amount)},
            )  # fmt: skip
        await repository.insert_hold(CashHold(club_id=club_id, key=key, amount=amount), session)

    async def do_resize_hold(
        self, session: AsyncClientSession, club_id: str, key: str, amount: int
    ) -> None:
        """Give the open hold ``key`` the new ``amount`` (minor units), inside the caller's
        money transaction (which bumped ``money_seq``): an open buy order changed. Growing it
        takes the extra from the club's free cash less what every open hold keeps — the rule
        of ``do_hold_cash``; shrinking it frees cash. A closed or missing hold is left alone.

        Raises:
            InsufficientCash (409): the extra is more than that free cash (``needed`` in
            ``details`` is the extra).
        """
        hold = await repository.get_hold(key, session)
        if hold is None or not hold.open:
            return
        extra = max(amount - hold.spent, 0) - max(hold.amount - hold.spent, 0)
        if extra > 0:
            books = await self.books(club_id, session)
            available = books.free_cash - await repository.held_cash(club_id, session)
            if available < extra:
                raise InsufficientCash(
                    "the club's cash does not cover this change",
                    details={"cash": format_minor(books.cash),
                             "available": format_minor(available),
                             "needed": format_minor(extra)},
                )  # fmt: skip
        await repository.set_hold_amount(key, amount, session)

    async def post_charges_adjustment(
        self, session: AsyncClientSession, club_id: str, *, key: str, amount: int, memo: str,
        actor_id: str | None,
    ) -> bool:  # fmt: skip
        """Book what a broker's contract note charged beyond (``amount`` > 0) or short of (< 0)
        the fees its fills were booked with: Dr trading costs / Cr cash (the other way round
        for less), dated today, inside the caller's transaction (which has bumped the club's
        ``money_seq``). Idempotent on ``key``: False when it was posted already. Minor units
        of the club's currency."""
        if amount == 0:
            return False
        _, new = await ledger_service.do_post(
            pool_id=club_id, key=key, kind="trading_charges",
            lines=[(accounts.TRADING_COSTS, amount), (accounts.CASH, -amount)],
            effective_date=_today(), memo=memo, created_by=actor_id, session=session,
        )  # fmt: skip
        return bool(new)

    async def do_spend_held(self, session: AsyncClientSession, key: str, amount: int) -> None:
        """Record ``amount`` minor units of a hold as spent (a buy fill and its fee)."""
        await repository.update_hold(key, session, spent=amount)

    async def do_release_hold(self, session: AsyncClientSession | None, key: str) -> None:
        """Close the hold: what it did not spend is free again (an order ended)."""
        await repository.update_hold(key, session, close=True)

    async def held_cash(self, club_id: str, session: AsyncClientSession | None = None) -> int:
        """Cash the club's open holds keep aside (minor units)."""
        return await repository.held_cash(club_id, session)

    async def realised(self, club_id: str, session: AsyncClientSession | None = None) -> int:
        """Gains realised on every holding, those sold in full included (minor units)."""
        return await repository.realised_total(club_id, session)

    async def holding(
        self, club_id: str, symbol: str, session: AsyncClientSession | None = None
    ) -> Holding | None:
        """The club's holding of ``symbol`` (None if it never held it)."""
        return await repository.get_holding(club_id, symbol.upper(), session)

    async def holdings(self, club_id: str, actor_id: str) -> list[Holding]:
        """What the club holds, at book cost. Raises ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, actor_id)
        return await repository.holdings(club_id)

    async def valuations(self, club_id: str, actor_id: str) -> list[Valuation]:
        """Every valuation, oldest first. Raises ``ClubNotFound`` for non-members."""
        await club_service.check_member(club_id, actor_id)
        return await repository.valuations(club_id)

    # ---- statements ---------------------------------------------------------------------

    async def valuation_at(
        self, club_id: str, actor_id: str, on: dt.date | None
    ) -> tuple[Club, Valuation]:
        """The club and its latest valuation on or before ``on`` (or the latest). Raises
        ``ClubNotFound`` for non-members and ``InvalidValuation`` when there is none."""
        club, _ = await club_service.check_member(club_id, actor_id)
        valuation = await repository.latest_valuation(club_id, on.isoformat() if on else None)
        if valuation is None:
            raise InvalidValuation("the club has no valuation yet" + (f" on or before {on}"
                                   if on else ""), details={"reason": "no_valuation"})  # fmt: skip
        return club, valuation

    async def member_positions(self, club: Club, valuation: Valuation) -> list[MemberPosition]:
        """Each member's capital account as of ``valuation`` (after its settlements), rebuilt
        from the settlements of every valuation up to it: units, paid in, withdrawn (net),
        charged, value at that unit value. Members who never held units and are gone are left
        out."""
        club_id = str(club.id)
        members = {m.user_id: m for m in await club_service.memberships(club_id)}
        totals: dict[str, list[int]] = {uid: [0, 0, 0, 0] for uid, m in members.items()
                                         if m.status == MembershipStatus.ACTIVE}  # fmt: skip
        for past in await repository.valuations(club_id):
            if past.valuation_date > valuation.valuation_date:
                break
            for settlement in past.settlements:
                row = totals.setdefault(settlement.user_id, [0, 0, 0, 0])
                row[0] += settlement.units
                if settlement.kind == "contribution":
                    row[1] += settlement.amount
                elif settlement.kind == "charge":  # kept by the club: never paid to the member
                    row[3] += settlement.amount
                else:
                    row[2] += settlement.amount - settlement.fee
        uv = self.unit_value(club, valuation.nav_after, valuation.units_after)
        return [
            MemberPosition(
                user_id=uid, role=members[uid].role.value if uid in members else "member",
                active=uid in members and members[uid].status == MembershipStatus.ACTIVE,
                units=units, paid_in=paid_in, withdrawn=withdrawn, value=uv.value_of(units),
                charged=charged,
            )
            for uid, (units, paid_in, withdrawn, charged) in totals.items()
        ]  # fmt: skip


books_service = BooksService()
# A member cannot leave or be removed while money of theirs is in flight (app/clubs).
club_service.on_pending_money(books_service.pending_money)
