"""Monthly dues (docs/domain.md, "Dues"; issue #14): a club may ask every member for a fixed
amount each month, due on a day of the month, late after some grace days, with a late fee.

A month's dues are *paid* once contributions marked with that month (``dues_month``) bring in
the amount — money that arrived, i.e. received or settled, never a checkout still open or a
manual payment not yet approved. Otherwise they are *pending* until the grace days end, then
*late*; a treasurer may *waive* them. Nothing is stored per month except waivers and the claims
of late fees: the grid is computed from the club's rule, the memberships and the contributions,
so it can never drift from the books.

The sweep (``do_sweep``, the worker's timer) reminds unpaid members in the days before the due
date, tells them when a month turns late, and charges the late fee once per member and month
(a member charge the club keeps: app/books). Every step is idempotent.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.service import audit_service, club_chain
from app.books.events import DUES_CHANGED, DuesChanged
from app.books.service import books_service
from app.clubs.documents import Club, Membership, MembershipStatus
from app.clubs.errors import MemberNotFound
from app.clubs.service import TREASURY, club_service
from app.db import run_in_transaction
from app.dues import repository
from app.dues.documents import DuesWaiver
from app.dues.errors import DuesAlreadySettled, NoDues
from app.dues.schemas import DuesCell, DuesGrid, DuesRow, DuesStatus
from app.logging import get_logger
from app.money import format_minor, money_text
from app.notifications.documents import NotificationKind
from app.notifications.service import Draft, notification_service
from app.realtime import events
from app.realtime.rooms import club_room

log = get_logger(__name__)

# Reminders go out this many days before the due date (and on it).
REMIND_DAYS = 3
# The sweep looks this many months back for late dues.
LOOKBACK_MONTHS = 12


def month_of(day: dt.date) -> str:
    """``date(2026, 12, 5)`` → ``"2026-12"``."""
    return f"{day.year:04d}-{day.month:02d}"


def months_up_to(last: str, count: int) -> list[str]:
    """``count`` months ending with ``last``, oldest first."""
    year, month = (int(x) for x in last.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def month_name(month: str) -> str:
    """``"2026-12"`` → ``"December 2026"``."""
    year, number = (int(x) for x in month.split("-"))
    return f"{calendar.month_name[number]} {year}"


def due_on(club: Club, month: str) -> dt.date:
    """The day ``month``'s dues fall due (``dues_day`` is 1–28, so every month has it)."""
    year, number = (int(x) for x in month.split("-"))
    return dt.date(year, number, club.dues_day)


def late_after(club: Club, month: str) -> dt.date:
    """The last day of grace: dues unpaid after it are late."""
    return due_on(club, month) + dt.timedelta(days=club.dues_grace_days)


@dataclass(frozen=True, slots=True)
class _Books:
    paid: dict[tuple[str, str], int]
    waived: dict[tuple[str, str], DuesWaiver]
    fees: set[tuple[str, str]]


class DuesService:
    """Takes the acting user's id explicitly; ``today`` is the UTC date unless given (tests)."""

    async def grid(
        self, club_id: str, actor_id: str, months: int, today: dt.date | None = None
    ) -> DuesGrid:
        """The members × months grid up to this month (the treasury: every active member; a
        member: their own row). Raises ``ClubNotFound`` for non-members."""
        club, me = await club_service.check_member(club_id, actor_id)
        today = today or dt.datetime.now(dt.UTC).date()
        span = months_up_to(month_of(today), months)
        members = await club_service.active_members(club_id)
        if me.role not in TREASURY:
            members = [m for m in members if m.user_id == actor_id]
        books = await self._books(club_id, span)
        rows = [
            DuesRow(user_id=m.user_id,
                    cells=[self._cell(club, m, month, books, today) for month in span])
            for m in members
        ]  # fmt: skip
        return DuesGrid(
            amount=format_minor(club.dues_amount), due_day=club.dues_day,
            grace_days=club.dues_grace_days, late_fee=format_minor(club.dues_late_fee),
            currency=club.currency, since=club.dues_since, months=span, rows=rows,
        )  # fmt: skip

    async def _books(self, club_id: str, months: list[str]) -> _Books:
        return _Books(
            paid=await books_service.dues_paid(club_id, months),
            waived=await repository.waivers(club_id, months),
            fees=await repository.late_fees(club_id, months),
        )

    @staticmethod
    def _status(club: Club, m: Membership, month: str, books: _Books, today: dt.date) -> DuesStatus:
        if not club.dues_amount or club.dues_since is None or month < club.dues_since:
            return "none"
        if month < month_of(m.joined_at.date()):
            return "none"
        key = (m.user_id, month)
        if key in books.waived:
            return "waived"
        if books.paid.get(key, 0) >= club.dues_amount:
            return "paid"
        return "late" if today > late_after(club, month) else "pending"

    def _cell(
        self, club: Club, m: Membership, month: str, books: _Books, today: dt.date
    ) -> DuesCell:
        key = (m.user_id, month)
        return DuesCell(
            month=month, status=self._status(club, m, month, books, today),
            due_on=due_on(club, month).isoformat(),
            late_after=late_after(club, month).isoformat(),
            paid=format_minor(books.paid.get(key, 0)), late_fee_charged=key in books.fees,
        )  # fmt: skip

    async def do_waive(
        self, club_id: str, actor_id: str, *, user_id: str, month: str, reason: str,
        today: dt.date | None = None,
    ) -> DuesWaiver:  # fmt: skip
        """Excuse a member from ``month``'s dues (owner/admin/treasurer), audited. A month not
        yet begun cannot be waived.

        Raises:
            ClubNotFound, RoleRequired, MemberNotFound, NoDues (no dues that month for that
            member), DuesAlreadySettled (already paid or waived).
        """
        club, _ = await club_service.check_member(club_id, actor_id, TREASURY)
        membership = await club_service.membership(club_id, user_id)
        if membership is None or membership.status is not MembershipStatus.ACTIVE:
            raise MemberNotFound("that person is not a member of this club")
        today = today or dt.datetime.now(dt.UTC).date()
        if month > month_of(today):
            raise NoDues("Only dues of this month or earlier can be waived.",
                         details={"month": month})  # fmt: skip
        books = await self._books(club_id, [month])
        status = self._status(club, membership, month, books, today)
        if status == "none":
            raise NoDues(f"There are no dues for {month_name(month)} for this member.",
                         details={"month": month})  # fmt: skip
        if status in ("paid", "waived"):
            raise DuesAlreadySettled(f"The dues for {month_name(month)} are already {status}.",
                                     details={"status": status})  # fmt: skip
        waiver = DuesWaiver(club_id=club_id, user_id=user_id, month=month, reason=reason,
                            waived_by=actor_id)  # fmt: skip
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> DuesWaiver:
            await repository.insert_waiver(waiver, session)
            await events.room_event(session, room, DUES_CHANGED, DuesChanged, club_id=club_id,
                                    user_id=user_id, month=month, change="waived")  # fmt: skip
            await audit_service.do_append(
                chain=club_chain(club_id), actor_id=actor_id, action="dues.waived",
                target_type="membership", target_id=user_id,
                details={"month": month, "reason": reason, "was": status}, session=session,
            )  # fmt: skip
            return waiver

        try:
            return await run_in_transaction(body)
        except DuplicateKeyError as exc:
            raise DuesAlreadySettled(f"The dues for {month_name(month)} are already waived.",
                                     details={"status": "waived"}) from exc  # fmt: skip

    async def do_sweep(self, today: dt.date | None = None) -> dict[str, int]:
        """Reminders before the due date, notices of late dues, late fees charged once (the
        worker's timer; idempotent). Returns how many of each this call made."""
        today = today or dt.datetime.now(dt.UTC).date()
        made = {"reminders": 0, "late": 0, "fees": 0}
        for club in await club_service.clubs_with_dues():
            try:
                counts = await self._sweep_club(club, today)
            except Exception as exc:  # one club's trouble never stops the others
                log.warning("dues sweep failed", club_id=str(club.id), error=str(exc))
                continue
            for name, count in counts.items():
                made[name] += count
        return made

    async def _sweep_club(self, club: Club, today: dt.date) -> dict[str, int]:
        club_id = str(club.id)
        current = month_of(today)
        span = [m for m in months_up_to(current, LOOKBACK_MONTHS)
                if club.dues_since is not None and m >= club.dues_since]  # fmt: skip
        if not span:
            return {"reminders": 0, "late": 0, "fees": 0}
        members = await club_service.active_members(club_id)
        books = await self._books(club_id, span)
        amount = money_text(club.dues_amount, club.currency)
        drafts: list[Draft] = []
        fees: list[tuple[Membership, str]] = []
        for m in members:
            for month in span:
                status = self._status(club, m, month, books, today)
                due = due_on(club, month)
                if (
                    status == "pending"
                    and month == current
                    and 0 <= (due - today).days <= REMIND_DAYS
                ):
                    drafts.append(Draft(
                        user_id=m.user_id, kind=NotificationKind.PAYMENT_DUE,
                        title=f"Dues for {month_name(month)} in {club.name}",
                        body=f"Your dues of {amount} for {month_name(month)} are due on "
                             f"{due.strftime('%d %b %Y')}.",
                        club_id=club_id, ref_type="dues", ref_id=month,
                        dedupe_key=f"dues-due:{club_id}:{m.user_id}:{month}",
                    ))  # fmt: skip
                if status == "late":
                    fee = (f" A late fee of {money_text(club.dues_late_fee, club.currency)} "
                           "is charged from your units." if club.dues_late_fee else "")  # fmt: skip
                    drafts.append(Draft(
                        user_id=m.user_id, kind=NotificationKind.PAYMENT_DUE,
                        title=f"Dues for {month_name(month)} are late in {club.name}",
                        body=f"Your dues of {amount} for {month_name(month)} were due on "
                             f"{due.strftime('%d %b %Y')} and are not paid yet.{fee}",
                        club_id=club_id, ref_type="dues", ref_id=month,
                        dedupe_key=f"dues-late:{club_id}:{m.user_id}:{month}",
                    ))  # fmt: skip
                    if club.dues_late_fee and (m.user_id, month) not in books.fees:
                        fees.append((m, month))
        stored = await notification_service.do_notify(drafts) if drafts else []
        turned_late = [
            (n.user_id, n.ref_id)
            for n in stored
            if n.dedupe_key and n.dedupe_key.startswith("dues-late:") and n.ref_id
        ]
        if turned_late:  # told once per member and month, like the notice
            await self._announce_late(club_id, turned_late)
        charged = 0
        for m, month in fees:
            charged += await self._charge_late_fee(club, m.user_id, month)
        late = sum(1 for n in stored if n.dedupe_key and n.dedupe_key.startswith("dues-late:"))
        return {"reminders": len(stored) - late, "late": late, "fees": charged}

    async def _announce_late(self, club_id: str, late: list[tuple[str, str]]) -> None:
        """``dues:changed`` (``late``) in the club's room for each (member, month) newly late."""
        room = club_room(club_id)
        await events.ensure_room(room)

        async def body(session: AsyncClientSession) -> None:
            for user_id, month in late:
                await events.room_event(session, room, DUES_CHANGED, DuesChanged,
                                        club_id=club_id, user_id=user_id, month=month,
                                        change="late")  # fmt: skip

        await run_in_transaction(body)

    async def _charge_late_fee(self, club: Club, user_id: str, month: str) -> int:
        claim = await repository.claim_late_fee(str(club.id), user_id, month)
        if claim is None:
            return 0
        try:
            charge = await books_service.do_charge_member(
                str(club.id), None, user_id=user_id, amount=club.dues_late_fee,
                reason=f"Late fee: dues for {month_name(month)}",
            )  # fmt: skip
        except Exception:
            await repository.release_late_fee(claim)
            raise
        await repository.set_late_fee_charge(claim, str(charge.id))
        return 1


dues_service = DuesService()
