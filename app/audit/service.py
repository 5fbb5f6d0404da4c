"""Appending to and verifying the hash-chained audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from app.audit import repository
from app.audit.documents import AuditChainHead, AuditRecord
from app.db import run_in_transaction

GENESIS = "0" * 64
PLATFORM_CHAIN = "platform"


def club_chain(club_id: str) -> str:
    """The chain of one club's records."""
    return f"club:{club_id}"


def record_hash(
    *,
    chain: str,
    seq: int,
    at: dt.datetime,
    actor_id: str | None,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 hex of the record's canonical JSON (sorted keys, no spaces, UTC ms timestamp)."""
    body = {
        "chain": chain,
        "seq": seq,
        "at": at.astimezone(dt.UTC).isoformat(timespec="milliseconds"),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainReport:
    """Result of verifying one chain: ``ok``, records checked, and the first broken ``seq``."""

    chain: str
    ok: bool
    checked: int
    broken_seq: int | None = None
    reason: str | None = None


class AuditService:
    """Append and verify. One chain head per chain; an append moves the head and inserts the
    record in one transaction, so the chain has no gaps and no forks."""

    async def do_append(
        self,
        *,
        chain: str,
        actor_id: str | None,
        action: str,
        target_type: str,
        target_id: str,
        details: dict[str, Any] | None = None,
        session: AsyncClientSession | None = None,
    ) -> AuditRecord:
        """Append one record. With ``session`` it joins the caller's transaction; without, it
        runs its own. ``details`` must be JSON-serialisable and hold no secrets."""

        async def body(tx: AsyncClientSession) -> AuditRecord:
            head = await repository.head_of(chain, tx)
            if head is None:
                head = await repository.create_head(
                    AuditChainHead(chain=chain, seq=0, hash=GENESIS), tx
                )
            now = dt.datetime.now(dt.UTC)
            at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # MongoDB keeps ms
            seq = head.seq + 1
            clean = json.loads(json.dumps(details or {}, default=str))
            digest = record_hash(
                chain=chain, seq=seq, at=at, actor_id=actor_id, action=action,
                target_type=target_type, target_id=target_id, details=clean,
                prev_hash=head.hash,
            )  # fmt: skip
            if not await repository.move_head(chain, head.seq, seq, digest, tx):
                raise RuntimeError(f"audit chain {chain} moved under us")
            record = AuditRecord(
                chain=chain, seq=seq, at=at, actor_id=actor_id, action=action,
                target_type=target_type, target_id=target_id, details=clean,
                prev_hash=head.hash, hash=digest,
            )  # fmt: skip
            return await repository.insert_record(record, tx)

        if session is not None:
            return await body(session)
        return await run_in_transaction(body)

    async def verify(self, chain: str) -> ChainReport:
        """Walk ``chain`` from its first record; report the first record whose ``seq``,
        ``prev_hash`` or ``hash`` does not follow, and whether the head matches the last one."""
        expected_prev, expected_seq, checked = GENESIS, 1, 0
        async for record in repository.records_of(chain):
            if record.seq != expected_seq:
                return ChainReport(chain, False, checked, expected_seq, "record missing")
            if record.prev_hash != expected_prev:
                return ChainReport(chain, False, checked, record.seq, "previous hash differs")
            digest = record_hash(
                chain=record.chain, seq=record.seq, at=record.at, actor_id=record.actor_id,
                action=record.action, target_type=record.target_type,
                target_id=record.target_id, details=record.details, prev_hash=record.prev_hash,
            )  # fmt: skip
            if digest != record.hash:
                return ChainReport(chain, False, checked, record.seq, "content does not match hash")
            expected_prev, expected_seq, checked = record.hash, record.seq + 1, checked + 1
        head = await repository.head_of(chain, None)
        if head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
            return ChainReport(
                chain, False, checked, expected_seq, "records after the last missing"
            )
        return ChainReport(chain, True, checked)

    async def latest(
        self, chain: str, target_id: str | None = None, limit: int = 50
    ) -> list[AuditRecord]:
        """The newest ``limit`` records of ``chain`` (of one target when given)."""
        return await repository.latest(chain, target_id, limit)

    async def verify_all(self) -> list[ChainReport]:
        """Verify every chain; reports in chain order."""
        chains = await repository.chain_names()
        return [await self.verify(chain) for chain in sorted(chains)]


audit_service = AuditService()
