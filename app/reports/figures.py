"""The figures of each report, taken from the same service functions and response schemas the
clubs API uses (app/clubs/routes.py), so a report equals the API to the paisa for the same date:
``books_service.valuation_at`` / ``unit_value`` / ``member_positions``, the journal, and
``ValuationStatement`` / ``MemberStatusRow`` / ``TrialBalanceRowOut`` for formatting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.books import statements
from app.books.documents import ContributionStatus
from app.books.schemas import MemberStatusRow, TrialBalanceRowOut, ValuationStatement
from app.books.service import books_service
from app.books.units import format_units
from app.clubs.documents import Club
from app.clubs.errors import MemberNotFound
from app.clubs.service import TREASURY, club_service
from app.crm.schemas import CrmReport
from app.crm.service import crm_service
from app.identity.directory import users_by_id
from app.identity.documents import User
from app.ledger.accounts import account_type
from app.ledger.service import ledger_service
from app.money import format_minor


@dataclass(frozen=True, slots=True)
class Person:
    """How a member is named in a report."""

    user_id: str
    name: str
    member_id: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.member_id})" if self.member_id else self.name


@dataclass(frozen=True, slots=True)
class NavPoint:
    """One valuation on the NAV / unit-value chart: NAV after settlements (paise) and the unit
    value shown (4-place string, as the API shows it)."""

    valuation_date: str
    nav: int
    unit_value: str


@dataclass(slots=True)
class Header:
    """Who, what and when, printed on every report."""

    club_id: str
    club_name: str
    currency: str
    title: str
    as_of: str  # the valuation date (or the ledger's cut-off) the figures are for
    generated_at: dt.datetime
    requested_by: Person


@dataclass(slots=True)
class ValuationStatementFigures:
    header: Header
    statement: ValuationStatement
    history: list[NavPoint]


@dataclass(slots=True)
class MemberStatusFigures:
    header: Header
    valuation_date: str
    unit_value: str
    rows: list[tuple[Person, MemberStatusRow]]
    totals: dict[str, str]
    history: list[NavPoint]


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One line of a journal entry: debit or credit shown as a two-place string."""

    date: str
    entry: str  # the entry's idempotency key (unique, stable)
    kind: str
    memo: str
    account: str
    account_label: str
    debit: str
    credit: str


@dataclass(slots=True)
class LedgerFigures:
    header: Header
    lines: list[LedgerLine]
    entries: int
    total_debit: str
    total_credit: str
    closing: list[tuple[str, TrialBalanceRowOut]]  # (label, row as the trial-balance API)
    closing_debit: str
    closing_credit: str
    history: list[NavPoint]


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A settlement in the member's capital account."""

    valuation_date: str
    kind: str  # contribution | withdrawal
    amount: str  # gross
    fee: str
    net: str
    units: str  # signed
    unit_value: str
    units_balance: str


@dataclass(slots=True)
class MemberStatementFigures:
    header: Header
    member: Person
    valuation_date: str
    unit_value: str
    row: MemberStatusRow
    lines: list[StatementLine]
    unsettled: list[tuple[str, str, str]] = field(default_factory=list)  # date, status, amount
    history: list[NavPoint] = field(default_factory=list)


@dataclass(slots=True)
class CrmPipelineFigures:
    """The CRM dashboard's figures of the requester's scope, exactly as ``GET
    /api/v1/crm/reports`` answers them (``crm_service.report``): conversion by source, agent
    and month, the funnel, leads by status, clients by segment and KYC compliance."""

    header: Header
    scope: str  # whose leads: "all", "team" or "own"
    report: CrmReport


Figures = (ValuationStatementFigures | MemberStatusFigures | LedgerFigures
           | MemberStatementFigures | CrmPipelineFigures)  # fmt: skip

TITLES = {
    "valuation_statement": "Valuation statement",
    "member_status": "Member status report",
    "transaction_ledger": "Transaction ledger",
    "member_statement": "Member statement",
    "crm_pipeline": "CRM pipeline report",
}


def _person(user_id: str, users: dict[str, User]) -> Person:
    user = users.get(user_id)
    if user is None:
        return Person(user_id, f"Member {user_id[-6:]}", "")
    return Person(user_id, user.full_name, user.member_id or "")


async def _history(club: Club, up_to: str | None) -> list[NavPoint]:
    points = []
    for v in await books_service.club_valuations(str(club.id)):
        if up_to is not None and v.valuation_date > up_to:
            break
        uv = books_service.unit_value(club, v.nav_after, v.units_after)
        points.append(NavPoint(v.valuation_date, v.nav_after, uv.display()))
    return points


async def _header(club: Club, kind: str, as_of: str, requester: str) -> Header:
    users = await users_by_id([requester])
    return Header(
        club_id=str(club.id), club_name=club.name, currency=club.currency, title=TITLES[kind],
        as_of=as_of, generated_at=dt.datetime.now(dt.UTC),
        requested_by=_person(requester, users),
    )  # fmt: skip


async def valuation_statement(
    club_id: str, requester: str, on: dt.date | None
) -> ValuationStatementFigures:
    """What ``GET /clubs/{id}/valuation-statement?date=`` answers, plus the NAV history."""
    club, v = await books_service.valuation_at(club_id, requester, on)
    statement = statements.valuation_statement(club, v)  # exactly what the API answers
    header = await _header(club, "valuation_statement", v.valuation_date, requester)
    return ValuationStatementFigures(header, statement, await _history(club, v.valuation_date))


async def member_status(club_id: str, requester: str, on: dt.date | None) -> MemberStatusFigures:
    """What ``GET /clubs/{id}/member-status?date=`` answers, with names and totals."""
    club, v = await books_service.valuation_at(club_id, requester, on)
    uv = books_service.unit_value(club, v.nav_after, v.units_after)
    positions = await books_service.member_positions(club, v)
    users = await users_by_id([p.user_id for p in positions])
    rows = [
        (_person(p.user_id, users), statements.member_status_row(p, v.units_after))
        for p in positions
    ]
    totals = {
        "paid_in": format_minor(sum(p.paid_in for p in positions)),
        "withdrawn": format_minor(sum(p.withdrawn for p in positions)),
        "charged": format_minor(sum(p.charged for p in positions)),
        "units": format_units(sum(p.units for p in positions)),
        "value": format_minor(sum(p.value for p in positions)),
    }
    header = await _header(club, "member_status", v.valuation_date, requester)
    return MemberStatusFigures(header, v.valuation_date, uv.display(), rows, totals,
                               await _history(club, v.valuation_date))  # fmt: skip


_ORDER = {kind: i for i, kind in enumerate(("assets", "liabilities", "equity", "income",
                                             "expenses"))}  # fmt: skip


def _account_label(account: str, users: dict[str, User]) -> str:
    parts = account.split(":")
    if account.startswith("equity:capital:") and len(parts) == 3:
        return f"Capital — {_person(parts[2], users).label}"
    return " / ".join(p.replace("_", " ").capitalize() for p in parts)


async def transaction_ledger(club_id: str, requester: str, on: dt.date | None) -> LedgerFigures:
    """Every journal line of the club with an accounting date on or before ``on`` (all when
    None), in date order, and the closing balances per account — the trial balance the API
    shows (``GET /clubs/{id}/trial-balance``) when ``on`` covers every entry."""
    club, _ = await club_service.check_member(club_id, requester)
    entries = await ledger_service.entries_up_to(club_id, on)
    capital_ids = {
        line.account.split(":")[2]
        for e in entries for line in e.lines if line.account.startswith("equity:capital:")
    }  # fmt: skip
    users = await users_by_id([*capital_ids, requester])
    lines: list[LedgerLine] = []
    balances: dict[str, int] = {}
    for entry in entries:
        for line in entry.lines:
            balances[line.account] = balances.get(line.account, 0) + line.amount
            lines.append(LedgerLine(
                date=entry.effective_date, entry=entry.idempotency_key, kind=entry.kind,
                memo=entry.memo, account=line.account,
                account_label=_account_label(line.account, users),
                debit=format_minor(line.amount) if line.amount > 0 else "",
                credit=format_minor(-line.amount) if line.amount < 0 else "",
            ))  # fmt: skip
    total_debit = sum(line.amount for e in entries for line in e.lines if line.amount > 0)
    rows = sorted(
        ((account, balance) for account, balance in balances.items() if balance != 0),
        key=lambda item: (_ORDER[account_type(item[0])], item[0]),
    )
    closing = [
        (_account_label(account, users),
         TrialBalanceRowOut(account=account, type=account_type(account),
                            debit=format_minor(max(balance, 0)),
                            credit=format_minor(max(-balance, 0))))
        for account, balance in rows
    ]  # fmt: skip
    as_of = on.isoformat() if on else (entries[-1].effective_date if entries else "—")
    return LedgerFigures(
        header=await _header(club, "transaction_ledger", as_of, requester), lines=lines,
        entries=len(entries), total_debit=format_minor(total_debit),
        total_credit=format_minor(total_debit),
        closing=closing, closing_debit=format_minor(sum(max(b, 0) for _, b in rows)),
        closing_credit=format_minor(sum(max(-b, 0) for _, b in rows)),
        history=await _history(club, on.isoformat() if on else None),
    )  # fmt: skip


async def member_statement(
    club_id: str, requester: str, member_id: str, on: dt.date | None
) -> MemberStatementFigures:
    """One member's capital account: every settlement up to the valuation on or before ``on``
    with the running units, and the member's row of ``GET /clubs/{id}/member-status``. A
    member sees their own; owner/admin/treasurer anyone's (else ``RoleRequired``;
    ``MemberNotFound`` for someone who never held units here)."""
    if member_id != requester:
        await club_service.check_member(club_id, requester, TREASURY)
    club, v = await books_service.valuation_at(club_id, requester, on)
    uv = books_service.unit_value(club, v.nav_after, v.units_after)
    positions = {p.user_id: p for p in await books_service.member_positions(club, v)}
    if member_id not in positions:
        raise MemberNotFound("no such member in this club", details={"member_id": member_id})
    row = statements.member_status_row(positions[member_id], v.units_after)
    lines: list[StatementLine] = []
    balance = 0
    for past in await books_service.club_valuations(club_id):
        if past.valuation_date > v.valuation_date:
            break
        for s in past.settlements:
            if s.user_id != member_id:
                continue
            balance += s.units
            net = s.amount if s.kind == "contribution" else s.amount - s.fee
            lines.append(StatementLine(
                valuation_date=past.valuation_date, kind=s.kind, amount=format_minor(s.amount),
                fee=format_minor(s.fee), net=format_minor(net), units=format_units(s.units),
                unit_value=past.unit_value, units_balance=format_units(balance),
            ))  # fmt: skip
    unsettled = []
    if on is None:
        for c in await books_service.member_contributions(club_id, member_id):
            if c.status in (ContributionStatus.RECEIVED, ContributionStatus.PENDING_APPROVAL,
                            ContributionStatus.APPROVED):  # fmt: skip
                unsettled.append((c.payment_date or c.created_at.date().isoformat(),
                                  c.status.value, format_minor(c.amount)))  # fmt: skip
    users = await users_by_id([member_id])
    return MemberStatementFigures(
        header=await _header(club, "member_statement", v.valuation_date, requester),
        member=_person(member_id, users), valuation_date=v.valuation_date,
        unit_value=uv.display(), row=row, lines=lines, unsettled=sorted(unsettled),
        history=await _history(club, v.valuation_date),
    )  # fmt: skip


async def crm_pipeline(requester: str, on: dt.date | None) -> CrmPipelineFigures:
    """The CRM pipeline report of ``requester``'s scope, taken from ``crm_service.report`` (the
    same figures as the dashboard). Raises ``Forbidden`` when they hold no CRM role now."""
    actor = await crm_service.staff_actor(requester)
    report = await crm_service.report(actor, None, None)
    users = await users_by_id([requester])
    scope = {"admin": "all", "crm_manager": "team"}.get(actor.role, "own")
    header = Header(
        club_id="crm", club_name=f"CRM — {'all leads' if scope == 'all' else f'{scope} leads'}",
        currency="INR", title=TITLES["crm_pipeline"],
        as_of=(on or dt.datetime.now(dt.UTC).date()).isoformat(),
        generated_at=dt.datetime.now(dt.UTC), requested_by=_person(requester, users),
    )  # fmt: skip
    return CrmPipelineFigures(header, scope, report)
