"""CRM HTTP API under ``/api/v1/crm`` (leads, clients, investments, KYC queue, reminders, staff,
reports, data protection) and the public web-to-lead form. Thin: parse → ``crm_service`` →
schema. Every route but the web form needs a CRM role; the service scopes every query."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from pydantic import ValidationError
from quart import Blueprint, Response, request
from quart_schema import (
    DataSource,
    document_request,
    tag,
    validate_querystring,
    validate_request,
    validate_response,
)
from quart_schema.pydantic import File
from werkzeug.exceptions import RequestEntityTooLarge

from app.config import get_settings
from app.crm import people
from app.crm.documents import SCORE_FIELDS, ActivityKind, Client, Lead, LeadSource
from app.crm.schemas import (
    ActivityCreate,
    ActivityOut,
    AdvisoryAccountOut,
    AdvisoryRiskOut,
    AssignRequest,
    ClientAdvisory,
    ClientCreate,
    ClientCreated,
    ClientKyc,
    ClientKycUpload,
    ClientOut,
    ClientPage,
    ClientPatch,
    ClientQuery,
    Converted,
    ConvertRequest,
    CrmAuditList,
    CrmAuditOut,
    CrmAuditQuery,
    CrmReport,
    CrmReportRequest,
    CurrencyTotal,
    DuplicateList,
    DuplicateOut,
    ErasureOut,
    FxUsed,
    ImportReport,
    ImportRequest,
    InvestmentOut,
    KycDecision,
    KycDecisionOut,
    KycExpiring,
    KycExpiringItem,
    KycQueue,
    KycQueueItem,
    LeadCreate,
    LeadCreated,
    LeadOut,
    LeadPage,
    LeadPatch,
    LeadQuery,
    LinkAnswer,
    LinkAnswered,
    LinkRequestOut,
    LinkRequests,
    MergeOut,
    MergeRequest,
    PersonalAccountOut,
    PersonExport,
    PortfolioOut,
    ReminderCreate,
    ReminderList,
    ReminderOut,
    ReminderQuery,
    ReportQuery,
    RetainedOut,
    RetentionOut,
    ScoreRules,
    ScoreRulesPut,
    StaffList,
    StaffOut,
    StaffPlaced,
    StaffPut,
    StatusChange,
    Timeline,
    TransactionOut,
    WebFormReply,
    WebFormRequest,
)
from app.crm.service import Actor, crm_service
from app.crm.settings import crm_settings
from app.errors import ValidationFailed
from app.extensions import services
from app.files.errors import FileTooLarge
from app.files.schemas import FileOut, LinkOut, LinkQuery
from app.files.service import files_service
from app.identity.documents import PlatformRole
from app.identity.guards import client_ip, current_principal, require_auth, require_role
from app.kyc.schemas import KycDocumentOut
from app.money import format_minor
from app.openapi import document_errors, document_raw_response
from app.reports.csv_render import text as csv_text
from app.reports.documents import ReportFormat, ReportKind
from app.reports.schemas import ReportJobOut
from app.reports.service import report_service

blueprint = Blueprint("crm", __name__, url_prefix="/api/v1/crm")
KYC_UPLOAD_PATH = "/api/v1/crm/kyc/documents"
"""The staff's KYC upload: its body may be as large as a file (register it with
``UploadAwareRequest.upload_limits`` in app/web.py)."""

STAFF = (PlatformRole.CRM_AGENT, PlatformRole.CRM_MANAGER, PlatformRole.ADMIN)
TAG = ["crm"]


def _units(micro: int) -> str:
    """Micro-units as a six-place decimal string."""
    return f"{micro // 1_000_000}.{micro % 1_000_000:06d}"


async def _actor() -> Actor:
    principal = current_principal()
    return await crm_service.actor(principal.user_id, [r.value for r in principal.user.roles])


async def _lead_out(lead: Lead, detail: bool = False) -> LeadOut:
    names = await people.names([lead.owner_id] if lead.owner_id else [])
    phone = crm_service.phone_of(lead) if detail else None
    return LeadOut.of(lead, phone=phone, owner_name=names.get(lead.owner_id or ""))


async def _leads_out(leads: list[Lead]) -> list[LeadOut]:
    names = await people.names(sorted({lead.owner_id for lead in leads if lead.owner_id}))
    return [LeadOut.of(lead, owner_name=names.get(lead.owner_id or "")) for lead in leads]


async def _client_out(client: Client, detail: bool = False) -> ClientOut:
    names = await people.names([client.owner_id] if client.owner_id else [])
    erased = await people.account_erased(client.user_id) if detail and client.user_id else None
    return ClientOut.of(
        client, phone=crm_service.phone_of(client) if detail else None,
        address=crm_service.address_of(client) if detail else None,
        owner_name=names.get(client.owner_id or ""),
        kyc_status=await crm_service.kyc_status(client) if detail else None,
        account_erased=erased,
    )  # fmt: skip


async def _timeline(items: list[Any]) -> Timeline:
    names = await people.names(sorted({a.actor_id for a in items if a.actor_id}))
    others, undone = await crm_service.merge_context(items)
    out = []
    for a in items:
        other = others.get(str(a.data.get("other_id"))) if a.data.get("other_id") else None
        undoable = (str(a.data.get("merge_id")) not in undone) \
            if a.kind is ActivityKind.MERGED and a.data.get("merge_id") else None  # fmt: skip
        out.append(ActivityOut.of(a, names.get(a.actor_id or ""), other, undoable))
    return Timeline(items=out)


# ---- the public web form ------------------------------------------------------------------------


@blueprint.post("/web-form")
@tag(TAG)
@validate_request(WebFormRequest)
@validate_response(WebFormReply, 202)
@document_errors(422, 429)
async def web_form(data: WebFormRequest) -> tuple[WebFormReply, int]:
    """Public web-to-lead form (no account). Always ``202 {"received": true}`` for a valid
    submission — new, known or spam alike. Errors: 422 ``invalid_contact``
    (``details.field``), ``validation_error``; 429 ``rate_limited`` (per address and per
    e-mail)."""
    await crm_service.do_web_form(data, client_ip())
    return WebFormReply(), 202


# ---- leads --------------------------------------------------------------------------------------


@blueprint.get("/leads")
@tag(TAG)
@require_role(*STAFF)
@validate_querystring(LeadQuery)
@validate_response(LeadPage)
async def list_leads(query_args: LeadQuery) -> LeadPage:
    """Leads in the caller's scope (agents: their own; managers: their team's and unassigned;
    admins: all), filtered by status, source, owner; ``q`` searches names, e-mails and notes."""
    items, total = await crm_service.leads(
        await _actor(), status=query_args.status, source=query_args.source,
        owner_id=query_args.owner_id, text=query_args.q, skip=query_args.skip,
        limit=query_args.limit, sort=query_args.sort,
    )  # fmt: skip
    return LeadPage(items=await _leads_out(items), total=total)


@blueprint.post("/leads")
@tag(TAG)
@require_role(*STAFF)
@validate_request(LeadCreate)
@validate_response(LeadCreated, 201)
@document_errors(409, 422)
async def create_lead(data: LeadCreate) -> tuple[LeadCreated, int]:
    """Enter a lead by hand; answers it with its near duplicates. Errors: 409
    ``lead_duplicate`` (same e-mail or phone; ``details.field``); 422 ``invalid_contact``,
    ``assignee_invalid``."""
    actor = await _actor()
    lead, dupes = await crm_service.do_create_lead(actor, data)
    return LeadCreated(
        lead=await _lead_out(lead, True),
        possible_duplicates=[DuplicateOut(lead=o, name_ratio=n, email_ratio=e) for o, n, e in
                             zip(await _leads_out([d[0] for d in dupes]),
                                 [d[1] for d in dupes], [d[2] for d in dupes], strict=True)],
    ), 201  # fmt: skip


@blueprint.post("/leads/import")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ImportRequest)
@validate_response(ImportReport)
@document_errors(422)
async def import_leads(data: ImportRequest) -> ImportReport:
    """Create leads from CSV text, each row on its own; the report says per row what was
    created and what refused (with the code). Errors: 422 ``import_invalid``."""
    return await crm_service.do_import(await _actor(), data.csv, data.source)


@blueprint.get("/leads/export.csv")
@tag(TAG)
@require_role(*STAFF)
@document_raw_response(200, "text/csv", description="every lead in the caller's scope")
async def export_leads() -> Response:
    """Every lead in the caller's scope as CSV (no phone numbers). Text a spreadsheet would
    run as a formula (starting ``= + - @``, tab or CR) is prefixed with ``'``."""
    items = await crm_service.export_rows(await _actor())
    names = await people.names(sorted({i.owner_id for i in items if i.owner_id}))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "full_name", "email", "source", "status", "stage", "owner", "score",
                     "created_at"])  # fmt: skip
    for lead in items:
        writer.writerow([str(lead.id), csv_text(lead.full_name), csv_text(lead.email or ""),
                         lead.source.value, lead.status.value, lead.stage.value,
                         csv_text(names.get(lead.owner_id or "", "")), lead.score,
                         lead.created_at.isoformat()])  # fmt: skip
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="leads.csv"'},
    )


@blueprint.get("/leads/<lead_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_response(LeadOut)
@document_errors(404)
async def get_lead(lead_id: str) -> LeadOut:
    """One lead (phone in the clear) and its score's parts. Errors: 404 ``lead_not_found``
    (also another agent's lead)."""
    return await _lead_out(await crm_service.lead(await _actor(), lead_id), True)


@blueprint.patch("/leads/<lead_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_request(LeadPatch)
@validate_response(LeadOut)
@document_errors(404, 409, 422)
async def patch_lead(lead_id: str, data: LeadPatch) -> LeadOut:
    """Change contact and profile fields. Errors: 404 ``lead_not_found``; 409
    ``lead_duplicate``, ``subject_erased``; 422 ``invalid_contact``."""
    lead = await crm_service.do_update_lead(await _actor(), lead_id, data)
    return await _lead_out(lead, True)


@blueprint.delete("/leads/<lead_id>")
@tag(TAG)
@require_role(PlatformRole.ADMIN)
@validate_response(ErasureOut)
@document_errors(404, 409)
async def erase_lead(lead_id: str) -> ErasureOut:
    """Erase the person behind the lead (and client) on their request: personal data removed,
    records kept as tombstones, the audit chain intact (it holds a keyed hash). Their platform
    account is erased too when the CRM made it and nothing else holds it; otherwise
    ``retained`` says what keeps it and why. Admins only.
    Errors: 404 ``lead_not_found``; 409 ``subject_erased``."""
    lead, client, subject, outcome = await crm_service.do_erase(await _actor(), lead_id)
    assert lead.erased_at is not None
    return ErasureOut(
        lead_id=lead_id, client_id=str(client.id) if client else None,
        erased_at=lead.erased_at, subject_hash=subject, account=outcome.state,
        retained=[RetainedOut(kind=r.kind, count=r.count, reason=r.reason)
                  for r in outcome.retained],
    )  # fmt: skip


@blueprint.post("/leads/<lead_id>/status")
@tag(TAG)
@require_role(*STAFF)
@validate_request(StatusChange)
@validate_response(LeadOut)
@document_errors(404, 409, 422)
async def change_status(lead_id: str, data: StatusChange) -> LeadOut:
    """Move the lead: new → contacted → qualified → (convert) | lost (reason required); a
    lost lead may be re-opened as contacted. With ``version``, only the lead as the person saw
    it is moved. Errors: 409 ``lead_illegal_transition`` (``details.from``, ``to``,
    ``allowed``), ``lead_convert_required``, ``lead_changed`` (it changed since ``version``;
    ``details.version`` is the current one); 422 ``lost_reason_required``; 404
    ``lead_not_found``."""
    lead = await crm_service.do_change_status(await _actor(), lead_id, data.status, data.reason,
                                              version=data.version)  # fmt: skip
    return await _lead_out(lead, True)


@blueprint.post("/leads/<lead_id>/assign")
@tag(TAG)
@require_role(*STAFF)
@validate_request(AssignRequest)
@validate_response(LeadOut)
@document_errors(404, 422)
async def assign(lead_id: str, data: AssignRequest) -> LeadOut:
    """Give the lead to a person (within the caller's team) or the next agent in turn.
    Errors: 422 ``assignee_invalid``; 404 ``lead_not_found``."""
    lead = await crm_service.do_assign(await _actor(), lead_id, data.owner_id, data.round_robin)
    return await _lead_out(lead, True)


@blueprint.get("/leads/<lead_id>/timeline")
@tag(TAG)
@require_role(*STAFF)
@validate_response(Timeline)
@document_errors(404)
async def lead_timeline(lead_id: str) -> Timeline:
    """The lead's activities, newest first (calls, e-mails, notes, status changes, …)."""
    return await _timeline(await crm_service.timeline(await _actor(), lead_id))


@blueprint.post("/leads/<lead_id>/activities")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ActivityCreate)
@validate_response(ActivityOut, 201)
@document_errors(404, 409)
async def log_activity(lead_id: str, data: ActivityCreate) -> tuple[ActivityOut, int]:
    """Log a call, e-mail, meeting or note. Errors: 404 ``lead_not_found``; 409
    ``subject_erased``."""
    activity = await crm_service.do_log_activity(
        await _actor(), lead_id, ActivityKind(data.kind), data.text
    )
    return ActivityOut.of(activity), 201


@blueprint.get("/leads/<lead_id>/duplicates")
@tag(TAG)
@require_role(*STAFF)
@validate_response(DuplicateList)
@document_errors(404)
async def duplicates(lead_id: str) -> DuplicateList:
    """Near duplicates of the lead in the caller's scope (similar name and e-mail), most
    similar first. Errors: 404 ``lead_not_found``."""
    actor = await _actor()
    found = await crm_service.near_duplicates(actor, await crm_service.lead(actor, lead_id))
    shown = await _leads_out([f[0] for f in found])
    return DuplicateList(items=[DuplicateOut(lead=o, name_ratio=f[1], email_ratio=f[2])
                                for o, f in zip(shown, found, strict=True)])  # fmt: skip


@blueprint.post("/leads/<lead_id>/merge")
@tag(TAG)
@require_role(*STAFF)
@validate_request(MergeRequest)
@validate_response(MergeOut, 201)
@document_errors(404, 409)
async def merge(lead_id: str, data: MergeRequest) -> tuple[MergeOut, int]:
    """Fold ``other_id`` into this lead: every note and activity kept, audited, undoable.
    Errors: 409 ``lead_merge_refused`` (``details.reason``: self, converted, merged); 404
    ``lead_not_found``."""
    done = await crm_service.do_merge(await _actor(), lead_id, data.other_id)
    return MergeOut.of(done), 201


@blueprint.post("/merges/<merge_id>/undo")
@tag(TAG)
@require_role(*STAFF)
@validate_response(MergeOut)
@document_errors(404, 409)
async def undo_merge(merge_id: str) -> MergeOut:
    """Undo a merge. Errors: 409 ``merge_undo_refused`` (``details.reason``: undone, changed,
    duplicate); 404 ``merge_not_found``."""
    return MergeOut.of(await crm_service.do_undo_merge(await _actor(), merge_id))


@blueprint.post("/leads/<lead_id>/convert")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ConvertRequest)
@validate_response(Converted, 201)
@document_errors(404, 409)
async def convert(lead_id: str, data: ConvertRequest) -> tuple[Converted, int]:
    """Make a qualified lead a client (one transaction; its history stays), optionally
    inviting them to the platform. Errors: 409 ``lead_illegal_transition``,
    ``subject_erased``; 404 ``lead_not_found``."""
    lead, client = await crm_service.do_convert(await _actor(), lead_id, data)
    return Converted(lead=await _lead_out(lead, True), client=await _client_out(client, True)), 201


@blueprint.get("/leads/<lead_id>/export")
@tag(TAG)
@require_role(*STAFF)
@validate_response(PersonExport)
@document_errors(404)
async def export_person(lead_id: str) -> PersonExport:
    """Everything held on the person behind the lead (data-protection access request)."""
    return PersonExport(**await crm_service.export_person(await _actor(), lead_id))


# ---- clients ------------------------------------------------------------------------------------


@blueprint.get("/audit")
@tag(TAG)
@require_role(PlatformRole.ADMIN)
@validate_querystring(CrmAuditQuery)
@validate_response(CrmAuditList)
async def crm_audit(query_args: CrmAuditQuery) -> CrmAuditList:
    """The CRM's audit trail, newest first (merges, undos, conversions, erasures, exports,
    KYC openings…; people named by keyed hash), with a verification of the whole chain.
    Admins only."""
    records, ok, checked, names = await crm_service.audit_trail(query_args.action,
                                                                query_args.limit)  # fmt: skip
    return CrmAuditList(items=[CrmAuditOut(
        seq=r.seq, at=r.at, actor_id=r.actor_id, actor_name=names.get(r.actor_id or ""),
        action=r.action, target_type=r.target_type, target_id=r.target_id, details=r.details,
    ) for r in records], chain_ok=ok, chain_checked=checked)  # fmt: skip


@blueprint.get("/clients")
@tag(TAG)
@require_role(*STAFF)
@validate_querystring(ClientQuery)
@validate_response(ClientPage)
async def list_clients(query_args: ClientQuery) -> ClientPage:
    """Clients in scope, by segment, status, name or e-mail."""
    items, total = await crm_service.clients(
        await _actor(), segment=query_args.segment, status=query_args.status,
        text=query_args.q, skip=query_args.skip, limit=query_args.limit,
    )  # fmt: skip
    return ClientPage(items=[await _client_out(c) for c in items], total=total)


@blueprint.post("/clients")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ClientCreate)
@validate_response(ClientCreated, 201)
@document_errors(409, 422)
async def create_client(data: ClientCreate) -> tuple[ClientCreated, int]:
    """Enter a client directly (their lead record is made with them, converted, holding
    their history); answers it with the near duplicates found. Errors: 409
    ``lead_duplicate`` (same e-mail or phone as a lead or client; ``details.field``,
    ``details.lead_id`` when yours to see); 422 ``invalid_contact``, ``assignee_invalid``."""
    actor = await _actor()
    client, dupes = await crm_service.do_create_client(actor, data)
    shown = await _leads_out([d[0] for d in dupes])
    return ClientCreated(
        client=await _client_out(client, True),
        possible_duplicates=[DuplicateOut(lead=o, name_ratio=d[1], email_ratio=d[2])
                             for o, d in zip(shown, dupes, strict=True)],
    ), 201  # fmt: skip


@blueprint.post("/clients/<client_id>/invite")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ClientOut)
@document_errors(404, 409, 422)
async def invite_client(client_id: str) -> ClientOut:
    """Give the client a platform account and mail them how to sign in; needed before KYC
    documents can be held for them. When their e-mail already has an account it is not linked:
    its holder is asked to accept (``link_pending`` true until they do). Errors: 404
    ``client_not_found``; 409 ``subject_erased``; 422 ``invalid_contact`` (no e-mail)."""
    client = await crm_service.do_invite_client(await _actor(), client_id)
    return await _client_out(client, True)


@blueprint.get("/link-requests")
@tag(TAG)
@require_auth
@validate_response(LinkRequests)
async def my_link_requests() -> LinkRequests:
    """For the signed-in person (any account): the operator's requests to link their account
    with its client record, waiting for their answer. Nothing of the account is shown to the
    operator before they accept."""
    found = await crm_service.link_requests(current_principal().user_id)
    names = await people.names(sorted({c.owner_id for c in found if c.owner_id}))
    return LinkRequests(items=[LinkRequestOut(
        client_id=str(c.id), client_name=c.full_name, manager_name=names.get(c.owner_id or ""),
        requested_at=c.link_requested_at) for c in found])  # fmt: skip


@blueprint.post("/link-requests/<client_id>")
@tag(TAG)
@require_auth
@validate_request(LinkAnswer)
@validate_response(LinkAnswered)
@document_errors(404)
async def answer_link_request(client_id: str, data: LinkAnswer) -> LinkAnswered:
    """The signed-in person accepts (``{"accept": true}``: the client record is linked to their
    account) or declines the operator's link request. Errors: 404 ``client_not_found`` (no
    request for this person waits on that record)."""
    client = await crm_service.do_answer_link(current_principal().user_id, client_id,
                                              data.accept)  # fmt: skip
    return LinkAnswered(client_id=client_id, linked=client.user_id is not None)


@blueprint.get("/clients/<client_id>/kyc")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ClientKyc)
@document_errors(404)
async def client_kyc(client_id: str) -> ClientKyc:
    """The client's KYC status, what is missing and their documents, as the KYC service
    derives them (``not_started`` without a platform account). Errors: 404
    ``client_not_found``."""
    _client, summary = await crm_service.client_kyc(await _actor(), client_id)
    if summary is None:
        return ClientKyc(client_id=client_id, member=False, status="not_started", missing=[],
                         documents=[])  # fmt: skip
    return ClientKyc(client_id=client_id, member=True, status=summary.status.value,
                     missing=summary.missing,
                     documents=[KycDocumentOut.of(d) for d in summary.documents])  # fmt: skip


class _KycUploadForm(ClientKycUpload):
    """The multipart form of the staff's KYC upload: the details and the ``file``."""

    file: File


@blueprint.post("/kyc/documents")
@tag(TAG)
@require_role(*STAFF)
@document_request(_KycUploadForm, source=DataSource.FORM_MULTIPART)
@validate_response(KycDocumentOut, 201)
@document_errors(404, 409, 413, 415, 422, 503)
async def upload_client_kyc() -> tuple[KycDocumentOut, int]:
    """Upload a client's KYC document for them (multipart: ``file``, ``client_id``, ``kind``,
    ``number``, ``proof_type``, ``issued_on``, ``expires_on``). The details are checked by the
    KYC rules first, the file on its content (PDF, PNG, JPEG; size; virus scan); it is then
    the client's document, pending review in the KYC queue. Errors: 404
    ``client_not_found``; 409 ``client_not_member`` (invite them first),
    ``kyc_document_pending``, ``kyc_number_in_use``, ``subject_erased``; 413
    ``file_too_large``; 415 ``unsupported_file_type``; 422 ``invalid_document``,
    ``kyc_document_expired``, ``malware_detected``, ``file_missing``, ``validation_error``;
    503 ``scanner_unavailable``."""
    try:
        form = await request.form
        files = await request.files
    except RequestEntityTooLarge as exc:
        max_bytes = get_settings().file_max_bytes
        raise FileTooLarge(f"files may be at most {max_bytes} bytes",
                           details={"max_bytes": max_bytes}) from exc  # fmt: skip
    fields = {k: v for k, v in form.items() if k in ClientKycUpload.model_fields and v != ""}
    try:
        details = ClientKycUpload.model_validate(fields)
    except ValidationError as exc:
        raise ValidationFailed("invalid form", details={"errors": _errors(exc)}) from exc
    upload = files.get("file")
    doc = await crm_service.do_upload_client_kyc(
        await _actor(), details, upload.read() if upload is not None else b"",
        upload.filename if upload is not None else None,
    )  # fmt: skip
    return KycDocumentOut.of(doc), 201


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]


@blueprint.get("/clients/<client_id>/advisory")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ClientAdvisory)
@document_errors(404)
async def client_advisory(client_id: str) -> ClientAdvisory:
    """The client's advisory profile (risk questionnaire result, advisory portfolios) from
    the advisory service. Errors: 404 ``client_not_found``."""
    client, profile, accounts = await crm_service.advisory(await _actor(), client_id)
    return ClientAdvisory(
        client_id=client_id, user_id=client.user_id,
        risk_profile=AdvisoryRiskOut(profile=profile.profile, score=profile.score,
                                     horizon_years=profile.horizon_years,
                                     taken_at=profile.taken_at) if profile else None,
        accounts=[AdvisoryAccountOut(account_id=a.account_id, kind=a.kind.value, name=a.name,
                                     currency=a.currency) for a in accounts],
        client_path=f"/crm/clients/{client_id}",
    )  # fmt: skip


@blueprint.get("/clients/by-user/<user_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ClientOut)
@document_errors(404)
async def client_by_user(user_id: str) -> ClientOut:
    """The client in the caller's scope whose platform account is ``user_id`` (from an
    advisory profile back to the CRM). Errors: 404 ``client_not_found``."""
    return await _client_out(await crm_service.client_of_user(await _actor(), user_id), True)


@blueprint.get("/clients/<client_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ClientOut)
@document_errors(404)
async def get_client(client_id: str) -> ClientOut:
    """A client's profile, contacts, segment, manager, status, investment profile and KYC
    status. Errors: 404 ``client_not_found``."""
    return await _client_out(await crm_service.client(await _actor(), client_id), True)


@blueprint.patch("/clients/<client_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ClientPatch)
@validate_response(ClientOut)
@document_errors(404, 409, 422)
async def patch_client(client_id: str, data: ClientPatch) -> ClientOut:
    """Change a client. Errors: 404 ``client_not_found``; 422 ``invalid_contact``,
    ``assignee_invalid``; 409 ``subject_erased``."""
    client = await crm_service.do_update_client(await _actor(), client_id, data)
    return await _client_out(client, True)


@blueprint.get("/clients/<client_id>/timeline")
@tag(TAG)
@require_role(*STAFF)
@validate_response(Timeline)
@document_errors(404)
async def client_timeline(client_id: str) -> Timeline:
    """The client's history since they were a lead, newest first."""
    return await _timeline(await crm_service.client_timeline(await _actor(), client_id))


@blueprint.post("/clients/<client_id>/activities")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ActivityCreate)
@validate_response(ActivityOut, 201)
@document_errors(404, 409)
async def log_client_activity(client_id: str, data: ActivityCreate) -> tuple[ActivityOut, int]:
    """Log a call, e-mail, meeting or note on a client."""
    activity = await crm_service.do_log_client_activity(
        await _actor(), client_id, ActivityKind(data.kind), data.text
    )
    return ActivityOut.of(activity), 201


@blueprint.get("/clients/<client_id>/investments")
@tag(TAG)
@require_role(*STAFF)
@validate_response(PortfolioOut)
@document_errors(404)
async def investments(client_id: str) -> PortfolioOut:
    """The client's investments (their clubs, at each club's latest valuation, and their
    personal advisory accounts, valued at the latest quotes), totals per currency, and the
    whole in INR at today's ECB reference rates (``fx``, ``total_note``). Errors: 404
    ``client_not_found``."""
    folio = await crm_service.portfolio_view(await _actor(), client_id,
                                             services.require_redis())  # fmt: skip
    client, stakes, accounts, history, sums = folio
    rates = "; ".join(f"1 {r.base} = {r.text()} {r.quote}" for r in sums.rates)
    note = (f"All in {sums.currency}" + (f", converted at the ECB reference rates of "
            f"{', '.join(sorted({r.rate_date.isoformat() for r in sums.rates}))} ({rates})"
            if sums.rates else "") + ".") if sums.value is not None else \
        "No ECB rate for one of the currencies: see the totals per currency."  # fmt: skip
    return PortfolioOut(
        client_id=client_id, member=bool(client.user_id),
        investments=[InvestmentOut(
            club_id=s.club_id, club_name=s.club_name, currency=s.currency,
            valuation_date=s.valuation_date, units=_units(s.units),
            paid_in=format_minor(s.paid_in), withdrawn=format_minor(s.withdrawn),
            value=format_minor(s.value)) for s in stakes],
        accounts=[PersonalAccountOut(
            account_id=a.account_id, name=a.name, currency=a.currency,
            value=format_minor(a.value) if a.value is not None else None) for a in accounts],
        transactions=[TransactionOut(
            club_id=t.club_id, club_name=t.club_name, kind=t.kind, amount=format_minor(t.amount),
            currency=t.currency, status=t.status, on=t.on) for t in history],
        totals=[CurrencyTotal(currency=c, value=format_minor(v), paid_in=format_minor(p))
                for c, (v, p) in sums.per_currency.items()],
        total_currency=sums.currency,
        total_value=format_minor(sums.value) if sums.value is not None else None,
        total_paid_in=format_minor(sums.paid_in) if sums.paid_in is not None else None,
        fx=[FxUsed(base=r.base, quote=r.quote, rate=r.text(),
                   rate_date=r.rate_date.isoformat()) for r in sums.rates],
        total_note=note,
    )  # fmt: skip


blueprint.add_url_rule("/clients/<client_id>/portfolio", "portfolio", investments,
                       methods=["GET"])  # fmt: skip


# ---- KYC ----------------------------------------------------------------------------------------


@blueprint.get("/kyc/queue")
@tag(TAG)
@require_role(*STAFF)
@validate_response(KycQueue)
async def kyc_queue() -> KycQueue:
    """Pending KYC documents of the caller's clients, oldest first, each with its details and
    the path of its scan's link (``GET /api/v1/crm/kyc/{document_id}/file``)."""
    items = await crm_service.kyc_queue(await _actor())
    files = await crm_service.kyc_files([d for _, d in items])
    out = []
    for c, d in items:
        shown = KycDocumentOut.of(d)
        record = files.get(d.file_id)
        out.append(KycQueueItem(
            client_id=str(c.id), client_name=c.full_name, document_id=str(d.id),
            kind=d.kind.value, submitted_at=d.submitted_at, expires_on=d.expires_on,
            number=shown.number, issued_on=d.issued_on,
            proof_type=d.proof_type.value if d.proof_type else None, file_id=d.file_id,
            content_type=record.content_type if record else None,
            file_link=f"/api/v1/crm/kyc/{d.id}/file" if record else None,
        ))  # fmt: skip
    return KycQueue(items=out)


@blueprint.get("/kyc/expiring")
@tag(TAG)
@require_role(*STAFF)
@validate_response(KycExpiring)
async def kyc_expiring() -> KycExpiring:
    """The caller's clients' verified KYC documents that lapse soon (within the KYC
    compliance window), soonest first: whom to ask for a new one."""
    days, items = await crm_service.kyc_expiring(await _actor())
    return KycExpiring(days=days, items=[KycExpiringItem(
        client_id=str(c.id), client_name=c.full_name, document_id=str(d.id), kind=d.kind.value,
        expires_on=d.expires_on, days_left=left) for c, d, left in items])  # fmt: skip


@blueprint.get("/kyc/<doc_id>/file")
@tag(TAG)
@require_role(*STAFF)
@validate_querystring(LinkQuery)
@validate_response(LinkOut)
@document_errors(404)
async def kyc_file(doc_id: str, query_args: LinkQuery) -> LinkOut:
    """A signed link to the scan of a client's KYC document, for staff whose book holds the
    client (``?disposition=inline`` to preview it). Each opening is audited. Errors: 404
    ``client_not_found``, ``kyc_document_not_found``, ``file_not_found``."""
    actor = await _actor()
    _doc, record = await crm_service.kyc_document_file(actor, doc_id)
    link = files_service.link(record, actor.user_id, query_args.disposition)
    return LinkOut(url=f"{get_settings().public_url}{link.path}",
                   expires_at=dt.datetime.fromtimestamp(link.expires_at, dt.UTC),
                   file=FileOut.of(record))  # fmt: skip


@blueprint.post("/kyc/<doc_id>/decision")
@tag(TAG)
@require_role(PlatformRole.CRM_MANAGER, PlatformRole.ADMIN)
@validate_request(KycDecision)
@validate_response(KycDecisionOut)
@document_errors(404, 409, 422)
async def kyc_decide(doc_id: str, data: KycDecision) -> KycDecisionOut:
    """Verify or reject a client's pending document (managers for their team's clients,
    admins for all), through the KYC service; a rejection needs its ``reason`` (the client is
    told). Errors: 404 ``client_not_found``, ``kyc_document_not_found``; 422
    ``kyc_reason_required``; 409/422 the KYC service's codes."""
    doc = await crm_service.do_kyc_decide(await _actor(), doc_id, data.verify, data.reason)
    return KycDecisionOut(document_id=str(doc.id), status=doc.status.value)


# ---- reminders ----------------------------------------------------------------------------------


@blueprint.get("/reminders")
@tag(TAG)
@require_role(*STAFF)
@validate_querystring(ReminderQuery)
@validate_response(ReminderList)
async def my_reminders(query_args: ReminderQuery) -> ReminderList:
    """The caller's follow-ups: ``today`` (due by the end of today in ``tz``, the caller's
    IANA time zone, overdue included), ``open``, or ``all``. Errors: 422
    ``validation_error`` (an unknown time zone)."""
    items = await crm_service.reminders(await _actor(), query_args.scope, tz=query_args.tz)
    return ReminderList(items=[ReminderOut.of(r) for r in items])


@blueprint.post("/reminders")
@tag(TAG)
@require_role(*STAFF)
@validate_request(ReminderCreate)
@validate_response(ReminderOut, 201)
@document_errors(404, 409, 422)
async def create_reminder(data: ReminderCreate) -> tuple[ReminderOut, int]:
    """A follow-up with a due time about a lead or client; delivered live and by e-mail to
    the assignee once, when due. Errors: 404 ``lead_not_found``, ``client_not_found``; 409
    ``lead_merged``; 422 ``assignee_invalid``, ``reminder_in_past`` (more than 10 minutes
    ago)."""
    return ReminderOut.of(await crm_service.do_create_reminder(await _actor(), data)), 201


@blueprint.post("/reminders/<reminder_id>/done")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ReminderOut)
@document_errors(404, 409)
async def reminder_done(reminder_id: str) -> ReminderOut:
    """Mark a reminder done. Errors: 404 ``reminder_not_found``; 409 ``reminder_state``."""
    return ReminderOut.of(await crm_service.do_finish_reminder(await _actor(), reminder_id, True))


@blueprint.post("/reminders/<reminder_id>/cancel")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ReminderOut)
@document_errors(404, 409)
async def reminder_cancel(reminder_id: str) -> ReminderOut:
    """Cancel a reminder. Errors: 404 ``reminder_not_found``; 409 ``reminder_state``."""
    return ReminderOut.of(await crm_service.do_finish_reminder(await _actor(), reminder_id, False))


# ---- staff, reports, retention ------------------------------------------------------------------


@blueprint.get("/staff")
@tag(TAG)
@require_role(*STAFF)
@validate_response(StaffList)
async def staff() -> StaffList:
    """CRM staff the caller may assign to."""
    return StaffList(items=[StaffOut(
        user_id=m.id, full_name=u.full_name, email=u.email, roles=[r.value for r in u.roles],
        manager_id=m.manager_id, active=m.active) for m, u in
        await crm_service.staff(await _actor())])  # fmt: skip


async def _score_rules_out() -> ScoreRules:
    rules = await crm_service.score_rules()
    names = await people.names([rules.updated_by] if rules.updated_by else [])
    return ScoreRules(
        source_points=rules.source_points, engagement_points=rules.engagement_points,
        engagement_cap=rules.engagement_cap, engagement_days=rules.engagement_days,
        completeness_points=rules.completeness_points, half_life_days=rules.half_life_days,
        refresh_seconds=crm_settings().score_refresh_seconds, version=rules.version,
        updated_at=rules.updated_at, updated_by_name=names.get(rules.updated_by or ""),
        stale=await crm_service.stale_score_count(rules.version),
        sources=[s.value for s in LeadSource], fields=list(SCORE_FIELDS),
    )  # fmt: skip


@blueprint.get("/score-rules")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ScoreRules)
async def score_rules() -> ScoreRules:
    """The lead score's rules and weights in force (an admin's, else the configured
    defaults as version 0), and how many open leads still wait to be rescored by them."""
    return await _score_rules_out()


@blueprint.put("/score-rules")
@tag(TAG)
@require_role(PlatformRole.ADMIN)
@validate_request(ScoreRulesPut)
@validate_response(ScoreRules)
@document_errors(409, 422)
async def put_score_rules(data: ScoreRulesPut) -> ScoreRules:
    """Replace the score rules (admins), as of the ``version`` the person saw; audited. The
    worker then rescores every open lead by them. Errors: 422 ``score_rules_invalid``
    (``details.problems``: a sentence per problem); 409 ``score_rules_changed``."""
    await crm_service.do_set_score_rules(await _actor(), data)
    return await _score_rules_out()


@blueprint.put("/staff/<user_id>")
@tag(TAG)
@require_role(PlatformRole.ADMIN)
@validate_request(StaffPut)
@validate_response(StaffPlaced)
@document_errors(404, 422)
async def put_staff(user_id: str, data: StaffPut) -> StaffPlaced:
    """Place a CRM agent or manager in a team (admins). Errors: 404 ``crm_staff_not_found``;
    422 ``assignee_invalid``."""
    member = await crm_service.do_put_staff(await _actor(), user_id, data.manager_id, data.active)
    return StaffPlaced(user_id=member.id, manager_id=member.manager_id, active=member.active)


@blueprint.get("/reports")
@tag(TAG)
@require_role(*STAFF)
@validate_querystring(ReportQuery)
@validate_response(CrmReport)
async def report(query_args: ReportQuery) -> CrmReport:
    """Conversion by source, agent and month, the funnel, leads by status, clients by segment
    and KYC compliance — of the caller's scope only."""
    return await crm_service.report(await _actor(), query_args.since, query_args.until)


@blueprint.post("/retention/run")
@tag(TAG)
@require_role(PlatformRole.ADMIN)
@validate_response(RetentionOut)
async def run_retention() -> RetentionOut:
    """Run the retention job now (the worker runs it daily)."""
    return RetentionOut(erased=await crm_service.do_retention_sweep())


# ---- reports through the reports agent (PDF, CSV) -----------------------------------------------


@blueprint.post("/report-jobs")
@tag(TAG)
@require_role(*STAFF)
@validate_request(CrmReportRequest)
@validate_response(ReportJobOut, 202)
@document_errors(503)
async def request_report(data: CrmReportRequest) -> tuple[ReportJobOut, int]:
    """Ask for the CRM pipeline report as PDF or CSV: queued for the reports agent, which
    builds it from the same figures as ``GET /reports`` (the caller's scope), stores it and
    tells the caller (``report:progress``). Poll ``GET /report-jobs/{id}`` for the signed
    download link. Errors: 503 ``service_unavailable``."""
    job = await report_service.do_request_crm(
        current_principal().user_id, ReportKind(data.kind), ReportFormat(data.format)
    )
    return await report_service.job_out(job), 202


@blueprint.get("/report-jobs/<job_id>")
@tag(TAG)
@require_role(*STAFF)
@validate_response(ReportJobOut)
@document_errors(404)
async def report_job(job_id: str) -> ReportJobOut:
    """One of the caller's CRM report jobs; ``download`` (a fresh signed link) once done.
    Errors: 404 ``report_not_found`` (also another person's)."""
    return await report_service.job_out(
        await report_service.crm_job(current_principal().user_id, job_id)
    )
