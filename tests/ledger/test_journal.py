"""The double-entry journal: balanced, append-only, idempotent, reversible."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from app.ledger import accounts
from app.ledger.documents import JournalEntry
from app.ledger.service import UnbalancedEntry, ledger_service

pytestmark = pytest.mark.usefixtures("services")
DAY = dt.date(2026, 1, 5)


def pool() -> str:
    return f"pool-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize(
    "lines",
    [
        [(accounts.CASH, 100), (accounts.UNALLOCATED_CONTRIBUTIONS, -99)],
        [(accounts.CASH, 100)],
        [(accounts.CASH, 0), (accounts.UNALLOCATED_CONTRIBUTIONS, 0)],
        [(accounts.CASH, 1.5), (accounts.UNALLOCATED_CONTRIBUTIONS, -1.5)],
        [("cash", 100), (accounts.UNALLOCATED_CONTRIBUTIONS, -100)],
        [("wealth:cash", 100), (accounts.UNALLOCATED_CONTRIBUTIONS, -100)],
    ],
)
async def test_unbalanced_or_malformed_entries_are_refused(lines: list) -> None:  # type: ignore[type-arg]
    pool_id = pool()
    with pytest.raises(UnbalancedEntry):
        await ledger_service.do_post(pool_id=pool_id, key=f"k-{pool_id}", kind="test",
                                     lines=lines, effective_date=DAY)  # fmt: skip
    assert await JournalEntry.find({"pool_id": pool_id}).count() == 0


async def test_posting_is_idempotent_even_concurrently() -> None:
    pool_id = pool()
    lines = [(accounts.CASH, 5_000), (accounts.UNALLOCATED_CONTRIBUTIONS, -5_000)]
    results = await asyncio.gather(
        *(ledger_service.do_post(pool_id=pool_id, key=f"once-{pool_id}", kind="test",
                                 lines=lines, effective_date=DAY) for _ in range(10))
    )  # fmt: skip
    assert sum(1 for _, new in results if new) == 1
    assert len({str(entry.id) for entry, _ in results}) == 1
    assert (await ledger_service.balances(pool_id))[accounts.CASH] == 5_000


async def test_a_correction_is_a_reversing_entry_and_the_trial_balance_sums_to_zero() -> None:
    pool_id = pool()
    await ledger_service.do_post(
        pool_id=pool_id, key=f"a-{pool_id}", kind="test", effective_date=DAY,
        lines=[(accounts.CASH, 10_000), (accounts.UNALLOCATED_CONTRIBUTIONS, -10_000)],
    )  # fmt: skip
    await ledger_service.do_post(
        pool_id=pool_id, key=f"b-{pool_id}", kind="test", effective_date=DAY,
        lines=[(accounts.INVESTMENTS, 7_000), (accounts.TRADING_COSTS, 30),
               (accounts.CASH, -7_030)],
    )  # fmt: skip
    reversal, new = await ledger_service.do_reverse(f"b-{pool_id}", effective_date=DAY,
                                                    memo="entered twice")  # fmt: skip
    assert new and reversal.reverses == f"b-{pool_id}"
    _, again = await ledger_service.do_reverse(f"b-{pool_id}", effective_date=DAY, memo="x")
    assert again is False
    original = await ledger_service.find_entry(f"b-{pool_id}")
    assert original is not None and original.lines[0].amount == 7_000  # never edited
    rows = await ledger_service.trial_balance(pool_id)
    assert sum(row.balance for row in rows) == 0
    assert [(r.account, r.balance) for r in rows] == [
        (accounts.CASH, 10_000), (accounts.UNALLOCATED_CONTRIBUTIONS, -10_000)]  # fmt: skip
