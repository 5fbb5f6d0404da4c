"""Posting and reading the double-entry journal (docs/domain.md, payments and the ledger).

Every entry's lines sum to zero; entries are never edited (a correction is a reversing entry);
balances are derived from the lines; the trial balance always sums to zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from app.errors import AppError, NotFound
from app.ledger import repository
from app.ledger.accounts import account_type
from app.ledger.documents import JournalEntry, JournalFx, JournalLine


class UnbalancedEntry(AppError):
    """The lines do not sum to zero, are empty, or name an account outside the chart (422)."""

    status = 422
    code = "unbalanced_entry"


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    """One account's balance in paise (debit positive) and its type."""

    account: str
    type: str
    balance: int


class LedgerService:
    """The journal of every pool. Posting is idempotent on the entry's key."""

    def check_lines(self, lines: list[tuple[str, int]]) -> list[JournalLine]:
        """Validate ``(account, paise)`` pairs; raises ``UnbalancedEntry`` when they do not
        balance, contain a zero or non-integer amount, or an unknown account."""
        if len(lines) < 2:
            raise UnbalancedEntry("an entry needs at least two lines")
        out = []
        for account, amount in lines:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
                raise UnbalancedEntry(f"line amount must be a non-zero integer: {amount!r}")
            try:
                account_type(account)
            except ValueError as exc:
                raise UnbalancedEntry(str(exc)) from exc
            out.append(JournalLine(account=account, amount=amount))
        total = sum(line.amount for line in out)
        if total != 0:
            raise UnbalancedEntry(f"lines sum to {total}, not zero", details={"sum": total})
        return out

    async def do_post(
        self,
        *,
        pool_id: str,
        key: str,
        kind: str,
        lines: list[tuple[str, int]],
        effective_date: dt.date,
        memo: str = "",
        created_by: str | None = None,
        reverses: str | None = None,
        session: AsyncClientSession | None = None,
        fx: JournalFx | None = None,
    ) -> tuple[JournalEntry, bool]:
        """Post one entry under the idempotency ``key``; return it and whether it is new.
        ``fx``: the foreign amounts the lines were converted from, with the rate used.

        Posting the same key again returns the stored entry and writes nothing. Inside a
        transaction (``session``) the duplicate check happens first, so the transaction is not
        aborted by the unique index.

        Raises:
            UnbalancedEntry: see ``check_lines``.
        """
        journal_lines = self.check_lines(lines)
        existing = await repository.find_by_key(key, session)
        if existing is not None:
            return existing, False
        entry = JournalEntry(
            pool_id=pool_id,
            idempotency_key=key,
            kind=kind,
            effective_date=effective_date.isoformat(),
            lines=journal_lines,
            memo=memo,
            created_by=created_by,
            reverses=reverses,
            fx=fx,
        )
        try:
            return await repository.insert_entry(entry, session), True
        except DuplicateKeyError:
            if session is not None:
                raise  # aborts the caller's transaction; a retry will find the entry
            stored = await repository.find_by_key(key, None)
            assert stored is not None
            return stored, False

    async def latest_effective_date(
        self, pool_id: str, session: AsyncClientSession | None = None
    ) -> str | None:
        """The latest accounting date (ISO) among the pool's entries."""
        return await repository.latest_effective_date(pool_id, session)

    async def find_entry(
        self, key: str, session: AsyncClientSession | None = None
    ) -> JournalEntry | None:
        """The entry posted under the idempotency ``key``, if any."""
        return await repository.find_by_key(key, session)

    async def do_reverse(
        self,
        entry_key: str,
        *,
        effective_date: dt.date,
        memo: str,
        created_by: str | None = None,
        session: AsyncClientSession | None = None,
    ) -> tuple[JournalEntry, bool]:
        """Post the reversing entry of the entry with ``entry_key`` (every line negated).

        Raises:
            NotFound: no entry has that key.
        """
        original = await repository.find_by_key(entry_key, session)
        if original is None:
            raise NotFound(f"no journal entry {entry_key}")
        return await self.do_post(
            pool_id=original.pool_id,
            key=f"reversal:{entry_key}",
            kind="reversal",
            lines=[(line.account, -line.amount) for line in original.lines],
            effective_date=effective_date,
            memo=memo,
            created_by=created_by,
            reverses=entry_key,
            session=session,
        )

    async def entries_up_to(self, pool_id: str, on: dt.date | None) -> list[JournalEntry]:
        """The pool's journal entries dated on or before ``on`` (all when None), in order."""
        return await repository.entries_up_to(pool_id, on.isoformat() if on else None)

    async def balances(
        self, pool_id: str, session: AsyncClientSession | None = None
    ) -> dict[str, int]:
        """Every account's balance of ``pool_id`` in paise (debit positive)."""
        return await repository.balances(pool_id, session)

    async def trial_balance(
        self, pool_id: str, session: AsyncClientSession | None = None
    ) -> list[TrialBalanceRow]:
        """Accounts with a non-zero balance, in chart order; the balances sum to zero."""
        order = {kind: i for i, kind in enumerate(("assets", "liabilities", "equity", "income",
                                                   "expenses"))}  # fmt: skip
        rows = [
            TrialBalanceRow(account, account_type(account), balance)
            for account, balance in (await self.balances(pool_id, session)).items()
            if balance != 0
        ]
        return sorted(rows, key=lambda row: (order[row.type], row.account))


ledger_service = LedgerService()
