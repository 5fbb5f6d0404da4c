"""CSV renderings. Each file starts with ``field,value`` rows naming the report, club and date,
then a blank line, then its table(s) with a header row; amounts are the API's two-place
strings (no grouping), units six places, percentages four; a valuation statement's holdings name
their currency and, for one quoted in another, its foreign price and value and the ECB rate
with its date (``HOLDING_COLUMNS``). Text cells that a spreadsheet would
run as a formula (``= + - @``) are prefixed with ``'`` (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from app.books.schemas import PositionOut
from app.money import format_basis_points
from app.reports.campaign_figures import TabularFigures
from app.reports.figures import (
    CrmPipelineFigures,
    Figures,
    Header,
    LedgerFigures,
    MemberStatementFigures,
    MemberStatusFigures,
    ValuationStatementFigures,
)


def text(value: str) -> str:
    """A free-text cell made safe for spreadsheets."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _meta(header: Header, kind: str, extra: Iterable[tuple[str, str]] = ()) -> list[list[str]]:
    rows = [
        ["report", kind], ["club", text(header.club_name)], ["club_id", header.club_id],
        ["as_of", header.as_of], ["currency", header.currency],
        ["generated_at", header.generated_at.isoformat(timespec="seconds")],
        ["requested_by", text(header.requested_by.label)],
    ]  # fmt: skip
    rows.extend([k, v] for k, v in extra)
    return rows


def _tabular(kind: str, f: TabularFigures) -> list[list[str]]:
    """A crowdfunding statement: ``field,value`` facts, then each table under its title."""
    h = f.header
    rows = [["report", kind], ["as_of", h.as_of], ["currency", h.currency],
            ["generated_at", h.generated_at.isoformat(timespec="seconds")],
            ["requested_by", text(h.requested_by.label)]]  # fmt: skip
    rows += [[k, text(v)] for k, v in f.facts]
    for section in f.sections:
        rows += [[], [text(section.title)], section.columns]
        rows += [[text(cell) for cell in row] for row in section.rows]
        if section.total is not None:
            rows.append(section.total)
    return rows


def render_csv(kind: str, figures: Figures | TabularFigures) -> bytes:
    """The CSV of ``figures`` (UTF-8 with a BOM, so spreadsheets read names right)."""
    rows: list[list[str]] = []
    if isinstance(figures, TabularFigures):
        rows = _tabular(kind, figures)
    elif isinstance(figures, ValuationStatementFigures):
        s = figures.statement
        rows += _meta(figures.header, kind, [
            ("valuation_date", s.valuation_date), ("nav", s.nav), ("unit_value", s.unit_value),
            ("units_outstanding", s.units_outstanding), ("cash", s.cash),
            ("market_value", s.market_value), ("liabilities", s.liabilities),
        ])  # fmt: skip
        rows += [[], HOLDING_COLUMNS]
        rows += [_holding(h, figures.header.currency) for h in s.holdings]
        rows += [[], ["valuation_date", "nav", "unit_value"]]
        rows += [[p.valuation_date, _money(p.nav), p.unit_value] for p in figures.history]
    elif isinstance(figures, MemberStatusFigures):
        rows += _meta(figures.header, kind, [("valuation_date", figures.valuation_date),
                                             ("unit_value", figures.unit_value)])  # fmt: skip
        rows += [[], ["user_id", "name", "member_id", "role", "active", "paid_in", "withdrawn",
                      "charged", "units", "value", "ownership_pct", "return_pct"]]  # fmt: skip
        for person, r in figures.rows:
            rows.append([r.user_id, text(person.name), person.member_id, r.role,
                         "yes" if r.active else "no", r.paid_in, r.withdrawn, r.charged,
                         r.units, r.value, r.ownership_pct, r.return_pct])  # fmt: skip
        t = figures.totals
        rows.append(["TOTAL", "", "", "", "", t["paid_in"], t["withdrawn"], t["charged"],
                     t["units"], t["value"], "100.0000" if figures.rows else "0.0000",
                     ""])  # fmt: skip
    elif isinstance(figures, LedgerFigures):
        rows += _meta(figures.header, kind, [("entries", str(figures.entries))])
        rows += [[], ["date", "entry", "kind", "memo", "account", "debit", "credit"]]
        for line in figures.lines:
            rows.append([line.date, line.entry, line.kind, text(line.memo), line.account,
                         line.debit, line.credit])  # fmt: skip
        rows.append(["TOTAL", "", "", "", "", figures.total_debit, figures.total_credit])
        rows += [[], ["account", "label", "type", "debit", "credit"]]
        for label, row in figures.closing:
            rows.append([row.account, text(label), row.type, row.debit, row.credit])
        rows.append(["TOTAL", "", "", figures.closing_debit, figures.closing_credit])
    elif isinstance(figures, MemberStatementFigures):
        r = figures.row
        rows += _meta(figures.header, kind, [
            ("member", text(figures.member.name)), ("member_id", figures.member.member_id),
            ("user_id", figures.member.user_id), ("valuation_date", figures.valuation_date),
            ("unit_value", figures.unit_value), ("paid_in", r.paid_in),
            ("withdrawn", r.withdrawn), ("charged", r.charged), ("units", r.units),
            ("value", r.value),
            ("ownership_pct", r.ownership_pct), ("return_pct", r.return_pct),
        ])  # fmt: skip
        rows += [[], ["valuation_date", "kind", "amount", "fee", "net", "units", "unit_value",
                      "units_balance"]]  # fmt: skip
        rows += [[x.valuation_date, x.kind, x.amount, x.fee, x.net, x.units, x.unit_value,
                  x.units_balance] for x in figures.lines]  # fmt: skip
        if figures.unsettled:
            rows += [[], ["unsettled_date", "status", "amount"]]
            rows += [list(u) for u in figures.unsettled]
    elif isinstance(figures, CrmPipelineFigures):
        rows += _crm_pipeline(figures, kind)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


HOLDING_COLUMNS = ["symbol", "quantity", "price", "market_value", "currency", "foreign_price",
                   "foreign_value", "rate", "rate_date", "value"]  # fmt: skip
"""The valuation statement's holdings table. The first four keep their meaning: ``price`` in the
holding's own currency, ``market_value`` in the club's. Then ``currency`` (the holding's: the
club's own, or the one it is quoted in), and for a holding quoted in another currency its
``foreign_price`` (= ``price``), ``foreign_value`` (quantity × price in that currency), the ECB
``rate`` (club currency per unit, eight places) and the ``rate_date`` it was published for —
empty for a holding in the club's currency; ``value`` is the holding in the club's currency (=
``market_value``: ``foreign_value`` × ``rate`` rounded half-even once, docs/domain.md)."""


def _holding(h: PositionOut, club_currency: str) -> list[str]:
    """One row of ``HOLDING_COLUMNS`` for a priced holding of a club keeping ``club_currency``."""
    foreign = h.currency is not None and h.currency != club_currency
    return [h.symbol, str(h.quantity), h.price, h.market_value, h.currency or club_currency,
            h.price if foreign else "", (h.foreign_value or "") if foreign else "",
            (h.rate or "") if foreign else "", (h.rate_date or "") if foreign else "",
            h.market_value]  # fmt: skip


def _money(paise: int) -> str:
    from app.money import format_minor

    return format_minor(paise)


def _crm_pipeline(figures: CrmPipelineFigures, kind: str) -> list[list[str]]:
    """The CRM pipeline report: the totals, then one table per breakdown (rates are
    percentages with two places, from the report's basis points)."""
    r = figures.report
    k = r.kyc
    rows: list[list[str]] = _meta(figures.header, kind, [
        ("scope", figures.scope), ("leads", str(r.leads)), ("converted", str(r.converted)),
        ("conversion_pct", format_basis_points(r.rate_bp)),
    ])  # fmt: skip
    for title, table in (("source", r.by_source), ("agent", r.by_agent), ("month", r.by_month)):
        rows += [[], [f"by_{title}", "label", "leads", "converted", "conversion_pct"]]
        rows += [[text(x.key), text(x.label), str(x.leads), str(x.converted),
                  format_basis_points(x.rate_bp)] for x in table]  # fmt: skip
    rows += [[], ["funnel_stage", "leads_reached"]]
    rows += [[f.stage, str(f.leads)] for f in r.funnel]
    rows += [[], ["status", "leads"]]
    rows += [[c.key, str(c.count)] for c in r.by_status]
    rows += [[], ["segment", "clients"]]
    rows += [[c.key, str(c.count)] for c in r.clients_by_segment]
    rows += [[], ["kyc", "clients"], ["clients", str(k.clients)], ["verified", str(k.verified)],
             ["pending", str(k.pending)], ["other", str(k.other)],
             [f"expiring_in_{k.expiring_days}_days", str(k.expiring)]]  # fmt: skip
    return rows
