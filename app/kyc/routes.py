"""KYC HTTP API: ``/api/v1/kyc/…`` (the person) and ``/api/v1/admin/kyc/…`` (platform admins).
Thin: parse → ``kyc_service`` → schema."""

from __future__ import annotations

from typing import Any

from quart import Blueprint
from quart_schema import tag, validate_querystring, validate_request, validate_response

from app.audit.documents import AuditRecord
from app.config import get_settings
from app.files.routes import link_out
from app.files.service import files_service
from app.identity.directory import user as user_by_id
from app.identity.documents import PlatformRole, User
from app.identity.errors import UserNotFound
from app.identity.guards import current_principal, require_auth, require_role
from app.kyc.documents import KycDocument
from app.kyc.schemas import (
    AdminDocumentOut,
    AdminUserKyc,
    DecisionRequest,
    DocumentSubmit,
    HistoryEntry,
    KycAlertList,
    KycDocumentOut,
    KycOverview,
    QueueItem,
    QueueOut,
    QueueQuery,
    UserBrief,
)
from app.kyc.service import kyc_service
from app.money import format_minor
from app.openapi import document_errors

blueprint = Blueprint("kyc", __name__, url_prefix="/api/v1/kyc")
admin_blueprint = Blueprint("kyc_admin", __name__, url_prefix="/api/v1/admin/kyc")


def _history(records: list[AuditRecord]) -> list[HistoryEntry]:
    return [
        HistoryEntry(at=r.at, actor_id=r.actor_id, action=r.action, document_id=r.target_id,
                     details=r.details)
        for r in records
    ]  # fmt: skip


async def _overview(user_id: str) -> KycOverview:
    summary = await kyc_service.summary(user_id)
    return KycOverview(
        status=summary.status, missing=summary.missing,
        contribution_limit=format_minor(get_settings().kyc_contribution_limit),
        documents=[KycDocumentOut.of(d) for d in summary.documents],
    )  # fmt: skip


@blueprint.get("")
@tag(["kyc"])
@require_auth
@validate_response(KycOverview)
async def overview() -> KycOverview:
    """The caller's KYC status (derived from the documents), what is missing, the yearly
    contribution limit without KYC, and every document submitted."""
    return await _overview(current_principal().user_id)


@blueprint.post("/documents")
@tag(["kyc"])
@require_auth
@validate_request(DocumentSubmit)
@validate_response(KycDocumentOut, 201)
@document_errors(404, 409, 422)
async def submit(data: DocumentSubmit) -> tuple[KycDocumentOut, int]:
    """Submit a document for review (the scan uploaded first as ``kyc_document``). Re-submit
    after a rejection or expiry the same way. Errors: 422 ``invalid_document``
    (``details.field``), ``kyc_document_expired``, ``wrong_file_purpose``; 404
    ``file_not_found``; 409 ``kyc_document_pending``, ``kyc_number_in_use``, ``file_in_use``."""
    doc = await kyc_service.do_submit(current_principal().user_id, data)
    return KycDocumentOut.of(doc), 201


@blueprint.get("/documents/<doc_id>")
@tag(["kyc"])
@require_auth
@validate_response(KycDocumentOut)
@document_errors(404)
async def get_document(doc_id: str) -> KycDocumentOut:
    """One of the caller's documents. Errors: 404 ``kyc_document_not_found``."""
    return KycDocumentOut.of(await kyc_service.own_document(current_principal().user_id, doc_id))


@blueprint.get("/alerts")
@tag(["kyc"])
@require_auth
@validate_response(KycAlertList)
async def alerts() -> dict[str, Any]:
    """The caller's document-expiry alerts, newest first (``days_before`` 0: has expired)."""
    items = await kyc_service.alerts_of(current_principal().user_id)
    return {"alerts": [
        {"id": str(a.id), "document_id": a.document_id, "kind": a.kind.value,
         "expires_on": a.expires_on, "days_before": a.days_before,
         "created_at": a.created_at.isoformat()}
        for a in items
    ]}  # fmt: skip


# ---- admin ---------------------------------------------------------------------------------


@admin_blueprint.get("/queue")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_querystring(QueueQuery)
@validate_response(QueueOut)
async def queue(query_args: QueueQuery) -> QueueOut:
    """Documents waiting for review, oldest first, with their holders."""
    items, total, users = await kyc_service.pending_queue(query_args.kind, query_args.limit)
    return QueueOut(
        items=[QueueItem(document=KycDocumentOut.of(d), user=UserBrief.of(users[d.user_id]))
               for d in items if d.user_id in users],
        total=total,
    )  # fmt: skip


async def _admin_document(doc: KycDocument, viewer_id: str) -> AdminDocumentOut:
    holder = await user_by_id(doc.user_id)
    if holder is None:
        raise UserNotFound("the document's holder no longer exists")
    record = await files_service.get(doc.file_id)
    return AdminDocumentOut(
        document=KycDocumentOut.of(doc), user=UserBrief.of(holder), decided_by=doc.decided_by,
        preview=link_out(record, viewer_id, "inline") if record is not None else None,
        history=_history(await kyc_service.history(document_id=str(doc.id))),
    )  # fmt: skip


@admin_blueprint.get("/documents/<doc_id>")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_response(AdminDocumentOut)
@document_errors(404)
async def admin_document(doc_id: str) -> AdminDocumentOut:
    """A document for review: holder, an inline preview link of the scan (short-lived), and its
    audited history. Errors: 404 ``kyc_document_not_found``."""
    doc = await kyc_service.document(doc_id)
    return await _admin_document(doc, current_principal().user_id)


@admin_blueprint.post("/documents/<doc_id>/decision")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_request(DecisionRequest)
@validate_response(AdminDocumentOut)
@document_errors(404, 409, 422)
async def decide(doc_id: str, data: DecisionRequest) -> AdminDocumentOut:
    """Verify or reject (with a reason the holder reads) a pending document; the holder's KYC
    status is re-derived; audited; the holder is mailed. Errors: 404; 409
    ``kyc_document_state``, ``cannot_decide_own``, ``kyc_number_in_use``; 422
    ``kyc_document_expired``, ``validation_error`` (a rejection without a reason)."""
    actor = current_principal().user_id
    doc, _ = await kyc_service.do_decide(
        actor, doc_id, verify=data.decision == "verify", reason=data.reason
    )
    return await _admin_document(doc, actor)


@admin_blueprint.get("/users/<user_id>")
@tag(["admin"])
@require_role(PlatformRole.ADMIN)
@validate_response(AdminUserKyc)
@document_errors(404)
async def admin_user(user_id: str) -> AdminUserKyc:
    """One person's KYC: status, documents and the decision history. Errors: 404
    ``user_not_found``."""
    user: User | None = await user_by_id(user_id)
    if user is None:
        raise UserNotFound("no such user")
    summary = await kyc_service.summary(user_id)
    return AdminUserKyc(
        user=UserBrief.of(user), status=summary.status, missing=summary.missing,
        documents=[KycDocumentOut.of(d) for d in summary.documents],
        history=_history(await kyc_service.history(user_id=user_id)),
    )  # fmt: skip
