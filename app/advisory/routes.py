"""``/api/v1/advisory/…`` (questionnaire, risk profile, recommendations),
``/api/v1/portfolios/…`` (accounts, policy, holdings, rebalance, performance, recommendations)
and ``/api/v1/users/{id}/tax-loss-opportunities``. Parse → service → schema."""

from __future__ import annotations

import datetime as dt

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.advisory.advisors import advisor_service
from app.advisory.documents import AdvisorSlot, Booking, ModelStrategy
from app.advisory.engine import BPS, Figures
from app.advisory.questionnaire import POLICIES, RiskProfile
from app.advisory.schemas import (
    AccountCreate,
    AccountList,
    AccountOut,
    AnswersIn,
    AssessmentOut,
    BookingIn,
    BookingList,
    BookingOut,
    ClientView,
    ExecuteIn,
    FiguresOut,
    FollowIn,
    HoldingOut,
    HoldingsOut,
    LotOut,
    MySlotList,
    MySlotOut,
    OpportunityList,
    OpportunityOut,
    PerformanceOut,
    PerformanceQuery,
    PolicyIn,
    PolicyPut,
    Questionnaire,
    RebalanceIn,
    RebalanceList,
    RebalanceOut,
    RecommendationIn,
    RecommendationList,
    RecommendationOut,
    SeriesPoint,
    SlotList,
    SlotOut,
    SlotsIn,
    StrategyEditIn,
    StrategyIn,
    StrategyList,
    StrategyOut,
    pct,
    strategy_path,
)
from app.advisory.service import advisory_service
from app.brokers.service import broker_service
from app.extensions import services
from app.idempotency import idempotent
from app.identity.guards import current_principal, require_auth
from app.money import format_basis_points, format_minor
from app.openapi import document_errors
from app.orders.broker import Broker

blueprint = Blueprint("advisory", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


async def _brokers(club_id: str) -> Broker:
    """The broker of the account's orders: its linked one, else the paper broker."""
    return await broker_service.broker_for(club_id, services.require_producer())


def _figures(f: Figures) -> FiguresOut:
    return FiguresOut.of({"annual_return": f.annual_return, "volatility": f.volatility,
                          "sharpe": f.sharpe, "sortino": f.sortino,
                          "max_drawdown": f.max_drawdown})  # fmt: skip


@blueprint.get("/advisory/questionnaire")
@tag(["advisory"])
@validate_response(Questionnaire)
async def questionnaire() -> Questionnaire:
    """The risk questionnaire: questions and their options (public)."""
    return Questionnaire.build()


@blueprint.post("/advisory/risk-profile")
@tag(["advisory"])
@require_auth
@validate_request(AnswersIn)
@validate_response(AssessmentOut, 201)
@document_errors(401, 422)
async def take_questionnaire(data: AnswersIn) -> tuple[AssessmentOut, int]:
    """Answer the questionnaire (again): score, profile and horizon; the answers are kept.
    Errors: 422 ``invalid_answers`` (``details.problems``: question → problem)."""
    a = await advisory_service.do_take_questionnaire(_me(), data.answers)
    return AssessmentOut.of(a, POLICIES[RiskProfile(a.profile)].strategy.value), 201


@blueprint.get("/advisory/risk-profile")
@tag(["advisory"])
@require_auth
@validate_response(AssessmentOut)
@document_errors(401, 404)
async def risk_profile() -> AssessmentOut:
    """The current risk profile. Errors: 404 ``no_risk_profile``."""
    a = await advisory_service.current_profile(_me())
    return AssessmentOut.of(a, POLICIES[RiskProfile(a.profile)].strategy.value)


@blueprint.post("/advisory/recommendations")
@tag(["advisory"])
@require_auth
@validate_request(RecommendationIn)
@validate_response(RecommendationOut, 201)
@document_errors(401, 403, 404, 409, 422)
async def recommend(data: RecommendationIn) -> tuple[RecommendationOut, int]:
    """A target allocation for the current profile (mean-variance, Ledoit-Wolf shrinkage, on
    real history), with its frontier; with ``account_id`` it becomes that portfolio's targets
    (owner/admin). Errors: 404 ``no_risk_profile``, ``advisory_account_not_found``,
    ``unknown_symbol``; 403 ``role_required``; 422 ``insufficient_history``,
    ``invalid_policy``."""
    r = await advisory_service.do_recommend(_me(), data, services.require_redis())
    return RecommendationOut.of(r), 201


@blueprint.get("/advisory/recommendations")
@tag(["advisory"])
@require_auth
@validate_response(RecommendationList)
@document_errors(401)
async def my_recommendations() -> RecommendationList:
    """The person's recommendations, newest first."""
    found = await advisory_service.my_recommendations(_me())
    return RecommendationList(recommendations=[RecommendationOut.of(r) for r in found])


@blueprint.post("/portfolios")
@tag(["advisory"])
@require_auth
@validate_request(AccountCreate)
@validate_response(AccountOut, 201)
@document_errors(401, 422)
async def open_account(data: AccountCreate) -> tuple[AccountOut, int]:
    """Open a personal account (taxable or retirement; USD, the replayed market's currency),
    funded and traded like a one-member club; its id is that club's id."""
    return AccountOut.of(await advisory_service.do_open_account(_me(), data)), 201


@blueprint.get("/portfolios")
@tag(["advisory"])
@require_auth
@validate_response(AccountList)
@document_errors(401)
async def list_accounts() -> AccountList:
    """The person's personal accounts and their clubs' advisory accounts."""
    found = await advisory_service.accounts(_me())
    return AccountList(accounts=[AccountOut.of(a) for a in found])


@blueprint.put("/portfolios/<account_id>/policy")
@tag(["advisory"])
@require_auth
@validate_request(PolicyPut)
@validate_response(AccountOut)
@document_errors(401, 403, 404, 422)
async def set_policy(account_id: str, data: PolicyPut) -> AccountOut:
    """Replace the investment policy — every field required (a missing or unknown field is a
    422, never a silent reset or drop): band, minimum trade, excluded symbols, maximum weight
    per holding, wash-sale window, and a club's own risk profile (owner/admin; opens a club's
    account on first use). The targets are the allocation under the policy. Errors: 404
    ``advisory_account_not_found``, ``unknown_symbol``; 403 ``role_required``; 422
    ``invalid_policy`` (it would leave no allocation, or cannot hold the cap)."""
    return AccountOut.of(await advisory_service.do_set_policy(account_id, _me(), data))


@blueprint.patch("/portfolios/<account_id>/policy")
@tag(["advisory"])
@require_auth
@validate_request(PolicyIn)
@validate_response(AccountOut)
@document_errors(401, 403, 404, 422)
async def patch_policy(account_id: str, data: PolicyIn) -> AccountOut:
    """Change only the policy fields given (the others stay); errors as ``PUT``."""
    return AccountOut.of(await advisory_service.do_set_policy(account_id, _me(), data,
                                                              partial=True))  # fmt: skip


@blueprint.get("/portfolios/<account_id>")
@tag(["advisory"])
@require_auth
@validate_response(AccountOut)
@document_errors(401, 404)
async def get_account(account_id: str) -> AccountOut:
    """One advisory account (any member). Errors: 404 ``advisory_account_not_found``."""
    return AccountOut.of(await advisory_service.check_account(account_id, _me()))


@blueprint.get("/portfolios/<account_id>/holdings")
@tag(["advisory"])
@require_auth
@validate_response(HoldingsOut)
@document_errors(401, 404, 422)
async def holdings(account_id: str) -> HoldingsOut:
    """Holdings at the latest quotes (else the last close) against the targets, with drift in
    points and whether each is outside its band; an instrument in another currency is valued at
    the ECB reference rate of its price's day. Errors: 404; 422 ``no_price``,
    ``fx_rate_unavailable``."""
    h = await advisory_service.holdings(account_id, _me(), services.require_redis())
    total = h.total
    outside = set(h.outside())
    lines = []
    for x in h.lines:
        value = x.quantity * x.price
        weight = round(value * BPS / total) if total else 0
        lines.append(HoldingOut(
            symbol=x.symbol, quantity=x.quantity, price=format_minor(x.price),
            value=format_minor(value), weight_pct=format_basis_points(weight),
            target_pct=format_basis_points(x.target_bps),
            drift_pct=format_basis_points(weight - x.target_bps),
            outside_band=x.symbol in outside, currency=x.currency or h.currency,
            native_price=format_minor(x.native_price) if x.fx else None,
            fx_rate=x.fx.text() if x.fx else None,
            fx_date=x.fx.rate_date.isoformat() if x.fx else None))  # fmt: skip
    return HoldingsOut(account_id=account_id, currency=h.currency, cash=format_minor(h.cash),
                       total=format_minor(total), band_pct=format_basis_points(
                           h.account.band_bps), drifted=bool(outside), holdings=lines)  # fmt: skip


@blueprint.post("/portfolios/<account_id>/rebalance")
@tag(["advisory"])
@require_auth
@validate_request(RebalanceIn)
@validate_response(RebalanceOut, 201)
@document_errors(401, 404, 409, 422)
async def rebalance(account_id: str, data: RebalanceIn) -> tuple[RebalanceOut, int]:
    """The trades (whole shares) that bring every asset back inside its band with the least
    turnover, within the free cash, fees and minimum trade size (``force``: towards the
    targets even when none drifted). Nothing is traded. Errors: 404; 409 ``no_targets``;
    422 ``no_price``."""
    run = await advisory_service.do_rebalance(account_id, _me(), data.force,
                                              services.require_redis())  # fmt: skip
    return RebalanceOut.of(run), 201


@blueprint.get("/portfolios/<account_id>/rebalance/<run_id>")
@tag(["advisory"])
@require_auth
@validate_response(RebalanceOut)
@document_errors(401, 404)
async def get_rebalance(account_id: str, run_id: str) -> RebalanceOut:
    """One rebalance (any member), moved on to its orders' state first. Errors: 404
    ``rebalance_not_found``."""
    run = await advisory_service.rebalance(account_id, run_id, _me())
    run = await advisory_service.do_advance(run, _brokers, services.require_redis())
    return RebalanceOut.of(run)


@blueprint.post("/portfolios/<account_id>/rebalance/<run_id>/execute")
@tag(["advisory"])
@require_auth
@idempotent(_me)
@validate_request(ExecuteIn)
@validate_response(RebalanceOut)
@document_errors(401, 403, 404, 409, 422)
async def execute_rebalance(account_id: str, run_id: str, data: ExecuteIn) -> RebalanceOut:
    """Start the trades, once (owner/admin): a club's run becomes one proposal for the vote
    (then ``…/send`` once approved); a personal account's sales go to the broker and its buys
    follow once they filled (``status``: selling → buying → executed | partial | failed).
    Errors: 403 ``role_required``; 404; 409 ``rebalance_already_executed`` (a second
    attempt), ``rebalance_stale`` (another run executed since this preview),
    ``nothing_to_trade``."""
    run = await advisory_service.do_execute(
        account_id, run_id, _me(), _brokers, services.require_redis(), data.voting_hours
    )
    return RebalanceOut.of(run)


@blueprint.post("/portfolios/<account_id>/rebalance/<run_id>/send")
@tag(["advisory"])
@require_auth
@idempotent(_me)
@validate_response(RebalanceOut)
@document_errors(401, 403, 404, 409)
async def send_rebalance(account_id: str, run_id: str) -> RebalanceOut:
    """Send a club's approved rebalance to the broker (treasurer, owner or admin): the sales
    first, the buys once they filled. Errors: 403 ``role_required``; 404; 409
    ``rebalance_not_approved`` (still at the vote, rejected, or sent already)."""
    run = await advisory_service.do_send(account_id, run_id, _me(), _brokers,
                                         services.require_redis())  # fmt: skip
    return RebalanceOut.of(run)


@blueprint.get("/portfolios/<account_id>/rebalances")
@tag(["advisory"])
@require_auth
@validate_response(RebalanceList)
@document_errors(401, 404)
async def list_rebalances(account_id: str) -> RebalanceList:
    """The account's latest rebalance runs, newest first, each moved on to its orders' state
    first (any member). Errors: 404 ``advisory_account_not_found``."""
    runs = await advisory_service.runs(account_id, _me(), _brokers, services.require_redis())
    return RebalanceList(runs=[RebalanceOut.of(r) for r in runs])


@blueprint.get("/portfolios/<account_id>/recommendations")
@tag(["advisory"])
@require_auth
@validate_response(RecommendationList)
@document_errors(401, 404)
async def account_recommendations(account_id: str) -> RecommendationList:
    """The portfolio's recommendations, newest first (any member)."""
    found = await advisory_service.recommendations(account_id, _me())
    return RecommendationList(recommendations=[RecommendationOut.of(r) for r in found])


@blueprint.get("/portfolios/<account_id>/performance")
@tag(["advisory"])
@require_auth
@validate_querystring(PerformanceQuery)
@validate_response(PerformanceOut)
@document_errors(401, 404, 409, 422)
async def performance(account_id: str, query_args: PerformanceQuery) -> PerformanceOut:
    """A backtest of the target mix against a benchmark (default the S&P 500 index): TWR,
    volatility, Sharpe, Sortino, maximum drawdown, beta, and growth-of-100 series, over a
    ``period`` (1M, 3M, 6M, 1Y, start) or from ``start``. Errors: 404 ``unknown_symbol``; 409
    ``no_targets``; 422 ``unknown_period`` (not a period, or with a start), ``invalid_period``
    (start not before end), ``insufficient_history``."""
    q = query_args
    p = await advisory_service.performance(account_id, _me(), services.require_redis(),
                                           q.start, q.end, q.benchmark.upper(),
                                           q.period)  # fmt: skip
    out = _performance(account_id, p)
    out.period = q.period
    return out


def _performance(account_id: str, p: dict[str, object]) -> PerformanceOut:
    figures, bench = p["figures"], p["benchmark_figures"]
    assert isinstance(figures, Figures) and isinstance(bench, Figures)
    series, bench_series = p["series"], p["benchmark_series"]
    assert isinstance(series, list) and isinstance(bench_series, list)
    twr, bench_twr, beta = p["twr"], p["benchmark_twr"], p["beta"]
    assert isinstance(twr, float) and isinstance(bench_twr, float) and isinstance(beta, float)
    return PerformanceOut(
        account_id=account_id, start=str(p["start"]), end=str(p["end"]),
        benchmark=str(p["benchmark"]), portfolio=_figures(figures),
        benchmark_figures=_figures(bench), twr_pct=pct(twr), benchmark_twr_pct=pct(bench_twr),
        beta=f"{beta:.2f}",
        series=[SeriesPoint(date=d, value=v) for d, v in series],
        benchmark_series=[SeriesPoint(date=d, value=v) for d, v in bench_series],
    )  # fmt: skip


@blueprint.get("/users/<user_id>/tax-loss-opportunities")
@tag(["advisory"])
@require_auth
@validate_response(OpportunityList)
@document_errors(401, 404)
async def tax_loss_opportunities(user_id: str) -> OpportunityList:
    """Losing positions of the person's taxable accounts: harvestable loss per FIFO lot, a
    same-sector replacement with its correlation, and wash-sale blocks (only one's own;
    another person's answers 404)."""
    days, found = await advisory_service.tax_loss_opportunities(
        user_id, _me(), services.require_redis())  # fmt: skip
    out = []
    for o in found:
        lots = o["lots"]
        assert isinstance(lots, list)
        loss = o["harvestable_loss"]
        assert isinstance(loss, int)
        corr = o["correlation"]
        out.append(OpportunityOut(
            account_id=str(o["account_id"]), symbol=str(o["symbol"]), sector=str(o["sector"]),
            quantity=int(str(o["quantity"])), harvestable_loss=format_minor(loss),
            lots=[LotOut(symbol=lot["symbol"], bought_on=lot["bought_on"],
                         quantity=lot["quantity"], cost_price=format_minor(lot["cost_price"]),
                         price=format_minor(lot["price"]), loss=format_minor(lot["loss"]))
                  for lot in lots],
            replacement=None if o["replacement"] is None else str(o["replacement"]),
            correlation=None if corr is None else f"{float(str(corr)):.2f}",
            blocked_until=None if o["blocked_until"] is None else str(o["blocked_until"]),
        ))  # fmt: skip
    return OpportunityList(wash_sale_days=days, opportunities=out)


def _slot(s: AdvisorSlot) -> SlotOut:
    return SlotOut(id=str(s.id), advisor_id=s.advisor_id, start=_iso(s.start),
                   minutes=s.minutes)  # fmt: skip


def _iso(moment: dt.datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).isoformat()


def _booking(b: Booking, names: dict[str, str] | None = None) -> BookingOut:
    names = names or {}
    return BookingOut(id=str(b.id), advisor_id=b.advisor_id, client_id=b.client_id,
                      start=_iso(b.start), minutes=b.minutes, status=b.status.value,
                      advisor_name=names.get(b.advisor_id),
                      client_name=names.get(b.client_id))  # fmt: skip


@blueprint.get("/advisors/me/slots")
@tag(["advisory"])
@require_auth
@validate_response(MySlotList)
@document_errors(401, 403)
async def my_slots() -> MySlotList:
    """My future slots (an advisor), each with its consultation when booked (the client's
    name). Errors: 403 ``advisor_required``."""
    found = await advisor_service.my_slots(_me())
    names = await advisor_service.names([b.client_id for _, b in found if b is not None])
    return MySlotList(slots=[
        MySlotOut(**_slot(s).model_dump(), booking=None if b is None else _booking(b, names))
        for s, b in found])  # fmt: skip


@blueprint.delete("/advisors/me/slots/<slot_id>")
@tag(["advisory"])
@require_auth
@validate_response(SlotOut)
@document_errors(401, 403, 404, 409)
async def remove_slot(slot_id: str) -> SlotOut:
    """Withdraw one of my free slots (an advisor); answers the slot removed. Errors: 403
    ``advisor_required``; 404 ``slot_not_found``; 409 ``slot_booked`` (cancel the
    consultation first)."""
    return _slot(await advisor_service.do_remove_slot(_me(), slot_id))


@blueprint.post("/advisors/me/slots")
@tag(["advisory"])
@require_auth
@validate_request(SlotsIn)
@validate_response(SlotList, 201)
@document_errors(401, 403, 409)
async def offer_slots(data: SlotsIn) -> tuple[SlotList, int]:
    """Offer consultation slots (a verified advisor); no two of an advisor's slots overlap.
    Errors: 403 ``advisor_required``; 409 ``slot_unavailable`` (a start in the past),
    ``slot_overlap`` (``details.starts``)."""
    made = await advisor_service.do_offer_slots(_me(), data.starts, data.minutes)
    return SlotList(slots=[_slot(s) for s in made]), 201


@blueprint.get("/advisors/<advisor_id>/slots")
@tag(["advisory"])
@require_auth
@validate_response(SlotList)
@document_errors(401, 403)
async def free_slots(advisor_id: str) -> SlotList:
    """The advisor's free future slots. Errors: 403 ``advisor_required`` (not an advisor)."""
    return SlotList(slots=[_slot(s) for s in await advisor_service.free_slots(advisor_id)])


@blueprint.post("/advisors/<advisor_id>/bookings")
@tag(["advisory"])
@require_auth
@validate_request(BookingIn)
@validate_response(BookingOut, 201)
@document_errors(401, 403, 409)
async def book(advisor_id: str, data: BookingIn) -> tuple[BookingOut, int]:
    """Book a free slot. Errors: 409 ``slot_unavailable`` (not offered, past, or taken)."""
    booking = await advisor_service.do_book(_me(), advisor_id, data.start)
    return _booking(
        booking, await advisor_service.names([booking.advisor_id, booking.client_id])
    ), 201


@blueprint.get("/bookings")
@tag(["advisory"])
@require_auth
@validate_response(BookingList)
@document_errors(401)
async def my_bookings() -> BookingList:
    """My consultations, as client or advisor, with both people's names."""
    found = await advisor_service.bookings(_me())
    names = await advisor_service.names([p for b in found for p in (b.client_id, b.advisor_id)])
    return BookingList(bookings=[_booking(b, names) for b in found])


@blueprint.post("/bookings/<booking_id>/cancel")
@tag(["advisory"])
@require_auth
@validate_response(BookingOut)
@document_errors(401, 404, 409)
async def cancel_booking(booking_id: str) -> BookingOut:
    """Cancel (client or advisor). Errors: 404 ``booking_not_found``; 409 ``slot_unavailable``."""
    booking = await advisor_service.do_cancel(booking_id, _me())
    return _booking(booking, await advisor_service.names([booking.advisor_id, booking.client_id]))


@blueprint.post("/bookings/<booking_id>/reschedule")
@tag(["advisory"])
@require_auth
@validate_request(BookingIn)
@validate_response(BookingOut, 201)
@document_errors(401, 404, 409)
async def reschedule_booking(booking_id: str, data: BookingIn) -> tuple[BookingOut, int]:
    """Move my booking to another free slot of the same advisor (atomically). Errors: 404
    ``booking_not_found``; 409 ``slot_unavailable``."""
    booking = await advisor_service.do_reschedule(booking_id, _me(), data.start)
    return _booking(
        booking, await advisor_service.names([booking.advisor_id, booking.client_id])
    ), 201


@blueprint.get("/advisory/clients/<client_id>")
@tag(["advisory"])
@require_auth
@validate_response(ClientView)
@document_errors(401, 403, 404)
async def client_view(client_id: str) -> ClientView:
    """A client's name, risk profile and portfolios, for their advisor while a consultation is
    booked. Errors: 403 ``advisor_required``; 404 ``not_engaged``."""
    profile, accounts = await advisor_service.client_view(_me(), client_id)
    shown = None if profile is None else AssessmentOut.of(
        profile, POLICIES[RiskProfile(profile.profile)].strategy.value)  # fmt: skip
    names = await advisor_service.names([client_id])
    return ClientView(client_id=client_id, name=names.get(client_id), profile=shown,
                      accounts=[AccountOut.of(a) for a in accounts])  # fmt: skip


def _strategy(s: ModelStrategy, performance: PerformanceOut | None = None,
              names: dict[str, str] | None = None) -> StrategyOut:  # fmt: skip
    return StrategyOut(
        id=str(s.id), advisor_id=s.advisor_id, name=s.name, description=s.description,
        targets={k: format_basis_points(v) for k, v in s.targets.items()}, version=s.version,
        followers=len(s.followers), performance=performance, published=s.published,
        advisor_name=(names or {}).get(s.advisor_id), path=strategy_path(str(s.id), s.name),
    )  # fmt: skip


@blueprint.post("/strategies")
@tag(["advisory"])
@require_auth
@validate_request(StrategyIn)
@validate_response(StrategyOut, 201)
@document_errors(401, 403, 404, 422)
async def publish_strategy(data: StrategyIn) -> tuple[StrategyOut, int]:
    """Publish a model strategy, or keep it a draft (``publish`` false) (a verified advisor;
    targets in basis points summing to 10,000). Errors: 403 ``advisor_required``; 404
    ``unknown_symbol``; 422 ``invalid_policy``."""
    made = await advisor_service.do_publish_strategy(_me(), data.name, data.description,
                                                     data.targets, data.publish)  # fmt: skip
    return _strategy(made), 201


@blueprint.get("/advisors/me/strategies")
@tag(["advisory"])
@require_auth
@validate_response(StrategyList)
@document_errors(401, 403)
async def my_strategies() -> StrategyList:
    """My model strategies, drafts included (an advisor). Errors: 403 ``advisor_required``."""
    return StrategyList(strategies=[_strategy(s) for s in await advisor_service.my_strategies(
        _me())])  # fmt: skip


@blueprint.post("/strategies/<strategy_id>/publish")
@tag(["advisory"])
@require_auth
@validate_response(StrategyOut)
@document_errors(401, 403, 404)
async def publish_draft(strategy_id: str) -> StrategyOut:
    """Publish my draft strategy: listed, with a public page, and open to followers. Errors:
    404 ``strategy_not_found``; 403 ``advisor_required``."""
    return _strategy(await advisor_service.do_publish_draft(strategy_id, _me()))


@blueprint.get("/strategies")
@tag(["advisory"])
@validate_response(StrategyList)
async def list_strategies() -> StrategyList:
    """Published model strategies (public), with their advisors' names."""
    found = await advisor_service.strategies()
    names = await advisor_service.names([s.advisor_id for s in found])
    return StrategyList(strategies=[_strategy(s, names=names) for s in found])


@blueprint.get("/strategies/<strategy_id>")
@tag(["advisory"])
@validate_response(StrategyOut)
@document_errors(404, 422)
async def get_strategy(strategy_id: str) -> StrategyOut:
    """A strategy's public page: its allocation and a one-year backtest against the S&P 500.
    Errors: 404 ``strategy_not_found``."""
    s = await advisor_service.strategy(strategy_id)
    p = await advisory_service.backtest(s.targets, services.require_redis(), None, None, "SP500")
    names = await advisor_service.names([s.advisor_id])
    return _strategy(s, _performance(strategy_id, p), names)


@blueprint.put("/strategies/<strategy_id>")
@tag(["advisory"])
@require_auth
@validate_request(StrategyEditIn)
@validate_response(StrategyOut)
@document_errors(401, 403, 404, 422)
async def update_strategy(strategy_id: str, data: StrategyEditIn) -> StrategyOut:
    """Change a strategy (its advisor, a draft too): targets, and name and description when
    given; new targets reach following accounts and their owners are notified. Errors: 404
    ``strategy_not_found``; 422 ``invalid_policy``."""
    return _strategy(await advisor_service.do_update_strategy(
        strategy_id, _me(), data.targets, data.name, data.description))  # fmt: skip


@blueprint.post("/strategies/<strategy_id>/followers")
@tag(["advisory"])
@require_auth
@validate_request(FollowIn)
@validate_response(AccountOut, 201)
@document_errors(401, 403, 404)
async def follow_strategy(strategy_id: str, data: FollowIn) -> tuple[AccountOut, int]:
    """Make a portfolio follow the strategy (its owner/admin): its targets become the
    strategy's, now and on every change. Errors: 404; 403 ``role_required``."""
    return AccountOut.of(await advisor_service.do_follow(strategy_id, data.account_id, _me())), 201
