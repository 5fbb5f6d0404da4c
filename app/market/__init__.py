"""Market data: the real price catalogue, the replayer feed, and the latest-quote cache."""
