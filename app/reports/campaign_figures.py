"""Crowdfunding statements (issue 16, "Statements per investor and per campaign"), built from
the campaigns service (the same figures as its API, amounts as its decimal strings):

* the investor statement: every investment of one person and what became of it, the money
  paid back to them (refunds) and out to them (profit shares), and the totals;
* the campaign statement (its owner and admins): the campaign, every investment, every
  transfer out (refunds, the release, profit shares), its profit reports and its ledger
  balances (which sum to zero).

Both are ``TabularFigures``: cards, ``field,value`` facts and titled tables, which the CSV and
PDF renderers lay out the same way for any statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.campaigns.service import campaign_service
from app.identity.directory import users_by_id
from app.ledger.service import ledger_service
from app.money import format_minor
from app.reports.figures import Header, Person


@dataclass(slots=True)
class Section:
    """One titled table: ``columns``, ``rows`` (strings), which columns are amounts, and an
    optional total row."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    total: list[str] | None = None


@dataclass(slots=True)
class TabularFigures:
    """A statement as cards, facts and tables (``header.club_name`` names what it is about)."""

    header: Header
    subtitle: str
    cards: list[tuple[str, str]]
    facts: list[tuple[str, str]]
    sections: list[Section]


def _day(value: dt.datetime | None) -> str:
    return value.date().isoformat() if value else ""


async def _person(user_id: str) -> Person:
    users = await users_by_id([user_id])
    user = users.get(user_id)
    return Person(
        user_id, user.full_name if user else user_id, (user.member_id or "") if user else ""
    )


async def investor_statement(user_id: str, now: dt.datetime) -> TabularFigures:
    """Everything ``user_id`` invested in campaigns and got back or out, as of ``now``."""
    me = await _person(user_id)
    investments = await campaign_service.investments_of(user_id)
    campaigns = await campaign_service.campaigns_by_ids(
        sorted({i.campaign_id for i in investments})
    )
    transfers = await campaign_service.transfers(user_id=user_id)
    paid_in = [i for i in investments if i.payment_id]
    invested = sum(i.amount for i in paid_in)
    refunded = sum(i.amount for i in paid_in if i.status == "refunded")
    shares = [t for t in transfers if t.kind == "profit_share"]
    received = sum(t.amount for t in shares if t.status == "paid")
    still_in = invested - refunded
    rows = [
        [
            _day(i.created_at),
            campaigns[i.campaign_id].title if i.campaign_id in campaigns else i.campaign_id,
            i.status.value,
            format_minor(i.requested),
            format_minor(i.amount),
            _day(i.completed_at),
            _day(i.refunded_at),
        ]
        for i in sorted(investments, key=lambda i: i.created_at)
    ]
    out_rows = [
        [
            _day(t.paid_at or t.created_at),
            t.kind.value.replace("_", " "),
            campaigns[t.campaign_id].title if t.campaign_id in campaigns else t.campaign_id,
            t.status.value,
            format_minor(t.amount),
            t.provider_ref or "",
        ]
        for t in sorted(transfers, key=lambda t: t.created_at)
        if t.kind in ("profit_share", "refund")
    ]
    header = Header(
        club_id="",
        club_name=me.name,
        currency="INR",
        title="Investor statement",
        as_of=now.date().isoformat(),
        generated_at=now,
        requested_by=me,
    )
    totals = [
        ("invested", format_minor(invested)),
        ("refunded", format_minor(refunded)),
        ("still_invested", format_minor(still_in)),
        ("profit_received", format_minor(received)),
        ("return_pct", f"{received * 100 / still_in:.4f}" if still_in else "0.0000"),
    ]

    return TabularFigures(
        header=header,
        subtitle=f"Crowdfunding investments of {me.label}: what was paid in, refunded and "
        "received as profit.",
        cards=[
            ("Invested", format_minor(invested)),
            ("Refunded", format_minor(refunded)),
            ("Profit received", format_minor(received)),
        ],
        facts=[("investor", me.name), ("user_id", user_id), *totals],
        sections=[
            Section(
                "Investments",
                ["date", "campaign", "status", "requested", "amount", "completed", "refunded"],
                rows,
                {3, 4},
                ["TOTAL PAID IN", "", "", "", format_minor(invested), "", ""],
            ),
            Section(
                "Money back and profit shares",
                ["date", "kind", "campaign", "status", "amount", "reference"],
                out_rows,
                {4},
            ),
        ],
    )


async def campaign_statement(campaign_id: str, requester: str, now: dt.datetime) -> TabularFigures:
    """One campaign's money, as of ``now``: investments, transfers out, profit reports and
    its ledger balances (the caller checked the requester may see them)."""
    campaign = await campaign_service.get(campaign_id)
    by = await _person(requester)
    investments = await campaign_service.investments(campaign, requester, True)
    names = await users_by_id(sorted({i.user_id for i in investments}))
    transfers = await campaign_service.transfers(campaign_id=campaign_id)
    reports = await campaign_service.reports(campaign_id)
    balances = await ledger_service.balances(campaign_id)

    def name(user_id: str) -> str:
        return names[user_id].full_name if user_id in names else user_id

    paid = [i for i in investments if i.payment_id]
    inv_rows = [
        [
            _day(i.created_at),
            name(i.user_id),
            i.status.value,
            format_minor(i.amount),
            _day(i.completed_at),
            _day(i.refunded_at),
        ]
        for i in sorted(investments, key=lambda i: i.created_at)
    ]
    out_rows = [
        [
            _day(t.paid_at or t.created_at),
            t.kind.value.replace("_", " "),
            name(t.user_id) if t.user_id != campaign.owner_id else "owner",
            t.status.value,
            format_minor(t.amount),
            str(t.attempts),
            t.provider_ref or "",
        ]
        for t in sorted(transfers, key=lambda t: t.created_at)
    ]
    report_rows = [
        [
            r.period_start,
            r.period_end,
            r.status.value,
            format_minor(r.profit),
            format_minor(r.pool),
            str(len(r.shares)),
        ]
        for r in reports
    ]
    people = await users_by_id(sorted({a.rsplit(":", 1)[1] for a in balances if a.count(":") > 1}))

    def account_label(account: str) -> str:
        """``liabilities:investor_funds:<user>`` → ``… (name)``: whose money it is."""
        user = account.rsplit(":", 1)[1]
        if account.count(":") > 1 and user in people:
            return f"{account} ({people[user].full_name})"
        return account

    ledger_rows = [
        [account_label(account), format_minor(amount)]
        for account, amount in sorted(balances.items())
    ]
    header = Header(
        club_id=campaign_id,
        club_name=campaign.title,
        currency=campaign.currency,
        title="Campaign statement",
        as_of=now.date().isoformat(),
        generated_at=now,
        requested_by=by,
    )
    return TabularFigures(
        header=header,
        subtitle=f"{campaign.city} · {campaign.category} · {campaign.status.value}: every "
        "investment, every payment out, its profit reports and its ledger.",
        cards=[
            ("Goal", format_minor(campaign.goal)),
            ("Raised", format_minor(campaign.raised)),
            ("Investors", str(campaign.investor_count)),
            ("Escrow", format_minor(balances.get("assets:escrow", 0))),
        ],
        facts=[
            ("campaign", campaign.title),
            ("campaign_id", campaign_id),
            ("status", campaign.status.value),
            ("goal", format_minor(campaign.goal)),
            ("raised", format_minor(campaign.raised)),
            ("investors", str(campaign.investor_count)),
            ("profit_share_pct", f"{campaign.profit_share_bps / 100:.2f}"),
            ("ends_at", campaign.ends_at.isoformat(timespec="seconds")),
        ],
        sections=[
            Section(
                "Investments",
                ["date", "investor", "status", "amount", "completed", "refunded"],
                inv_rows,
                {3},
                ["TOTAL PAID IN", "", "", format_minor(sum(i.amount for i in paid)), "", ""],
            ),
            Section(
                "Payments out",
                ["date", "kind", "to", "status", "amount", "attempts", "reference"],
                out_rows,
                {4},
            ),
            Section(
                "Profit reports",
                ["from", "to", "status", "profit", "investors_pool", "shares"],
                report_rows,
                {3, 4},
            ),
            Section(
                "Ledger balances",
                ["account", "balance"],
                ledger_rows,
                {1},
                ["SUM", format_minor(sum(balances.values()))],
            ),
        ],
    )
