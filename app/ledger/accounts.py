"""The chart of accounts of a club. Account names are ``<type>:<name>[:<sub>]``; the type decides
on which side a balance normally sits. Amounts on lines are paise: debit positive, credit
negative."""

from __future__ import annotations

CASH = "assets:cash"
INVESTMENTS = "assets:investments"
UNALLOCATED_CONTRIBUTIONS = "liabilities:unallocated_contributions"
WITHDRAWALS_PAYABLE = "liabilities:withdrawals_payable"
# Money a provider captured that matches no open contribution (a second payment of a settled
# order, a different amount): owed back or to be assigned by the treasurer, never lost.
UNMATCHED_PAYMENTS = "liabilities:unmatched_payments"
WITHDRAWAL_FEES = "income:withdrawal_fees"
# Charges to members the club keeps (late fees, expense shares), paid from their capital.
MEMBER_CHARGES = "income:member_charges"
UNREALISED_GAINS = "income:unrealised_gains"
REALISED_GAINS = "income:realised_gains"
TRADING_COSTS = "expenses:trading_costs"

ACCOUNT_TYPES = ("assets", "liabilities", "equity", "income", "expenses")


def foreign_cash(currency: str) -> str:
    """Money received in ``currency`` (ISO 4217) by a pool kept in another: held apart, never
    added to the pool's own cash (one account per currency, so no sum mixes currencies)."""
    return f"assets:foreign_cash:{currency.upper()}"


def foreign_unmatched(currency: str) -> str:
    """What is owed back (or to convert) for money received in a foreign ``currency``."""
    return f"{UNMATCHED_PAYMENTS}:{currency.upper()}"


def member_capital(user_id: str) -> str:
    """A member's capital account: what the member paid in less what was paid out, at cost."""
    return f"equity:capital:{user_id}"


def account_type(account: str) -> str:
    """``assets`` | ``liabilities`` | ``equity`` | ``income`` | ``expenses``.

    Raises:
        ValueError: for a name outside the chart.
    """
    kind = account.split(":", 1)[0]
    if kind not in ACCOUNT_TYPES or ":" not in account:
        raise ValueError(f"not an account of the chart: {account!r}")
    return kind
