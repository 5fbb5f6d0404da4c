"""Double-entry journal of every pool (club, chit group, campaign): entries, balances, trial
balance (DOMAIN.md, "Payments and the ledger")."""
