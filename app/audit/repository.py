"""Every MongoDB query of the audit domain (chain heads and records)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.audit.documents import AuditChainHead, AuditRecord

Session = AsyncClientSession | None


async def head_of(chain: str, session: Session) -> AuditChainHead | None:
    return await AuditChainHead.find_one({"chain": chain}, session=session)


async def create_head(head: AuditChainHead, session: Session) -> AuditChainHead:
    """Store a new chain's head; if another transaction created it first, return that one."""
    try:
        await head.insert(session=session)
    except DuplicateKeyError:
        found = await head_of(head.chain, session)
        assert found is not None
        return found
    return head


async def move_head(chain: str, from_seq: int, seq: int, digest: str, session: Session) -> bool:
    """Advance the head from ``from_seq`` to ``seq``/``digest``; False if it moved meanwhile."""
    moved = await AuditChainHead.get_pymongo_collection().update_one(
        {"chain": chain, "seq": from_seq}, {"$set": {"seq": seq, "hash": digest}},
        session=session,
    )  # fmt: skip
    return moved.modified_count == 1


async def insert_record(record: AuditRecord, session: Session) -> AuditRecord:
    await record.insert(session=session)
    return record


def records_of(chain: str) -> AsyncIterator[AuditRecord]:
    """The chain's records in ``seq`` order (streamed)."""
    return aiter(AuditRecord.find({"chain": chain}).sort("+seq"))


async def latest(chain: str, target_id: str | None, limit: int) -> list[AuditRecord]:
    """Newest records of a chain (of one target when given)."""
    flt: dict[str, object] = {"chain": chain}
    if target_id:
        flt["target_id"] = target_id
    return await AuditRecord.find(flt).sort("-seq").limit(limit).to_list()


async def chain_names() -> list[str]:
    return [str(name) for name in await AuditChainHead.get_pymongo_collection().distinct("chain")]
