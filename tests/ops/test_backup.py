"""The backup drill: a backup of the live test database restores into a fresh database whose
journal balances, trial balances and audit chains verify, equal to the original; a damaged
backup restores nothing; a database that holds data is never overwritten; the verification
catches a tampered audit record and an unbalanced entry; retention keeps what it should."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app.books.service import books_service
from app.config import Settings
from app.extensions import services as clients
from app.ledger.service import ledger_service
from app.ops.backup import (
    MANIFEST,
    STAMP,
    BackupError,
    create_backup,
    list_backups,
    prune_backups,
    read_backup,
    restore_backup,
    verify_database,
)
from tests.clubs.factories import club_with_members, paid_contribution
from tests.conftest import ROOT, keep_databases

pytestmark = pytest.mark.usefixtures("services")


async def _a_club_with_books() -> str:
    club, (owner, member) = await club_with_members(2)
    club_id = str(club.id)
    today = dt.datetime.now(dt.UTC).date()
    await paid_contribution(club, owner, 600_000, today)
    await paid_contribution(club, member, 400_000, today)
    await books_service.do_record_valuation(club_id, owner, valuation_date=today, prices={})
    return club_id


async def test_a_backup_restores_into_a_fresh_database_that_verifies(
    settings: Settings, tmp_path: Path
) -> None:
    club_id = await _a_club_with_books()
    client = clients.mongo
    assert client is not None
    backup = await create_backup(client, settings.mongodb_database, tmp_path)
    names = {c.name for c in backup.collections}
    assert {"journal_entries", "audit_records", "audit_chain_heads", "clubs"} <= names
    assert read_backup(backup.folder).documents == backup.documents  # every checksum holds

    target = f"{settings.mongodb_database}_restored_{uuid.uuid4().hex[:6]}"
    try:
        await restore_backup(client, backup.folder, target)
        report = await verify_database(client, target)
        # other tests of this session tamper with chains of their own on purpose ("test:…"):
        # everything else — this club's books and chain included — must verify
        assert [p for p in report.problems if not p.startswith("audit chain test:")] == []
        assert report.pools >= 1 and report.chains >= 1 and report.records > 0
        # The restored journal of the club is the original's, balance for balance.
        restored: dict[str, int] = {}
        async for entry in client[target]["journal_entries"].find({"pool_id": club_id}):
            for line in entry["lines"]:
                restored[line["account"]] = restored.get(line["account"], 0) + line["amount"]
        live = {row.account: row.balance for row in await ledger_service.trial_balance(club_id)}
        assert {a: b for a, b in restored.items() if b} == {a: b for a, b in live.items() if b}
        assert live["assets:cash"] == 1_000_000
        # and the unique indexes came back: a second entry with the same key is refused
        indexes = await client[target]["journal_entries"].index_information()
        assert indexes["idempotency_unique"]["unique"] is True

        # A database that holds data is never restored into.
        with pytest.raises(BackupError, match="not empty"):
            await restore_backup(client, backup.folder, target)

        # Tampering with the restored copy is found: an audit record, then an entry.
        record = await client[target]["audit_records"].find_one({"chain": f"club:{club_id}"})
        assert record is not None
        await client[target]["audit_records"].update_one(
            {"_id": record["_id"]}, {"$set": {"details.amount": 1}}
        )
        await client[target]["journal_entries"].insert_one({
            "pool_id": club_id, "idempotency_key": f"forged:{uuid.uuid4().hex}",
            "kind": "forged", "effective_date": "2026-01-01",
            "lines": [{"account": "assets:cash", "amount": 100}],
        })  # fmt: skip
        tampered = await verify_database(client, target)
        assert any(p.startswith(f"audit chain club:{club_id} breaks") for p in tampered.problems)
        assert any("sums to 100" in p for p in tampered.problems)
    finally:
        if not keep_databases():
            await client.drop_database(target)


async def test_a_damaged_backup_restores_nothing(settings: Settings, tmp_path: Path) -> None:
    await _a_club_with_books()
    client = clients.mongo
    assert client is not None
    backup = await create_backup(client, settings.mongodb_database, tmp_path)
    data = backup.folder / "journal_entries.bson"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # one flipped bit
    data.write_bytes(bytes(raw))
    with pytest.raises(BackupError, match="checksum"):
        read_backup(backup.folder)
    target = f"{settings.mongodb_database}_damaged_{uuid.uuid4().hex[:6]}"
    try:
        with pytest.raises(BackupError, match="checksum"):
            await restore_backup(client, backup.folder, target)
        assert await client[target].list_collection_names() == []  # nothing was written
        (backup.folder / MANIFEST).unlink()
        with pytest.raises(BackupError, match="not a finished backup"):
            read_backup(backup.folder)
    finally:
        if not keep_databases():
            await client.drop_database(target)


def test_retention_keeps_the_newest_and_drops_only_what_is_old(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 5, 3, 0, tzinfo=dt.UTC)
    for days in (0, 1, 2, 40, 41):
        folder = tmp_path / (now - dt.timedelta(days=days)).strftime(STAMP)
        folder.mkdir()
        (folder / MANIFEST).write_text(json.dumps({"format": "samooh-backup/1"}))
    (tmp_path / "20261205T040000Z.partial").mkdir()  # an unfinished one is not a backup
    assert len(list_backups(tmp_path)) == 5
    deleted = prune_backups(tmp_path, keep=2, max_age_days=30, now=now)
    assert sorted(p.name for p in deleted) == sorted(
        (now - dt.timedelta(days=d)).strftime(STAMP) for d in (40, 41))  # fmt: skip
    assert len(list_backups(tmp_path)) == 3  # day 2 is beyond keep=2 but still young
    assert [p.name for p in prune_backups(tmp_path, keep=1, now=now)] == [
        (now - dt.timedelta(days=d)).strftime(STAMP) for d in (2, 1)]  # fmt: skip
    assert [p.name for p in list_backups(tmp_path)] == [now.strftime(STAMP)]
    with pytest.raises(BackupError):
        prune_backups(tmp_path, keep=0, now=now)


async def test_the_command_line_takes_and_verifies_a_backup(
    settings: Settings, tmp_path: Path
) -> None:
    await _a_club_with_books()
    env = {**os.environ, "SAMOOH_BACKUP_DIR": str(tmp_path),
           "SAMOOH_MONGODB_DATABASE": settings.mongodb_database}  # fmt: skip
    taken = subprocess.run([sys.executable, "-m", "app.ops", "backup"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert taken.returncode == 0, taken.stderr
    [folder] = list_backups(tmp_path)
    assert f"backup {folder}" in taken.stdout
    checked = subprocess.run([sys.executable, "-m", "app.ops", "verify"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    problems = [line for line in checked.stdout.splitlines() if "PROBLEM" in line]
    # only the chains other tests tamper with on purpose ("test:…") may be reported
    assert all("audit chain test:" in line for line in problems), checked.stdout
    assert checked.returncode == (1 if problems else 0), checked.stdout + checked.stderr
    assert "journal entries in" in checked.stdout
