"""The club statements as the API and the reports show them, built in one place so both give
the same figures to the paisa: valuation statement, member status rows, priced positions."""

from __future__ import annotations

from app.books.documents import Valuation
from app.books.schemas import MemberStatusRow, PositionOut, ValuationStatement
from app.books.service import MemberPosition, books_service
from app.books.units import format_units, share_display
from app.clubs.documents import Club
from app.fx import rate_text
from app.money import format_minor


def positions(valuation: Valuation) -> list[PositionOut]:
    """The holdings priced at ``valuation``."""
    return [
        PositionOut(symbol=p.symbol, quantity=p.quantity, price=format_minor(p.price),
                    market_value=format_minor(p.market_value), currency=p.currency,
                    foreign_value=(None if p.foreign_value is None
                                   else format_minor(p.foreign_value)),
                    rate=None if p.rate_e8 is None else rate_text(p.rate_e8),
                    rate_date=p.rate_date)
        for p in valuation.positions
    ]  # fmt: skip


def liabilities_after(valuation: Valuation) -> int:
    """Liabilities once the valuation's settlements are done (paise): the received money it
    turned into units now belongs to the members; the net of its withdrawals is owed."""
    settled_in = sum(s.amount for s in valuation.settlements if s.kind == "contribution")
    owed_out = sum(s.amount - s.fee for s in valuation.settlements if s.kind == "withdrawal")
    return valuation.liabilities - settled_in + owed_out


def valuation_statement(club: Club, valuation: Valuation) -> ValuationStatement:
    """NAV, unit value, cash, holdings and liabilities at ``valuation``, after its settlements."""
    uv = books_service.unit_value(club, valuation.nav_after, valuation.units_after)
    return ValuationStatement(
        valuation_date=valuation.valuation_date, nav=format_minor(valuation.nav_after),
        unit_value=uv.display(), units_outstanding=format_units(valuation.units_after),
        cash=format_minor(valuation.cash), market_value=format_minor(valuation.market_value),
        liabilities=format_minor(liabilities_after(valuation)), holdings=positions(valuation),
    )  # fmt: skip


def member_status_row(position: MemberPosition, units_outstanding: int) -> MemberStatusRow:
    """One member's line: money as strings; ownership (the voting weight) and simple return
    ((value + withdrawn − paid in) ÷ paid in; a member charge is not withdrawn: the club kept
    it) as percentages with 4 places."""
    gain = position.value + position.withdrawn - position.paid_in
    return MemberStatusRow(
        user_id=position.user_id, role=position.role, active=position.active,
        paid_in=format_minor(position.paid_in), withdrawn=format_minor(position.withdrawn),
        charged=format_minor(position.charged),
        units=format_units(position.units), value=format_minor(position.value),
        ownership_pct=share_display(position.units, units_outstanding),
        return_pct=share_display(gain, position.paid_in),
    )  # fmt: skip
