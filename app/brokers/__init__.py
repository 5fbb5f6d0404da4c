"""Real brokers of a club: linking a Kite Connect or Alpaca account, their adapters, and the
updates they send back."""
