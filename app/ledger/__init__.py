"""Double-entry journal of every pool (club, chit group, campaign): entries, balances, trial
balance (docs/domain.md, payments and the ledger)."""
