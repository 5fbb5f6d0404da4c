"""The books as a state machine (issue #20): Hypothesis drives random sequences of online
contributions, manual contributions approved by the treasurer, trades, valuations,
withdrawals, payouts and member charges through ``books_service`` against the real database,
and after every step checks the invariants — trial balance zero; cash matches a model kept by
hand and is never negative; units outstanding = sum of members' units; NAV = cash + holdings −
liabilities; members' values add up to the NAV within a paisa each; no member below zero; a
settled charge takes at most what it asked for.

Issue #14: each example's club keeps either dollars or rupees while it trades dollar stocks, so
half the examples hold foreign instruments: every trade is booked in rupees at the ECB rate of
its date (gross and fees each converted once, half-even; the model does the same from
``app.fx.rate_on``) and every valuation converts each holding at the rate of its date.

Bounded in ``make test`` (profile ``default``); ``make test-long`` runs the ``long`` profile
(``HYPOTHESIS_PROFILE=long``). Hypothesis runs in a worker thread; each rule runs its service
calls on the session's event loop (where the database clients live) and waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import uuid
from collections.abc import Coroutine
from fractions import Fraction
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from app.books.documents import ChargeStatus, Withdrawal, WithdrawalStatus
from app.books.errors import (
    ChargeRefused,
    InsufficientCash,
    InsufficientHoldings,
    InvalidValuation,
    NavNotPositive,
    WithdrawalRefused,
)
from app.books.service import books_service
from app.clubs.service import club_service
from app.fx import rate_on
from app.ledger import accounts
from app.ledger.service import ledger_service
from streams.records import PaymentEventV1
from tests.clubs.factories import captured, club_with_members

pytestmark = pytest.mark.usefixtures("services")

settings.register_profile(
    "default", max_examples=6, stateful_step_count=12, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
settings.register_profile(
    "long", max_examples=60, stateful_step_count=40, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)  # fmt: skip
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

T = TypeVar("T")
SYMBOLS = ("HD", "KO")  # quoted in USD
MEMBERS = 3
prices = st.integers(min_value=50_00, max_value=5_000_00)  # paise per share
amounts = st.integers(min_value=1_00, max_value=200_000_00)  # paise
members = st.integers(min_value=0, max_value=MEMBERS - 1)


class Books(RuleBasedStateMachine):
    """One fresh club per example; the model keeps what the cash and holdings must be."""

    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    @initialize(currency=st.sampled_from(["USD", "INR"]))
    def open_club(self, currency: str) -> None:
        club, users = self.run(club_with_members(MEMBERS, withdrawal_fee_bps=100,
                                                 currency=currency))  # fmt: skip
        self.currency = currency
        self.club_id, self.users, self.owner = str(club.id), users, users[0]
        self.cash = 0  # the model: paise of cash
        self.held: dict[str, int] = dict.fromkeys(SYMBOLS, 0)
        self.day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=150)
        self.last_valued: dt.date | None = None
        self.contributed = 0

    # ---- money in -----------------------------------------------------------------------

    @rule(who=members, amount=amounts)
    def contribute_online(self, who: int, amount: int) -> None:
        """A member pays online; the provider's capture arrives (Dr cash / Cr unallocated)."""

        async def go() -> None:
            c = await books_service.do_open_contribution(
                self.club_id, self.users[who], amount=amount, method="online"
            )
            outcome = await books_service.do_apply_payment_event(captured(c, self.day))
            assert outcome.applied

        self.run(go())
        self.cash += amount

    @rule(who=members, amount=amounts, twice=st.booleans())
    def contribute_manual(self, who: int, amount: int, twice: bool) -> None:
        """A member paid outside; the treasurer's approval reaches the books as a ``manual``
        payment event (what the payments agent applies), maybe delivered twice."""

        async def go() -> None:
            c = await books_service.do_open_contribution(
                self.club_id, self.users[who], amount=amount, method="manual"
            )
            event = PaymentEventV1(
                id=f"manual:{c.id}", provider="manual", provider_event_id=str(c.id),
                kind="payment.captured", pool_type="club", pool_id=self.club_id,
                contribution_id=str(c.id), payment_id=f"manual:{c.id}", amount=amount,
                currency=c.currency, occurred_at=f"{self.day.isoformat()}T09:00:00+00:00",
            )  # fmt: skip
            assert (await books_service.do_apply_payment_event(event)).applied
            if twice:  # a re-delivery changes nothing
                assert not (await books_service.do_apply_payment_event(event)).applied

        self.run(go())
        self.cash += amount

    # ---- trades -------------------------------------------------------------------------

    @rule(symbol=st.sampled_from(SYMBOLS), quantity=st.integers(1, 200), price=prices,
          fees=st.integers(0, 50_00), sell=st.booleans())  # fmt: skip
    def trade(self, symbol: str, quantity: int, price: int, fees: int, sell: bool) -> None:
        """A treasurer enters a trade; a buy beyond free cash or a sell beyond the holding is
        refused and changes nothing."""
        side = "sell" if sell else "buy"
        if self.currency != "USD":  # dollar prices a rupee club can afford now and then
            price, fees = max(1, price // 50), fees // 50
        try:
            self.run(books_service.do_record_trade(
                self.club_id, self.owner, side=side, symbol=symbol, quantity=quantity,
                price=price, fees=fees, trade_date=self.day, key=uuid.uuid4().hex,
            ))  # fmt: skip
        except InsufficientCash:
            assert side == "buy"
            return
        except InsufficientHoldings:
            assert side == "sell" and self.held[symbol] < quantity
            return
        gross, fee = self.booked(quantity * price, self.day), self.booked(fees, self.day)
        if sell:
            self.cash += gross - fee
            self.held[symbol] -= quantity
        else:
            self.cash -= gross + fee
            self.held[symbol] += quantity

    def booked(self, cents: int, day: dt.date) -> int:
        """``cents`` in the club's minor units on ``day``: the ECB rate × 10^8, half-even."""
        if self.currency == "USD":
            return cents
        return round(Fraction(cents * rate_on("USD", self.currency, day).rate_e8, 10**8))

    # ---- valuations ---------------------------------------------------------------------

    @rule(data=st.data(), gap=st.integers(1, 3))
    def value(self, data: st.DataObject, gap: int) -> None:
        """Value the club at the next date (a price for every held symbol) and settle what is
        pending. After a payout (dated today) only a valuation today is accepted."""
        day = min(self.day + dt.timedelta(days=gap), dt.datetime.now(dt.UTC).date())
        held = {s for s, q in self.held.items() if q > 0}
        chosen = {s: data.draw(prices, label=f"price {s}") for s in sorted(held)}
        if self.currency != "USD":
            chosen = {s: max(1, p // 50) for s, p in chosen.items()}
        try:
            self.run(books_service.do_record_valuation(
                self.club_id, self.owner, valuation_date=day, prices=chosen))  # fmt: skip
        except InvalidValuation:
            assert (self.last_valued is not None and day <= self.last_valued) or (
                day < dt.datetime.now(dt.UTC).date()
            )
            return
        except NavNotPositive:
            return
        self.day = self.last_valued = day

    # ---- withdrawals ----------------------------------------------------------------------

    @rule(who=members, amount=st.one_of(st.none(), amounts))
    def withdraw(self, who: int, amount: int | None) -> None:
        """A member asks to withdraw an amount or everything (settled at the next valuation);
        refused when one is pending, no units are held, or it exceeds the member's value."""
        with contextlib.suppress(WithdrawalRefused):
            self.run(books_service.do_request_withdrawal(
                self.club_id, self.users[who], amount=amount, full=amount is None))  # fmt: skip

    @precondition(lambda self: self.last_valued is not None)
    @rule(data=st.data())
    def pay_out(self, data: st.DataObject) -> None:
        """The treasurer pays a settled withdrawal out of free cash (or is refused)."""
        settled = self.run(self._settled())
        if not settled:
            return
        w = data.draw(st.sampled_from(settled), label="withdrawal")
        assert w.net is not None
        try:
            self.run(books_service.do_pay_withdrawal(self.club_id, str(w.id), self.owner))
        except InsufficientCash:
            return
        self.cash -= w.net

    # ---- member charges -------------------------------------------------------------------

    @rule(who=members, amount=amounts)
    def charge(self, who: int, amount: int) -> None:
        """The treasurer charges a member; the next valuation redeems the member's units at
        its unit value (at most what the member holds) and the cash stays where it is. A
        charge the member's units could not pay at the last valuation is refused and changes
        nothing."""
        try:
            self.run(books_service.do_charge_member(
                self.club_id, self.owner, user_id=self.users[who], amount=amount,
                reason="late fee",
            ))  # fmt: skip
        except ChargeRefused:
            return

    async def _settled(self) -> list[Withdrawal]:
        found = await Withdrawal.find(
            {"club_id": self.club_id, "status": WithdrawalStatus.SETTLED.value}
        ).to_list()
        return sorted(found, key=lambda w: str(w.id))

    # ---- invariants -----------------------------------------------------------------------

    @invariant()
    def books_hold(self) -> None:
        self.run(self._check())

    async def _check(self) -> None:
        balances = await ledger_service.balances(self.club_id)
        assert sum(balances.values()) == 0, "trial balance"
        books = await books_service.books(self.club_id)
        assert books.cash == self.cash == balances.get(accounts.CASH, 0)
        assert books.cash >= 0
        assert {h.symbol: h.quantity for h in books.holdings if h.quantity} == {
            s: q for s, q in self.held.items() if q
        }
        memberships = await club_service.memberships(self.club_id)
        assert all(m.units >= 0 for m in memberships)
        # A settled charge never takes more than it asked for; its units and money agree.
        for c in await books_service.charges(self.club_id, self.owner):
            if c.status is ChargeStatus.SETTLED:
                assert c.charged is not None and c.units is not None
                assert 0 <= c.charged <= c.amount and c.units > 0
        latest = await books_service.club_valuations(self.club_id)
        if not latest:
            assert books.units == 0
            return
        valuation = latest[-1]
        # Units move only at valuations: the members' units are the valuation's units after.
        assert sum(m.units for m in memberships) == valuation.units_after == books.units
        # NAV at the valuation = its cash + market value − liabilities; a foreign holding is
        # worth quantity × price at the ECB rate of the valuation date, half-even.
        day = dt.date.fromisoformat(valuation.valuation_date)
        market = sum(self.booked(p.quantity * p.price, day) for p in valuation.positions)
        for p in valuation.positions:
            assert (p.currency is None) == (self.currency == "USD")
        assert valuation.market_value == market
        assert valuation.nav == valuation.cash + market - valuation.liabilities
        # Members' values add up to the NAV after settlement, within a paisa per member.
        club = await club_service.get(self.club_id)
        assert club is not None
        if valuation.units_after:
            uv = books_service.unit_value(club, valuation.nav_after, valuation.units_after)
            values = sum(uv.value_of(m.units) for m in memberships)
            assert abs(values - valuation.nav_after) <= len(memberships)


async def test_the_books_keep_their_invariants_under_random_steps() -> None:
    loop = asyncio.get_running_loop()

    class Bound(Books):
        pass

    Bound.loop = loop
    await asyncio.to_thread(run_state_machine_as_test, Bound, settings=PROFILE)
