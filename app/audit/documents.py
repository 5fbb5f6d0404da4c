"""Stored shape of the audit log: records and the head of each chain."""

from __future__ import annotations

import datetime as dt
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class AuditRecord(Document):
    """One audited action. ``hash`` = SHA-256 of the canonical JSON of every other field,
    ``prev_hash`` included, so changing or removing any record breaks every later link.

    ``chain`` scopes the sequence (``platform`` or ``club:<id>``), so unrelated clubs never
    contend for one chain head.
    """

    chain: str
    seq: int
    at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str

    class Settings:
        name = "audit_records"
        indexes = [
            IndexModel([("chain", ASCENDING), ("seq", ASCENDING)], unique=True, name="chain_seq"),
            IndexModel([("actor_id", ASCENDING), ("at", ASCENDING)], name="actor_time"),
        ]


class AuditChainHead(Document):
    """The last ``seq`` and ``hash`` of one chain; moved only together with an insert."""

    chain: str
    seq: int = 0
    hash: str

    class Settings:
        name = "audit_chain_heads"
        indexes = [IndexModel([("chain", ASCENDING)], unique=True, name="chain_unique")]
