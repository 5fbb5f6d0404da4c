"""Campaigns HTTP API (``/api/v1/campaigns/…``, ``/api/v1/me/campaigns/…``,
``/api/v1/admin/campaigns/…``): parse → service → schema. Every route needs an access token;
drafts and campaigns in review answer 404 to everyone but their owner and admins. The money
POST (``invest``) needs an ``Idempotency-Key``: a double click never reserves twice."""

from __future__ import annotations

import datetime as dt

from quart import Blueprint, request
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.audit.service import audit_service
from app.campaigns.destinations import destination_service
from app.campaigns.documents import (
    Campaign,
    CampaignUpdate,
    Dispute,
    DisputeStatus,
    Investment,
    PayoutDestination,
    ProfitReport,
    ProfitReportStatus,
    Transfer,
    TransferStatus,
    utcnow,
)
from app.campaigns.events import progress_bps, report_due_out, update_out
from app.campaigns.flows import campaign_flows
from app.campaigns.payouts import verify_transfer_webhook
from app.campaigns.schemas import (
    AdminDashboard,
    AuditEntryOut,
    CampaignAudit,
    CampaignFields,
    CampaignOut,
    CampaignPage,
    CampaignStats,
    CancelRequest,
    DashboardUpdateOut,
    DestinationCreate,
    DestinationOut,
    DestinationState,
    DisputeCreate,
    DisputeOut,
    DisputeResolve,
    DocumentOut,
    FeedQuery,
    InvestmentList,
    InvestmentOut,
    InvestorDashboard,
    InvestQuote,
    InvestRequest,
    PictureOut,
    ProfitDecision,
    ProfitReportCreate,
    ProfitReportList,
    ProfitReportOut,
    ProfitShareOut,
    QuoteQuery,
    ReviewNoteOut,
    ReviewRequest,
    StatementRequest,
    TransferOut,
    TransferWebhookAck,
    UpdateCreate,
    UpdateList,
    UpdateOut,
)
from app.campaigns.service import ESCROW, campaign_chain, campaign_service
from app.config import get_settings
from app.files.documents import StoredFile
from app.files.schemas import FileOut, LinkOut, LinkQuery
from app.files.service import files_service
from app.idempotency import idempotent
from app.identity.directory import users_by_id
from app.identity.documents import PlatformRole
from app.identity.guards import current_principal, require_auth, require_role
from app.ledger.service import ledger_service
from app.money import format_minor
from app.openapi import document_errors
from app.payments.errors import WebhookTooLarge
from app.reports.documents import JobStatus, ReportFormat, ReportJob, ReportKind
from app.reports.schemas import DownloadOut, ReportError, ReportJobOut
from app.reports.service import report_service

blueprint = Blueprint("campaigns", __name__, url_prefix="/api/v1")


def _me() -> str:
    return current_principal().user_id


def _admin() -> bool:
    return current_principal().has_role(PlatformRole.ADMIN)


async def campaign_outs(
    campaigns: list[Campaign], viewer_id: str | None = None, pictures: int = 1
) -> list[CampaignOut]:
    """API shapes of campaigns ``viewer_id`` may see (default: the HTTP caller), with their
    owners' names and signed links to their first ``pictures`` pictures for the viewer.
    Socket handlers pass ``viewer_id`` (they have no HTTP request)."""
    viewer = viewer_id or _me()
    names = await users_by_id(sorted({c.owner_id for c in campaigns}))
    outs = []
    for c in campaigns:
        out = campaign_out(c, names[c.owner_id].full_name if c.owner_id in names else None)
        out.pictures = await picture_links(c, viewer, pictures)
        if pictures > 1:  # a campaign's own page: its documents too
            out.documents = await document_links(c, viewer)
        outs.append(out)
    return outs


async def document_links(campaign: Campaign, viewer_id: str) -> list[DocumentOut]:
    """Signed download links for ``viewer_id`` to the campaign's documents (the caller
    checked that the viewer may see the campaign, which is who may read them)."""
    found = []
    for file_id in campaign.document_file_ids:
        record = await files_service.get(file_id)
        if record is None:
            continue
        link = files_service.link(record, viewer_id, "attachment")
        found.append(DocumentOut(id=file_id, filename=record.filename,
                                 url=f"{get_settings().public_url}{link.path}",
                                 content_type=record.content_type))  # fmt: skip
    return found


async def report_outs(
    reports: list[ProfitReport], viewer_id: str, titles: dict[str, str] | None = None
) -> list[ProfitReportOut]:
    """API shapes of profit reports with their campaign's title and a signed link to the
    supporting document for ``viewer_id`` (only for callers who may read it: its owner and
    admins)."""
    if titles is None:
        found = await campaign_service.campaigns_by_ids(sorted({r.campaign_id for r in reports}))
        titles = {cid: c.title for cid, c in found.items()}
    outs = []
    for r in reports:
        out = report_out(r)
        out.campaign_title = titles.get(r.campaign_id)
        record = await files_service.get(r.document_file_id) if r.document_file_id else None
        if record is not None:
            link = files_service.link(record, viewer_id, "inline")
            out.document_url = f"{get_settings().public_url}{link.path}"
        outs.append(out)
    return outs


async def picture_links(campaign: Campaign, viewer_id: str, limit: int) -> list[PictureOut]:
    """Signed inline links for ``viewer_id`` to the campaign's first ``limit`` pictures
    (images by content)."""
    found = []
    for file_id in campaign.picture_file_ids[:limit]:
        record = await files_service.get(file_id)
        if record is None or not record.content_type.startswith("image/"):
            continue
        link = files_service.link(record, viewer_id, "inline")
        found.append(PictureOut(id=file_id, url=f"{get_settings().public_url}{link.path}",
                                content_type=record.content_type))  # fmt: skip
    return found


def campaign_out(c: Campaign, owner_name: str | None = None) -> CampaignOut:
    """The API shape of one campaign (amounts as decimal strings)."""
    return CampaignOut(
        id=str(c.id), owner_id=c.owner_id, owner_name=owner_name, title=c.title, story=c.story,
        category=c.category, city=c.city, currency=c.currency, goal=format_minor(c.goal),
        min_investment=format_minor(c.min_investment),
        max_investment=format_minor(c.max_investment), profit_share_bps=c.profit_share_bps,
        profit_period_months=c.profit_period_months, starts_on=c.starts_on, ends_at=c.ends_at,
        funding_model=c.funding_model, pledge_policy=c.pledge_policy,
        document_file_ids=c.document_file_ids, picture_file_ids=c.picture_file_ids,
        status=c.status, raised=format_minor(c.raised), reserved=format_minor(c.reserved),
        remaining=format_minor(max(c.goal - c.raised - c.reserved, 0)),
        progress_bps=progress_bps(c), investor_count=c.investor_count,
        open=c.status == "live" and c.starts_on <= utcnow().date().isoformat()
        and c.ends_at > utcnow(),
        reviews=[ReviewNoteOut(**r.model_dump()) for r in c.reviews], created_at=c.created_at,
        submitted_at=c.submitted_at, live_at=c.live_at, closed_at=c.closed_at,
    )  # fmt: skip


def investment_out(i: Investment, title: str | None = None) -> InvestmentOut:
    """The API shape of one investment."""
    return InvestmentOut(
        id=str(i.id), campaign_id=i.campaign_id, campaign_title=title, user_id=i.user_id,
        requested=format_minor(i.requested), amount=format_minor(i.amount), currency=i.currency,
        part_filled=i.part_filled, status=i.status, provider=i.provider, order_id=i.order_id,
        checkout_url=i.checkout_url, expires_at=i.expires_at, created_at=i.created_at,
        completed_at=i.completed_at, refunded_at=i.refunded_at,
    )  # fmt: skip


def report_out(r: ProfitReport) -> ProfitReportOut:
    """The API shape of one profit report."""
    return ProfitReportOut(
        id=str(r.id), campaign_id=r.campaign_id, period_start=r.period_start,
        period_end=r.period_end, profit=format_minor(r.profit), pool=format_minor(r.pool),
        document_file_id=r.document_file_id, note=r.note, status=r.status.value,
        decision_notes=r.decision_notes, checkout_url=r.checkout_url,
        shares=[ProfitShareOut(user_id=s.user_id, invested=format_minor(s.invested),
                               amount=format_minor(s.amount)) for s in r.shares],
        created_at=r.created_at, decided_at=r.decided_at, distributed_at=r.distributed_at,
    )  # fmt: skip


def transfer_out(t: Transfer) -> TransferOut:
    """The API shape of one payout task."""
    return TransferOut(
        id=str(t.id), kind=t.kind.value, campaign_id=t.campaign_id, user_id=t.user_id,
        amount=format_minor(t.amount), status=t.status.value, attempts=t.attempts,
        last_error=t.last_error, provider_ref=t.provider_ref, created_at=t.created_at,
        paid_at=t.paid_at,
    )  # fmt: skip


def dispute_out(d: Dispute, campaign_title: str | None = None) -> DisputeOut:
    """The API shape of one dispute (with its campaign's title when the caller has it)."""
    return DisputeOut(
        id=str(d.id), campaign_id=d.campaign_id, campaign_title=campaign_title,
        user_id=d.user_id, reason=d.reason, status=d.status.value, resolution=d.resolution,
        created_at=d.created_at, resolved_at=d.resolved_at,
    )  # fmt: skip


async def dispute_outs(disputes: list[Dispute]) -> list[DisputeOut]:
    """API shapes of disputes, each naming its campaign (title)."""
    found = await campaign_service.campaigns_by_ids(sorted({d.campaign_id for d in disputes}))
    return [dispute_out(d, found[d.campaign_id].title if d.campaign_id in found else None)
            for d in disputes]  # fmt: skip


def dashboard_updates(
    updates: list[CampaignUpdate], titles: dict[str, str]
) -> list[DashboardUpdateOut]:
    """Updates as a dashboard lists them, with their campaigns' titles."""
    return [
        DashboardUpdateOut(**update_out(u).model_dump(), campaign_title=titles.get(u.campaign_id))
        for u in updates
    ]


async def investor_report_out(
    r: ProfitReport, viewer_id: str, title: str | None, investor: bool
) -> ProfitReportOut:
    """A profit report as someone other than the campaign's owner sees it: the figures, dates
    and status, only their own share, no checkout (that is the owner's), and — for one of its
    investors (``investor``: a completed investment) — a signed link to the supporting
    statement (``check_file_access``'s rule: investors read statements of reports that were
    not rejected)."""
    out = report_out(r)
    out.campaign_title = title
    out.checkout_url = None
    out.shares = [s for s in out.shares if s.user_id == viewer_id]
    if investor and r.document_file_id and r.status != ProfitReportStatus.REJECTED:
        record = await files_service.get(r.document_file_id)
        if record is not None:
            link = files_service.link(record, viewer_id, "inline")
            out.document_url = f"{get_settings().public_url}{link.path}"
    return out


# ---- campaigns -------------------------------------------------------------------------------


@blueprint.get("/campaigns")
@tag(["campaigns"])
@require_auth
@validate_querystring(FeedQuery)
@validate_response(CampaignPage)
@document_errors(422)
async def feed(query_args: FeedQuery) -> CampaignPage:
    """The campaign feed: filters (status, category, city, closing soon, % funded), text
    search (``q``), sort and pagination (``offset``/``limit``; ``next_offset``)."""
    found, total = await campaign_service.feed(_me(), query_args)
    following = query_args.offset + len(found)
    return CampaignPage(
        campaigns=await campaign_outs(found), total=total, offset=query_args.offset,
        limit=query_args.limit, next_offset=following if following < total else None,
    )  # fmt: skip


@blueprint.post("/campaigns")
@tag(["campaigns"])
@require_auth
@validate_request(CampaignFields)
@validate_response(CampaignOut, 201)
@document_errors(403, 422)
async def create_campaign(data: CampaignFields) -> tuple[CampaignOut, int]:
    """Create a draft campaign. The owner must be KYC-verified (403 ``owner_kyc_required``);
    422 ``invalid_campaign`` names the field that breaks a rule."""
    campaign = await campaign_service.do_create(_me(), data)
    return (await campaign_outs([campaign], pictures=10))[0], 201


@blueprint.get("/campaigns/<campaign_id>")
@tag(["campaigns"])
@require_auth
@validate_response(CampaignOut)
@document_errors(404)
async def get_campaign(campaign_id: str) -> CampaignOut:
    """One campaign (404 ``campaign_not_found`` for someone else's draft)."""
    campaign = await campaign_service.check_visible(campaign_id, _me(), _admin())
    return (await campaign_outs([campaign], pictures=10))[0]


@blueprint.put("/campaigns/<campaign_id>")
@tag(["campaigns"])
@require_auth
@validate_request(CampaignFields)
@validate_response(CampaignOut)
@document_errors(403, 404, 409, 422)
async def edit_campaign(campaign_id: str, data: CampaignFields) -> CampaignOut:
    """Replace a draft's fields (owner only; 409 ``campaign_state`` once submitted)."""
    campaign = await campaign_service.do_edit(_me(), campaign_id, data)
    return (await campaign_outs([campaign], pictures=10))[0]


@blueprint.post("/campaigns/<campaign_id>/submit")
@tag(["campaigns"])
@require_auth
@validate_response(CampaignOut)
@document_errors(403, 404, 409, 422)
async def submit_campaign(campaign_id: str) -> CampaignOut:
    """Send a draft for review (owner only, KYC-verified)."""
    campaign = await campaign_service.do_submit(_me(), campaign_id)
    return (await campaign_outs([campaign]))[0]


@blueprint.post("/campaigns/<campaign_id>/cancel")
@tag(["campaigns"])
@require_auth
@validate_request(CancelRequest)
@validate_response(CampaignOut)
@document_errors(403, 404, 409, 422)
async def cancel_campaign(campaign_id: str, data: CancelRequest) -> CampaignOut:
    """Cancel a draft, a campaign in review, or a live one with nothing raised or reserved
    (owner or admin; 409 ``campaign_state`` otherwise)."""
    campaign = await campaign_service.do_cancel(_me(), _admin(), campaign_id, data.reason)
    return (await campaign_outs([campaign]))[0]


# ---- files -------------------------------------------------------------------------------------


def file_link(record: StoredFile, viewer_id: str, disposition: str) -> LinkOut:
    """A signed link to a campaign file for a viewer whose right was checked."""
    link = files_service.link(record, viewer_id, disposition)
    return LinkOut(url=f"{get_settings().public_url}{link.path}",
                   expires_at=dt.datetime.fromtimestamp(link.expires_at, dt.UTC),
                   file=FileOut.of(record))  # fmt: skip


@blueprint.get("/campaigns/<campaign_id>/files/<file_id>/link")
@tag(["campaigns", "files"])
@require_auth
@validate_querystring(LinkQuery)
@validate_response(LinkOut)
@document_errors(403, 404)
async def campaign_file_link(campaign_id: str, file_id: str, query_args: LinkQuery) -> LinkOut:
    """A signed link to one of the campaign's files. Pictures and documents: the owner and
    admins always, everyone signed in once the campaign is published; a profit statement:
    also its investors. Errors: 404 ``campaign_not_found``, 404 ``campaign_file_not_found``
    (not its file, or not readable yet), 403 ``not_an_investor``."""
    record, _ = await campaign_service.check_file_access(campaign_id, file_id, _me(), _admin())
    return file_link(record, _me(), query_args.disposition)


# ---- investing -------------------------------------------------------------------------------


@blueprint.get("/campaigns/<campaign_id>/quote")
@tag(["campaigns", "money"])
@require_auth
@validate_querystring(QuoteQuery)
@validate_response(InvestQuote)
@document_errors(404, 422)
async def quote(campaign_id: str, query_args: QuoteQuery) -> InvestQuote:
    """What a pledge would become before paying: accepted, part-filled at the remainder, or
    refused (with the reason and what remains), by the campaign's pledge policy."""
    q = await campaign_service.quote_for(_me(), campaign_id, query_args.amount)
    return InvestQuote(requested=format_minor(q.requested), amount=format_minor(q.amount),
                       remaining=format_minor(max(q.remaining, 0)), outcome=q.outcome,
                       reason=q.reason, message=q.message, opens_on=q.opens_on)  # fmt: skip


@blueprint.post("/campaigns/<campaign_id>/invest")
@tag(["campaigns", "money"])
@require_auth
@idempotent(_me)
@validate_request(InvestRequest)
@validate_response(InvestmentOut, 201)
@document_errors(400, 403, 404, 409, 422, 502, 503)
async def invest(campaign_id: str, data: InvestRequest) -> tuple[InvestmentOut, int]:
    """Reserve the pledge atomically and open a checkout (follow ``checkout_url``); the
    payment completes it, an unpaid reservation expires. Needs an ``Idempotency-Key``.
    Errors: 409 ``investment_refused`` (``details.reason``, ``details.remaining``), 403
    ``investment_limit_reached`` (yearly limit without full KYC)."""
    investment = await campaign_service.do_invest(_me(), campaign_id, data.amount)
    campaign = await campaign_service.get(campaign_id)
    return investment_out(investment, campaign.title), 201


@blueprint.get("/campaigns/<campaign_id>/investments")
@tag(["campaigns", "money"])
@require_auth
@validate_response(InvestmentList)
@document_errors(404)
async def list_investments(campaign_id: str) -> InvestmentList:
    """The campaign's investments: all for its owner and admins, else the caller's own."""
    campaign = await campaign_service.check_visible(campaign_id, _me(), _admin())
    found = await campaign_service.investments(campaign, _me(), _admin())
    return InvestmentList(investments=[investment_out(i, campaign.title) for i in found])


@blueprint.get("/campaigns/investments/<investment_id>")
@tag(["campaigns", "money"])
@require_auth
@validate_response(InvestmentOut)
@document_errors(404)
async def get_investment(investment_id: str) -> InvestmentOut:
    """One of the caller's investments (its state after the checkout)."""
    return investment_out(await campaign_service.get_investment(_me(), investment_id))


# ---- updates, profit, disputes -----------------------------------------------------------


@blueprint.get("/campaigns/<campaign_id>/updates")
@tag(["campaigns"])
@require_auth
@validate_response(UpdateList)
@document_errors(404)
async def list_updates(campaign_id: str) -> UpdateList:
    """The owner's updates, newest first."""
    await campaign_service.check_visible(campaign_id, _me(), _admin())
    return UpdateList(updates=[update_out(u) for u in await campaign_service.updates(campaign_id)])


@blueprint.post("/campaigns/<campaign_id>/updates")
@tag(["campaigns"])
@require_auth
@validate_request(UpdateCreate)
@validate_response(UpdateOut, 201)
@document_errors(403, 404, 409, 422)
async def post_update(campaign_id: str, data: UpdateCreate) -> tuple[UpdateOut, int]:
    """Post an update (owner, live or funded campaign); investors are notified and open
    campaign pages get ``campaign:update``."""
    update = await campaign_service.do_post_update(_me(), campaign_id, data.title, data.body)
    return update_out(update), 201


@blueprint.get("/campaigns/<campaign_id>/profit-reports")
@tag(["campaigns", "money"])
@require_auth
@validate_response(ProfitReportList)
@document_errors(404)
async def list_reports(campaign_id: str) -> ProfitReportList:
    """The campaign's profit reports, newest first, and the next report it owes by its
    reporting schedule (``next_due``, null unless funded). Its owner and admins get every
    report with links to the statements; others the reports that were not rejected, with
    only their own share."""
    campaign = await campaign_service.check_visible(campaign_id, _me(), _admin())
    reports = await campaign_service.reports(campaign_id)
    if _admin() or campaign.owner_id == _me():
        outs = await report_outs(reports, _me(), {campaign_id: campaign.title})
    else:
        investor = await campaign_service.is_investor(campaign_id, _me())
        outs = [await investor_report_out(r, _me(), campaign.title, investor) for r in reports
                if r.status != ProfitReportStatus.REJECTED]  # fmt: skip
    due = campaign_service.report_due(campaign, reports)
    return ProfitReportList(reports=outs,
                            next_due=report_due_out(campaign, due) if due else None)  # fmt: skip


@blueprint.post("/campaigns/<campaign_id>/profit-reports")
@tag(["campaigns", "money"])
@require_auth
@validate_request(ProfitReportCreate)
@validate_response(ProfitReportOut, 201)
@document_errors(403, 404, 409, 422)
async def report_profit(campaign_id: str, data: ProfitReportCreate) -> tuple[ProfitReportOut, int]:
    """The owner reports profit for a period with a document (a ``campaign`` upload); an
    admin decides; once approved the owner pays the investors' pool in through
    ``checkout_url`` and it is shared pro-rata (422 ``invalid_profit_report``)."""
    report = await campaign_flows.do_report_profit(_me(), campaign_id, data)
    return report_out(report), 201


@blueprint.post("/campaigns/<campaign_id>/disputes")
@tag(["campaigns"])
@require_auth
@validate_request(DisputeCreate)
@validate_response(DisputeOut, 201)
@document_errors(403, 404, 422)
async def open_dispute(campaign_id: str, data: DisputeCreate) -> tuple[DisputeOut, int]:
    """An investor opens a dispute against the campaign (403 ``not_an_investor``)."""
    dispute = await campaign_flows.do_open_dispute(_me(), campaign_id, data.reason)
    return (await dispute_outs([dispute]))[0], 201


@blueprint.get("/campaigns/<campaign_id>/ledger")
@tag(["campaigns", "money"])
@require_auth
@validate_response(CampaignStats)
@document_errors(403, 404)
async def campaign_ledger(campaign_id: str) -> CampaignStats:
    """The campaign's escrow and account balances (owner and admins); the trial balance
    sum is always 0."""
    campaign = await campaign_service.check_visible(campaign_id, _me(), _admin())
    if campaign.owner_id != _me() and not _admin():
        await campaign_service.check_owner(campaign_id, _me())
    balances = await ledger_service.balances(campaign_id)
    return CampaignStats(escrow=format_minor(balances.get(ESCROW, 0)),
                         trial_balance_sum=sum(balances.values()),
                         accounts={k: format_minor(v) for k, v in balances.items()})  # fmt: skip


# ---- payout destinations ---------------------------------------------------------------------


def destination_out(d: PayoutDestination | None) -> DestinationOut | None:
    """The API shape of a payout destination (never the full account number)."""
    if d is None:
        return None
    return DestinationOut(kind=d.kind.value, vpa=d.vpa, ifsc=d.ifsc,
                          account_last4=d.account_last4, account_holder=d.account_holder,
                          registered_name=d.registered_name, provider=d.provider,
                          created_at=d.created_at)  # fmt: skip


@blueprint.get("/me/payout-destination")
@tag(["campaigns", "money"])
@require_auth
@validate_response(DestinationState)
async def get_destination() -> DestinationState:
    """Where the caller's campaign payouts (a release, profit shares) are paid, and how many
    payouts wait for a destination."""
    return DestinationState(
        destination=destination_out(await destination_service.get(_me())),
        waiting_payouts=await destination_service.waiting(_me()),
    )


@blueprint.put("/me/payout-destination")
@tag(["campaigns", "money"])
@require_auth
@validate_request(DestinationCreate)
@validate_response(DestinationState)
@document_errors(422, 502, 503)
async def put_destination(data: DestinationCreate) -> DestinationState:
    """Register a UPI id or a bank account (IFSC checked) as the caller's payout destination.
    It is verified with the payout provider's fund account validation first; payouts that
    waited for it are sent at once. Errors: 422 ``validation_error`` (format),
    422 ``payout_destination_invalid`` (the provider could not verify it; nothing stored),
    503 ``payment_provider_unavailable``."""
    destination = await destination_service.do_register(_me(), data)
    return DestinationState(destination=destination_out(destination),
                            waiting_payouts=await destination_service.waiting(_me()))  # fmt: skip


# ---- the provider's webhooks about payouts and refunds ----------------------------------------


@blueprint.post("/webhooks/campaign-transfers/<provider>")
@tag(["campaigns", "money"])
@validate_response(TransferWebhookAck)
@document_errors(400, 404, 409, 413)
async def transfer_webhook(provider: str) -> TransferWebhookAck:
    """The payout provider's webhooks about campaign money going out (``sandbox`` or
    ``razorpayx``): ``payout.processed`` / ``.failed`` / ``.reversed`` / ``.rejected`` and
    ``refund.processed`` / ``refund.failed``. ``X-Razorpay-Signature`` is checked over the raw
    body before anything is read; each event id is applied once and statuses only move
    forward, so re-deliveries and late, out-of-order events change nothing.

    Answers ``result``: ``applied``, ``duplicate`` or ``ignored``. Errors: 400
    ``invalid_signature`` / ``invalid_webhook``, 404 ``unknown_provider``, 409
    ``transfer_not_recorded`` (deliver again later), 413 ``payload_too_large``."""
    limit = get_settings().payment_webhook_max_bytes
    if (request.content_length or 0) > limit:
        raise WebhookTooLarge("webhook body is too large", details={"max_bytes": limit})
    raw_body = await request.get_data(cache=False)
    assert isinstance(raw_body, bytes)
    if len(raw_body) > limit:
        raise WebhookTooLarge("webhook body is too large", details={"max_bytes": limit})
    hook = verify_transfer_webhook(provider, dict(request.headers.items()), raw_body)
    result = await campaign_flows.do_apply_transfer_webhook(hook)
    return TransferWebhookAck(result=result, event_id=hook.event_id)


# ---- statements (through the reports agent) ----------------------------------------------------


async def statement_out(job: ReportJob) -> ReportJobOut:
    """A statement job as the reports API shows it; once done, a fresh signed link."""
    download = None
    if job.status == JobStatus.DONE:
        stored = await report_service.file_of(job)
        if stored is not None:
            link = report_service.download(job, stored)
            download = DownloadOut(**link)
    error = ReportError(code=job.error_code, message=job.error or "") if job.error_code else None
    return ReportJobOut(
        id=str(job.id), club_id=job.club_id, kind=job.kind, format=job.format, as_of=job.as_of,
        member_id=job.member_id, status=job.status, percent=job.percent, error=error,
        created_at=job.created_at, finished_at=job.finished_at, download=download,
    )  # fmt: skip


@blueprint.post("/me/campaigns/statements")
@tag(["campaigns", "reports"])
@require_auth
@validate_request(StatementRequest)
@validate_response(ReportJobOut, 202)
@document_errors(403, 404, 422, 503)
async def request_statement(data: StatementRequest) -> tuple[ReportJobOut, int]:
    """Ask for a crowdfunding statement as CSV or PDF: ``investor`` (every investment of the
    caller, refunds and profit shares) or ``campaign`` (its investments, payments out, profit
    reports and ledger; owner or admin). Built by the reports agent: follow
    ``report:progress`` in ``user:<id>`` or poll ``GET …/statements/{id}`` for the
    ``download`` link. Errors: 404 ``campaign_not_found``, 403 ``not_campaign_owner``."""
    kind = (ReportKind.CAMPAIGN_STATEMENT if data.kind == "campaign"
            else ReportKind.CAMPAIGN_INVESTOR_STATEMENT)  # fmt: skip
    job = await report_service.do_request_campaign(
        _me(), kind=kind, fmt=ReportFormat(data.format), campaign_id=data.campaign_id,
        is_admin=_admin(),
    )  # fmt: skip
    return await statement_out(job), 202


@blueprint.get("/me/campaigns/statements/<job_id>")
@tag(["campaigns", "reports"])
@require_auth
@validate_response(ReportJobOut)
@document_errors(404)
async def get_statement(job_id: str) -> ReportJobOut:
    """A statement job of the caller; once ``done``, a fresh signed ``download`` link."""
    return await statement_out(await report_service.own_job(_me(), job_id))


# ---- dashboards ------------------------------------------------------------------------------


@blueprint.get("/me/campaigns/dashboard")
@tag(["campaigns"])
@require_auth
@validate_response(InvestorDashboard)
async def my_dashboard() -> InvestorDashboard:
    """The caller's crowdfunding: as an investor (investments, payouts received, return so
    far, upcoming deadlines) and as an owner (campaigns, profit reports, payouts due)."""
    me = _me()
    mine = await campaign_service.investments_of(me)
    campaigns = await campaign_service.campaigns_by_ids(sorted({i.campaign_id for i in mine}))
    counted = ("completed", "refund_pending", "refunded")
    invested = sum(i.amount for i in mine if i.status in counted and i.status != "refunded")
    received_transfers = await campaign_service.transfers(user_id=me)
    payouts = [t for t in received_transfers if t.kind.value == "profit_share"]
    received = sum(t.amount for t in payouts if t.status == TransferStatus.PAID)
    upcoming = sorted((c for c in campaigns.values() if c.status == "live"),
                      key=lambda c: c.ends_at)  # fmt: skip
    backed = sorted({i.campaign_id for i in mine if i.status in ("completed", "pending")})
    owned = await campaign_service.owned(me)
    owned_titles = {str(c.id): c.title for c in owned}
    reports_by_campaign = {str(c.id): await campaign_service.reports(str(c.id)) for c in owned}
    reports = [r for c in owned for r in reports_by_campaign[str(c.id)]]
    due = [(c, campaign_service.report_due(c, reports_by_campaign[str(c.id)])) for c in owned]
    owner_transfers = [t for t in received_transfers if t.kind.value == "release"]
    # What the owners of the funded campaigns invested in owe their investors (the schedule).
    paid_into = sorted({i.campaign_id for i in mine if i.status == "completed"})
    investor_due, investor_reports = [], []
    for cid in paid_into:
        backed_campaign = campaigns.get(cid)
        if backed_campaign is None or backed_campaign.status != "funded":
            continue
        filed = await campaign_service.reports(cid)
        next_due = campaign_service.report_due(backed_campaign, filed)
        if next_due is not None:
            investor_due.append(report_due_out(backed_campaign, next_due))
        investor_reports += [await investor_report_out(r, me, backed_campaign.title, True)
                             for r in filed if r.status != ProfitReportStatus.REJECTED]  # fmt: skip
    investor_reports.sort(key=lambda r: r.created_at, reverse=True)
    return InvestorDashboard(
        invested=format_minor(invested), received=format_minor(received),
        return_bps=received * 10_000 // invested if invested else 0,
        investments=[investment_out(i, campaigns[i.campaign_id].title
                                    if i.campaign_id in campaigns else None) for i in mine],
        payouts=[transfer_out(t) for t in payouts], upcoming=await campaign_outs(upcoming),
        investor_updates=dashboard_updates(
            await campaign_service.updates_of_campaigns(backed, 20),
            {cid: c.title for cid, c in campaigns.items()},
        ),
        owned=await campaign_outs(owned),
        owner_reports_due=[report_due_out(c, d) for c, d in due if d is not None],
        owner_reports=await report_outs(reports, me, owned_titles),
        owner_transfers=[transfer_out(t) for t in owner_transfers],
        owner_updates=dashboard_updates(
            await campaign_service.updates_of_campaigns(list(owned_titles), 50), owned_titles
        ),
        disputes=await dispute_outs(await campaign_service.disputes(user_id=me)),
        investor_reports_due=investor_due, investor_reports=investor_reports[:50],
    )  # fmt: skip


@blueprint.get("/admin/campaigns/<campaign_id>/audit")
@tag(["campaigns", "admin"])
@require_role(PlatformRole.ADMIN)
@validate_response(CampaignAudit)
@document_errors(404)
async def campaign_audit(campaign_id: str) -> CampaignAudit:
    """The campaign's own audit chain (created, submitted, verified, investments, refunds,
    payouts, profit decisions, disputes), newest 200 first, and a verification of the whole
    chain. (The platform log at ``/api/v1/admin/audit`` holds only the platform chain.)"""
    await campaign_service.get(campaign_id)
    chain = campaign_chain(campaign_id)
    records = await audit_service.latest(chain, None, 200)
    report = await audit_service.verify(chain)
    return CampaignAudit(
        chain=chain, chain_ok=report.ok, chain_checked=report.checked,
        records=[AuditEntryOut(seq=r.seq, at=r.at, actor_id=r.actor_id, action=r.action,
                               target_type=r.target_type, target_id=r.target_id,
                               details=dict(r.details), hash=r.hash) for r in records],
    )  # fmt: skip


@blueprint.get("/admin/campaigns/dashboard")
@tag(["campaigns", "admin"])
@require_role(PlatformRole.ADMIN)
@validate_response(AdminDashboard)
async def admin_dashboard() -> AdminDashboard:
    """What waits for an admin: campaigns to verify, profit reports to decide, failed
    payouts, open disputes; the live campaigns (closing soonest first) and the funded ones
    whose profit report is overdue. The screen follows ``campaigns:admin`` and the live
    campaigns' rooms and fetches this afresh on each event."""
    overdue = []
    for funded in await campaign_service.funded():
        due = campaign_service.report_due(funded, await campaign_service.reports(str(funded.id)))
        if due is not None and due.state == "overdue":
            overdue.append(report_due_out(funded, due))
    overdue.sort(key=lambda d: d.due_on)
    return AdminDashboard(
        to_verify=await campaign_outs(await campaign_service.in_review(), pictures=10),
        reports_to_decide=await report_outs(await campaign_service.reports_waiting(), _me()),
        failed_transfers=[transfer_out(t) for t in
                          await campaign_service.transfers(status=TransferStatus.FAILED)],
        open_disputes=await dispute_outs(
            await campaign_service.disputes(status=DisputeStatus.OPEN)
        ),
        live=await campaign_outs(await campaign_service.live(20)), reports_overdue=overdue,
    )  # fmt: skip


@blueprint.post("/admin/campaigns/<campaign_id>/review")
@tag(["campaigns", "admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(ReviewRequest)
@validate_response(CampaignOut)
@document_errors(404, 409, 422)
async def review_campaign(campaign_id: str, data: ReviewRequest) -> CampaignOut:
    """Verify a campaign in review (it goes live) or send it back to its owner, with notes
    (audited)."""
    campaign = await campaign_service.do_review(_me(), campaign_id, data.decision, data.notes)
    return (await campaign_outs([campaign]))[0]


@blueprint.post("/admin/campaigns/profit-reports/<report_id>/decision")
@tag(["campaigns", "admin", "money"])
@require_role(PlatformRole.ADMIN)
@validate_request(ProfitDecision)
@validate_response(ProfitReportOut)
@document_errors(404, 409, 422, 502, 503)
async def decide_report(report_id: str, data: ProfitDecision) -> ProfitReportOut:
    """Approve (a checkout opens for the owner to pay the pool in) or reject a profit
    report, with notes (audited)."""
    report = await campaign_flows.do_decide_report(_me(), report_id, data.approve, data.notes)
    return report_out(report)


@blueprint.post("/admin/campaigns/disputes/<dispute_id>/resolve")
@tag(["campaigns", "admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(DisputeResolve)
@validate_response(DisputeOut)
@document_errors(404, 409, 422)
async def resolve_dispute(dispute_id: str, data: DisputeResolve) -> DisputeOut:
    """Resolve an open dispute with notes (audited; the investor is notified)."""
    resolved = await campaign_flows.do_resolve_dispute(_me(), dispute_id, data.resolution)
    return (await dispute_outs([resolved]))[0]


@blueprint.post("/admin/campaigns/transfers/<transfer_id>/retry")
@tag(["campaigns", "admin", "money"])
@require_role(PlatformRole.ADMIN)
@validate_response(TransferOut)
@document_errors(404)
async def retry_transfer(transfer_id: str) -> TransferOut:
    """Put a failed payout back in the queue (audited)."""
    return transfer_out(await campaign_flows.do_retry_transfer(_me(), transfer_id))
