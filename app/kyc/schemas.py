"""Request and response shapes of the KYC API. Aadhaar numbers appear only masked
(``XXXX XXXX 1234``); dates are ISO."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.files.schemas import LinkOut
from app.identity.documents import KycStatus, User
from app.kyc.documents import AddressProofType, DocumentKind, DocumentStatus, KycDocument
from app.kyc.validation import masked
from app.realtime.contract import LoggedEvent


class DocumentSubmit(BaseModel):
    """``POST /api/v1/kyc/documents``: upload the scan first (``POST /api/v1/files`` with
    ``purpose=kyc_document``), then submit it with its details.

    * ``pan``: ``number``.
    * ``aadhaar``: ``number`` (12 digits; spaces allowed).
    * ``driving_licence``: ``number``, ``expires_on``.
    * ``address_proof``: ``proof_type``, ``issued_on``; ``expires_on`` for a passport or a rent
      agreement.
    """

    kind: DocumentKind
    file_id: str = Field(min_length=1, max_length=64)
    number: str | None = Field(default=None, max_length=40)
    proof_type: AddressProofType | None = None
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None


class KycDocumentOut(BaseModel):
    """A submitted document as its holder (and an admin) sees it: ``number`` whole for PAN and
    driving licence, masked for Aadhaar."""

    id: str
    kind: DocumentKind
    status: DocumentStatus
    number: str | None
    number_last4: str | None
    proof_type: AddressProofType | None
    issued_on: str | None
    expires_on: str | None
    file_id: str
    submitted_at: dt.datetime
    decided_at: dt.datetime | None
    reason: str | None

    @classmethod
    def of(cls, doc: KycDocument) -> KycDocumentOut:
        shown = doc.number
        if doc.kind == DocumentKind.AADHAAR and doc.number_last4:
            shown = masked("aadhaar", doc.number_last4)
        return cls(
            id=str(doc.id), kind=doc.kind, status=doc.status, number=shown,
            number_last4=doc.number_last4, proof_type=doc.proof_type, issued_on=doc.issued_on,
            expires_on=doc.expires_on, file_id=doc.file_id, submitted_at=doc.submitted_at,
            decided_at=doc.decided_at, reason=doc.reason,
        )  # fmt: skip


class KycOverview(BaseModel):
    """``GET /api/v1/kyc``: the derived status, what is still missing (``pan``,
    ``proof_of_address``), the contribution limit without KYC, and every document (newest
    first)."""

    status: KycStatus
    missing: list[str]
    contribution_limit: str
    documents: list[KycDocumentOut]


class KycAlertOut(BaseModel):
    """One document-expiry alert: ``days_before`` 0 means the document has expired."""

    id: str
    document_id: str
    kind: DocumentKind
    expires_on: str
    days_before: int
    created_at: dt.datetime


class KycAlertList(BaseModel):
    """``GET /api/v1/kyc/alerts``: the caller's alerts, newest first."""

    alerts: list[KycAlertOut]


class UserBrief(BaseModel):
    id: str
    email: str
    full_name: str
    member_id: str | None
    kyc_status: KycStatus

    @classmethod
    def of(cls, user: User) -> UserBrief:
        return cls(id=str(user.id), email=user.email, full_name=user.full_name,
                   member_id=user.member_id, kyc_status=user.kyc_status)  # fmt: skip


class HistoryEntry(BaseModel):
    """One audited step of a document (``kyc.submitted``, ``kyc.verified``, ``kyc.rejected``,
    ``kyc.expired``), from the hash-chained audit log."""

    at: dt.datetime
    actor_id: str | None
    action: str
    document_id: str
    details: dict[str, Any]


class QueueItem(BaseModel):
    document: KycDocumentOut
    user: UserBrief


class QueueOut(BaseModel):
    """Pending documents, oldest first (first come, first reviewed)."""

    items: list[QueueItem]
    total: int


class QueueQuery(BaseModel):
    kind: DocumentKind | None = None
    limit: int = Field(default=50, ge=1, le=200)


class AdminDocumentOut(BaseModel):
    """A document for review: the holder, a short-lived inline preview link of the scan, and
    the document's decision history."""

    document: KycDocumentOut
    user: UserBrief
    decided_by: str | None
    preview: LinkOut | None
    history: list[HistoryEntry]


class AdminUserKyc(BaseModel):
    """Everything KYC of one person: status, documents, history."""

    user: UserBrief
    status: KycStatus
    missing: list[str]
    documents: list[KycDocumentOut]
    history: list[HistoryEntry]


class DecisionRequest(BaseModel):
    """``verify`` or ``reject``; a rejection needs a ``reason`` the person will read."""

    decision: Literal["verify", "reject"]
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> DecisionRequest:
        if self.decision == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason")
        return self


class KycExpiryEvent(LoggedEvent):
    """``kyc:expiry`` in the holder's own log (``person:<id>``, with its ``seq``; replayed by
    ``feed:join``): a verified document expires in ``days_left`` days (0: it has expired).
    Stored first as an alert (``GET /api/v1/kyc/alerts``)."""

    document_id: str
    kind: str
    expires_on: str
    days_left: int


class KycStatusEvent(LoggedEvent):
    """``kyc:status`` in the holder's own log (``person:<id>``, with its ``seq``; replayed by
    ``feed:join``), logged in the transaction of an admin's decision or of an expiry."""

    document_id: str
    kind: str
    document_status: str
    kyc_status: str
    reason: str | None = None
