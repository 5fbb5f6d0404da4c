"""Queries of the journal."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from app.ledger.documents import JournalEntry


async def insert_entry(entry: JournalEntry, session: AsyncClientSession | None) -> JournalEntry:
    """Insert ``entry``; raises ``DuplicateKeyError`` if its idempotency key exists."""
    await entry.insert(session=session)
    return entry


async def latest_effective_date(pool_id: str, session: AsyncClientSession | None) -> str | None:
    """The latest accounting date (ISO) of the pool's entries, or ``None`` without entries."""
    entry = (
        await JournalEntry.find({"pool_id": pool_id}, session=session)
        .sort("-effective_date")
        .first_or_none()
    )
    return None if entry is None else entry.effective_date


async def find_by_key(key: str, session: AsyncClientSession | None) -> JournalEntry | None:
    """The entry posted under ``key``, if any."""
    return await JournalEntry.find_one({"idempotency_key": key}, session=session)


async def balances(
    pool_id: str, session: AsyncClientSession | None, accounts_prefix: str | None = None
) -> dict[str, int]:
    """Sum of the lines per account of ``pool_id`` (paise, debit positive)."""
    match: dict[str, object] = {"pool_id": pool_id}
    pipeline: list[dict[str, object]] = [
        {"$match": match},
        {"$unwind": "$lines"},
    ]
    if accounts_prefix:
        pipeline.append({"$match": {"lines.account": {"$regex": f"^{accounts_prefix}"}}})
    pipeline.append({"$group": {"_id": "$lines.account", "balance": {"$sum": "$lines.amount"}}})
    cursor = await JournalEntry.get_pymongo_collection().aggregate(pipeline, session=session)
    return {row["_id"]: int(row["balance"]) async for row in cursor}


async def entries(pool_id: str, limit: int, before_id: str | None = None) -> list[JournalEntry]:
    """Newest first, ``limit`` at most, older than ``before_id`` when given."""
    query: dict[str, object] = {"pool_id": pool_id}
    if before_id is not None:
        from bson import ObjectId

        query["_id"] = {"$lt": ObjectId(before_id)}
    return await JournalEntry.find(query).sort("-_id").limit(limit).to_list()


async def entries_up_to(pool_id: str, on: str | None) -> list[JournalEntry]:
    """Every entry of ``pool_id`` with an accounting date on or before ``on`` (ISO date; all
    when None), by accounting date then insertion."""
    flt: dict[str, object] = {"pool_id": pool_id}
    if on is not None:
        flt["effective_date"] = {"$lte": on}
    return await JournalEntry.find(flt).sort("+effective_date", "+_id").to_list()
