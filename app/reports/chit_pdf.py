"""PDF renderings of chit funds for the registrar and the foreman (reportlab, the same look as
the club reports): the minutes of a month's auction (bids in order, attendance, eligibility,
the winner and any draw by lot, the arithmetic that balances: chit amount = prize + commission
+ Σ shares, every ticket's share and next net instalment) and the monthly report of a scheme
(the month's dues and collections per ticket, defaulters, the auction, the prize payout, and
the scheme's trial balance). Amounts are the chit service's figures, printed with Indian digit
grouping."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from app.money import format_minor
from app.reports.figures import Header, Person
from app.reports.pdf_render import (
    BAND_H,
    BODY,
    CONTENT_W,
    H1,
    H2,
    MARGIN,
    SMALL,
    _cards,
    _NumberedCanvas,
    _page_decor,
    _table,
    esc,
    group_indian,
)


def rupees(paise: int) -> str:
    """Symbol-less Indian-grouped amount of ``paise``: ``5000000`` → ``"50,000.00"``. The PDF's
    built-in Helvetica has no rupee sign, so amounts are labelled "Rs." where a sign is wanted."""
    return group_indian(format_minor(paise))


@dataclass(slots=True)
class TicketLine:
    """One ticket in a report: who holds it and the month's figures (paise)."""

    ticket: int
    name: str
    member_id: str
    status: str
    prized_month: int | None
    due: int = 0
    paid: int = 0
    dividend: int = 0
    penalty: int = 0
    balance: int = 0
    share: int = 0
    net_instalment: int = 0


@dataclass(slots=True)
class MinutesFigures:
    """What the minutes of one auction print."""

    header: Header
    scheme: dict[str, Any]
    month: int
    opens_at: dt.datetime
    ends_at: dt.datetime
    closed_at: dt.datetime | None
    method: str
    winner_ticket: int
    winner_name: str
    discount: int
    prize: int
    commission: int
    bids: list[tuple[int, dt.datetime, int, str, int]]  # seq, at, ticket, name, discount
    eligible: list[int]
    attendance: list[str]
    draw: dict[str, Any] | None
    tickets: list[TicketLine]


@dataclass(slots=True)
class MonthlyFigures:
    """What the monthly report of a scheme prints."""

    header: Header
    scheme: dict[str, Any]
    month: int
    tickets: list[TicketLine]
    auction: dict[str, Any] | None
    payout: dict[str, Any] | None
    commission_to_date: int
    trial_balance: list[tuple[str, int]] = field(default_factory=list)


METHODS = {
    "foreman": "the foreman's month, taken without discount (s.21(1)(a) of the Act)",
    "highest_bid": "the highest discount bid",
    "tie_lot": "a tie at the highest discount, drawn by lot",
    "no_bid_lot": "no bid: drawn by lot among the eligible at the minimum bid",
}


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "—"
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%d %b %Y %H:%M:%S UTC")


def _scheme_line(s: dict[str, Any]) -> str:
    return (
        f"Chit amount Rs. {rupees(s['chit_amount'])} · {s['subscribers']} subscribers × "
        f"Rs. {rupees(s['instalment'])} · commission {s['commission_bps'] / 100:.2f}% "
        f"(Rs. {rupees(s['commission'])}) out of the {s['commission_source']} · minimum bid "
        f"Rs. {rupees(s['min_bid'])}, steps of Rs. {rupees(s['bid_step'])}, maximum discount "
        f"Rs. {rupees(s['max_discount'])} · foreman {esc(s['foreman'])}"
    )


def _minutes(f: MinutesFigures) -> list[Any]:
    shares = sum(t.share for t in f.tickets)
    balanced = f.prize + f.commission + shares == f.scheme["chit_amount"]
    story: list[Any] = [
        Paragraph(esc(f"Minutes of the auction — month {f.month}"), H1),
        Spacer(1, 1.5 * mm),
        Paragraph(esc(f.header.club_name), BODY),
        Paragraph(_scheme_line(f.scheme), SMALL),
        Spacer(1, 3 * mm),
        _cards(
            [
                ("Winner", f"Ticket {f.winner_ticket}"),
                ("Discount", f"Rs. {rupees(f.discount)}"),
                ("Prize", f"Rs. {rupees(f.prize)}"),
                ("Commission", f"Rs. {rupees(f.commission)}"),
            ]
        ),
        Paragraph("Proceedings", H2),
        Paragraph(
            f"Opened {_when(f.opens_at)}; bidding to end {_when(f.ends_at)}; closed "
            f"{_when(f.closed_at)}. Decided by {METHODS.get(f.method, f.method)}. Ticket "
            f"{f.winner_ticket} ({esc(f.winner_name)}) takes the prize of Rs. {rupees(f.prize)}.",
            BODY,
        ),
        Paragraph(
            "Eligible to bid (paid up, not prized, not defaulted): tickets "
            f"{', '.join(map(str, f.eligible)) or 'none'}. Present: "
            f"{esc(', '.join(f.attendance)) or 'nobody recorded'}.",
            BODY,
        ),
        Paragraph("Bids, in the order accepted", H2),
    ]
    if f.bids:
        rows = [
            [str(seq), _when(at), str(ticket), esc(name), rupees(amount)]
            for seq, at, ticket, name, amount in f.bids
        ]
        widths = [12 * mm, 48 * mm, 16 * mm, CONTENT_W - 116 * mm, 40 * mm]
        story.append(
            _table(
                ["#", "Accepted at", "Ticket", "Bidder", "Discount (Rs.)"], rows, widths, {0, 2, 4}
            )
        )
    else:
        story.append(Paragraph("No bid was placed.", BODY))
    if f.draw:
        story += [
            Paragraph("Draw by lot", H2),
            Paragraph(
                f"Reason: {esc(str(f.draw.get('reason')))}; candidates: tickets "
                f"{', '.join(map(str, f.draw.get('candidates', [])))}; chosen: ticket "
                f"{f.draw.get('chosen')}. Method: {esc(str(f.draw.get('method')))}. Seed (anyone "
                f"can recompute it from the auction id and its bids): "
                f"{esc(str(f.draw.get('seed')))}.",
                SMALL,
            ),
        ]
    story += [
        Paragraph("The month's arithmetic", H2),
        _table(
            ["", "Amount (Rs.)"],
            [
                ["Prize", rupees(f.prize)],
                ["Foreman's commission", rupees(f.commission)],
                ["Shares of discount, all tickets", rupees(shares)],
                ["Chit amount", rupees(f.scheme["chit_amount"])],
            ],
            [CONTENT_W - 50 * mm, 50 * mm],
            {1},
            total=True,
        ),
        Paragraph(
            "Chit amount = prize + commission + Σ shares: "
            + ("balances exactly." if balanced else "DOES NOT BALANCE."),
            SMALL,
        ),
        Paragraph("Share of discount and next month's net instalment per ticket", H2),
        _table(
            ["Ticket", "Subscriber", "Member id", "Share (Rs.)", "Next net instalment (Rs.)"],
            [
                [
                    str(t.ticket),
                    esc(t.name),
                    esc(t.member_id),
                    rupees(t.share),
                    rupees(t.net_instalment),
                ]
                for t in f.tickets
            ],
            [16 * mm, CONTENT_W - 132 * mm, 40 * mm, 32 * mm, 44 * mm],
            {0, 3, 4},
        ),
        Spacer(1, 10 * mm),
        Paragraph(
            "Signed: ______________________ (foreman)    ______________________ (subscriber)    "
            "______________________ (subscriber)",
            SMALL,
        ),
        Paragraph(
            "To be signed by the foreman and at least two subscribers present, and filed with "
            "the Registrar (Chit Funds Act, 1982, s.17).",
            SMALL,
        ),
    ]
    return story


def _monthly(f: MonthlyFigures) -> list[Any]:
    due = sum(t.due + t.penalty for t in f.tickets)
    paid = sum(t.paid for t in f.tickets)
    story: list[Any] = [
        Paragraph(esc(f"Monthly report — month {f.month}"), H1),
        Spacer(1, 1.5 * mm),
        Paragraph(esc(f.header.club_name), BODY),
        Paragraph(_scheme_line(f.scheme), SMALL),
        Spacer(1, 3 * mm),
        _cards(
            [
                ("Called this month", f"Rs. {rupees(due)}"),
                ("Collected", f"Rs. {rupees(paid)}"),
                ("Outstanding", f"Rs. {rupees(sum(max(0, t.balance) for t in f.tickets))}"),
                ("Commission to date", f"Rs. {rupees(f.commission_to_date)}"),
            ]
        ),
        Paragraph("Dues and collections", H2),
        _table(
            [
                "Ticket",
                "Subscriber",
                "Status",
                "Due (Rs.)",
                "Paid (Rs.)",
                "Dividend (Rs.)",
                "Penalty (Rs.)",
                "Balance (Rs.)",
            ],
            [
                [
                    str(t.ticket),
                    esc(t.name),
                    t.status.title(),
                    rupees(t.due),
                    rupees(t.paid),
                    rupees(t.dividend),
                    rupees(t.penalty),
                    rupees(t.balance),
                ]
                for t in f.tickets
            ],
            [14 * mm, CONTENT_W - 144 * mm, 18 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm, 24 * mm],
            {0, 3, 4, 5, 6, 7},
        ),
    ]
    defaulters = [t for t in f.tickets if t.status == "DEFAULTED" or t.balance > 0]
    story.append(Paragraph("Defaulters and arrears", H2))
    story.append(
        Paragraph(
            "; ".join(
                f"ticket {t.ticket} ({esc(t.name)}) owes Rs. {rupees(t.balance)}"
                for t in defaulters
            )
            or "None: every ticket is paid up.",
            BODY,
        )
    )
    story.append(Paragraph("The month's auction", H2))
    if f.auction:
        a = f.auction
        how = METHODS.get(a["method"], a["method"])
        story.append(
            Paragraph(
                f"Ticket {a['winner_ticket']} took the chit ({how})"
                f": discount Rs. {rupees(a['discount'])}, prize Rs. {rupees(a['prize'])}, "
                f"commission Rs. {rupees(a['commission'])}.",
                BODY,
            )
        )
    else:
        story.append(Paragraph("Not held yet.", BODY))
    if f.payout:
        p = f.payout
        story.append(
            Paragraph(
                f"Prize payout: Rs. {rupees(p['amount'])} {p['status'].lower()}"
                f"{' (reference ' + esc(p['reference']) + ')' if p.get('reference') else ''}"
                f"{'; Rs. ' + rupees(p['withheld']) + ' withheld against the instalments to come' if p.get('withheld') else ''}.",  # noqa: E501
                BODY,
            )
        )
    story.append(Paragraph("Trial balance of the scheme's books", H2))
    rows = [[esc(account), rupees(balance)] for account, balance in f.trial_balance]
    rows.append(["Total (debits positive)", rupees(sum(b for _, b in f.trial_balance))])
    story.append(
        _table(["Account", "Balance (Rs.)"], rows, [CONTENT_W - 50 * mm, 50 * mm], {1}, total=True)
    )
    return story


def render_chit_pdf(figures: MinutesFigures | MonthlyFigures) -> bytes:
    """The PDF of the minutes or of the monthly report."""
    buffer = io.BytesIO()
    header = figures.header
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=BAND_H + 8 * mm,
        bottomMargin=18 * mm,
        title=f"{header.title} — {header.club_name}",
        author="Samooh",
        subject=f"{header.title}, month {figures.month}",
        creator="Samooh reports",
    )
    story = _minutes(figures) if isinstance(figures, MinutesFigures) else _monthly(figures)
    footer = f"Samooh · {header.club_name} · {header.title} · amounts exact to the paisa"
    decor = _page_decor(header, footer)
    doc.build(story, onFirstPage=decor, onLaterPages=decor, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


__all__ = ["MinutesFigures", "MonthlyFigures", "Person", "TicketLine", "render_chit_pdf"]
