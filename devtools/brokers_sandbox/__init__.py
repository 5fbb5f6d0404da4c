"""The local broker sandbox: Kite Connect v3 and Alpaca v2 API shapes, filling against the
replayed tick stream like the paper broker."""
