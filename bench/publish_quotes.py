"""The fan-out benchmark's web-only tick source (``bench/fanout.py --path web``): publishes
``quote:tick`` payloads for RATE ticks/s over SYMBOLS into the symbol rooms through Redis, the
way the worker's write-only Socket.IO manager does, keeping per symbol only the latest within
``--coalesce-ms`` (the worker's coalescer; 0: every tick). Measures the web process's fan-out
without the worker and Kafka. Ids carry the creation time in µs, as ticks.mjs's do.
Prints one JSON line ``{"sent", "seconds"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time

import socketio

from app.realtime.emitter import SOCKETIO_CHANNEL


def quote(symbol: str, n: int) -> dict[str, object]:
    """A ``QuoteTick`` payload created now (id ``bench:<symbol>:<µs>``)."""
    us = time.time_ns() // 1000
    price = 10_000 + n % 500
    return {
        "id": f"bench:{symbol}:{us}", "ts": dt.datetime.now(dt.UTC).isoformat(),
        "symbol": symbol, "price": f"{price // 100}.{price % 100:02d}", "open": "100.00",
        "high": "105.00", "low": "99.00", "prev_close": "100.00", "volume": None,
        "change_pct": "0.00", "currency": "USD", "trade_date": "2012-06-01", "source": "bench",
    }  # fmt: skip


async def main() -> None:
    """Publish for ``--seconds``; print the count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--symbols", required=True)
    parser.add_argument("--rate", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--coalesce-ms", type=int, default=250)
    args = parser.parse_args()
    symbols = args.symbols.split(",")
    manager = socketio.AsyncRedisManager(args.redis, write_only=True, channel=SOCKETIO_CHANNEL)
    window = args.coalesce_ms / 1000
    pending: dict[str, dict[str, object]] = {}
    sent = 0
    started = time.monotonic()
    last_flush = started
    while (now := time.monotonic()) - started < args.seconds:
        due = int((now - started) * args.rate)
        for _ in range(sent, due):
            if time.monotonic() - started >= args.seconds:
                break  # behind: what was not sent in time is not sent
            symbol = symbols[sent % len(symbols)]
            payload = quote(symbol, sent)
            sent += 1
            if window <= 0:
                await manager.emit("quote:tick", payload, room=f"symbol:{symbol}")
            else:
                pending[symbol] = payload
        if window > 0 and now - last_flush >= window:
            last_flush = now
            flushing, pending = pending, {}
            for symbol, payload in flushing.items():
                await manager.emit("quote:tick", payload, room=f"symbol:{symbol}")
        await asyncio.sleep(0.002)
    print(json.dumps({"sent": sent, "seconds": time.monotonic() - started}))


if __name__ == "__main__":
    asyncio.run(main())
