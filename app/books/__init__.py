"""Unit-value accounting of a club: contributions, withdrawals, member charges, valuations and
settlement, trades, cash held by open orders, statements, performance and the live NAV."""
