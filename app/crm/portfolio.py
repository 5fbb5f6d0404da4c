"""A client's investments, asked of the clubs, books and advisory services (never their
repositories): each club they are an active member of (units, money paid in and withdrawn,
value at the club's latest valuation), their personal advisory accounts valued now, and the
totals per currency and converted into one currency at the ECB reference rate (app/fx.py).
One module, so the clubs → books move touches one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis.asyncio import Redis

from app.advisory.documents import AccountKind
from app.advisory.errors import AccountNotFound, NoPrice
from app.advisory.service import advisory_service
from app.books.errors import InvalidValuation
from app.books.service import books_service
from app.clubs.service import club_service
from app.fx import FxRate, FxRateUnavailable, rate


@dataclass(frozen=True, slots=True)
class Investment:
    """One club stake: paise and micro-units; ``valuation_date`` None before any valuation."""

    club_id: str
    club_name: str
    currency: str
    valuation_date: str | None
    units: int
    paid_in: int
    withdrawn: int
    value: int


@dataclass(frozen=True, slots=True)
class Transaction:
    """One contribution of the member to a club (paise, the club's currency)."""

    club_id: str
    club_name: str
    kind: str
    amount: int
    currency: str
    status: str
    on: str  # ISO date the money arrived, else the day it was opened


async def transactions_of(user_id: str, limit: int = 100) -> list[Transaction]:
    """The member's contributions across their clubs, newest first."""
    out: list[Transaction] = []
    for club, _membership in await club_service.list_clubs(user_id):
        for c in await books_service.member_contributions(str(club.id), user_id):
            out.append(Transaction(
                str(club.id), club.name, "contribution", c.amount, c.currency, c.status.value,
                c.payment_date or c.created_at.date().isoformat(),
            ))  # fmt: skip
    return sorted(out, key=lambda t: t.on, reverse=True)[:limit]


async def investments_of(user_id: str) -> list[Investment]:
    """The member's stakes in every club they belong to, by club name."""
    out: list[Investment] = []
    for club, _membership in await club_service.list_clubs(user_id):
        club_id = str(club.id)
        try:
            _, valuation = await books_service.valuation_at(club_id, user_id, None)
        except InvalidValuation:
            out.append(Investment(club_id, club.name, club.currency, None, 0, 0, 0, 0))
            continue
        positions = await books_service.member_positions(club, valuation)
        mine = next((p for p in positions if p.user_id == user_id), None)
        out.append(Investment(
            club_id, club.name, club.currency, valuation.valuation_date,
            mine.units if mine else 0, mine.paid_in if mine else 0,
            mine.withdrawn if mine else 0, mine.value if mine else 0,
        ))  # fmt: skip
    return sorted(out, key=lambda i: i.club_name.lower())


@dataclass(frozen=True, slots=True)
class PersonalAccount:
    """A personal advisory account valued now (minor units of ``currency``); ``value`` None
    when it cannot be priced (no quote, no ECB rate)."""

    account_id: str
    name: str
    currency: str
    value: int | None


async def personal_accounts_of(user_id: str, redis: Redis) -> list[PersonalAccount]:
    """The person's own advisory accounts (not their clubs'), each valued at the latest
    quotes through the advisory service, by name."""
    out: list[PersonalAccount] = []
    for account in await advisory_service.accounts(user_id):
        if account.kind is not AccountKind.PERSONAL or account.owner_id != user_id:
            continue
        try:
            held = await advisory_service.holdings(account.account_id, user_id, redis, account)
            value: int | None = held.total
        except (NoPrice, FxRateUnavailable, AccountNotFound):
            value = None
        out.append(PersonalAccount(account.account_id, account.name, account.currency, value))
    return sorted(out, key=lambda a: a.name.lower())


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums per currency (``value`` of clubs and priced personal accounts; ``paid_in`` of
    clubs: a personal account records no paid-in figure), and all of it in ``currency`` at the
    ECB rates of ``on`` (``rates``); ``value``/``paid_in`` None when a rate is missing."""

    per_currency: dict[str, tuple[int, int]]
    currency: str
    value: int | None
    paid_in: int | None
    rates: list[FxRate]


async def totals(
    stakes: list[Investment], accounts: list[PersonalAccount], currency: str, on: dt.date
) -> Totals:
    """Add the client's holdings per currency, then convert each currency's sums into
    ``currency`` at the ECB reference rate of ``on`` (half-even per currency, then summed)."""
    per: dict[str, tuple[int, int]] = {}
    for s in stakes:
        value, paid = per.get(s.currency, (0, 0))
        per[s.currency] = (value + s.value, paid + s.paid_in)
    for a in accounts:
        if a.value is None:
            continue
        value, paid = per.get(a.currency, (0, 0))
        per[a.currency] = (value + a.value, paid)
    rates: list[FxRate] = []
    total_value: int | None = 0
    total_paid: int | None = 0
    for code, (value, paid) in sorted(per.items()):
        try:
            fx = await rate(code, currency, on)
        except FxRateUnavailable:
            total_value = total_paid = None
            continue
        if code != currency:
            rates.append(fx)
        if total_value is not None and total_paid is not None:
            total_value += fx.convert(value)
            total_paid += fx.convert(paid)
    return Totals(dict(sorted(per.items())), currency, total_value, total_paid, rates)
