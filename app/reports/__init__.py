"""Reports of a club (valuation statement, member status, transaction ledger, member
statement) as CSV or PDF, requested over HTTP and built by a Faust agent."""
