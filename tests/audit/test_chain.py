"""The audit log is hash-chained: any edit, deletion or insertion is found and named."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
import uuid

import pytest

from app.audit.documents import AuditRecord
from app.audit.service import audit_service, record_hash
from tests.conftest import ROOT

pytestmark = pytest.mark.usefixtures("services")


async def _chain(n: int) -> str:
    chain = f"test:{uuid.uuid4().hex[:10]}"
    for i in range(n):
        await audit_service.do_append(chain=chain, actor_id="u1", action="thing.done",
                                      target_type="thing", target_id=str(i),
                                      details={"i": i, "amount": i * 100})  # fmt: skip
    return chain


async def test_concurrent_appends_make_one_unbroken_chain() -> None:
    chain = f"test:{uuid.uuid4().hex[:10]}"
    await asyncio.gather(*(audit_service.do_append(chain=chain, actor_id=f"u{i}", action="a",
                                                   target_type="t", target_id=str(i))
                           for i in range(25)))  # fmt: skip
    report = await audit_service.verify(chain)
    assert report.ok and report.checked == 25
    seqs = [r.seq async for r in AuditRecord.find({"chain": chain}).sort("+seq")]
    assert seqs == list(range(1, 26))


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        ({"$set": {"details.amount": 999_999}}, 3, "content does not match hash"),
        ({"$set": {"actor_id": "someone-else"}}, 3, "content does not match hash"),
        ("delete", 3, "record missing"),
    ],
)
async def test_tampering_is_found_at_the_first_broken_link(tamper: object, seq: int,
                                                           reason: str) -> None:  # fmt: skip
    chain = await _chain(5)
    collection = AuditRecord.get_pymongo_collection()
    if tamper == "delete":
        await collection.delete_one({"chain": chain, "seq": seq})
    else:
        await collection.update_one({"chain": chain, "seq": seq}, tamper)  # type: ignore[arg-type]
    report = await audit_service.verify(chain)
    assert (report.ok, report.broken_seq, report.reason) == (False, seq, reason)


async def _forge(chain: str, seq: int, prev_hash: str) -> dict[str, object]:
    """A record an attacker writes straight into the collection, hashed correctly."""
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    fields: dict[str, object] = {
        "chain": chain, "seq": seq, "at": at, "actor_id": "intruder", "action": "money.moved",
        "target_type": "thing", "target_id": "x", "details": {"amount": 1}, "prev_hash": prev_hash,
    }  # fmt: skip
    return {**fields, "hash": record_hash(**fields)}  # type: ignore[arg-type]


async def test_a_record_inserted_in_the_middle_is_found() -> None:
    """Records 3–5 renumbered to 4–6 and a forged, correctly hashed record put in at 3 (linked
    to record 2): record 4 (the old 3) no longer links to its predecessor."""
    chain = await _chain(5)
    collection = AuditRecord.get_pymongo_collection()
    for seq in (5, 4, 3):
        await collection.update_one({"chain": chain, "seq": seq}, {"$set": {"seq": seq + 1}})
    second = await collection.find_one({"chain": chain, "seq": 2})
    assert second is not None
    await collection.insert_one(await _forge(chain, 3, second["hash"]))
    report = await audit_service.verify(chain)
    assert (report.ok, report.broken_seq, report.reason) == (False, 4, "previous hash differs")
    assert report.checked == 3  # 1, 2 and the forged 3 link up; the break is right after


async def test_a_record_appended_past_the_head_is_found() -> None:
    """A forged record after the last one, linked and hashed correctly, that the chain's head
    does not know about."""
    chain = await _chain(3)
    collection = AuditRecord.get_pymongo_collection()
    last = await collection.find_one({"chain": chain, "seq": 3})
    assert last is not None
    await collection.insert_one(await _forge(chain, 4, last["hash"]))
    report = await audit_service.verify(chain)
    assert (report.ok, report.checked) == (False, 4)
    assert report.reason == "records after the last missing"


async def test_a_deleted_tail_is_found_through_the_head() -> None:
    chain = await _chain(4)
    await AuditRecord.get_pymongo_collection().delete_one({"chain": chain, "seq": 4})
    report = await audit_service.verify(chain)
    assert (report.ok, report.broken_seq) == (False, 4)


async def test_the_cli_names_the_broken_chain() -> None:
    chain = await _chain(3)
    await AuditRecord.get_pymongo_collection().update_one(
        {"chain": chain, "seq": 2}, {"$set": {"action": "nothing.happened"}}
    )
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app.audit", "verify"], cwd=ROOT,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"{chain}: 1 records, BROKEN at seq 2: content does not match hash" in done.stdout
