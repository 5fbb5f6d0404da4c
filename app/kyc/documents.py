"""Stored shapes of KYC: documents (one record per submission) and expiry alerts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def _now() -> dt.datetime:
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class DocumentKind(StrEnum):
    """The documents a person can submit (docs/domain.md, KYC)."""

    PAN = "pan"
    AADHAAR = "aadhaar"
    DRIVING_LICENCE = "driving_licence"
    ADDRESS_PROOF = "address_proof"


# Any one of these, verified, is the proof of address KYC needs next to the PAN.
ADDRESS_KINDS = (DocumentKind.AADHAAR, DocumentKind.DRIVING_LICENCE, DocumentKind.ADDRESS_PROOF)


class AddressProofType(StrEnum):
    """What an ``address_proof`` document is. Bills and statements must be recent
    (``kyc_address_proof_max_age_days``); passports and agreements carry an expiry."""

    UTILITY_BILL = "utility_bill"
    BANK_STATEMENT = "bank_statement"
    PASSPORT = "passport"
    VOTER_ID = "voter_id"
    RENT_AGREEMENT = "rent_agreement"


class DocumentStatus(StrEnum):
    """``pending`` → ``verified`` | ``rejected`` (by an admin). A verified document becomes
    ``superseded`` when a newer one of its kind is verified, ``expired`` after its expiry."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"


class KycDocument(Document):
    """One submitted document.

    ``number`` is kept for PAN and driving licence; an Aadhaar number only as
    ``number_encrypted`` (AES-GCM, app/kyc/crypto.py) and its ``number_last4``.
    ``fingerprint`` (keyed HMAC) finds the same number on another account. Dates are ISO
    strings; a document ``expires_on`` D is valid through D.
    """

    user_id: str
    kind: DocumentKind
    status: DocumentStatus = DocumentStatus.PENDING
    number: str | None = None
    number_encrypted: str | None = None
    number_last4: str | None = None
    fingerprint: str | None = None
    proof_type: AddressProofType | None = None
    issued_on: str | None = None
    expires_on: str | None = None
    file_id: str
    submitted_at: dt.datetime = Field(default_factory=_now)
    decided_at: dt.datetime | None = None
    decided_by: str | None = None
    reason: str | None = None

    class Settings:
        name = "kyc_documents"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("submitted_at", DESCENDING)], name="user_time"),
            IndexModel([("status", ASCENDING), ("submitted_at", ASCENDING)], name="queue"),
            IndexModel([("fingerprint", ASCENDING)], name="fingerprint"),
            IndexModel([("status", ASCENDING), ("expires_on", ASCENDING)], name="expiry"),
        ]


class KycExpiryAlert(Document):
    """An expiry alert, stored before it is mailed or emitted (sent once per document and
    threshold: the unique index makes a re-run of the daily sweep send nothing twice).
    ``days_before`` 0 is the "has expired" notice."""

    document_id: str
    user_id: str
    kind: DocumentKind
    expires_on: str
    days_before: int
    created_at: dt.datetime = Field(default_factory=_now)
    mailed_at: dt.datetime | None = None

    class Settings:
        name = "kyc_expiry_alerts"
        indexes = [
            IndexModel([("document_id", ASCENDING), ("days_before", ASCENDING)], unique=True,
                       name="document_threshold"),
            IndexModel([("user_id", ASCENDING), ("created_at", DESCENDING)], name="user_time"),
            IndexModel([("mailed_at", ASCENDING)], name="unmailed"),
        ]  # fmt: skip


class KycAllowance(Document):
    """A person's contribution allowance of one financial year (``year_start``: ISO date of
    1 April). Every domain taking money from a person who may not be verified writes it in the
    transaction that counts and inserts that money (``kyc_service.do_reserve_allowance``), so two
    such transactions of one person conflict and the second re-counts after the first
    committed: the yearly limit is checked and used atomically. ``reserved``: INR paise accepted
    through it this year; ``seq``: how many times it was taken."""

    user_id: str
    year_start: str
    reserved: int = 0
    seq: int = 0

    class Settings:
        name = "kyc_allowances"
        indexes = [
            IndexModel([("user_id", ASCENDING), ("year_start", ASCENDING)], unique=True,
                       name="person_year"),
        ]  # fmt: skip
