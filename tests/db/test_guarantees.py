"""The database guarantees the code relies on, pinned against the real server.

docs/architecture.md leans on a handful of MongoDB behaviours: guarded single-document updates
are exact under concurrency, a unique index lets exactly one of several racing inserts win, a
multi-document transaction commits or aborts as a whole, ``find_one_and_update`` with
``ReturnDocument.AFTER`` hands out distinct counter values, and acknowledged writes survive a
crash of the server. Each test runs a real concurrent workload and asserts exact numbers, so a
server (or server version) that breaks one fails here, loudly: locally against SecantusDB, or
against a real MongoDB when ``MONGODB_URL`` points at one.

PyMongo's async client is used directly (no Beanie) on a database of its own, dropped after each
test. Money is integer paise.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError
from pymongo.results import InsertOneResult

from app.config import Settings
from tests.conftest import free_port

Doc = dict[str, Any]

# --------------------------------------------------------------------------------------------
# fixtures and helpers


@pytest.fixture
async def mongo(settings: Settings) -> AsyncIterator[AsyncMongoClient[Doc]]:
    """A client of the configured server (SecantusDB locally, or whatever MONGODB_URL names)."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        settings.mongodb_url, serverSelectionTimeoutMS=10_000
    )
    yield client
    await client.close()


@pytest.fixture
async def db(mongo: AsyncMongoClient[Doc], settings: Settings) -> AsyncIterator[AsyncDatabase[Doc]]:
    """A fresh database for one test, dropped at the end."""
    name = f"{settings.mongodb_database}_guarantees"
    await mongo.drop_database(name)
    yield mongo[name]
    await mongo.drop_database(name)


async def _ledger(
    db: AsyncDatabase[Doc], balances: dict[str, int]
) -> tuple[AsyncCollection[Doc], AsyncCollection[Doc]]:
    """Accounts with opening balances and an empty journal with a unique idempotency key.

    Both collections exist before any transaction touches them (MongoDB before 4.4 cannot
    create a collection inside a transaction, and creating one there can conflict).
    """
    accounts = await db.create_collection("accounts")
    journal = await db.create_collection("journal")
    await journal.create_index([("idempotency_key", ASCENDING)], unique=True)
    await accounts.insert_many([{"_id": k, "balance": v} for k, v in balances.items()])
    return accounts, journal


async def _balances(accounts: AsyncCollection[Doc]) -> dict[str, int]:
    return {d["_id"]: d["balance"] async for d in accounts.find({})}


class InsufficientFunds(Exception):
    """The guarded debit matched nothing."""


async def _transfer(
    session: AsyncClientSession,
    accounts: AsyncCollection[Doc],
    journal: AsyncCollection[Doc],
    *,
    source: str,
    target: str,
    amount: int,
    key: str,
) -> None:
    """The shape every money movement takes: guarded debit, credit, journal entry."""
    debit = await accounts.update_one(
        {"_id": source, "balance": {"$gte": amount}},
        {"$inc": {"balance": -amount}},
        session=session,
    )
    if debit.modified_count != 1:
        raise InsufficientFunds(source)
    await accounts.update_one({"_id": target}, {"$inc": {"balance": amount}}, session=session)
    await journal.insert_one(
        {"idempotency_key": key, "source": source, "target": target, "amount": amount},
        session=session,
    )


async def _in_transaction(
    session: AsyncClientSession,
    accounts: AsyncCollection[Doc],
    journal: AsyncCollection[Doc],
    steps: list[tuple[str, str, int, str]],
) -> None:
    """Several transfers (source, target, amount, key) in one transaction: all or none."""
    async with await session.start_transaction():
        for source, target, amount, key in steps:
            await _transfer(
                session, accounts, journal, source=source, target=target, amount=amount, key=key
            )


def _split(results: list[Any]) -> tuple[list[Any], list[DuplicateKeyError]]:
    """Racing inserts' outcomes: the winners' results and the duplicate-key losers.

    Anything else (another error) fails the test right here.
    """
    wins = [r for r in results if isinstance(r, InsertOneResult)]
    dups = [r for r in results if isinstance(r, DuplicateKeyError)]
    others = [r for r in results if not isinstance(r, InsertOneResult | DuplicateKeyError)]
    assert not others, f"unexpected outcomes: {others[:3]!r}"
    return wins, dups


# --------------------------------------------------------------------------------------------
# 1. guarded single-document updates


async def test_concurrent_guarded_withdrawals_never_overdraw(db: AsyncDatabase[Doc]) -> None:
    """50 withdrawals of 300 race for 10_000: exactly 33 succeed, 100 paise remain."""
    accounts = db["accounts"]
    await accounts.insert_one({"_id": "acct", "balance": 10_000})

    results = await asyncio.gather(
        *(
            accounts.update_one(
                {"_id": "acct", "balance": {"$gte": 300}}, {"$inc": {"balance": -300}}
            )
            for _ in range(50)
        )
    )

    modified = [r.modified_count for r in results]
    assert modified.count(1) == 33
    assert modified.count(0) == 17
    assert [r.matched_count for r in results] == modified  # a loser matched nothing at all
    final = await accounts.find_one({"_id": "acct"})
    assert final == {"_id": "acct", "balance": 100}
    assert type(final["balance"]) is int


async def test_concurrent_increments_are_exact(db: AsyncDatabase[Doc]) -> None:
    """200 concurrent ``$inc`` of +1 on one document end at exactly 200."""
    counters = db["counters"]
    await counters.insert_one({"_id": "hits", "value": 0})

    results = await asyncio.gather(
        *(counters.update_one({"_id": "hits"}, {"$inc": {"value": 1}}) for _ in range(200))
    )

    assert [r.modified_count for r in results] == [1] * 200
    assert await counters.find_one({"_id": "hits"}) == {"_id": "hits", "value": 200}


# --------------------------------------------------------------------------------------------
# 2. unique indexes under racing inserts


async def test_unique_index_race_has_exactly_one_winner(db: AsyncDatabase[Doc]) -> None:
    """20 concurrent inserts of one webhook id: one stored, 19 DuplicateKeyErrors naming it."""
    webhooks = db["webhooks"]
    await webhooks.create_index([("webhook_id", ASCENDING)], unique=True)

    results = await asyncio.gather(
        *(webhooks.insert_one({"webhook_id": "evt_1", "attempt": n}) for n in range(20)),
        return_exceptions=True,
    )

    wins, dups = _split(results)
    assert len(wins) == 1
    assert len(dups) == 19
    for error in dups:
        assert error.code == 11000
        assert error.details is not None
        assert error.details["keyPattern"] == {"webhook_id": 1}
        assert error.details["keyValue"] == {"webhook_id": "evt_1"}
    stored = await webhooks.find({}).to_list()
    assert len(stored) == 1
    assert stored[0]["_id"] == wins[0].inserted_id
    assert stored[0]["webhook_id"] == "evt_1"


async def test_compound_unique_index_race_has_one_winner_per_key(db: AsyncDatabase[Doc]) -> None:
    """30 concurrent inserts over 3 pools with one idempotency key: one winner per pool."""
    entries = db["entries"]
    await entries.create_index(
        [("pool_id", ASCENDING), ("idempotency_key", ASCENDING)], unique=True
    )

    results = await asyncio.gather(
        *(
            entries.insert_one({"pool_id": f"pool-{n % 3}", "idempotency_key": "k-1", "n": n})
            for n in range(30)
        ),
        return_exceptions=True,
    )

    wins, dups = _split(results)
    assert len(wins) == 3
    assert len(dups) == 27
    for error in dups:
        assert error.code == 11000
        assert error.details is not None
        assert error.details["keyPattern"] == {"pool_id": 1, "idempotency_key": 1}
        assert error.details["keyValue"]["idempotency_key"] == "k-1"
    stored = await entries.find({}).to_list()
    assert sorted(d["pool_id"] for d in stored) == ["pool-0", "pool-1", "pool-2"]
    assert {d["_id"] for d in stored} == {w.inserted_id for w in wins}
    # each stored document is one of the attempts for its own pool
    assert all(f"pool-{d['n'] % 3}" == d["pool_id"] for d in stored)


# --------------------------------------------------------------------------------------------
# 3. multi-document transactions


async def test_transaction_commit_applies_every_write_together(
    mongo: AsyncMongoClient[Doc], db: AsyncDatabase[Doc]
) -> None:
    """2_500 paise move a→b with a journal entry; nothing shows outside before the commit."""
    accounts, journal = await _ledger(db, {"a": 10_000, "b": 5_000})

    async with mongo.start_session() as session:
        async with await session.start_transaction():
            await _transfer(
                session, accounts, journal, source="a", target="b", amount=2_500, key="t-1"
            )
            # the transaction reads its own writes …
            own = await accounts.find_one({"_id": "a"}, session=session)
            assert own is not None
            assert own["balance"] == 7_500
            # … and nobody else sees them yet
            assert await _balances(accounts) == {"a": 10_000, "b": 5_000}
            assert await journal.count_documents({}) == 0
        assert not session.in_transaction

    assert await _balances(accounts) == {"a": 7_500, "b": 7_500}
    entries = await journal.find({}, {"_id": 0}).to_list()
    assert entries == [{"idempotency_key": "t-1", "source": "a", "target": "b", "amount": 2_500}]


async def test_transaction_that_fails_midway_changes_nothing(
    mongo: AsyncMongoClient[Doc], db: AsyncDatabase[Doc]
) -> None:
    """An exception after the debit aborts it; balances and journal stay as they were."""
    accounts, journal = await _ledger(db, {"a": 10_000, "b": 5_000})

    class Boom(Exception):
        pass

    async def debit_then_fail(session: AsyncClientSession) -> None:
        async with await session.start_transaction():
            debit = await accounts.update_one(
                {"_id": "a", "balance": {"$gte": 2_500}},
                {"$inc": {"balance": -2_500}},
                session=session,
            )
            assert debit.modified_count == 1
            own = await accounts.find_one({"_id": "a"}, session=session)
            assert own is not None
            assert own["balance"] == 7_500
            raise Boom

    async with mongo.start_session() as session:
        with pytest.raises(Boom):
            await debit_then_fail(session)
        assert not session.in_transaction

    assert await _balances(accounts) == {"a": 10_000, "b": 5_000}
    assert await journal.count_documents({}) == 0


async def test_replayed_transfer_is_rolled_back_by_its_journal_key(
    mongo: AsyncMongoClient[Doc], db: AsyncDatabase[Doc]
) -> None:
    """Replaying a transfer (same idempotency key) fails at the journal insert, and the debit
    and credit already made in that transaction are undone: money moves exactly once."""
    accounts, journal = await _ledger(db, {"a": 10_000, "b": 5_000})

    transfer = [("a", "b", 2_500, "evt-7")]

    async with mongo.start_session() as session:
        await _in_transaction(session, accounts, journal, transfer)
        with pytest.raises(DuplicateKeyError) as replay:
            await _in_transaction(session, accounts, journal, transfer)
        assert not session.in_transaction

    assert replay.value.details is not None
    assert replay.value.details["keyPattern"] == {"idempotency_key": 1}
    assert await _balances(accounts) == {"a": 7_500, "b": 7_500}
    assert await journal.count_documents({}) == 1


async def test_concurrent_transfers_conserve_money_exactly(
    mongo: AsyncMongoClient[Doc],
    db: AsyncDatabase[Doc],
    record_property: Any,
) -> None:
    """40 concurrent transfers among 4 accounts, each retried through ``with_transaction`` on
    TransientTransactionError (write conflicts): every account ends at exactly the balance the
    plan implies, the total is conserved and every transfer is journalled once."""
    names = ["w", "x", "y", "z"]
    accounts, journal = await _ledger(db, dict.fromkeys(names, 100_000))
    plan = [
        (names[i % 4], names[(i + 1 + (i // 4) % 3) % 4], 100 + 7 * i, f"t-{i}") for i in range(40)
    ]
    expected = dict.fromkeys(names, 100_000)
    for source, target, amount, _ in plan:
        assert source != target
        expected[source] -= amount
        expected[target] += amount
    attempts = 0

    async def run(source: str, target: str, amount: int, key: str) -> None:
        async def body(session: AsyncClientSession) -> None:
            nonlocal attempts
            attempts += 1
            await _transfer(
                session, accounts, journal, source=source, target=target, amount=amount, key=key
            )

        async with mongo.start_session() as session:
            await session.with_transaction(body)

    started = time.monotonic()
    await asyncio.gather(*(run(*step) for step in plan))
    record_property("transfer_attempts", attempts)
    record_property("transfer_seconds", round(time.monotonic() - started, 3))

    final = await _balances(accounts)
    assert final == expected
    assert sum(final.values()) == 400_000
    keys = [e["idempotency_key"] async for e in journal.find({})]
    assert sorted(keys) == sorted(key for *_, key in plan)
    assert attempts >= 40


# --------------------------------------------------------------------------------------------
# 4. sequences


async def test_counter_hands_out_distinct_values_with_return_after(
    db: AsyncDatabase[Doc],
) -> None:
    """100 concurrent ``find_one_and_update`` ``$inc`` + AFTER callers get exactly 1..100.

    The counter document exists first: on SecantusDB 0.7.0b3 concurrent *upserts* of a missing
    counter end at the right value but hand ``None`` to some callers, and BEFORE returns
    duplicate pre-images (docs/local-services.md), so sequences are created up front and read AFTER.
    """
    sequences = db["sequences"]
    await sequences.insert_one({"_id": "order-no", "value": 0})

    docs = await asyncio.gather(
        *(
            sequences.find_one_and_update(
                {"_id": "order-no"},
                {"$inc": {"value": 1}},
                return_document=ReturnDocument.AFTER,
            )
            for _ in range(100)
        )
    )

    assert all(d is not None for d in docs)
    assert sorted(d["value"] for d in docs) == list(range(1, 101))
    assert await sequences.find_one({"_id": "order-no"}) == {"_id": "order-no", "value": 100}


# --------------------------------------------------------------------------------------------
# 5. durability across a crash (a SecantusDB server of this test's own)


def _secantusd() -> Path:
    configured = os.environ.get("SAMOOH_SECANTUSD")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "samooh" / "secantusdb-0.7.0b3" / "venv" / "bin" / "secantusd-py"


# Fsync WiredTiger's log on every commit. Without it, SecantusDB 0.7.0b3 acknowledges a write
# once the log record is in WiredTiger's in-memory log buffer, flushed in the background within
# ~0.1-0.2 s: a `kill -9` right after the acknowledgement lost the last writes (sometimes every
# write since start, collections included). `j: true` (URL `journal=true`) syncs single writes
# but `commitTransaction` ignores its write concern, and `w: majority` does not imply `j` there
# as it does on a MongoDB replica set. With this flag no acknowledged write was lost, and on
# this machine it cost no measurable throughput.
DURABLE_FLAGS = ("--sync-on-commit",)


class OwnSecantusDB:
    """One SecantusDB process on a private port and storage folder; never the shared one."""

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.storage = workdir / "data"
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}/?directConnection=true&retryWrites=false"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        # an explicit config file turns off the launcher's ./ ~/.secantus /etc auto-discovery
        self.config = workdir / "secantusd.toml"
        self.config.write_text(
            f'[server]\nhost = "127.0.0.1"\nport = {self.port}\nstorage_path = "{self.storage}"\n'
        )

    @property
    def log(self) -> Path:
        return self.workdir / f"secantusd-{self.starts}.log"

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except FileNotFoundError:
            return "(no log)"

    async def start(self) -> AsyncMongoClient[Doc]:
        """Launch on the same port and storage as before; return a client once ping answers."""
        self.starts += 1
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(self.binary),
                    "--config",
                    str(self.config),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--storage-path",
                    str(self.storage),
                    *DURABLE_FLAGS,
                ],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        client: AsyncMongoClient[Doc] = AsyncMongoClient(
            self.url, serverSelectionTimeoutMS=500, connectTimeoutMS=500
        )
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                await client.close()
                pytest.fail(f"secantusd exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                await client.admin.command("ping")
                return client
            except PyMongoError:
                if time.monotonic() > deadline:
                    await client.close()
                    pytest.fail(f"secantusd did not answer ping within 30 s:\n{self.tail()}")
                await asyncio.sleep(0.1)

    def kill(self) -> int | None:
        """SIGKILL the server's process group (no shutdown of any kind); its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)


async def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    """500 acknowledged inserts, a unique index and a committed transfer are all there after
    ``kill -9`` and a restart on the same storage; an aborted transfer is not.

    Writes use the default write concern, as the application does; the server runs with
    ``DURABLE_FLAGS`` (see there for why).
    """
    binary = _secantusd()
    if not binary.is_file():
        pytest.fail(
            f"SecantusDB is not installed at {binary}: run `make test` or "
            "`.venv/bin/python scripts/services.py install` (or set SAMOOH_SECANTUSD)"
        )
    server = OwnSecantusDB(binary, tmp_path)
    client: AsyncMongoClient[Doc] | None = None
    try:
        client = await server.start()
        first_process = (await client.admin.command("hello"))["topologyVersion"]["processId"]
        db = client["durability"]
        items = db["items"]
        await items.create_index([("ref", ASCENDING)], unique=True)
        accounts, journal = await _ledger(db, {"a": 10_000, "b": 5_000})

        results = await asyncio.gather(
            *(items.insert_one({"_id": n, "ref": f"r-{n}", "paise": 7 * n}) for n in range(500))
        )
        assert all(r.acknowledged for r in results)

        async with client.start_session() as session:
            # aborted: the first transfer fits, the second overdraws, so neither may persist
            with pytest.raises(InsufficientFunds):
                await _in_transaction(
                    session, accounts, journal, [("b", "a", 1, "x-1"), ("b", "a", 99_999, "x-2")]
                )
            # committed: the very last acknowledged write before the crash
            await _in_transaction(session, accounts, journal, [("a", "b", 2_500, "t-1")])

        # crash right after the last acknowledgement: no shutdown, no checkpoint request
        assert server.kill() == -signal.SIGKILL
        await client.close()
        client = None

        client = await server.start()
        second_process = (await client.admin.command("hello"))["topologyVersion"]["processId"]
        assert second_process != first_process  # really a new server process
        db = client["durability"]
        items, accounts, journal = db["items"], db["accounts"], db["journal"]

        stored = await items.find({}).sort("_id", ASCENDING).to_list()
        assert len(stored) == 500
        assert [d["_id"] for d in stored] == list(range(500))
        assert sum(d["paise"] for d in stored) == 7 * 499 * 500 // 2
        assert all(d["ref"] == f"r-{d['_id']}" for d in stored)
        assert await _balances(accounts) == {"a": 7_500, "b": 7_500}
        entries = await journal.find({}, {"_id": 0}).to_list()
        assert entries == [
            {"idempotency_key": "t-1", "source": "a", "target": "b", "amount": 2_500}
        ]
        # the unique indexes came back too, and still refuse duplicates
        with pytest.raises(DuplicateKeyError) as duplicate:
            await items.insert_one({"_id": 1_000, "ref": "r-42"})
        assert duplicate.value.details is not None
        assert duplicate.value.details["keyPattern"] == {"ref": 1}
        assert await items.count_documents({}) == 500
    finally:
        server.kill()
        if client is not None:
            await client.close()
