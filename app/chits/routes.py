"""Chit funds HTTP API under ``/api/v1`` in the shape the chit portal expects: ``schemes`` (CRUD,
``submit``, ``approve``, ``subscribers``, auctions, settlement), ``subscriptions`` (CRUD,
``payments``, passbook, security, substitution), ``auctions`` (result, prize), ``payments``
(list, get, by user) and ``users/{id}/chit-score``. Parse → service → schema; nothing is decided
here. Money is a two-place decimal string."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.chits.documents import Auction, Bid, ChitPayment, Scheme, Subscription
from app.chits.errors import SchemeNotFound
from app.chits.flows import chit_flows
from app.chits.repository import users_by_id
from app.chits.rules import month_result
from app.chits.schemas import (
    AuctionList,
    AuctionOut,
    CandidateQuery,
    ChitScore,
    LeaveIn,
    LeaveQuote,
    MonthPreview,
    Passbook,
    PassbookRow,
    PaymentList,
    PaymentOut,
    PayPrize,
    PrizePayout,
    SchemeCreate,
    SchemeDecision,
    SchemeDeleted,
    SchemeFields,
    SchemeList,
    SchemeOut,
    SubscriptionCreate,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionPatch,
    SubstituteCandidate,
    SubstituteIn,
    SubstituteQuote,
    SuretyIn,
    SuretyOut,
    TrialBalanceOut,
    TrialBalanceRow,
    paise,
)
from app.chits.service import Actor, auction_out, chit_service, receivable
from app.errors import ValidationFailed
from app.idempotency import idempotent
from app.identity.guards import current_principal, require_auth
from app.ledger.service import ledger_service
from app.money import AmountFormatError, format_minor
from app.openapi import document_errors

blueprint = Blueprint("chits", __name__, url_prefix="/api/v1")


def _actor() -> Actor:
    principal = current_principal()
    return Actor(principal.user_id, tuple(principal.user.roles))


def _me() -> str:
    return current_principal().user_id


def scheme_out(s: Scheme) -> SchemeOut:
    """The API shape of a scheme."""
    return SchemeOut(
        id=str(s.id), name=s.name, foreman_id=s.foreman_id, currency=s.currency,
        chit_amount=format_minor(s.chit_amount), subscribers=s.subscribers,
        instalment=format_minor(s.instalment), commission_bps=s.commission_bps,
        commission=format_minor(s.terms.commission), min_bid=format_minor(s.min_bid),
        bid_step=format_minor(s.bid_step), max_discount=format_minor(s.max_discount),
        commission_source=s.commission_source, auction_day=s.auction_day,
        auction_time=s.auction_time, auction_minutes=s.auction_minutes,
        extension_seconds=s.extension_seconds, start_date=s.start_date,
        grace_days=s.grace_days, late_penalty=format_minor(s.late_penalty),
        status=s.status.value, filled=s.filled, current_month=s.current_month,
        approved_by=s.approved_by, approved_at=s.approved_at, created_at=s.created_at,
    )  # fmt: skip


async def subscriptions_out(subs: list[Subscription]) -> list[SubscriptionOut]:
    """API shapes of subscriptions with names and what each owes now."""
    users = await users_by_id(sorted({s.user_id for s in subs}))
    books: dict[str, dict[str, int]] = {}
    split = await chit_service.owed_now_of(subs)
    out = []
    for s in subs:
        if s.scheme_id not in books:
            books[s.scheme_id] = await chit_service.balances(s.scheme_id)
        user = users.get(s.user_id)
        out.append(SubscriptionOut(
            id=str(s.id), scheme_id=s.scheme_id, user_id=s.user_id,
            name=user.full_name if user else None, member_id=s.member_id, ticket=s.ticket,
            status=s.status.value, holds_ticket=s.holds_ticket, prized_month=s.prized_month,
            surety=SuretyOut(kind=s.surety.kind, details=s.surety.details,
                             recorded_at=s.surety.recorded_at) if s.surety else None,
            replaces=s.replaces, replaced_by=s.replaced_by, catch_up=format_minor(s.catch_up),
            balance=format_minor(books[s.scheme_id].get(receivable(str(s.id)), 0)),
            due_now=format_minor(split[str(s.id)][0]),
            upcoming=format_minor(split[str(s.id)][1]), next_due_date=split[str(s.id)][2],
            joined_at=s.joined_at,
        ))  # fmt: skip
    return out


def payment_out(p: ChitPayment) -> PaymentOut:
    """The API shape of a chit payment."""
    return PaymentOut(
        id=str(p.id), scheme_id=p.scheme_id, subscription_id=p.subscription_id,
        user_id=p.user_id, kind=p.kind.value, status=p.status.value,
        amount=format_minor(p.amount), currency=p.currency, month=p.month, provider=p.provider,
        order_id=p.order_id, checkout_url=p.checkout_url, late=p.late,
        penalty=format_minor(p.penalty), reference=p.reference, created_at=p.created_at,
        completed_at=p.completed_at, attempts=p.attempts, last_error=p.last_error,
        withheld=format_minor(int(p.details["withheld"])) if "withheld" in p.details else None,
    )  # fmt: skip


def _auction(a: Auction, bids: list[Bid] | None = None) -> AuctionOut:
    return auction_out(a, bids)


class SchemeQuery(BaseModel):
    status: str | None = Field(default=None, max_length=32)
    mine: bool = False


class PreviewQuery(BaseModel):
    discount: str = Field(max_length=20)


class UserQuery(BaseModel):
    user_id: str | None = Field(default=None, max_length=64)


# ---- schemes -------------------------------------------------------------------------------


@blueprint.post("/schemes")
@tag(["chits"])
@require_auth
@validate_request(SchemeCreate)
@validate_response(SchemeOut, 201)
@document_errors(403, 422)
async def create_scheme(data: SchemeCreate) -> tuple[SchemeOut, int]:
    """A KYC-verified foreman creates a DRAFT scheme and holds ticket 1. Errors: 403
    ``chit_forbidden`` (not a foreman), ``kyc_required``; 422 ``invalid_scheme`` (details name
    the field and rule: commission at most 700 bps, minimum bid at least the commission, …)."""
    return scheme_out(await chit_service.do_create_scheme(_actor(), data)), 201


@blueprint.get("/schemes")
@tag(["chits"])
@require_auth
@validate_querystring(SchemeQuery)
@validate_response(SchemeList)
async def list_schemes(query_args: SchemeQuery) -> SchemeList:
    """Open, active and completed schemes plus the caller's own; ``mine=true``: the schemes the
    caller runs or holds a ticket of; ``status`` filters."""
    found = await chit_service.list_schemes(_actor(), status=query_args.status,
                                            mine=query_args.mine)  # fmt: skip
    return SchemeList(schemes=[scheme_out(s) for s in found])


@blueprint.get("/schemes/<scheme_id>")
@tag(["chits"])
@require_auth
@validate_response(SchemeOut)
@document_errors(404)
async def get_scheme(scheme_id: str) -> SchemeOut:
    """One scheme. Errors: 404 ``scheme_not_found`` (drafts are seen by their foreman only)."""
    scheme, _ = await chit_service.check_viewer(scheme_id, _actor())
    return scheme_out(scheme)


@blueprint.patch("/schemes/<scheme_id>")
@tag(["chits"])
@require_auth
@validate_request(SchemeFields)
@validate_response(SchemeOut)
@document_errors(403, 404, 409, 422)
async def update_scheme(scheme_id: str, data: SchemeFields) -> SchemeOut:
    """Change a DRAFT scheme (its foreman). Errors: 403, 404, 409 ``scheme_state``, 422."""
    return scheme_out(await chit_service.do_update_scheme(scheme_id, _actor(), data))


@blueprint.delete("/schemes/<scheme_id>")
@tag(["chits"])
@require_auth
@validate_response(SchemeDeleted)
@document_errors(403, 404, 409)
async def delete_scheme(scheme_id: str) -> SchemeDeleted:
    """Delete a DRAFT scheme (its foreman). Errors: 403, 404, 409 ``scheme_state``."""
    await chit_service.do_delete_scheme(scheme_id, _actor())
    return SchemeDeleted(id=scheme_id)


@blueprint.post("/schemes/<scheme_id>/submit")
@tag(["chits"])
@require_auth
@validate_response(SchemeOut)
@document_errors(403, 404, 409)
async def submit_scheme(scheme_id: str) -> SchemeOut:
    """DRAFT → PENDING_APPROVAL (its foreman). Errors: 403, 404, 409 ``scheme_state``."""
    return scheme_out(await chit_service.do_submit(scheme_id, _actor()))


@blueprint.post("/schemes/<scheme_id>/approve")
@tag(["chits"])
@require_auth
@validate_request(SchemeDecision)
@validate_response(SchemeOut)
@document_errors(403, 404, 409)
async def approve_scheme(scheme_id: str, data: SchemeDecision) -> SchemeOut:
    """An admin approves (→ APPROVED, open for subscribers) or rejects (→ DRAFT) a pending
    scheme; audited. Errors: 403 ``chit_forbidden``, 404, 409 ``scheme_state``."""
    scheme = await chit_service.do_decide(scheme_id, _actor(), data.approve, data.reason)
    return scheme_out(scheme)


@blueprint.get("/schemes/<scheme_id>/subscribers")
@tag(["chits"])
@require_auth
@validate_response(SubscriptionList)
@document_errors(404)
async def scheme_subscribers(scheme_id: str) -> SubscriptionList:
    """Every subscription of the scheme with what each owes now (foreman, admins, holders).
    Errors: 404."""
    subs = await chit_service.subscribers(scheme_id, _actor())
    return SubscriptionList(subscriptions=await subscriptions_out(subs))


@blueprint.get("/schemes/<scheme_id>/auctions")
@tag(["chits"])
@require_auth
@validate_response(AuctionList)
@document_errors(404)
async def scheme_auctions(scheme_id: str) -> AuctionList:
    """The scheme's monthly auctions with their results. Errors: 404."""
    found = await chit_service.auctions(scheme_id, _actor())
    return AuctionList(auctions=[_auction(a) for a in found])


@blueprint.post("/schemes/<scheme_id>/auctions/start")
@tag(["chits"])
@require_auth
@validate_response(AuctionOut)
@document_errors(403, 404, 409)
async def start_auction(scheme_id: str) -> AuctionOut:
    """Auction control (its foreman): open this month's auction now for the scheme's auction
    minutes. Errors: 403, 404, 409 ``auction_not_open``."""
    return _auction(await chit_service.do_start_auction(scheme_id, _actor()))


@blueprint.get("/schemes/<scheme_id>/preview")
@tag(["chits"])
@require_auth
@validate_querystring(PreviewQuery)
@validate_response(MonthPreview)
@document_errors(404, 422)
async def preview_month(scheme_id: str, query_args: PreviewQuery) -> MonthPreview:
    """The month's arithmetic at ``discount``: prize, commission, shares by ticket, net
    instalments. Errors: 404, 422 ``validation_error``."""
    scheme, _ = await chit_service.check_viewer(scheme_id, _actor())
    try:
        discount = paise(query_args.discount)
        result = month_result(scheme.terms, discount)
    except (AmountFormatError, ValueError) as exc:
        raise ValidationFailed(str(exc), details={"field": "discount"}) from exc
    return MonthPreview(
        discount=format_minor(result.discount), prize=format_minor(result.prize),
        commission=format_minor(result.commission),
        shares=[format_minor(s) for s in result.shares],
        net_instalments=[format_minor(n) for n in result.net_instalments],
        chit_amount=format_minor(scheme.chit_amount),
    )  # fmt: skip


@blueprint.get("/schemes/<scheme_id>/trial-balance")
@tag(["chits"])
@require_auth
@validate_response(TrialBalanceOut)
@document_errors(404)
async def trial_balance(scheme_id: str) -> TrialBalanceOut:
    """The scheme's books (foreman, admins): every account's balance; the total is zero."""
    scheme = await chit_service.get_scheme(scheme_id)
    actor = _actor()
    if scheme.foreman_id != actor.user_id and not actor.is_admin:
        raise SchemeNotFound("no such scheme")
    rows = await ledger_service.trial_balance(scheme_id)
    return TrialBalanceOut(
        rows=[TrialBalanceRow(account=r.account, balance=format_minor(r.balance)) for r in rows],
        total=format_minor(sum(r.balance for r in rows)),
    )


@blueprint.post("/schemes/<scheme_id>/settle")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_response(SchemeOut)
@document_errors(403, 404, 409)
async def settle_scheme(scheme_id: str) -> SchemeOut:
    """After the last month (its foreman): pay out credits and refunds, complete the scheme.
    Errors: 403, 404, 409 ``scheme_state`` / ``insufficient_collections``."""
    return scheme_out(await chit_service.do_settle(scheme_id, _actor()))


# ---- auctions ------------------------------------------------------------------------------


@blueprint.get("/auctions/<auction_id>")
@tag(["chits"])
@require_auth
@validate_response(AuctionOut)
@document_errors(404)
async def get_auction(auction_id: str) -> AuctionOut:
    """One auction with its bids in order, its result, arithmetic and any draw."""
    auction, bids = await chit_service.auction(auction_id, _actor())
    return _auction(auction, bids)


@blueprint.post("/auctions/<auction_id>/prize")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_request(PayPrize)
@validate_response(PaymentOut)
@document_errors(403, 404, 409)
async def pay_prize(auction_id: str, data: PayPrize) -> PaymentOut:
    """The foreman records the prize transfer (once); without the winner's security the
    instalments to come are withheld. Errors: 403, 404, 409 ``prize_already_paid`` /
    ``auction_not_open`` / ``insufficient_collections``."""
    return payment_out(await chit_service.do_pay_prize(auction_id, _actor(), data.reference))


@blueprint.get("/auctions/<auction_id>/payout")
@tag(["chits"])
@require_auth
@validate_response(PrizePayout)
@document_errors(404)
async def get_prize_payout(auction_id: str) -> PrizePayout:
    """The month's prize payout through the payout provider (``payment`` null before it is
    asked): status PENDING / COMPLETED / FAILED, attempts and the last failure."""
    payment = await chit_flows.prize_payout(auction_id, _actor())
    return PrizePayout(payment=payment_out(payment) if payment else None)


@blueprint.post("/auctions/<auction_id>/payout")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_response(PaymentOut)
@document_errors(403, 404, 409)
async def request_prize_payout(auction_id: str) -> PaymentOut:
    """The foreman pays the month's prize through the payout provider, once (asking again
    answers the same payout): the prize less what is withheld without security. Errors: 403,
    404, 409 ``auction_not_open`` / ``prize_already_paid`` / ``insufficient_collections``."""
    return payment_out(await chit_flows.do_request_prize_payout(auction_id, _actor()))


@blueprint.post("/payments/<payment_id>/retry")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_response(PaymentOut)
@document_errors(403, 404, 409)
async def retry_prize_payout(payment_id: str) -> PaymentOut:
    """The foreman sends a FAILED prize payout again (a new attempt). Errors: 403, 404
    ``chit_payment_not_found``, 409 ``prize_payout_state``."""
    return payment_out(await chit_flows.do_retry_prize_payout(payment_id, _actor()))


# ---- subscriptions -------------------------------------------------------------------------


@blueprint.get("/subscriptions/<sub_id>/leave")
@tag(["chits"])
@require_auth
@validate_response(LeaveQuote)
@document_errors(404)
async def leave_quote(sub_id: str) -> LeaveQuote:
    """What leaving the scheme early would settle, to show before confirming (its holder,
    foreman or an admin). Errors: 404 ``subscription_not_found``."""
    quote = await chit_service.leave_quote(sub_id, _actor())
    money = ("paid_in", "penalties", "owed", "settlement")
    return LeaveQuote.model_validate({**quote, **{k: format_minor(quote[k]) for k in money}})


@blueprint.post("/subscriptions/<sub_id>/leave")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_request(LeaveIn)
@validate_response(SubscriptionOut)
@document_errors(403, 404, 409, 422)
async def leave_scheme(sub_id: str, data: LeaveIn) -> SubscriptionOut:
    """The holder leaves early, confirming the settlement shown (``GET …/leave``). Errors: 403;
    404; 409 ``subscription_state`` (``details.reason``: ``prized`` — a prized subscriber
    leaves only through a substitute — ``not_active``, ``scheme_not_active``,
    ``settlement_changed``); 422 (an amount that is not a two-place decimal string)."""
    sub = await chit_service.do_leave(sub_id, _actor(), paise(data.settlement))
    return (await subscriptions_out([sub]))[0]


@blueprint.post("/subscriptions")
@tag(["chits"])
@require_auth
@validate_request(SubscriptionCreate)
@validate_response(SubscriptionOut, 201)
@document_errors(403, 404, 409)
async def subscribe(data: SubscriptionCreate) -> tuple[SubscriptionOut, int]:
    """Take the next ticket of an approved scheme (KYC-verified). Errors: 403 ``kyc_required``,
    404, 409 ``scheme_full`` / ``already_subscribed`` / ``scheme_state``."""
    sub = await chit_service.do_subscribe(data.scheme_id, _actor())
    return (await subscriptions_out([sub]))[0], 201


@blueprint.get("/subscriptions")
@tag(["chits"])
@require_auth
@validate_response(SubscriptionList)
async def my_subscriptions() -> SubscriptionList:
    """The caller's subscriptions."""
    subs = await chit_service.subscriptions_of(_actor())
    return SubscriptionList(subscriptions=await subscriptions_out(subs))


@blueprint.get("/subscriptions/<sub_id>")
@tag(["chits"])
@require_auth
@validate_response(SubscriptionOut)
@document_errors(404)
async def get_subscription(sub_id: str) -> SubscriptionOut:
    """One subscription (its holder, the foreman, admins). Errors: 404."""
    sub, _ = await chit_service.get_subscription(sub_id, _actor())
    return (await subscriptions_out([sub]))[0]


@blueprint.patch("/subscriptions/<sub_id>")
@tag(["chits"])
@require_auth
@validate_request(SubscriptionPatch)
@validate_response(SubscriptionOut)
@document_errors(403, 404, 409)
async def patch_subscription(sub_id: str, data: SubscriptionPatch) -> SubscriptionOut:
    """The foreman removes a defaulter (``status: DEFAULTED``): only with an instalment unpaid
    past its due date and the scheme's grace days. Errors: 403, 404, 409
    ``subscription_state`` / ``nothing_overdue``."""
    sub = await chit_service.do_mark_default(sub_id, _actor(), data.reason)
    return (await subscriptions_out([sub]))[0]


@blueprint.get("/subscriptions/<sub_id>/substitute")
@tag(["chits"])
@require_auth
@validate_response(SubstituteQuote)
@document_errors(403, 404, 409)
async def substitute_quote(sub_id: str) -> SubstituteQuote:
    """What admitting a substitute on this DEFAULTED ticket settles, to show the foreman
    before confirming: the catch-up amount the substitute pays, the defaulter's arrears
    cleared from it and what is owed back to the defaulter. Errors: 403, 404, 409
    ``subscription_state``."""
    q = await chit_service.substitute_quote(sub_id, _actor())
    return SubstituteQuote(
        subscription_id=sub_id, ticket=q["ticket"], months_called=q["months_called"],
        catch_up=format_minor(q["catch_up"]), arrears=format_minor(q["arrears"]),
        defaulter_refund=format_minor(q["defaulter_refund"]),
    )  # fmt: skip


@blueprint.get("/subscriptions/<sub_id>/substitute/candidate")
@tag(["chits"])
@require_auth
@validate_querystring(CandidateQuery)
@validate_response(SubstituteCandidate)
@document_errors(403, 404, 409, 422)
async def substitute_candidate(sub_id: str, query_args: CandidateQuery) -> SubstituteCandidate:
    """Who the foreman names as the substitute of this DEFAULTED ticket, by their e-mail or
    Samooh member ID (exact match only), to confirm before admitting them with their
    ``user_id``. Errors: 403, 404 ``user_not_found`` / ``subscription_not_found``, 409
    ``subscription_state``, 422."""
    found = await chit_service.substitute_candidate(sub_id, _actor(), query_args.who)
    return SubstituteCandidate(**found)


@blueprint.post("/subscriptions/<sub_id>/substitute")
@tag(["chits"])
@require_auth
@validate_request(SubstituteIn)
@validate_response(SubscriptionOut, 201)
@document_errors(403, 404, 409)
async def substitute(sub_id: str, data: SubstituteIn) -> tuple[SubscriptionOut, int]:
    """Admit a substitute on a defaulted ticket; they owe the catch-up amount. The substitute
    is a known person whose KYC the KYC service derives as verified. Errors: 403
    ``kyc_required``, 404 ``user_not_found`` / ``subscription_not_found``, 409."""
    sub = await chit_service.do_substitute(sub_id, _actor(), data.user_id)
    return (await subscriptions_out([sub]))[0], 201


@blueprint.post("/subscriptions/<sub_id>/surety")
@tag(["chits"])
@require_auth
@validate_request(SuretyIn)
@validate_response(SubscriptionOut)
@document_errors(403, 404, 409)
async def record_surety(sub_id: str, data: SuretyIn) -> SubscriptionOut:
    """The foreman records a prized subscriber's security. Errors: 403, 404, 409."""
    sub = await chit_service.do_record_surety(sub_id, _actor(), data.kind, data.details)
    return (await subscriptions_out([sub]))[0]


@blueprint.get("/subscriptions/<sub_id>/payments")
@tag(["chits"])
@require_auth
@validate_response(PaymentList)
@document_errors(404)
async def subscription_payments(sub_id: str) -> PaymentList:
    """The subscription's payments, oldest first. Errors: 404."""
    found = await chit_service.payments_of(_actor(), subscription_id=sub_id)
    return PaymentList(payments=[payment_out(p) for p in found])


@blueprint.post("/subscriptions/<sub_id>/payments")
@tag(["chits"])
@require_auth
@idempotent(_me)
@validate_response(PaymentOut, 201)
@document_errors(404, 409, 502, 503)
async def pay_instalment(sub_id: str) -> tuple[PaymentOut, int]:
    """Open the checkout of what the subscription owes now (its holder); the payment completes
    when the provider's webhook arrives. Errors: 404, 409 ``nothing_due`` /
    ``subscription_state``, 502/503 from the provider."""
    return payment_out(await chit_service.do_open_instalment(sub_id, _actor())), 201


@blueprint.get("/subscriptions/<sub_id>/passbook")
@tag(["chits"])
@require_auth
@validate_response(Passbook)
@document_errors(404)
async def passbook(sub_id: str) -> Passbook:
    """Month by month: due, paid, dividend, penalty, prize and the outstanding balance."""
    book: dict[str, Any] = await chit_service.passbook(sub_id, _actor())
    sub = book["subscription"]
    return Passbook(
        subscription_id=str(sub.id), scheme_id=sub.scheme_id, ticket=sub.ticket,
        rows=[PassbookRow(month=r["month"], due_date=r["due_date"],
                          **{k: format_minor(r[k]) for k in ("due", "paid", "dividend",
                                                            "penalty", "prize", "balance")})
              for r in book["rows"]],
        balance=format_minor(book["balance"]), total_paid=format_minor(book["total_paid"]),
        total_dividend=format_minor(book["total_dividend"]),
    )  # fmt: skip


# ---- payments and the score ----------------------------------------------------------------


@blueprint.get("/payments")
@tag(["chits"])
@require_auth
@validate_querystring(UserQuery)
@validate_response(PaymentList)
@document_errors(403)
async def list_payments(query_args: UserQuery) -> PaymentList:
    """The caller's chit payments (admins: anyone's with ``user_id``). Errors: 403."""
    found = await chit_service.payments_of(_actor(), user_id=query_args.user_id)
    return PaymentList(payments=[payment_out(p) for p in found])


@blueprint.get("/payments/<payment_id>")
@tag(["chits"])
@require_auth
@validate_response(PaymentOut)
@document_errors(404)
async def get_payment(payment_id: str) -> PaymentOut:
    """One chit payment (its payer, the scheme's foreman, admins). Errors: 404."""
    return payment_out(await chit_service.payment(payment_id, _actor()))


@blueprint.get("/users/<user_id>/payments")
@tag(["chits"])
@require_auth
@validate_response(PaymentList)
@document_errors(403)
async def user_payments(user_id: str) -> PaymentList:
    """A person's chit payments (themselves or admins). Errors: 403 ``chit_forbidden``."""
    found = await chit_service.payments_of(_actor(), user_id=user_id)
    return PaymentList(payments=[payment_out(p) for p in found])


@blueprint.get("/users/<user_id>/chit-score")
@tag(["chits"])
@require_auth
@validate_response(ChitScore)
@document_errors(403)
async def chit_score(user_id: str) -> ChitScore:
    """Chit score 0–900 with its four weighted factors, computed now (themselves or admins),
    and the latest nightly score (``nightly_score`` on ``nightly_day``). Errors: 403."""
    actor = _actor()
    score = ChitScore.model_validate(await chit_service.chit_score(user_id, actor))
    nightly = await chit_service.nightly_score(user_id, actor)
    if nightly is not None:
        score.nightly_score, score.nightly_day = nightly.score, nightly.day
    return score
