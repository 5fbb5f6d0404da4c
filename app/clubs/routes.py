"""Clubs HTTP API (``/api/v1/clubs/…``, ``/api/v1/invites/…``): parse → service → schema.

Every route needs an access token; a club's data answers 404 ``club_not_found`` to non-members.
Money-moving POSTs need an ``Idempotency-Key``. High-value actions (role changes, payouts,
withdrawals at or above ``step_up_threshold``) need the step-up TOTP code (``X-Step-Up-Code``)
when the actor has MFA — and, at or above the threshold, MFA itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from quart import Blueprint, request
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.clubs import repository, statements
from app.clubs.accounting import accounting_service
from app.clubs.documents import Club, Contribution, Membership, Valuation, Withdrawal
from app.clubs.schemas import (
    AdminClubList,
    AdminClubOut,
    AdminClubQuery,
    ClubCreate,
    ClubList,
    ClubOut,
    ContributionCreate,
    ContributionList,
    ContributionOut,
    HoldingOut,
    InviteCreate,
    InviteOut,
    JoinOut,
    ManualDecision,
    MemberList,
    MemberOut,
    MemberReturnOut,
    MemberStatus,
    PerformanceOut,
    PerformanceQuery,
    RoleChange,
    SettlementOut,
    StatementQuery,
    TradeCreate,
    TrialBalance,
    TrialBalanceRowOut,
    ValuationCreate,
    ValuationOut,
    ValuationStatement,
    Watchlist,
    WithdrawalCreate,
    WithdrawalOut,
)
from app.clubs.service import TREASURY, club_service
from app.clubs.units import format_units
from app.config import get_settings
from app.extensions import services
from app.idempotency import idempotent
from app.identity.documents import PlatformRole
from app.identity.guards import (
    STEP_UP_HEADER,
    client_ip,
    current_principal,
    require_auth,
    require_role,
)
from app.identity.repository import users_by_id
from app.identity.service import identity_service
from app.ledger.service import ledger_service
from app.money import format_minor
from app.openapi import document_errors
from streams.topics import PAYMENT_EVENTS

blueprint = Blueprint("clubs", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


async def _high_value(amount: int | None) -> None:
    """Step-up for a high-value action: with MFA enrolled, always; at or above the threshold,
    MFA is required too (403 ``mfa_enrollment_required`` / ``step_up_required``)."""
    principal = current_principal()
    large = amount is not None and amount >= get_settings().step_up_threshold
    if principal.user.mfa_enabled or large:
        await identity_service.check_step_up(
            principal, request.headers.get(STEP_UP_HEADER), client_ip()
        )


def _club_out(club: Club, membership: Membership) -> ClubOut:
    return ClubOut(
        id=str(club.id), name=club.name, description=club.description, currency=club.currency,
        starting_unit_value=format_minor(club.starting_unit_value),
        voting_mode=club.voting_mode, approval_threshold_bps=club.approval_threshold_bps,
        quorum_bps=club.quorum_bps, tie_rule=club.tie_rule,
        withdrawal_fee_bps=club.withdrawal_fee_bps, created_at=club.created_at,
        last_valuation_date=club.last_valuation_date, my_role=membership.role,
    )  # fmt: skip


def _units(value: int | None) -> str | None:
    return None if value is None else format_units(value)


def _money(value: int | None) -> str | None:
    return None if value is None else format_minor(value)


def _contribution_out(c: Contribution) -> ContributionOut:
    return ContributionOut(
        id=str(c.id), club_id=c.club_id, user_id=c.user_id, amount=format_minor(c.amount),
        currency=c.currency, method=c.method, status=c.status.value, provider=c.provider,
        order_id=c.order_id, checkout_url=c.checkout_url, payment_date=c.payment_date,
        valuation_date=c.valuation_date, units=_units(c.units),
        receipt_file_id=c.receipt_file_id, decision_reason=c.decision_reason,
        created_at=c.created_at,
    )  # fmt: skip


def _withdrawal_out(w: Withdrawal) -> WithdrawalOut:
    return WithdrawalOut(
        id=str(w.id), club_id=w.club_id, user_id=w.user_id, full=w.full,
        amount=_money(w.amount), status=w.status.value, valuation_date=w.valuation_date,
        units=_units(w.units), gross=_money(w.gross), fee=_money(w.fee), net=_money(w.net),
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
    )  # fmt: skip


# ---- clubs and membership ---------------------------------------------------------------


@blueprint.post("/clubs")
@tag(["clubs"])
@require_auth
@validate_request(ClubCreate)
@validate_response(ClubOut, 201)
@document_errors(422)
async def create_club(data: ClubCreate) -> tuple[ClubOut, int]:
    """Create a club; the caller becomes its owner. Errors: 422 ``validation_error``."""
    club, owner = await club_service.do_create_club(_me(), **data.model_dump())
    return _club_out(club, owner), 201


@blueprint.get("/clubs")
@tag(["clubs"])
@require_auth
@validate_response(ClubList)
async def my_clubs() -> ClubList:
    """The clubs the caller belongs to, with the caller's role in each."""
    pairs = await club_service.list_clubs(_me())
    return ClubList(clubs=[_club_out(club, m) for club, m in pairs])


@blueprint.get("/clubs/<club_id>")
@tag(["clubs"])
@require_auth
@validate_response(ClubOut)
@document_errors(404)
async def get_club(club_id: str) -> ClubOut:
    """One club. Errors: 404 ``club_not_found`` (also for non-members)."""
    club, membership = await club_service.check_member(club_id, _me())
    return _club_out(club, membership)


@blueprint.get("/clubs/<club_id>/members")
@tag(["clubs"])
@require_auth
@validate_response(MemberList)
@document_errors(404)
async def list_members(club_id: str) -> MemberList:
    """Active members and their roles. Errors: 404 ``club_not_found``."""
    members = await club_service.members(club_id, _me())
    users = await users_by_id([m.user_id for m in members])
    return MemberList(
        members=[
            MemberOut(
                user_id=m.user_id, role=m.role, joined_at=m.joined_at,
                full_name=users[m.user_id].full_name if m.user_id in users else None,
                member_id=users[m.user_id].member_id if m.user_id in users else None,
            )
            for m in members
        ]
    )  # fmt: skip


@blueprint.post("/clubs/<club_id>/invites")
@tag(["clubs"])
@require_auth
@validate_request(InviteCreate)
@validate_response(InviteOut, 201)
@document_errors(403, 404, 422)
async def create_invite(club_id: str, data: InviteCreate) -> tuple[InviteOut, int]:
    """An invite link (owner/admin). The token is shown only here. Errors: 403
    ``role_required``, 404 ``club_not_found``."""
    invite, token = await club_service.do_create_invite(
        club_id, _me(), expires_in=dt.timedelta(hours=data.expires_in_hours),
        max_uses=data.max_uses,
    )  # fmt: skip
    return InviteOut(
        id=str(invite.id), club_id=club_id, expires_at=invite.expires_at,
        max_uses=invite.max_uses, uses=0, revoked=False, token=token,
        url=f"{get_settings().public_url}/join/{token}",
    ), 201  # fmt: skip


@blueprint.delete("/clubs/<club_id>/invites/<invite_id>")
@tag(["clubs"])
@require_auth
@validate_response(InviteOut)
@document_errors(403, 404, 410)
async def revoke_invite(club_id: str, invite_id: str) -> InviteOut:
    """Revoke an invite (owner/admin). Errors: 403, 404, 410 ``invite_unusable``."""
    invite = await club_service.do_revoke_invite(club_id, invite_id, _me())
    return InviteOut(id=str(invite.id), club_id=club_id, expires_at=invite.expires_at,
                     max_uses=invite.max_uses, uses=invite.uses, revoked=True)  # fmt: skip


@blueprint.post("/invites/<token>/accept")
@tag(["clubs"])
@require_auth
@validate_response(JoinOut)
@document_errors(409, 410)
async def accept_invite(token: str) -> JoinOut:
    """Join a club by invite. Errors: 410 ``invite_unusable`` (``details.reason``: unknown,
    revoked, expired, used_up), 409 ``already_member``."""
    club, membership = await club_service.do_accept_invite(token, _me())
    return JoinOut(club=_club_out(club, membership))


@blueprint.post("/clubs/<club_id>/leave")
@tag(["clubs"])
@require_auth
@document_errors(404, 409)
async def leave_club(club_id: str) -> tuple[dict[str, Any], int]:
    """Leave the club. Errors: 409 ``last_owner``, ``units_outstanding``."""
    await club_service.do_leave(club_id, _me())
    return {"left": True}, 200


@blueprint.delete("/clubs/<club_id>/members/<user_id>")
@tag(["clubs"])
@require_auth
@document_errors(403, 404, 409)
async def remove_member(club_id: str, user_id: str) -> tuple[dict[str, Any], int]:
    """Remove a member (owner/admin). Errors: 403 ``role_required``, 404 ``member_not_found``,
    409 ``last_owner`` / ``units_outstanding``."""
    await club_service.do_remove_member(club_id, _me(), user_id)
    return {"removed": True}, 200


@blueprint.put("/clubs/<club_id>/members/<user_id>/role")
@tag(["clubs"])
@require_auth
@validate_request(RoleChange)
@validate_response(MemberOut)
@document_errors(403, 404, 409, 429)
async def change_role(club_id: str, user_id: str, data: RoleChange) -> MemberOut:
    """Change a member's role (owner/admin; ownership only by an owner). Needs
    ``X-Step-Up-Code`` when the actor has MFA. Errors: 403 ``role_required``,
    ``step_up_required``, ``step_up_failed``; 404; 409 ``last_owner``."""
    await club_service.check_member(club_id, _me())
    await _high_value(None)
    membership = await club_service.do_change_role(club_id, _me(), user_id, data.role)
    return MemberOut(user_id=membership.user_id, role=membership.role,
                     joined_at=membership.joined_at)  # fmt: skip


@blueprint.get("/admin/clubs")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(AdminClubQuery)
@validate_response(AdminClubList)
async def admin_clubs(query_args: AdminClubQuery) -> AdminClubList:
    """Every club on the platform (platform admins): name search, newest first, paged."""
    skip = (query_args.page - 1) * query_args.page_size
    clubs, total = await repository.search_clubs(query_args.q, skip, query_args.page_size)
    counts = await repository.active_member_counts([str(c.id) for c in clubs])
    return AdminClubList(
        clubs=[
            AdminClubOut(id=str(c.id), name=c.name, currency=c.currency,
                         voting_mode=c.voting_mode, members=counts.get(str(c.id), 0),
                         last_valuation_date=c.last_valuation_date, created_at=c.created_at,
                         created_by=c.created_by)
            for c in clubs
        ],
        total=total, page=query_args.page, page_size=query_args.page_size,
    )  # fmt: skip


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
    from app.kyc.service import kyc_service
    from app.payments.service import create_checkout

    await club_service.check_member(club_id, _me())
    await kyc_service.check_contribution_allowed(_me(), data.amount)
    contribution = await accounting_service.do_open_contribution(
        club_id, _me(), amount=data.amount, method=data.method,
        valuation_date=data.valuation_date, receipt_file_id=data.receipt_file_id, note=data.note,
    )  # fmt: skip
    if data.method == "online":
        checkout = await create_checkout(
            str(contribution.id), club_id, contribution.amount, contribution.currency
        )
        contribution = await accounting_service.do_attach_checkout(
            contribution, checkout.provider, checkout.order_id, checkout.checkout_url
        )
    return _contribution_out(contribution), 201


@blueprint.get("/clubs/<club_id>/contributions")
@tag(["money"])
@require_auth
@validate_response(ContributionList)
@document_errors(404)
async def list_contributions(club_id: str) -> ContributionList:
    """Contributions, newest first: all of them for owner/admin/treasurer, else the caller's."""
    _, membership = await club_service.check_member(club_id, _me())
    mine = None if membership.role in TREASURY else _me()
    items = await repository.contributions_of(club_id, mine)
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
    ``contribution_state``."""
    if not data.approve:
        rejected = await accounting_service.do_reject_manual(
            club_id, contribution_id, _me(), data.reason or "rejected"
        )
        return _contribution_out(rejected)
    contribution = await accounting_service.check_decide_manual(club_id, contribution_id, _me())
    paid_on = data.paid_on or dt.datetime.now(dt.UTC).date()
    event = accounting_service.manual_approval_event(contribution, _me(), paid_on)
    await services.require_producer().send(PAYMENT_EVENTS, club_id, event)
    return _contribution_out(contribution)


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
    if (data.amount is None) == (not data.full):
        from app.errors import ValidationFailed

        raise ValidationFailed("give either an amount or full: true")
    club, membership = await club_service.check_member(club_id, _me())
    amount = data.amount
    if data.full:
        latest = await repository.latest_valuation(club_id)
        if latest is not None:
            uv = accounting_service.unit_value(club, latest.nav_after, latest.units_after)
            amount = uv.value_of(membership.units)
    await _high_value(amount)
    withdrawal = await accounting_service.do_request_withdrawal(
        club_id, _me(), amount=data.amount, full=data.full, valuation_date=data.valuation_date
    )
    return _withdrawal_out(withdrawal), 201


@blueprint.get("/clubs/<club_id>/withdrawals")
@tag(["money"])
@require_auth
@document_errors(404)
async def list_withdrawals(club_id: str) -> dict[str, Any]:
    """Withdrawals, newest first: all for owner/admin/treasurer, else the caller's."""
    _, membership = await club_service.check_member(club_id, _me())
    mine = None if membership.role in TREASURY else _me()
    items = await repository.withdrawals_of(club_id, mine)
    return {"withdrawals": [_withdrawal_out(w).model_dump(mode="json") for w in items]}


@blueprint.post("/clubs/<club_id>/withdrawals/<withdrawal_id>/payout")
@tag(["money"])
@require_auth
@idempotent(_me)
@validate_response(WithdrawalOut)
@document_errors(400, 403, 404, 409)
async def pay_withdrawal(club_id: str, withdrawal_id: str) -> WithdrawalOut:
    """Pay a settled withdrawal out of the club's cash (owner/admin/treasurer; step-up).
    Errors: 409 ``withdrawal_refused``, ``insufficient_cash``; 403."""
    await club_service.check_member(club_id, _me(), TREASURY)
    withdrawal = await repository.get_withdrawal(withdrawal_id)
    await _high_value(withdrawal.net if withdrawal is not None else None)
    paid = await accounting_service.do_pay_withdrawal(club_id, withdrawal_id, _me())
    return _withdrawal_out(paid)


# ---- market: watch-list ------------------------------------------------------------------


async def _sync_club_symbols(club_id: str) -> None:
    from app.market.service import market_service

    symbols = await club_service.club_symbols(club_id)
    await market_service.do_sync_club_symbols(services.require_redis(), club_id, symbols)


@blueprint.get("/clubs/<club_id>/watchlist")
@tag(["clubs"])
@require_auth
@validate_response(Watchlist)
@document_errors(404)
async def get_watchlist(club_id: str) -> Watchlist:
    """The symbols the club follows live; members in the club's room get their quotes."""
    club, _ = await club_service.check_member(club_id, _me())
    return Watchlist(symbols=club.watchlist)


@blueprint.put("/clubs/<club_id>/watchlist")
@tag(["clubs"])
@require_auth
@validate_request(Watchlist)
@validate_response(Watchlist)
@document_errors(403, 404, 422)
async def set_watchlist(club_id: str, data: Watchlist) -> Watchlist:
    """Replace the watch-list (owner/admin/treasurer). Errors: 404 ``unknown_symbol``, 403."""
    club = await club_service.do_set_watchlist(club_id, _me(), data.symbols)
    await _sync_club_symbols(club_id)
    return Watchlist(symbols=club.watchlist)


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
    holding = await accounting_service.do_record_trade(
        club_id, _me(), side=data.side, symbol=data.symbol, quantity=data.quantity,
        price=data.price, fees=data.fees, trade_date=data.trade_date,
        key=request.headers.get("Idempotency-Key", ""),
    )  # fmt: skip
    await _sync_club_symbols(club_id)  # the room follows what the club holds
    return HoldingOut(symbol=holding.symbol, quantity=holding.quantity,
                      cost=format_minor(holding.cost)), 201  # fmt: skip


@blueprint.get("/clubs/<club_id>/holdings")
@tag(["money"])
@require_auth
@document_errors(404)
async def list_holdings(club_id: str) -> dict[str, Any]:
    """What the club holds, at book cost."""
    await club_service.check_member(club_id, _me())
    items = await repository.holdings(club_id)
    out = [
        HoldingOut(symbol=h.symbol, quantity=h.quantity, cost=format_minor(h.cost)) for h in items
    ]
    return {"holdings": [h.model_dump() for h in out]}


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
    valuation = await accounting_service.do_record_valuation(
        club_id, _me(), valuation_date=data.valuation_date, prices=data.prices
    )
    return _valuation_out(valuation), 201


@blueprint.get("/clubs/<club_id>/valuations")
@tag(["money"])
@require_auth
@document_errors(404)
async def list_valuations(club_id: str) -> dict[str, Any]:
    """Every valuation, oldest first."""
    await club_service.check_member(club_id, _me())
    return {"valuations": [_valuation_out(v).model_dump() for v in
                           await repository.valuations(club_id)]}  # fmt: skip


@blueprint.get("/clubs/<club_id>/valuation-statement")
@tag(["money"])
@require_auth
@validate_querystring(StatementQuery)
@validate_response(ValuationStatement)
@document_errors(404, 422)
async def valuation_statement(club_id: str, query_args: StatementQuery) -> ValuationStatement:
    """NAV, unit value, cash and holdings at the latest valuation on or before ``date``
    (after its settlements). Errors: 422 ``invalid_valuation`` (no valuation yet)."""
    club, v = await accounting_service.valuation_at(club_id, _me(), query_args.date)
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
    club, v = await accounting_service.valuation_at(club_id, _me(), query_args.date)
    uv = accounting_service.unit_value(club, v.nav_after, v.units_after)
    rows = [statements.member_status_row(p, v.units_after)
            for p in await accounting_service.member_positions(club, v)]  # fmt: skip
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
    from app.clubs.performance import percent, performance

    benchmark = query_args.benchmark.upper() if query_args.benchmark else None
    p = await performance(club_id, _me(), query_args.start, query_args.end, benchmark)
    uv_start = accounting_service.unit_value(p.club, p.start.nav_after, p.start.units_after)
    uv_end = accounting_service.unit_value(p.club, p.end.nav_after, p.end.units_after)
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
    await club_service.check_member(club_id, _me())
    rows = await ledger_service.trial_balance(club_id)
    out = [
        TrialBalanceRowOut(account=r.account, type=r.type,
                           debit=format_minor(max(r.balance, 0)),
                           credit=format_minor(max(-r.balance, 0)))
        for r in rows
    ]  # fmt: skip
    debit = sum(max(r.balance, 0) for r in rows)
    credit = sum(max(-r.balance, 0) for r in rows)
    return TrialBalance(rows=out, total_debit=format_minor(debit),
                        total_credit=format_minor(credit), balanced=debit == credit)  # fmt: skip
