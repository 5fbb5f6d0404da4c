"""A client's investments, asked of the clubs and books services (never its repository): each
club they are an active member of, their units, money paid in and withdrawn, and their value
at the club's latest valuation. One module, so the clubs → books move touches one place."""

from __future__ import annotations

from dataclasses import dataclass

from app.books.errors import InvalidValuation
from app.books.service import books_service
from app.clubs.service import club_service


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
