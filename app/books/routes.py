"""Books HTTP API (``/api/v1/clubs/<id>/…``): contributions, withdrawals and payouts, member
charges, trades, holdings, valuations, statements, performance and the trial balance.

Parse → one service call → shape the answer. Every route needs an access token; a club's data
answers 404 ``club_not_found`` to non-members. Money-moving POSTs need an ``Idempotency-Key``;
payouts and large withdrawals need the step-up code (``X-Step-Up-Code``).
"""

from __future__ import annotations

from quart import Blueprint, request
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.books import portfolio, statements
from app.books.documents import Contribution, MemberCharge, Valuation, Withdrawal
from app.books.performance import percent, performance
from app.books.schemas import (
    ChargeCreate,
    ChargeList,
    ChargeOut,
    ContributionCreate,
    ContributionList,
    ContributionOut,
    HoldingList,
    HoldingOut,
    LivePositionList,
    ManualDecision,
    MemberReturnOut,
    MemberStatus,
    PayoutQuery,
    PerformanceOut,
    PerformanceQuery,
    PortfolioOut,
    SettlementOut,
    StatementQuery,
    TradeCreate,
    TrialBalance,
    ValuationCreate,
    ValuationList,
    ValuationOut,
    ValuationStatement,
    WithdrawalCreate,
    WithdrawalList,
    WithdrawalOut,
)
from app.books.service import books_service
from app.books.units import UnitValue, format_units
from app.idempotency import idempotent
from app.identity.guards import current_principal, require_auth, step_up_for_amount
from app.money import format_minor
from app.openapi import document_errors

blueprint = Blueprint("books", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


def _units(value: int | None) -> str | None:
    return None if value is None else format_units(value)


def _redeemed(value: int | None) -> str | None:
    """Units a withdrawal or charge redeemed, as the API shows every unit movement: the signed
    change to the member's units (+ issued, − redeemed; docs/domain.md, one sign convention)."""
    return None if value is None else format_units(-value)


def _money(value: int | None) -> str | None:
    return None if value is None else format_minor(value)


def _contribution_out(c: Contribution) -> ContributionOut:
    return ContributionOut(
        id=str(c.id), club_id=c.club_id, user_id=c.user_id, amount=format_minor(c.amount),
        currency=c.currency, method=c.method, status=c.status.value, provider=c.provider,
        order_id=c.order_id, checkout_url=c.checkout_url, payment_date=c.payment_date,
        valuation_date=c.valuation_date, units=_units(c.units),
        receipt_file_id=c.receipt_file_id, decision_reason=c.decision_reason, note=c.note,
        dues_month=c.dues_month, created_at=c.created_at,
    )  # fmt: skip


def _withdrawal_out(w: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut(
        id=str(w.id), club_id=w.club_id, user_id=w.user_id, full=w.full,
        amount=_money(w.amount), status=w.status.value, valuation_date=w.valuation_date,
        units=_redeemed(w.units), gross=_money(w.gross), fee=_money(w.fee), net=_money(w.net),
        requested_at=w.requested_at, paid_at=w.paid_at,
    )  # fmt: skip


def _valuation_out(v: Valuation) -> ValuationOut:
    return ValuationOut(
        id=str(v.id), valuation_date=v.valuation_date, cash=format_minor(v.cash),
        market_value=format_minor(v.market_value), liabilities=format_minor(v.liabilities),
        nav=format_minor(v.nav), units_outstanding=format_units(v.units),
        unit_value=v.unit_value, positions=statements.positions(v),
        settlements=[
            SettlementOut(kind=s.kind, id=s.id, user_id=s.user_id, amount=format_minor(s.amount),
                          units=format_units(s.units), fee=format_minor(s.fee))
            for s in v.settlements
        ],
        nav_after=format_minor(v.nav_after), units_after=format_units(v.units_after),
        unit_value_after=_unit_value(v.nav_after, v.units_after),
    )  # fmt: skip


def _unit_value(nav: int, units: int) -> str | None:
    # With units outstanding the unit value is NAV ÷ units (the starting value plays no part).
    return UnitValue(nav=nav, units=units, starting_paise=1).display() if units > 0 else None


# ---- contributions ------------------------------------------------------------------------


@blueprint.post("/clubs/<club_id>/contributions")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(ContributionCreate)
@validate_response(ContributionOut, 201)
@document_errors(400, 403, 404, 409, 422, 502, 503)
async def create_contribution(
    club_id: str, data: ContributionCreate
) -> tuple[ContributionOut, int]:
    """Pay into the club. ``online`` opens a checkout at the payment provider (follow
    ``checkout_url``); ``manual`` records money paid outside, for a treasurer to approve.
    Units are issued at the unit value of the contribution's valuation date. Needs an
    ``Idempotency-Key``. Errors: 400 ``idempotency_key_required``, 404 ``club_not_found``,
    422 ``validation_error`` / ``idempotency_key_reused``, 409 ``idempotency_in_progress``,
    403 ``kyc_required`` (above the yearly limit without KYC)."""
    contribution = await books_service.do_contribute(
        club_id, _me(), amount=data.amount, method=data.method,
        valuation_date=data.valuation_date, receipt_file_id=data.receipt_file_id, note=data.note,
        dues_month=data.dues_month,
    )  # fmt: skip
    return _contribution_out(contribution), 201


@blueprint.get("/clubs/<club_id>/contributions")
@tag(["money"])
@require_auth
@validate_response(ContributionList)
@document_errors(404)
async def list_contributions(club_id: str) -> ContributionList:
    """Contributions, newest first: all of them for owner/admin/treasurer, else the caller's."""
    items = await books_service.contributions(club_id, _me())
    return ContributionList(contributions=[_contribution_out(c) for c in items])


@blueprint.post("/clubs/<club_id>/contributions/<contribution_id>/decision")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(ManualDecision)
@validate_response(ContributionOut)
@document_errors(400, 403, 404, 409, 422)
async def decide_contribution(
    club_id: str, contribution_id: str, data: ManualDecision
) -> ContributionOut:
    """Approve or reject a manual contribution (owner/admin/treasurer, not the contributor).
    An approval is published as a payment event and applied by the payments agent like a
    provider's payment. Errors: 403 ``role_required``, 404 ``contribution_not_found``, 409
    ``contribution_state``, 422 ``backdated_entry`` (``paid_on`` before the last valuation)."""
    if not data.approve:
        rejected = await books_service.do_reject_manual(
            club_id, contribution_id, _me(), data.reason or "rejected"
        )
        return _contribution_out(rejected)
    approved = await books_service.do_approve_manual(club_id, contribution_id, _me(), data.paid_on)
    return _contribution_out(approved)


@blueprint.post("/clubs/<club_id>/contributions/<contribution_id>/cancel")
@tag(["money"])
@require_auth
@validate_response(ContributionOut)
@document_errors(404, 409)
async def cancel_contribution(club_id: str, contribution_id: str) -> ContributionOut:
    """Give up an online contribution whose checkout was never paid (the contributor, or the
    club's owner/admin/treasurer): it turns ``failed`` with the reason ``checkout_cancelled``,
    stops counting toward the KYC allowance and no longer keeps the member from leaving. Money
    captured for it later is still booked. Unpaid checkouts are given up by themselves after
    ``checkout_expiry_hours`` (``checkout_expired``). Errors: 404 ``contribution_not_found``,
    409 ``contribution_state`` (not awaiting payment, or paid meanwhile)."""
    cancelled = await books_service.do_cancel_checkout(club_id, contribution_id, _me())
    return _contribution_out(cancelled)


# ---- withdrawals --------------------------------------------------------------------------


@blueprint.post("/clubs/<club_id>/withdrawals")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(WithdrawalCreate)
@validate_response(WithdrawalOut, 201)
@document_errors(400, 403, 404, 409, 422)
async def request_withdrawal(club_id: str, data: WithdrawalCreate) -> tuple[WithdrawalOut, int]:
    """Withdraw a gross ``amount`` or everything (``full``); settled at the next valuation at
    its unit value less the club's fee. Large ones need the step-up code. Errors: 409
    ``withdrawal_refused`` (``details.reason``), 403 ``step_up_required``, 422."""
    await step_up_for_amount(
        await books_service.withdrawal_value(club_id, _me(), data.amount, data.full)
    )
    withdrawal = await books_service.do_request_withdrawal(
        club_id, _me(), amount=data.amount, full=data.full, valuation_date=data.valuation_date
    )
    return _withdrawal_out(withdrawal), 201


@blueprint.get("/clubs/<club_id>/withdrawals")
@tag(["money"])
@require_auth
@validate_response(WithdrawalList)
@document_errors(404)
async def list_withdrawals(club_id: str) -> WithdrawalList:
    """Withdrawals, newest first: all for owner/admin/treasurer, else the caller's."""
    items = await books_service.withdrawals(club_id, _me())
    return WithdrawalList(withdrawals=[_withdrawal_out(w) for w in items])


@blueprint.post("/clubs/<club_id>/withdrawals/<withdrawal_id>/payout")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_querystring(PayoutQuery)
@validate_response(WithdrawalOut)
@document_errors(400, 403, 404, 409, 422)
async def pay_withdrawal(
    club_id: str, withdrawal_id: str, query_args: PayoutQuery
) -> WithdrawalOut:
    """Pay a settled withdrawal out of the club's cash (owner/admin/treasurer; step-up),
    dated ``paid_on`` (the day the money left; default today). Errors: 409
    ``withdrawal_refused``, ``insufficient_cash``, 422 ``future_date``, ``backdated_entry``;
    403."""
    await step_up_for_amount(await books_service.payout_value(club_id, _me(), withdrawal_id))
    paid = await books_service.do_pay_withdrawal(
        club_id, withdrawal_id, _me(), paid_on=query_args.paid_on
    )
    return _withdrawal_out(paid)


# ---- member charges --------------------------------------------------------------------------


def _charge_out(c: MemberCharge) -> ChargeOut:
    return ChargeOut(
        id=str(c.id), club_id=c.club_id, user_id=c.user_id, amount=format_minor(c.amount),
        reason=c.reason, status=c.status.value, valuation_date=c.valuation_date,
        units=_redeemed(c.units), charged=_money(c.charged), created_by=c.created_by,
        created_at=c.created_at,
    )  # fmt: skip


@blueprint.post("/clubs/<club_id>/charges")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(ChargeCreate)
@validate_response(ChargeOut, 201)
@document_errors(400, 403, 404, 422)
async def charge_member(club_id: str, data: ChargeCreate) -> tuple[ChargeOut, int]:
    """Charge a member a fee or an expense share the club keeps (owner/admin/treasurer); the
    next valuation redeems the member's units for it at its unit value; the member is told.
    Errors: 403 ``role_required``, 404 ``member_not_found``, 422 ``charge_refused`` (no units,
    or more than the member's value at the last valuation less pending charges)."""
    charge = await books_service.do_charge_member(
        club_id, _me(), user_id=data.user_id, amount=data.amount, reason=data.reason
    )
    return _charge_out(charge), 201


@blueprint.post("/clubs/<club_id>/charges/<charge_id>/cancel")
@tag(["money"])
@require_auth
@validate_response(ChargeOut)
@document_errors(403, 404, 409)
async def cancel_charge(club_id: str, charge_id: str) -> ChargeOut:
    """Cancel a pending member charge (owner/admin/treasurer); the member is told. Errors: 403
    ``role_required``, 404 ``charge_not_found``, 409 ``charge_not_pending``."""
    return _charge_out(await books_service.do_cancel_charge(club_id, charge_id, _me()))


@blueprint.get("/clubs/<club_id>/charges")
@tag(["money"])
@require_auth
@validate_response(ChargeList)
@document_errors(404)
async def list_charges(club_id: str) -> ChargeList:
    """Charges, newest first: all for owner/admin/treasurer, else the caller's own."""
    return ChargeList(charges=[_charge_out(c) for c in await books_service.charges(club_id, _me())])


# ---- trades, valuations, statements --------------------------------------------------------


@blueprint.post("/clubs/<club_id>/trades")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(TradeCreate)
@validate_response(HoldingOut, 201)
@document_errors(400, 403, 404, 409, 422)
async def record_trade(club_id: str, data: TradeCreate) -> tuple[HoldingOut, int]:
    """Enter a trade made outside (owner/admin/treasurer). Errors: 409 ``insufficient_cash``,
    ``insufficient_holdings``; 403 ``role_required``."""
    holding = await books_service.do_record_trade(
        club_id, _me(), side=data.side, symbol=data.symbol, quantity=data.quantity,
        price=data.price, fees=data.fees, trade_date=data.trade_date,
        key=request.headers.get("Idempotency-Key", ""),
    )  # fmt: skip
    return HoldingOut(symbol=holding.symbol, quantity=holding.quantity,
                      cost=format_minor(holding.cost)), 201  # fmt: skip


@blueprint.get("/clubs/<club_id>/holdings")
@tag(["money"])
@require_auth
@validate_response(HoldingList)
@document_errors(404)
async def list_holdings(club_id: str) -> HoldingList:
    """What the club holds, at book cost."""
    items = await books_service.holdings(club_id, _me())
    return HoldingList(holdings=[
        HoldingOut(symbol=h.symbol, quantity=h.quantity, cost=format_minor(h.cost)) for h in items
    ])  # fmt: skip


@blueprint.post("/clubs/<club_id>/valuations")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_request(ValuationCreate)
@validate_response(ValuationOut, 201)
@document_errors(400, 403, 404, 409, 422)
async def record_valuation(club_id: str, data: ValuationCreate) -> tuple[ValuationOut, int]:
    """Value the club (owner/admin/treasurer) and settle pending contributions and withdrawals
    at that unit value. Errors: 422 ``invalid_valuation``, ``price_missing``; 409
    ``nav_not_positive``."""
    valuation = await books_service.do_record_valuation(
        club_id, _me(), valuation_date=data.valuation_date, prices=data.prices
    )
    return _valuation_out(valuation), 201


@blueprint.post("/clubs/<club_id>/valuations/preview")
@tag(["money"])
@require_auth
@validate_request(ValuationCreate)
@validate_response(ValuationOut)
@document_errors(403, 404, 409, 422)
async def preview_valuation(club_id: str, data: ValuationCreate) -> ValuationOut:
    """What valuing the club now would record (owner/admin/treasurer): NAV and unit value
    before settlement, every contribution and withdrawal that would settle, the club after —
    computed by the valuation itself and rolled back, so nothing is stored. Same errors as
    ``POST /valuations``."""
    valuation = await books_service.do_record_valuation(
        club_id, _me(), valuation_date=data.valuation_date, prices=data.prices, preview=True
    )
    out = _valuation_out(valuation)
    out.id = ""
    return out


@blueprint.get("/clubs/<club_id>/valuations")
@tag(["money"])
@require_auth
@validate_response(ValuationList)
@document_errors(404)
async def list_valuations(club_id: str) -> ValuationList:
    """Every valuation, oldest first."""
    items = await books_service.valuations(club_id, _me())
    return ValuationList(valuations=[_valuation_out(v) for v in items])


@blueprint.get("/clubs/<club_id>/valuation-statement")
@tag(["money"])
@require_auth
@validate_querystring(StatementQuery)
@validate_response(ValuationStatement)
@document_errors(404, 422)
async def valuation_statement(club_id: str, query_args: StatementQuery) -> ValuationStatement:
    """NAV, unit value, cash and holdings at the latest valuation on or before ``date``
    (after its settlements). Errors: 422 ``invalid_valuation`` (no valuation yet)."""
    club, v = await books_service.valuation_at(club_id, _me(), query_args.date)
    return statements.valuation_statement(club, v)


@blueprint.get("/clubs/<club_id>/member-status")
@tag(["money"])
@require_auth
@validate_querystring(StatementQuery)
@validate_response(MemberStatus)
@document_errors(404, 422)
async def member_status(club_id: str, query_args: StatementQuery) -> MemberStatus:
    """Per member at the latest valuation on or before ``date``: paid in, withdrawn, units,
    value, ownership % (the voting weight) and simple return."""
    club, v = await books_service.valuation_at(club_id, _me(), query_args.date)
    uv = books_service.unit_value(club, v.nav_after, v.units_after)
    rows = [statements.member_status_row(p, v.units_after)
            for p in await books_service.member_positions(club, v)]  # fmt: skip
    return MemberStatus(valuation_date=v.valuation_date, unit_value=uv.display(), members=rows)


@blueprint.get("/clubs/<club_id>/performance")
@tag(["money"])
@require_auth
@validate_querystring(PerformanceQuery)
@validate_response(PerformanceOut)
@document_errors(404, 422)
async def club_performance(club_id: str, query_args: PerformanceQuery) -> PerformanceOut:
    """The club's time-weighted return between two valuations, against a benchmark index
    (default SP500), and each member's XIRR. Errors: 422 ``invalid_valuation`` (no valuation
    in the period), 404 ``unknown_symbol`` (benchmark)."""
    benchmark = query_args.benchmark.upper() if query_args.benchmark else None
    p = await performance(club_id, _me(), query_args.start, query_args.end, benchmark)
    uv_start = books_service.unit_value(p.club, p.start.nav_after, p.start.units_after)
    uv_end = books_service.unit_value(p.club, p.end.nav_after, p.end.units_after)
    excess = None if p.benchmark_return is None else p.twr - p.benchmark_return
    return PerformanceOut(
        start_date=p.start.valuation_date, end_date=p.end.valuation_date,
        unit_value_start=uv_start.display(), unit_value_end=uv_end.display(),
        twr_pct=percent(p.twr) or "0.00", benchmark=p.benchmark_symbol,
        benchmark_start=None if p.benchmark_start is None else format_minor(p.benchmark_start),
        benchmark_end=None if p.benchmark_end is None else format_minor(p.benchmark_end),
        benchmark_return_pct=percent(p.benchmark_return), excess_pct=percent(excess),
        members=[MemberReturnOut(user_id=m.user_id, xirr_pct=percent(m.xirr),
                                 cash_flows=m.flows) for m in p.members],
    )  # fmt: skip


@blueprint.get("/clubs/<club_id>/trial-balance")
@tag(["money"])
@require_auth
@validate_response(TrialBalance)
@document_errors(404)
async def trial_balance(club_id: str) -> TrialBalance:
    """Every account's balance from the journal; total debits equal total credits."""
    return await books_service.trial_balance(club_id, _me())


@blueprint.get("/clubs/<club_id>/positions")
@tag(["money"])
@require_auth
@validate_response(LivePositionList)
@document_errors(404)
async def list_positions(club_id: str) -> LivePositionList:
    """What the club holds, priced at the latest quotes (any member)."""
    return LivePositionList(positions=(await portfolio.live(club_id, _me())).positions)


@blueprint.get("/clubs/<club_id>/portfolio")
@tag(["money"])
@require_auth
@validate_response(PortfolioOut)
@document_errors(404)
async def get_portfolio(club_id: str) -> PortfolioOut:
    """Cash, positions, NAV and unit value at the latest quotes (any member)."""
    return await portfolio.live(club_id, _me())
