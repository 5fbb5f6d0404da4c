"""PDF renderings (reportlab): an A4 page with a header band, the report's key figures, the
club's NAV and unit-value chart (reportlab graphics), the tables, and a footer with page
numbers. Amounts use Indian digit grouping (``1,69,800.00``) with the API's exact digits.

Floats appear only as chart coordinates, never in a figure that is printed."""

from __future__ import annotations

import datetime as dt
import io
import re
from contextvars import ContextVar
from typing import Any

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.money import format_basis_points, format_minor, group_indian, group_thousands
from app.reports.campaign_figures import TabularFigures
from app.reports.figures import (
    CrmPipelineFigures,
    Figures,
    Header,
    LedgerFigures,
    MemberStatementFigures,
    MemberStatusFigures,
    NavPoint,
    ValuationStatementFigures,
)

INK = colors.HexColor("#1B2A35")
MUTED = colors.HexColor("#5F6F7A")
BRAND = colors.HexColor("#0F4C5C")
ACCENT = colors.HexColor("#E36414")
RULE = colors.HexColor("#D5DDE2")
ZEBRA = colors.HexColor("#F3F6F8")
CARD = colors.HexColor("#EEF4F6")

PAGE_W, PAGE_H = A4
MARGIN = 16 * mm
BAND_H = 20 * mm
CONTENT_W = PAGE_W - 2 * MARGIN

BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=8.5, leading=11, textColor=INK)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5, textColor=MUTED)
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9)
H1 = ParagraphStyle("h1", parent=BODY, fontName="Helvetica-Bold", fontSize=17, leading=21)
H2 = ParagraphStyle("h2", parent=BODY, fontName="Helvetica-Bold", fontSize=10.5, leading=14,
                    textColor=BRAND, spaceBefore=8, spaceAfter=4)  # fmt: skip
CARD_LABEL = ParagraphStyle("cardl", parent=BODY, fontSize=7, leading=9, textColor=MUTED)
CARD_VALUE = ParagraphStyle("cardv", parent=BODY, fontName="Helvetica-Bold", fontSize=12.5,
                            leading=15)  # fmt: skip
RIGHT = ParagraphStyle("right", parent=CELL, alignment=TA_RIGHT)
MEMO = ParagraphStyle("memo", parent=CELL, fontSize=7, leading=8.5, textColor=MUTED)


# The currency of the document being rendered (``render_pdf`` sets it from the header): rupee
# amounts take Indian grouping (lakh, crore), any other currency grouping by thousands.
_CURRENCY: ContextVar[str] = ContextVar("pdf_currency", default="INR")


def group(amount: str, currency: str | None = None) -> str:
    """``amount`` grouped the way readers of ``currency`` (default: the document's) expect."""
    if (currency or _CURRENCY.get()) == "INR":
        return group_indian(amount)
    return group_thousands(amount)


def _day(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%d %b %Y")
    except ValueError:
        return iso


class _NumberedCanvas(Canvas):
    """Draws "Page n of N" once the page count is known (two passes over saved states)."""

    footer_left = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont("Helvetica", 7)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE_W - MARGIN, 9 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _page_decor(header: Header, footer: str) -> Any:
    def draw(canvas: Canvas, _doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(BRAND)
        canvas.rect(0, PAGE_H - BAND_H, PAGE_W, BAND_H, stroke=0, fill=1)
        canvas.setFillColor(ACCENT)
        canvas.rect(0, PAGE_H - BAND_H - 1.2 * mm, PAGE_W, 1.2 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont("Helvetica-Bold", 15)
        canvas.drawString(MARGIN, PAGE_H - 12.5 * mm, "Samooh")
        canvas.setFont("Helvetica", 8)
        canvas.drawString(MARGIN, PAGE_H - 16.5 * mm, "Money pooled, together")
        canvas.setFont("Helvetica-Bold", 11)
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 11.5 * mm, header.title)
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 16 * mm,
                               f"{header.club_name} · as of {_day(header.as_of)}")  # fmt: skip
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, 13 * mm, PAGE_W - MARGIN, 13 * mm)
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, footer)
        canvas.restoreState()

    return draw


def _intro(header: Header, subtitle: str) -> list[Any]:
    generated = header.generated_at.strftime("%d %b %Y %H:%M UTC")
    return [
        Paragraph(esc(header.club_name), H1),
        Spacer(1, 1.5 * mm),
        Paragraph(subtitle, BODY),
        Paragraph(
            f"Prepared for {esc(header.requested_by.label)} · generated {generated} · amounts in "
            f"{header.currency}", SMALL),
        Spacer(1, 4 * mm),
    ]  # fmt: skip


def _cards(items: list[tuple[str, str]]) -> Table:
    cells = [[Paragraph(label.upper(), CARD_LABEL), Paragraph(value, CARD_VALUE)]
             for label, value in items]  # fmt: skip
    width = CONTENT_W / len(items)
    inner = [Table([[c[0]], [c[1]]], colWidths=[width - 4 * mm]) for c in cells]
    for t in inner:
        t.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                               ("TOPPADDING", (0, 0), (-1, -1), 1)]))  # fmt: skip
    table = Table([inner], colWidths=[width] * len(items))
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), CARD),
        ("LINEBEFORE", (1, 0), (-1, -1), 2, colors.white),
        ("LINEABOVE", (0, 0), (-1, 0), 2, BRAND),
        ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5 * mm),
    ]))  # fmt: skip
    return table


def _table(head: list[str], rows: list[list[Any]], widths: list[float], numeric: set[int],
           total: bool = False, groups: list[int] | None = None) -> Table:  # fmt: skip
    """A styled table: brand header, zebra rows (or bands per ``groups``: rows with the same
    group number share a shade, e.g. the lines of one journal entry), numbers right-aligned,
    optional total row."""
    data: list[list[Any]] = [head, *rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), BRAND),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
    ]
    for col in numeric:
        style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    for row in range(1, len(data)):
        shade = (groups[row - 1] % 2 == 1) if groups and row - 1 < len(groups) else row % 2 == 0
        if shade:
            style.append(("BACKGROUND", (0, row), (-1, row), ZEBRA))
    if total and len(data) > 1:
        style += [("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                  ("LINEABOVE", (0, -1), (-1, -1), 0.9, INK),
                  ("BACKGROUND", (0, -1), (-1, -1), colors.white)]  # fmt: skip
    table.setStyle(TableStyle(style))
    return table


def _axis_range(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.12
    return low - pad, high + pad


def _plot(drawing: Drawing, x0: float, points: list[NavPoint], values: list[float],
          title: str, colour: Any, fmt: Any, width: float, height: float) -> None:  # fmt: skip
    drawing.add(String(x0, height - 10, title, fontName="Helvetica-Bold", fontSize=8.5,
                       fillColor=INK))  # fmt: skip
    if not points:
        drawing.add(String(x0, height / 2, "No valuations yet", fontName="Helvetica",
                           fontSize=8, fillColor=MUTED))  # fmt: skip
        return
    xs = [float(dt.date.fromisoformat(p.valuation_date).toordinal()) for p in points]
    plot = LinePlot()
    plot.x, plot.y = x0 + 46, 22
    plot.width, plot.height = width - 56, height - 40
    plot.data = [list(zip(xs, values, strict=True))]
    plot.lines[0].strokeColor = colour
    plot.lines[0].strokeWidth = 1.6
    plot.lines[0].symbol = makeMarker("FilledCircle")
    plot.lines[0].symbol.size = 3.2
    plot.lines[0].symbol.fillColor = colour
    x_low, x_high = (xs[0] - 15, xs[-1] + 15) if len(xs) == 1 else (xs[0], xs[-1])
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = x_low, x_high
    step = max(1, len(xs) // 5)
    plot.xValueAxis.valueSteps = xs[::step] if len(xs) > 1 else xs
    label = "%d %b" if xs[-1] - xs[0] <= 300 else "%b %Y"
    plot.xValueAxis.labelTextFormat = lambda v: dt.date.fromordinal(int(v)).strftime(label)
    plot.xValueAxis.labels.fontName = "Helvetica"
    plot.xValueAxis.labels.fontSize = 6.5
    plot.xValueAxis.labels.fillColor = MUTED
    plot.xValueAxis.strokeColor = RULE
    low, high = _axis_range(values)
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = low, high
    plot.yValueAxis.labelTextFormat = fmt
    plot.yValueAxis.labels.fontName = "Helvetica"
    plot.yValueAxis.labels.fontSize = 6.5
    plot.yValueAxis.labels.fillColor = MUTED
    plot.yValueAxis.strokeColor = RULE
    plot.yValueAxis.visibleGrid = True
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#E8EDF0")
    plot.yValueAxis.gridStrokeWidth = 0.5
    plot.yValueAxis.maximumTicks = 5
    drawing.add(plot)


def nav_chart(points: list[NavPoint], currency: str = "INR") -> Drawing:
    """The club's NAV (after settlements) and unit value at each valuation, side by side."""
    half = CONTENT_W / 2
    height = 52 * mm
    drawing = Drawing(CONTENT_W, height)
    navs = [p.nav / 100 for p in points]
    unit_values = [float(p.unit_value) for p in points]

    def whole(v: float) -> str:  # axis labels only: the tables carry the exact figures
        return group(f"{v:.0f}")

    def unit(v: float) -> str:
        return f"{v:.2f}"

    _plot(drawing, 0, points, navs, f"NAV ({currency})", BRAND, whole, half - 4 * mm, height)
    _plot(drawing, half + 4 * mm, points, unit_values, f"Unit value ({currency})", ACCENT, unit,
          half - 4 * mm, height)  # fmt: skip
    return drawing


def _chart_block(points: list[NavPoint], currency: str) -> list[Any]:
    return [KeepTogether([Paragraph("NAV and unit value", H2), nav_chart(points, currency)])]


def esc(text: str) -> str:
    """Text for a Paragraph (reportlab parses markup): names and memos are people's input."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _memo(memo: str) -> str:
    """A journal memo for people: micro-unit counts as units (``1500000 micro-units`` →
    ``1.500000 units``); the stored memo is unchanged (the CSV carries it as is)."""
    from app.books.units import format_units

    text = re.sub(r"(-?\d+) micro-units", lambda m: f"{format_units(int(m.group(1)))} units",
                  memo or "—")  # fmt: skip
    return esc(text)


def _money(value: str) -> str:
    return group(value) if value else ""


def _valuation(f: ValuationStatementFigures) -> list[Any]:
    s = f.statement
    story = _intro(f.header, f"Valuation statement at {_day(s.valuation_date)}, after the "
                             "contributions and withdrawals settled at it.")  # fmt: skip
    story.append(_cards([("Net asset value", _money(s.nav)), ("Unit value", s.unit_value),
                         ("Units outstanding", s.units_outstanding)]))  # fmt: skip
    story.append(Spacer(1, 3 * mm))
    story += [Paragraph("Assets and liabilities", H2), _table(
        ["Item", "Amount"],
        [["Cash", _money(s.cash)], ["Market value of holdings", _money(s.market_value)],
         ["Liabilities (unallocated contributions, withdrawals payable)",
          _money("-" + s.liabilities if s.liabilities != "0.00" else s.liabilities)],
         ["Net asset value", _money(s.nav)]],
        [CONTENT_W * 0.7, CONTENT_W * 0.3], {1}, total=True)]  # fmt: skip
    story += [Paragraph("Holdings", H2)]
    story += _holdings(s, f.header.currency)
    story += _chart_block(f.history, f.header.currency)
    story += [Paragraph("Valuation history", H2), _table(
        ["Valuation date", "NAV", "Unit value"],
        [[_day(p.valuation_date), _money(format_minor(p.nav)), p.unit_value]
         for p in f.history],
        [CONTENT_W * w for w in (0.4, 0.35, 0.25)], {1, 2})]  # fmt: skip
    return story


def _holdings(s: Any, club_currency: str) -> list[Any]:
    """The valuation's holdings table. A holding quoted in another currency shows its price
    and value in that currency, the ECB rate (club currency per unit, eight places) and the
    day it was published, beside its value in the club's currency (issue #14); without any,
    the plain four columns."""
    if not s.holdings:
        return [Paragraph("The club holds no securities at this date: its assets are cash.",
                          BODY)]  # fmt: skip
    foreign = [h for h in s.holdings if h.currency and h.currency != club_currency]
    if not foreign:
        rows = [[h.symbol, group(str(h.quantity)), _money(h.price), _money(h.market_value)]
                for h in s.holdings]  # fmt: skip
        rows.append(["Total", "", "", _money(s.market_value)])
        return [_table(["Symbol", "Quantity", "Price", "Market value"], rows,
                       [CONTENT_W * w for w in (0.34, 0.18, 0.22, 0.26)], {1, 2, 3},
                       total=True)]  # fmt: skip
    rows = []
    for h in s.holdings:
        if h in foreign:
            cur = str(h.currency)
            rows.append([
                h.symbol, group(str(h.quantity)), f"{group(h.price, cur)} {cur}",
                f"{group(h.foreign_value or '', cur)} {cur}",
                Paragraph(f"{h.rate}<br/>{_day(h.rate_date)}" if h.rate_date else str(h.rate),
                          RIGHT),
                _money(h.market_value),
            ])  # fmt: skip
        else:
            rows.append([h.symbol, group(str(h.quantity)), _money(h.price), "", "",
                         _money(h.market_value)])  # fmt: skip
    rows.append(["Total", "", "", "", "", _money(s.market_value)])
    return [
        _table(["Symbol", "Quantity", "Price", "Value in its currency",
                f"ECB rate ({club_currency} per unit)", f"Value ({club_currency})"], rows,
               [CONTENT_W * w for w in (0.13, 0.11, 0.17, 0.2, 0.19, 0.2)], {1, 2, 3, 4, 5},
               total=True),
        Paragraph("A holding quoted in another currency is valued at the ECB reference rate "
                  "published for the valuation date (or the last day before it), its value "
                  "rounded half-even once to the club's currency.", MEMO),
    ]  # fmt: skip


def _member_status(f: MemberStatusFigures) -> list[Any]:
    story = _intro(f.header, f"Members' capital accounts at the valuation of "
                             f"{_day(f.valuation_date)}; unit value {f.unit_value}.")  # fmt: skip
    story.append(_cards([("Members", str(len(f.rows))), ("Paid in", _money(f.totals["paid_in"])),
                         ("Value", _money(f.totals["value"])),
                         ("Unit value", f.unit_value)]))  # fmt: skip
    rows: list[list[Any]] = [
        [Paragraph(f"{esc(p.name)}<br/><font size=6.5 color='#5F6F7A'>{p.member_id} · {r.role}"
                   f"{'' if r.active else ' · left'}</font>", CELL),
         _money(r.paid_in), _money(r.withdrawn), _money(r.charged), r.units, _money(r.value),
         r.ownership_pct, r.return_pct]
        for p, r in f.rows
    ]  # fmt: skip
    t = f.totals
    rows.append(["Total", _money(t["paid_in"]), _money(t["withdrawn"]), _money(t["charged"]),
                 t["units"], _money(t["value"]), "100.0000" if f.rows else "0.0000",
                 ""])  # fmt: skip
    story += [Paragraph("Members", H2), _table(
        ["Member", "Paid in", "Withdrawn", "Charged", "Units", "Value", "Own. %", "Return %"],
        rows, [CONTENT_W * w for w in (0.21, 0.12, 0.11, 0.1, 0.13, 0.12, 0.09, 0.12)],
        {1, 2, 3, 4, 5, 6, 7}, total=True)]  # fmt: skip
    story.append(Paragraph("Return = (value + withdrawn − paid in) ÷ paid in; charges the club "
                           "kept (paid with units) are not withdrawn. Ownership is the share "
                           "of units outstanding and is each member's voting weight.",
                           SMALL))  # fmt: skip
    story += _chart_block(f.history, f.header.currency)
    return story


def _ledger(f: LedgerFigures) -> list[Any]:
    story = _intro(f.header, f"Every journal line with an accounting date on or before "
                             f"{_day(f.header.as_of)} ({f.entries} entries).")  # fmt: skip
    story.append(_cards([("Entries", str(f.entries)), ("Total debits", _money(f.total_debit)),
                         ("Total credits", _money(f.total_credit))]))  # fmt: skip
    rows: list[list[Any]] = []
    groups: list[int] = []
    previous = None
    for line in f.lines:
        first = line.entry != previous
        groups.append((groups[-1] + 1 if first else groups[-1]) if groups else 0)
        previous = line.entry
        rows.append([
            _day(line.date) if first else "",
            Paragraph(esc(line.kind.replace("_", " ").capitalize()), CELL) if first else "",
            Paragraph(_memo(line.memo), MEMO) if first else "",
            Paragraph(esc(line.account_label), CELL), _money(line.debit), _money(line.credit),
        ])  # fmt: skip
    rows.append(["Total", "", "", "", _money(f.total_debit), _money(f.total_credit)])
    story += [Paragraph("Journal", H2), _table(
        ["Date", "Entry", "Memo", "Account", "Debit", "Credit"], rows,
        [CONTENT_W * w for w in (0.12, 0.14, 0.26, 0.22, 0.13, 0.13)], {4, 5}, total=True,
        groups=groups)]  # fmt: skip
    closing: list[list[Any]] = [
        [Paragraph(esc(label), CELL), row.type, _money(row.debit if row.debit != "0.00" else ""),
         _money(row.credit if row.credit != "0.00" else "")]
        for label, row in f.closing
    ]  # fmt: skip
    closing.append(["Total", "", _money(f.closing_debit), _money(f.closing_credit)])
    story += [
        KeepTogether(
            [
                Paragraph("Closing balances (trial balance)", H2),
                _table(
                    ["Account", "Type", "Debit", "Credit"],
                    closing,
                    [CONTENT_W * w for w in (0.5, 0.16, 0.17, 0.17)],
                    {2, 3},
                    total=True,
                ),
            ]
        )
    ]
    story += _chart_block(f.history, f.header.currency)
    return story


def _statement(f: MemberStatementFigures) -> list[Any]:
    r = f.row
    story = _intro(f.header, f"Capital account of {esc(f.member.label)} at the valuation of "
                             f"{_day(f.valuation_date)}; unit value {f.unit_value}.")  # fmt: skip
    story.append(_cards([("Paid in", _money(r.paid_in)), ("Withdrawn", _money(r.withdrawn)),
                         ("Units", r.units), ("Value", _money(r.value))]))  # fmt: skip
    story.append(Spacer(1, 2 * mm))
    story.append(_cards([("Ownership %", r.ownership_pct), ("Return %", r.return_pct),
                         ("Role", r.role), ("Unit value", f.unit_value)]))  # fmt: skip
    rows = [[_day(x.valuation_date), x.kind, _money(x.amount), _money(x.fee), _money(x.net),
             x.units, x.unit_value, x.units_balance] for x in f.lines]  # fmt: skip
    story += [Paragraph("Settlements", H2)]
    if rows:
        story.append(_table(
            ["Valuation", "Kind", "Amount", "Fee", "Net", "Units", "Unit value", "Balance"],
            rows, [CONTENT_W * w for w in (0.13, 0.13, 0.12, 0.09, 0.12, 0.14, 0.11, 0.16)],
            {2, 3, 4, 5, 6, 7}))  # fmt: skip
    else:
        story.append(Paragraph("Nothing settled yet.", BODY))
    if f.unsettled:
        story += [Paragraph("Not yet settled (units at the next valuation)", H2), _table(
            ["Paid on", "Status", "Amount"],
            [[_day(d), s.replace("_", " "), _money(a)] for d, s, a in f.unsettled],
            [CONTENT_W * w for w in (0.35, 0.35, 0.3)], {2})]  # fmt: skip
    story += _chart_block(f.history, f.header.currency)
    return story


def _crm_pipeline(f: CrmPipelineFigures) -> list[Any]:
    """The CRM pipeline report: totals, the funnel, conversion by source, agent and month,
    leads by status, clients by segment and KYC compliance — the dashboard's figures."""
    r, k = f.report, f.report.kyc
    pct = format_basis_points
    story = _intro(f.header, f"Leads and clients in scope: <b>{esc(f.scope)}</b>")
    cards = [
        ("Leads", str(r.leads)),
        ("Converted", str(r.converted)),
        ("Conversion", f"{pct(r.rate_bp)} %"),
        ("KYC verified", f"{k.verified}/{k.clients}"),
    ]
    story += [_cards(cards), Spacer(1, 5 * mm)]
    widths = [CONTENT_W * w for w in (0.4, 0.2, 0.2, 0.2)]
    story += [Paragraph("Sales funnel (leads that reached each stage)", H2), _table(
        ["Stage", "Leads", "", ""], [[s.stage.title(), str(s.leads), "", ""] for s in r.funnel],
        widths, {1})]  # fmt: skip
    for title, table in (("source", r.by_source), ("agent", r.by_agent), ("month", r.by_month)):
        story += [Paragraph(f"Conversion by {title}", H2), _table(
            [title.title(), "Leads", "Converted", "Conversion"],
            [[esc(x.label), str(x.leads), str(x.converted), f"{pct(x.rate_bp)} %"]
             for x in table], widths, {1, 2, 3})]  # fmt: skip
    story += [Paragraph("Leads by status", H2), _table(
        ["Status", "Leads", "", ""], [[c.key.title(), str(c.count), "", ""] for c in r.by_status],
        widths, {1})]  # fmt: skip
    story += [Paragraph("Clients by segment", H2), _table(
        ["Segment", "Clients", "", ""],
        [[c.key.upper() if c.key == "hni" else c.key.title(), str(c.count), "", ""]
         for c in r.clients_by_segment], widths, {1})]  # fmt: skip
    story += [Paragraph("KYC compliance", H2), _table(
        ["Clients", "Verified", "Pending review", f"Expiring in {k.expiring_days} days"],
        [[str(k.clients), str(k.verified), str(k.pending), str(k.expiring)]],
        [CONTENT_W / 4] * 4, {0, 1, 2, 3})]  # fmt: skip
    return story


def _tabular(f: TabularFigures) -> list[Any]:
    """A crowdfunding statement: cards, then each table under its title (amounts grouped the
    Indian way, as on screen; the CSV keeps the API's plain strings)."""
    story: list[Any] = [
        *_intro(f.header, esc(f.subtitle)),
        _cards([(k, _money(v) if "." in v else esc(v)) for k, v in f.cards]),
    ]
    for section in f.sections:
        story += [Spacer(1, 5 * mm), Paragraph(esc(section.title), H2), Spacer(1, 1.5 * mm)]
        if not section.rows:
            story.append(Paragraph("None.", SMALL))
            continue
        count = len(section.columns)
        widths = [CONTENT_W / count] * count

        def cell(col: int, value: str, numeric: set[int] = section.numeric) -> Any:
            return _money(value) if col in numeric and value else Paragraph(esc(value), CELL)

        rows = [[cell(c, v) for c, v in enumerate(row)] for row in section.rows]
        if section.total is not None:
            rows.append([cell(c, v) for c, v in enumerate(section.total)])
        head = [c.replace("_", " ").capitalize() for c in section.columns]
        story.append(_table(head, rows, widths, section.numeric,
                            total=section.total is not None))  # fmt: skip
    return story


def render_pdf(kind: str, figures: Figures | TabularFigures) -> bytes:
    """The PDF of ``figures``; amounts grouped for the header's currency."""
    buffer = io.BytesIO()
    header = figures.header
    token = _CURRENCY.set(header.currency or "INR")
    try:
        return _render(kind, figures, buffer)
    finally:
        _CURRENCY.reset(token)


def _render(kind: str, figures: Figures | TabularFigures, buffer: io.BytesIO) -> bytes:
    header = figures.header
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN,
        topMargin=BAND_H + 8 * mm, bottomMargin=18 * mm, title=f"{header.title} — "
        f"{header.club_name}", author="Samooh", subject=f"{kind} as of {header.as_of}",
        creator="Samooh reports",
    )  # fmt: skip
    if isinstance(figures, TabularFigures):
        story = _tabular(figures)
    elif isinstance(figures, ValuationStatementFigures):
        story = _valuation(figures)
    elif isinstance(figures, MemberStatusFigures):
        story = _member_status(figures)
    elif isinstance(figures, LedgerFigures):
        story = _ledger(figures)
    elif isinstance(figures, CrmPipelineFigures):
        story = _crm_pipeline(figures)
    else:
        story = _statement(figures)
    cent = "paisa" if (header.currency or "INR") == "INR" else "cent"
    footer = (f"Samooh · {header.club_name} · {header.title} · amounts half-even to the {cent}, "
              "units to the micro-unit")  # fmt: skip
    decor = _page_decor(header, footer)
    doc.build(story, onFirstPage=decor, onLaterPages=decor, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
