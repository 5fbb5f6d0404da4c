"""Stored shape of the journal. Entries are append-only: never updated, never deleted."""

from __future__ import annotations

import datetime as dt

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel


class JournalFx(BaseModel):
    """The foreign money an entry converted (issue #14, docs/domain.md "Instruments in another
    currency"): ``amount`` and ``fees`` in minor units of ``currency``, converted into the
    pool's currency at the ECB reference rate ``rate_e8`` (pool currency per unit of
    ``currency`` × 10^8, ``app/fx.py``) published for ``rate_date``."""

    currency: str
    amount: int
    fees: int = 0
    rate_e8: int
    rate_date: str


class JournalLine(BaseModel):
    """One side of an entry: ``amount`` in paise, debit positive, credit negative."""

    account: str
    amount: int


class JournalEntry(Document):
    """A balanced set of lines (they sum to zero) posted once, under a unique idempotency key.

    ``effective_date`` is the accounting date (ISO date); ``reverses`` names the entry a
    reversing entry corrects.
    """

    pool_id: str
    idempotency_key: str
    kind: str
    effective_date: str
    lines: list[JournalLine]
    memo: str = ""
    reverses: str | None = None
    created_by: str | None = None
    fx: JournalFx | None = None  # a conversion from another currency (its rate and amounts)
    created_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))

    class Settings:
        name = "journal_entries"
        indexes = [
            IndexModel([("idempotency_key", ASCENDING)], unique=True, name="idempotency_unique"),
            IndexModel([("pool_id", ASCENDING), ("created_at", ASCENDING)], name="pool_time"),
        ]
