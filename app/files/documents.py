"""Stored shape of a file record. The bytes live in the storage backend under ``sha256``; one
blob may back several records (the same receipt uploaded twice is stored once)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class FilePurpose(StrEnum):
    """What a file is for; decides who may see it (app/files/access.py)."""

    RECEIPT = "receipt"  # proof of a manual contribution
    AGREEMENT = "agreement"  # a club's agreement or minutes (club_id set)
    KYC_DOCUMENT = "kyc_document"  # a scan of an identity or address document
    REPORT = "report"  # a generated report (never uploaded)
    CAMPAIGN = "campaign"  # a crowdfunding campaign's picture, document or profit statement


class StoredFile(Document):
    """One accepted upload or generated file.

    ``filename`` is sanitised and carries the extension of the detected type; ``content_type``
    comes from the content, never from the client. ``attached_kind``/``attached_id`` name the
    object that owns the file once it is used (``kyc_document``, ``report``), so it cannot be
    reused for another. ``scanner`` names the scan that passed it.
    """

    owner_id: str
    purpose: FilePurpose
    filename: str
    content_type: str
    size: int
    sha256: str
    storage: str
    scanner: str | None = None
    club_id: str | None = None
    attached_kind: str | None = None
    attached_id: str | None = None
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    class Settings:
        name = "files"
        indexes = [
            IndexModel([("owner_id", ASCENDING), ("created_at", DESCENDING)], name="owner_time"),
            IndexModel([("sha256", ASCENDING)], name="content"),
            IndexModel([("attached_kind", ASCENDING), ("attached_id", ASCENDING)],
                       name="attached"),
        ]  # fmt: skip
