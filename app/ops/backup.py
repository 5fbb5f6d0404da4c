"""Backups that restore: a consistent copy of every collection of the database with a manifest
of counts and SHA-256 checksums, a restore that checks every checksum before it writes anything
and never writes into a database that holds data, a retention policy, and a verification of
what money and trust rest on (every journal entry balances, every pool's trial balance is zero,
every audit chain verifies).

Consistency: every collection is read in one snapshot session (``snapshot=True``, MongoDB 5.0+;
the local server supports it too), so the copy is the database at one instant even while the
platform writes. A copy of a large production database is better taken with the operator's
tools (filesystem snapshots of the replica set); this is the copy the platform takes of itself,
and the drill that proves a copy restores.

Layout: ``<root>/<UTC stamp>/<collection>.bson`` (BSON documents one after another) and
``manifest.json`` (format, database, time, per collection: documents, bytes, sha256, indexes).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bson
from pymongo import AsyncMongoClient

from app.audit.service import GENESIS, record_hash

FORMAT = "samooh-backup/1"
MANIFEST = "manifest.json"
STAMP = "%Y%m%dT%H%M%SZ"


class BackupError(Exception):
    """A backup that cannot be taken, trusted or restored; the message says why."""


@dataclass(frozen=True, slots=True)
class CollectionCopy:
    """One collection in a backup: documents, bytes written and their SHA-256."""

    name: str
    documents: int
    bytes: int
    sha256: str
    indexes: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup folder and what its manifest says."""

    folder: Path
    database: str
    taken_at: dt.datetime
    collections: list[CollectionCopy]

    @property
    def documents(self) -> int:
        """Documents in every collection."""
        return sum(c.documents for c in self.collections)


@dataclass(slots=True)
class Verification:
    """What ``verify_database`` found: pools and chains checked, and every problem (empty: the
    money balances and the audit chains hold)."""

    pools: int = 0
    entries: int = 0
    chains: int = 0
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _indexes(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, spec in sorted(raw.items()):
        if name == "_id_":
            continue
        options = {k: v for k, v in spec.items() if k not in ("key", "v", "ns")}
        out.append({"name": name, "key": [[k, v] for k, v in spec["key"]], "options": options})
    return out


async def create_backup(
    client: AsyncMongoClient[Any], database: str, root: Path, now: dt.datetime | None = None
) -> Backup:
    """Copy every collection of ``database`` into a new folder under ``root``, read in one
    snapshot, with the manifest written last (a folder without one is not a backup).

    Raises:
        BackupError: the folder for this instant exists already.
    """
    taken_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    folder = root / taken_at.strftime(STAMP)
    if folder.exists():
        raise BackupError(f"{folder} exists already")
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True)
    db = client[database]
    copies = []
    names = sorted(n for n in await db.list_collection_names() if not n.startswith("system."))
    async with client.start_session(snapshot=True) as session:  # reads only: find in snapshot
        for name in names:
            digest, count, size = hashlib.sha256(), 0, 0
            with (partial / f"{name}.bson").open("wb") as out:
                async for doc in db[name].find({}, session=session).sort("_id", 1):
                    data = bson.encode(doc)
                    out.write(data)
                    digest.update(data)
                    count, size = count + 1, size + len(data)
            indexes = _indexes(await db[name].index_information())
            copies.append(CollectionCopy(name, count, size, digest.hexdigest(), indexes))
    manifest = {
        "format": FORMAT, "database": database, "taken_at": taken_at.isoformat(),
        "collections": [{"name": c.name, "documents": c.documents, "bytes": c.bytes,
                         "sha256": c.sha256, "indexes": c.indexes} for c in copies],
    }  # fmt: skip
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    partial.rename(folder)
    return Backup(folder, database, taken_at, copies)


def read_backup(folder: Path) -> Backup:
    """The backup in ``folder``, every file checked against its manifest.

    Raises:
        BackupError: no manifest, another format, a file missing, or a checksum or count that
            does not match (the backup is damaged: restore nothing from it).
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a finished backup")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder}: unknown format {manifest.get('format')!r}")
    copies = []
    for item in manifest["collections"]:
        data_path = folder / f"{item['name']}.bson"
        if not data_path.is_file():
            raise BackupError(f"{folder}: {data_path.name} is missing")
        data = data_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != item["sha256"] or len(data) != item["bytes"]:
            raise BackupError(f"{folder}: {data_path.name} does not match its checksum")
        if sum(1 for _ in bson.decode_file_iter(data_path.open("rb"))) != item["documents"]:
            raise BackupError(f"{folder}: {data_path.name} does not hold its documents")
        copies.append(CollectionCopy(item["name"], item["documents"], item["bytes"],
                                     item["sha256"], item["indexes"]))  # fmt: skip
    taken_at = dt.datetime.fromisoformat(manifest["taken_at"])
    return Backup(folder, manifest["database"], taken_at, copies)


def _documents(path: Path, batch: int = 500) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for doc in bson.decode_file_iter(handle):
            chunk.append(doc)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


async def restore_backup(client: AsyncMongoClient[Any], folder: Path, database: str) -> Backup:
    """Restore the backup in ``folder`` into ``database``, which must hold no data: every file
    is checked first, then documents and indexes are written collection by collection.

    Raises:
        BackupError: the backup is damaged (nothing written) or ``database`` is not empty.
    """
    backup = read_backup(folder)
    db = client[database]
    if [n for n in await db.list_collection_names() if not n.startswith("system.")]:
        raise BackupError(f"database {database!r} is not empty: restore into a new one")
    for copy in backup.collections:
        await db.create_collection(copy.name)
        for chunk in _documents(folder / f"{copy.name}.bson"):
            await db[copy.name].insert_many(chunk, ordered=True)
        for index in copy.indexes:
            keys = [(k, v) for k, v in index["key"]]
            await db[copy.name].create_index(keys, name=index["name"], **index["options"])
    return backup


def list_backups(root: Path) -> list[Path]:
    """Finished backups under ``root``, oldest first (a ``.partial`` folder is not one)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def prune_backups(
    root: Path, keep: int, max_age_days: int | None = None, now: dt.datetime | None = None
) -> list[Path]:
    """Delete what the retention policy no longer keeps: beyond the newest ``keep`` backups,
    those older than ``max_age_days`` (None: the count alone decides). The newest backup is
    never deleted. Returns the folders deleted.

    Raises:
        BackupError: ``keep`` below one.
    """
    if keep < 1:
        raise BackupError("keep at least one backup")
    moment = now or dt.datetime.now(dt.UTC)
    found = list_backups(root)
    deleted = []
    for folder in found[: max(len(found) - keep, 0)]:
        taken = dt.datetime.strptime(folder.name, STAMP).replace(tzinfo=dt.UTC)
        if max_age_days is None or moment - taken > dt.timedelta(days=max_age_days):
            shutil.rmtree(folder)
            deleted.append(folder)
    return deleted


async def verify_database(client: AsyncMongoClient[Any], database: str) -> Verification:
    """Check ``database`` (a restored copy, or the live one) the way an auditor would: every
    journal entry's lines sum to zero, every pool's trial balance sums to zero, and every audit
    chain recomputes hash by hash from the genesis to its head."""
    db = client[database]
    result = Verification()
    pools: dict[str, int] = {}
    async for entry in db["journal_entries"].find({}):
        total = sum(int(line["amount"]) for line in entry["lines"])
        if total != 0:
            result.problems.append(f"journal entry {entry['idempotency_key']} sums to {total}")
        pools[entry["pool_id"]] = pools.get(entry["pool_id"], 0) + total
        result.entries += 1
    for pool, total in sorted(pools.items()):
        if total != 0:
            result.problems.append(f"trial balance of {pool} sums to {total}")
    result.pools = len(pools)
    heads = {h["chain"]: h async for h in db["audit_chain_heads"].find({})}
    for chain, head in sorted(heads.items()):
        previous, expected = GENESIS, 1
        async for record in db["audit_records"].find({"chain": chain}).sort("seq", 1):
            at = record["at"] if record["at"].tzinfo else record["at"].replace(tzinfo=dt.UTC)
            digest = record_hash(
                chain=chain, seq=record["seq"], at=at, actor_id=record["actor_id"],
                action=record["action"], target_type=record["target_type"],
                target_id=record["target_id"], details=record["details"],
                prev_hash=record["prev_hash"],
            )  # fmt: skip
            if (
                record["seq"] != expected
                or record["prev_hash"] != previous
                or (digest != record["hash"])
            ):
                result.problems.append(f"audit chain {chain} breaks at seq {record['seq']}")
                break
            previous, expected = record["hash"], expected + 1
            result.records += 1
        else:
            if (head["seq"], head["hash"]) != (expected - 1, previous):
                result.problems.append(f"audit chain {chain}: its head does not match")
    result.chains = len(heads)
    return result
